#pragma once
// Which enrolled devices share an identifier with a machine: every usable identity key
// (device_identity.hpp identity_keys) → the devices that reported it, so that matching an
// enrolling machine or an inventory's identity looks at a handful of candidates instead of
// the whole fleet. Keys are only added (a re-enrolled device keeps its old ones too): a stale
// key only adds a candidate, and match_identity decides on the devices' current records.

#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "fleet/device_identity.hpp"

namespace tether::relay::fleet {

class IdentityIndex {
 public:
  /// Whether the enrolled devices were loaded (fill it once with add()).
  bool loaded() const { return loaded_; }
  void mark_loaded() { loaded_ = true; }

  void add(std::int64_t device_id, const HardwareIdentity& identity);
  /// The devices sharing at least one identity key with `identity`, ascending; none when it
  /// has no usable identifier.
  std::vector<std::int64_t> candidates(const HardwareIdentity& identity) const;

 private:
  bool loaded_ = false;
  std::unordered_map<std::string, std::set<std::int64_t>> by_key_;
};

}  // namespace tether::relay::fleet
