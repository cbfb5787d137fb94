#include "diag/collectors/proc_net.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <tuple>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// Route flags (linux/route.h, ipv6_route.h).
constexpr unsigned kRouteUp = 0x0001;
constexpr unsigned kRouteGateway = 0x0002;
constexpr unsigned kRouteReject = 0x0200;

std::optional<std::uint64_t> parse_hex(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint32_t> parse_hex32(std::string_view text) {
  if (text.size() != 8) return std::nullopt;
  const auto value = parse_hex(text);
  if (!value) return std::nullopt;
  return static_cast<std::uint32_t>(*value);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::string ntop6(const unsigned char* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  in6_addr address{};
  std::memcpy(&address, bytes, 16);
  if (inet_ntop(AF_INET6, &address, text, sizeof text) == nullptr) return {};
  return text;
}

json route(const char* family, std::optional<std::string> gateway, std::string_view interface,
           long long metric) {
  json entry{{"family", family}, {"interface", std::string(interface)}, {"metric", metric}};
  if (gateway) {
    entry["gateway"] = *gateway;
  } else {
    mark_unknown(entry, "gateway", "not present: the route goes straight out of the interface");
  }
  return entry;
}

void sort_routes(json& routes) {
  std::sort(routes.begin(), routes.end(), [](const json& a, const json& b) {
    return std::tie(a["metric"], a["interface"]) < std::tie(b["metric"], b["interface"]);
  });
}

}  // namespace

std::optional<std::string> ipv4_from_proc_hex(std::string_view hex) {
  const auto value = parse_hex32(hex);
  if (!value) return std::nullopt;
  in_addr address{};
  std::memcpy(&address, &*value, 4);  // the kernel printed the raw (network-order) word
  char text[INET_ADDRSTRLEN] = {};
  if (inet_ntop(AF_INET, &address, text, sizeof text) == nullptr) return std::nullopt;
  return std::string(text);
}

std::optional<std::string> ipv6_from_proc_words(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  unsigned char bytes[16];
  for (int word = 0; word < 4; ++word) {
    const auto value = parse_hex32(hex.substr(word * 8, 8));
    if (!value) return std::nullopt;
    std::memcpy(bytes + word * 4, &*value, 4);
  }
  return ntop6(bytes);
}

std::optional<std::string> ipv6_from_proc_bytes(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  unsigned char bytes[16];
  for (int i = 0; i < 16; ++i) {
    const auto value = parse_hex(hex.substr(i * 2, 2));
    if (!value) return std::nullopt;
    bytes[i] = static_cast<unsigned char>(*value);
  }
  return ntop6(bytes);
}

json parse_ipv4_default_routes(std::string_view text) {
  json routes = json::array();
  for (const auto line : split_lines(text)) {
    // Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
    const auto fields = split_fields(line);
    if (fields.size() < 8 || fields[0] == "Iface") continue;
    const auto destination = parse_hex32(fields[1]);
    const auto mask = parse_hex32(fields[7]);
    const auto flags = parse_hex(fields[3]);
    const auto metric = parse_integer(fields[6]);
    if (!destination || !mask || !flags || !metric || *destination != 0 || *mask != 0) continue;
    if ((*flags & kRouteUp) == 0 || (*flags & kRouteReject) != 0) continue;
    std::optional<std::string> gateway;
    if ((*flags & kRouteGateway) != 0) gateway = ipv4_from_proc_hex(fields[2]);
    routes.push_back(route("ipv4", gateway, fields[0], *metric));
  }
  sort_routes(routes);
  return routes;
}

json parse_ipv6_default_routes(std::string_view text) {
  json routes = json::array();
  for (const auto line : split_lines(text)) {
    // dest dest_len src src_len next_hop metric refcnt use flags iface
    const auto fields = split_fields(line);
    if (fields.size() < 10) continue;
    const auto prefix = parse_hex(fields[1]);
    const auto metric = parse_hex(fields[5]);
    const auto flags = parse_hex(fields[8]);
    if (fields[0] != std::string_view("00000000000000000000000000000000") || !prefix ||
        *prefix != 0 || !metric || !flags) {
      continue;
    }
    if ((*flags & kRouteUp) == 0 || (*flags & kRouteReject) != 0 || fields[9] == "lo") continue;
    std::optional<std::string> gateway;
    if (fields[4] != std::string_view("00000000000000000000000000000000")) {
      gateway = ipv6_from_proc_bytes(fields[4]);
    }
    routes.push_back(route("ipv6", gateway, fields[9], static_cast<long long>(*metric)));
  }
  sort_routes(routes);
  return routes;
}

std::optional<ListeningSocket> parse_listening_line(std::string_view line,
                                                    std::string_view protocol) {
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
  const auto fields = split_fields(line);
  if (fields.size() < 10 || fields[0] == "sl") return std::nullopt;
  const bool tcp = starts_with(protocol, "tcp");
  const bool v6 = protocol.back() == '6';
  const auto state = parse_hex(fields[3]);
  if (!state || *state != (tcp ? 0x0A : 0x07)) return std::nullopt;
  const auto local_colon = fields[1].rfind(':');
  const auto remote_colon = fields[2].rfind(':');
  if (local_colon == std::string_view::npos || remote_colon == std::string_view::npos) {
    return std::nullopt;
  }
  if (!tcp) {
    // An unconnected UDP socket has no remote end; a connected one is a client, not a server.
    const auto remote_port = parse_hex(fields[2].substr(remote_colon + 1));
    const auto remote = fields[2].substr(0, remote_colon);
    if (!remote_port || *remote_port != 0 ||
        remote.find_first_not_of('0') != std::string_view::npos) {
      return std::nullopt;
    }
  }
  const auto address_hex = fields[1].substr(0, local_colon);
  const auto address = v6 ? ipv6_from_proc_words(address_hex) : ipv4_from_proc_hex(address_hex);
  const auto port = parse_hex(fields[1].substr(local_colon + 1));
  const auto uid = parse_integer(fields[7]);
  const auto inode = parse_integer(fields[9]);
  if (!address || !port || *port > 65535 || !uid || *uid < 0 || !inode || *inode < 0) {
    return std::nullopt;
  }
  return ListeningSocket{.protocol = std::string(protocol),
                         .address = *address,
                         .port = static_cast<int>(*port),
                         .uid = static_cast<unsigned>(*uid),
                         .inode = static_cast<std::uint64_t>(*inode)};
}

std::optional<std::vector<ListeningSocket>> read_listening_sockets(
    const std::filesystem::path& path, std::string_view protocol, std::size_t limit) {
  // Streamed: on a busy server the table holds every connection, megabytes of them.
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::vector<ListeningSocket> sockets;
  std::string line;
  while (std::getline(in, line) && sockets.size() < limit) {
    if (auto socket = parse_listening_line(line, protocol)) sockets.push_back(std::move(*socket));
  }
  return sockets;
}

SocketOwners find_socket_owners(const std::filesystem::path& proc,
                                const std::unordered_set<std::uint64_t>& wanted,
                                std::size_t max_processes) {
  SocketOwners owners;
  if (wanted.empty()) return owners;
  DIR* proc_dir = opendir(proc.c_str());
  if (proc_dir == nullptr) {
    owners.denied = errno == EACCES;
    return owners;
  }
  const std::unique_ptr<DIR, int (*)(DIR*)> proc_guard(proc_dir, closedir);
  std::size_t processes = 0;
  constexpr std::string_view kPrefix = "socket:[";
  while (const dirent* entry = readdir(proc_dir)) {
    const std::string_view name = entry->d_name;
    if (name.empty() ||
        !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      continue;
    }
    if (++processes > max_processes) {
      owners.truncated = true;
      break;
    }
    const auto pid = parse_integer(name);
    if (!pid) continue;
    const std::string fd_path = std::string(name) + "/fd";
    const int fd_dir_fd =
        openat(dirfd(proc_dir), fd_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd_dir_fd < 0) {
      if (errno == EACCES || errno == EPERM) owners.denied = true;
      continue;
    }
    DIR* fd_dir = fdopendir(fd_dir_fd);
    if (fd_dir == nullptr) {
      close(fd_dir_fd);
      continue;
    }
    const std::unique_ptr<DIR, int (*)(DIR*)> fd_guard(fd_dir, closedir);
    while (const dirent* fd = readdir(fd_dir)) {
      if (fd->d_name[0] == '.') continue;
      char target[64];
      const auto length = readlinkat(dirfd(fd_dir), fd->d_name, target, sizeof target - 1);
      if (length <= 0) continue;
      const std::string_view link(target, static_cast<std::size_t>(length));
      if (!starts_with(link, kPrefix) || link.back() != ']') continue;
      const auto inode =
          parse_integer(link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1));
      if (!inode || *inode <= 0) continue;
      const auto key = static_cast<std::uint64_t>(*inode);
      if (wanted.count(key) != 0 && owners.pid_of_inode.count(key) == 0) {
        owners.pid_of_inode.emplace(key, static_cast<int>(*pid));
      }
    }
    if (owners.pid_of_inode.size() == wanted.size()) break;
  }
  return owners;
}

