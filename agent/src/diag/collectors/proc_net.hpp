#pragma once
// Parsing the network tables the kernel writes under /proc/net (routes, sockets, wireless),
// resolv.conf(5), and finding which process owns a socket.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// An IPv4 address as /proc/net/route and /proc/net/tcp print it: the 32-bit value in host
/// byte order as 8 hex digits ("0102A8C0" is 192.168.2.1 on a little-endian machine).
std::optional<std::string> ipv4_from_proc_hex(std::string_view hex);

/// An IPv6 address as /proc/net/tcp6 prints it: four 32-bit words in host byte order.
std::optional<std::string> ipv6_from_proc_words(std::string_view hex);

/// An IPv6 address as /proc/net/ipv6_route prints it: 16 bytes in network order.
std::optional<std::string> ipv6_from_proc_bytes(std::string_view hex);

/// /proc/net/route text → default routes [{"family": "ipv4", "gateway", "interface",
/// "metric"}]: destination and mask 0, flag RTF_UP; gateway null unless RTF_GATEWAY.
nlohmann::json parse_ipv4_default_routes(std::string_view text);

/// /proc/net/ipv6_route text → default routes (destination ::/0) that are not reject
/// routes (the kernel's "unreachable" route on lo), as for IPv4.
nlohmann::json parse_ipv6_default_routes(std::string_view text);

/// A listening socket from /proc/net/{tcp,tcp6,udp,udp6}.
struct ListeningSocket {
  std::string protocol;  ///< "tcp", "tcp6", "udp", "udp6"
  std::string address;
  int port = 0;
  unsigned uid = 0;
  std::uint64_t inode = 0;  ///< 0 when the socket has no inode (time-wait, orphan).
};

/// One line of a /proc/net socket table → the socket when it listens: TCP state 0A
/// (LISTEN); UDP state 07 (unconnected: remote address and port 0). nullopt otherwise,
/// for the header line and for malformed lines.
std::optional<ListeningSocket> parse_listening_line(std::string_view line,
                                                    std::string_view protocol);

/// Streams <path> line by line and returns its listening sockets (at most `limit`); nullopt
/// when the file cannot be opened.
std::optional<std::vector<ListeningSocket>> read_listening_sockets(
    const std::filesystem::path& path, std::string_view protocol, std::size_t limit);

/// Who owns which socket inode, from one pass over /proc/<pid>/fd.
struct SocketOwners {
  std::unordered_map<std::uint64_t, int> pid_of_inode;
  bool denied = false;     ///< Some process's fd directory could not be read (not root).
  bool truncated = false;  ///< Stopped at the process limit before all were found.
};

/// Scans <proc>/<pid>/fd/* symlinks ("socket:[inode]") once, for at most `max_processes`
/// processes, stopping early when every inode in `wanted` is found.
SocketOwners find_socket_owners(const std::filesystem::path& proc,
                                const std::unordered_set<std::uint64_t>& wanted,
                                std::size_t max_processes);

/// /etc/passwd text → uid → user name.
std::unordered_map<unsigned, std::string> parse_passwd_names(std::string_view text);

/// /proc/net/wireless text → interface → {"link_quality", "signal_dbm"} (signal null when
/// the driver reports a relative level rather than dBm).
std::unordered_map<std::string, nlohmann::json> parse_proc_wireless(std::string_view text);

/// `iw dev <if> link` output → the SSID (with iw's \xNN escapes decoded); nullopt when
/// not connected.
std::optional<std::string> parse_iw_link_ssid(std::string_view text);

/// `iw dev <if> link` output → the "signal: -52 dBm" figure; nullopt when absent.
std::optional<int> parse_iw_link_signal(std::string_view text);

/// resolv.conf(5) text.
struct ResolvConf {
  std::vector<std::string> servers;  ///< nameserver lines, in order.
  std::vector<std::string> search;   ///< The last search or domain line wins.
};
ResolvConf parse_resolv_conf(std::string_view text);

}  // namespace tether::agent::diag
