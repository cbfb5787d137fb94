#pragma once
// The identity a device reports, in device_identity's terms: at enrollment (POST
// /api/v1/enroll's "identity") and in its inventory's "identity" section. Serials are kept
// bare (the enrollment does not say which is which), so both forms compare alike.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/device_identity.hpp"
#include "fleet/identity_index.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay::fleet {

/// From the enrollment form {machine_id, smbios_uuid, serials: [..], macs: [..]}.
HardwareIdentity enrollment_identity(const nlohmann::json& identity, const std::string& hostname);

/// From an inventory's identity section {machine_id, smbios_uuid, serials: {system, board,
/// chassis}, macs: [..]}.
HardwareIdentity inventory_identity(const nlohmann::json& section, const std::string& hostname);

/// The active devices of `devices` but `except_id`, as identity matching sees them.
std::vector<KnownDevice> known_devices(const std::vector<Device>& devices,
                                       std::int64_t except_id = 0);

/// The enrolled devices that may be `identity`'s machine, from `index` (filled from `store`
/// the first time), read afresh from `store`: active ones only, `except_id` left out.
/// Call on the store's thread only.
std::vector<KnownDevice> candidate_devices(IdentityIndex& index, Store& store,
                                           const HardwareIdentity& identity,
                                           std::int64_t except_id = 0);

}  // namespace tether::relay::fleet