std::unordered_map<unsigned, std::string> parse_passwd_names(std::string_view text) {
  std::unordered_map<unsigned, std::string> names;
  for (const auto line : split_lines(text)) {
    // name:password:uid:gid:gecos:home:shell
    const auto first = line.find(':');
    if (first == std::string_view::npos || first == 0) continue;
    const auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const auto third = line.find(':', second + 1);
    if (third == std::string_view::npos) continue;
    const auto uid = parse_integer(line.substr(second + 1, third - second - 1));
    if (!uid || *uid < 0 || *uid > 0xffffffffLL) continue;
    names.emplace(static_cast<unsigned>(*uid), std::string(line.substr(0, first)));
  }
  return names;
}

std::unordered_map<std::string, json> parse_proc_wireless(std::string_view text) {
  std::unordered_map<std::string, json> links;
  for (const auto line : split_lines(text)) {
    // "wlp2s0: 0000   58.  -52.  -256        0      0      0      0     12        0"
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto name = trim(line.substr(0, colon));
    if (name.empty() || name.find('|') != std::string_view::npos) continue;
    const auto fields = split_fields(line.substr(colon + 1));
    if (fields.size() < 3) continue;
    const auto number = [](std::string_view field) -> std::optional<double> {
      if (!field.empty() && field.back() == '.') field.remove_suffix(1);
      return parse_decimal(field);
    };
    const auto quality = number(fields[1]);
    const auto level = number(fields[2]);
    if (!quality) continue;
    json link{{"link_quality", static_cast<long long>(*quality)}};
    if (level && *level < 0 && *level >= -150) {
      link["signal_dbm"] = static_cast<long long>(*level);
    } else {
      mark_unknown(link, "signal_dbm", "not present: the driver reports no level in dBm");
    }
    links.emplace(std::string(name), std::move(link));
  }
  return links;
}

