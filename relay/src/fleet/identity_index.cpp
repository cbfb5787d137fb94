#include "fleet/identity_index.hpp"

namespace tether::relay::fleet {

void IdentityIndex::add(std::int64_t device_id, const HardwareIdentity& identity) {
  for (auto& key : identity_keys(identity)) by_key_[std::move(key)].insert(device_id);
}

std::vector<std::int64_t> IdentityIndex::candidates(const HardwareIdentity& identity) const {
  std::set<std::int64_t> ids;
  for (const auto& key : identity_keys(identity)) {
    if (auto it = by_key_.find(key); it != by_key_.end())
      ids.insert(it->second.begin(), it->second.end());
  }
  return {ids.begin(), ids.end()};
}

}  // namespace tether::relay::fleet
