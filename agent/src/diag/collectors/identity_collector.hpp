#pragma once
// The "identity" section: a device id that stays the same across reinstalls of the agent and
// reboots, built from the machine's stable identifiers, with placeholder values left out.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// "sha256:" + lower-case hex SHA-256 of the identifiers, each written as "name=value\n" in
/// the order given. Names and values are hashed as given; callers normalise case first.
std::string device_id_of(const std::vector<std::pair<std::string, std::string>>& identifiers);

/// Collects the "identity" section under context.root: /etc/machine-id, the SMBIOS UUID and
/// serials (/sys/class/dmi/id, root only), the MAC addresses of physical interfaces
/// (/sys/class/net/<if>/address where <if>/device exists). Unavailable when none of those
/// sources exists at all.
nlohmann::json collect_identity(const CollectContext& context);

}  // namespace tether::agent::diag
