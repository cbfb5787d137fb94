#pragma once
// The "network" section: interfaces from /sys/class/net with addresses, speed, driver,
// counters and Wi-Fi link; default routes; DNS resolvers; listening sockets and their
// processes.

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

/// The DNS part of the section from /etc/resolv.conf text and, when that names only
/// systemd-resolved's stub (127.0.0.53), the upstream file /run/systemd/resolve/resolv.conf:
/// {"servers": [...], "search": [...], "source": "<file the servers came from>"}.
nlohmann::json dns_from_resolv_conf(std::string_view etc_text,
                                    const std::optional<std::string>& resolved_text);

/// Every interface under <root>/sys/class/net, sorted by name:
/// {name, type, virtual, mac, permanent_mac, state, speed_mbps, duplex, mtu, driver,
///  addresses[], stats{}, wifi{} (wireless only)}; default_routes[]; dns{}; listening[]
/// {protocol, address, port, pid, process, user}. Addresses come from
/// host.interface_addresses (getifaddrs on the real root); the SSID from `iw dev <if> link`.
nlohmann::json collect_network(const CollectContext& context);

/// getifaddrs(3) as InterfaceAddress rows (IPv4 and IPv6 only); empty on failure.
std::vector<InterfaceAddress> system_interface_addresses();

}  // namespace tether::agent::diag
