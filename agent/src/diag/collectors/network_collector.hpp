#pragma once
// The "network" section: interfaces from /sys/class/net with their IP addresses.

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// Number of leading one bits in a netmask (255.255.255.0 → 24).
int prefix_length(const unsigned char* mask, std::size_t bytes);

/// What kind of interface this is: "loopback" (ARPHRD_LOOPBACK, 772), "wireless", "virtual"
/// (veth, bridges, tunnels: the device lives under /sys/devices/virtual), "ethernet"
/// (ARPHRD_ETHER, 1) or "other". `type_text` is /sys/class/net/<if>/type.
std::string interface_kind(std::string_view type_text, bool wireless, bool virtual_device);

/// Every interface under <root>/sys/class/net, sorted by name:
/// {"name","type","mac","state","mtu","addresses":[{"family","address","prefix"}]}.
/// Addresses come from host.interface_addresses (getifaddrs on the real root).
nlohmann::json collect_network(const CollectContext& context);

/// getifaddrs(3) as InterfaceAddress rows (IPv4 and IPv6 only); empty on failure.
std::vector<InterfaceAddress> system_interface_addresses();

}  // namespace tether::agent::diag