std::optional<std::string> parse_iw_link_ssid(std::string_view text) {
  for (const auto line : split_lines(text)) {
    const auto content = trim(line);
    if (!starts_with(content, "SSID:")) continue;
    auto ssid = content.substr(5);
    if (!ssid.empty() && ssid.front() == ' ') ssid.remove_prefix(1);
    std::string decoded;
    for (std::size_t i = 0; i < ssid.size(); ++i) {
      if (ssid[i] == '\\' && i + 3 < ssid.size() && ssid[i + 1] == 'x') {
        if (const auto byte = parse_hex(ssid.substr(i + 2, 2))) {
          decoded += static_cast<char>(*byte);
          i += 3;
          continue;
        }
      }
      decoded += ssid[i];
    }
    return decoded;
  }
  return std::nullopt;
}

std::optional<int> parse_iw_link_signal(std::string_view text) {
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(trim(line));
    if (fields.size() >= 2 && fields[0] == "signal:") {
      const auto value = parse_integer(fields[1]);
      if (value && *value < 0 && *value >= -150) return static_cast<int>(*value);
    }
  }
  return std::nullopt;
}

ResolvConf parse_resolv_conf(std::string_view text) {
  ResolvConf conf;
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(line);
    if (fields.empty() || fields[0].front() == '#' || fields[0].front() == ';') continue;
    if (fields[0] == "nameserver" && fields.size() >= 2 && conf.servers.size() < 16) {
      conf.servers.emplace_back(fields[1]);
    } else if ((fields[0] == "search" || fields[0] == "domain") && fields.size() >= 2) {
      conf.search.clear();
      for (std::size_t i = 1; i < fields.size() && conf.search.size() < 32; ++i) {
        if (fields[i].front() == '#' || fields[i].front() == ';') break;
        conf.search.emplace_back(fields[i]);
      }
    }
  }
  return conf;
}

}  // namespace tether::agent::diag
