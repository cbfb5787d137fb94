#include "diag/collectors/network_collector.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <bit>
#include <memory>
#include <system_error>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "diag/collectors/proc_net.hpp"
#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// Bounds: interfaces looked at, listening sockets listed, processes scanned for sockets.
constexpr std::size_t kMaxInterfaces = 512;
constexpr std::size_t kMaxListening = 1024;
constexpr std::size_t kMaxProcesses = 4096;

constexpr std::string_view kResolvedStub = "127.0.0.53";

json first_line(const fs::path& root, const std::string& path) {
  const auto source = read_source(root, path);
  if (!source.text) return nullptr;
  const auto lines = split_lines(*source.text);
  if (lines.empty() || trim(lines.front()).empty()) return nullptr;
  return std::string(trim(lines.front()));
}

std::optional<long long> integer_file(const fs::path& root, const std::string& path) {
  const auto line = first_line(root, path);
  if (!line.is_string()) return std::nullopt;
  return parse_integer(line.get<std::string>());
}

json interface_stats(const fs::path& root, const std::string& base) {
  static constexpr std::array<const char*, 8> kCounters{"rx_bytes",   "tx_bytes",  "rx_packets",
                                                        "tx_packets", "rx_errors", "tx_errors",
                                                        "rx_dropped", "tx_dropped"};
  json stats = json::object();
  for (const char* counter : kCounters) {
    const auto value = integer_file(root, base + "statistics/" + counter);
    if (value && *value >= 0) {
      stats[counter] = static_cast<std::uint64_t>(*value);
    } else {
      mark_unknown(stats, counter,
                   std::string("could not read: ") + base + "statistics/" + counter);
    }
  }
  return stats;
}

bool all_zero_mac(const std::string& mac) {
  return std::all_of(mac.begin(), mac.end(), [](char c) { return c == '0' || c == ':'; });
}

// The SSID and signal `iw dev <if> link` reports, run on a thread of its own while the
// collector reads files.
struct IwRun {
  std::string name;
  std::optional<ProgramRun> run;
};

void add_wifi(json& entry, const std::unordered_map<std::string, json>& wireless,
              const std::string& wireless_error, const IwRun* iw) {
  const auto& name = entry["name"].get_ref<const std::string&>();
  json wifi = json::object();
  if (const auto it = wireless.find(name); it != wireless.end()) {
    wifi = it->second;
  } else {
    const std::string reason = wireless_error.empty()
                                   ? "not present: not associated with an access point"
                                   : "could not read: " + wireless_error;
    mark_unknown(wifi, "link_quality", reason);
    if (!wifi.contains("signal_dbm")) mark_unknown(wifi, "signal_dbm", reason);
  }
  if (iw == nullptr) {
    mark_unknown(wifi, "ssid", "not present: interface is not up");
  } else if (!iw->run) {
    mark_unknown(wifi, "ssid", "timed out: iw");
  } else if (iw->run->outcome == RunOutcome::tool_missing) {
    mark_unknown(wifi, "ssid", "tool missing: iw");
  } else if (iw->run->outcome == RunOutcome::timed_out) {
    mark_unknown(wifi, "ssid", "timed out: iw");
  } else if (!iw->run->succeeded()) {
    const auto failure = describe_failure(*iw->run);
    mark_unknown(
        wifi, "ssid",
        failure.rfind("not supported", 0) == 0 ? failure : "could not read: iw: " + failure);
  } else if (const auto ssid = parse_iw_link_ssid(iw->run->out)) {
    wifi["ssid"] = *ssid;
    if (wifi["signal_dbm"].is_null()) {
      if (const auto signal = parse_iw_link_signal(iw->run->out)) {
        wifi["signal_dbm"] = *signal;
        if (wifi.contains("unknown")) {
          wifi["unknown"].erase("signal_dbm");
          if (wifi["unknown"].empty()) wifi.erase("unknown");
        }
      }
    }
  } else {
    mark_unknown(wifi, "ssid", "not present: not connected");
  }
  entry["wifi"] = std::move(wifi);
}

json read_interface(const fs::path& root, const std::string& name,
                    const std::vector<InterfaceAddress>& addresses) {
  const fs::path net = under_root(root, "/sys/class/net");
  const std::string base = "/sys/class/net/" + name + "/";
  const auto type_text = first_line(root, base + "type");
  std::error_code link_ec;
  const auto link = fs::read_symlink(net / name, link_ec);
  const bool virtual_device =
      !link_ec && link.generic_string().find("devices/virtual/") != std::string::npos;
  std::error_code wireless_ec;
  const bool wireless = fs::exists(net / name / "wireless", wireless_ec) ||
                        fs::exists(net / name / "phy80211", wireless_ec);

  json entry{{"name", name},
             {"type", interface_kind(type_text.is_string() ? type_text.get<std::string>() : "",
                                     wireless, virtual_device)},
             {"mac", first_line(root, base + "address")},
             {"state", first_line(root, base + "operstate")},
             {"mtu", nullptr},
             {"addresses", json::array()}};
  if (link_ec) {
    mark_unknown(entry, "virtual", "could not read: /sys/class/net/" + name + " is not a link");
  } else {
    entry["virtual"] = virtual_device;
  }
  if (entry["mac"].is_null()) mark_unknown(entry, "mac", "could not read: " + base + "address");
  if (entry["state"].is_null())
    mark_unknown(entry, "state", "could not read: " + base + "operstate");
  if (const auto mtu = integer_file(root, base + "mtu"); mtu && *mtu > 0) {
    entry["mtu"] = *mtu;
  } else {
    mark_unknown(entry, "mtu", "could not read: " + base + "mtu");
  }

  // NET_ADDR_PERM (0): the address is the one burnt into the device. Random (1), stolen
  // (2) and set (3) addresses hide it; only an ethtool ioctl could tell it then.
  const auto assign_type = integer_file(root, base + "addr_assign_type");
  if (assign_type && *assign_type == 0 && entry["mac"].is_string() &&
      !all_zero_mac(entry["mac"].get<std::string>())) {
    entry["permanent_mac"] = entry["mac"];
  } else if (assign_type && *assign_type != 0) {
    mark_unknown(entry, "permanent_mac",
                 "not present: the address is not the device's own (addr_assign_type " +
                     std::to_string(*assign_type) + ")");
  } else {
    mark_unknown(entry, "permanent_mac", "not present: no hardware address");
  }

  // Reading speed fails with EINVAL while the link is down and on virtual devices.
  if (const auto speed = integer_file(root, base + "speed");
      speed && *speed > 0 && *speed < 10'000'000) {
    entry["speed_mbps"] = *speed;
  } else {
    mark_unknown(entry, "speed_mbps", "not present: no link speed (link down or virtual device)");
  }
  if (const auto duplex = first_line(root, base + "duplex"); duplex == "full" || duplex == "half") {
    entry["duplex"] = duplex;
  } else {
    mark_unknown(entry, "duplex", "not present: no duplex (link down or virtual device)");
  }
  std::error_code driver_ec;
  const auto driver = fs::read_symlink(net / name / "device" / "driver", driver_ec);
  if (!driver_ec && !driver.filename().empty()) {
    entry["driver"] = driver.filename().string();
  } else {
    mark_unknown(entry, "driver", "not present: no device driver (virtual interface)");
  }

  for (const auto& address : addresses) {
    if (address.interface != name) continue;
    entry["addresses"].push_back(
        json{{"family", address.family}, {"address", address.address}, {"prefix", address.prefix}});
  }
  entry["stats"] = interface_stats(root, base);
  return entry;
}

json listening_sockets(const CollectContext& context, std::string& error) {
  const auto& root = context.root;
  std::vector<ListeningSocket> sockets;
  bool any_table = false;
  for (const char* protocol : {"tcp", "tcp6", "udp", "udp6"}) {
    const auto table = read_listening_sockets(
        under_root(root, std::string("/proc/net/") + protocol), protocol, kMaxListening);
    if (!table) continue;
    any_table = true;
    for (const auto& socket : *table) {
      if (sockets.size() < kMaxListening) sockets.push_back(socket);
    }
  }
  if (!any_table) {
    error = "could not read: /proc/net/tcp, tcp6, udp, udp6";
    return nullptr;
  }
  std::sort(sockets.begin(), sockets.end(), [](const auto& a, const auto& b) {
    return std::tie(a.protocol, a.port, a.address, a.inode) <
           std::tie(b.protocol, b.port, b.address, b.inode);
  });

  std::unordered_set<std::uint64_t> wanted;
  for (const auto& socket : sockets) {
    if (socket.inode != 0) wanted.insert(socket.inode);
  }
  const auto owners = find_socket_owners(under_root(root, "/proc"), wanted, kMaxProcesses);

  std::unordered_map<unsigned, std::string> users;
  if (const auto passwd = read_source(root, "/etc/passwd"); passwd.text) {
    users = parse_passwd_names(*passwd.text);
  }
  std::unordered_map<int, json> process_names;

  json listening = json::array();
  for (const auto& socket : sockets) {
    json entry{{"protocol", socket.protocol}, {"address", socket.address}, {"port", socket.port}};
    const auto owner = owners.pid_of_inode.find(socket.inode);
    if (owner != owners.pid_of_inode.end()) {
      const int pid = owner->second;
      entry["pid"] = pid;
      auto [it, fresh] = process_names.try_emplace(pid);
      if (fresh) it->second = first_line(root, "/proc/" + std::to_string(pid) + "/comm");
      if (it->second.is_string()) {
        entry["process"] = it->second;
      } else {
        mark_unknown(entry, "process", "could not read: /proc/" + std::to_string(pid) + "/comm");
      }
    } else {
      const std::string reason =
          owners.denied ? "not root: the owning process's file descriptors are not readable"
          : owners.truncated
              ? "could not read: stopped after " + std::to_string(kMaxProcesses) + " processes"
              : "not present: no process holds this socket (kernel socket or another namespace)";
      mark_unknown(entry, "pid", reason);
      mark_unknown(entry, "process", reason);
    }
    if (const auto user = users.find(socket.uid); user != users.end()) {
      entry["user"] = user->second;
    } else {
      mark_unknown(entry, "user",
                   "not present: uid " + std::to_string(socket.uid) + " is not in /etc/passwd");
    }
    listening.push_back(std::move(entry));
  }
  return listening;
}

}  // namespace

int prefix_length(const unsigned char* mask, std::size_t bytes) {
  int prefix = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    if (mask[i] == 0xff) {
      prefix += 8;
      continue;
    }
    // The first byte that is not all ones ends the prefix; any bits after it are ignored.
    prefix += std::countl_one(mask[i]);
    break;
  }
  return prefix;
}

std::string interface_kind(std::string_view type_text, bool wireless, bool virtual_device) {
  const auto type = parse_integer(type_text);
  if (type && *type == 772) return "loopback";
  if (wireless) return "wireless";
  if (virtual_device) return "virtual";
  if (type && *type == 1) return "ethernet";
  return "other";
}

json dns_from_resolv_conf(std::string_view etc_text,
                          const std::optional<std::string>& resolved_text) {
  auto conf = parse_resolv_conf(etc_text);
  std::string source = "/etc/resolv.conf";
  const bool stub_only =
      !conf.servers.empty() &&
      std::all_of(conf.servers.begin(), conf.servers.end(),
                  [](const std::string& server) { return server == kResolvedStub; });
  if (stub_only && resolved_text) {
    // systemd-resolved answers on 127.0.0.53 and forwards to the servers it lists here.
    auto upstream = parse_resolv_conf(*resolved_text);
    if (!upstream.servers.empty()) {
      if (upstream.search.empty()) upstream.search = conf.search;
      conf = std::move(upstream);
      source = "/run/systemd/resolve/resolv.conf";
    }
  }
  return json{{"servers", conf.servers}, {"search", conf.search}, {"source", source}};
}

std::vector<InterfaceAddress> system_interface_addresses() {
  std::vector<InterfaceAddress> rows;
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return rows;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_name == nullptr) continue;
    InterfaceAddress row;
    row.interface = entry->ifa_name;
    char text[INET6_ADDRSTRLEN] = {};
    if (entry->ifa_addr->sa_family == AF_INET) {
      const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
      if (inet_ntop(AF_INET, &address->sin_addr, text, sizeof text) == nullptr) continue;
      row.family = "ipv4";
      if (entry->ifa_netmask != nullptr) {
        const auto* mask = reinterpret_cast<const sockaddr_in*>(entry->ifa_netmask);
        row.prefix = prefix_length(reinterpret_cast<const unsigned char*>(&mask->sin_addr), 4);
      }
    } else if (entry->ifa_addr->sa_family == AF_INET6) {
      const auto* address = reinterpret_cast<const sockaddr_in6*>(entry->ifa_addr);
      if (inet_ntop(AF_INET6, &address->sin6_addr, text, sizeof text) == nullptr) continue;
      row.family = "ipv6";
      if (entry->ifa_netmask != nullptr) {
        const auto* mask = reinterpret_cast<const sockaddr_in6*>(entry->ifa_netmask);
        row.prefix = prefix_length(reinterpret_cast<const unsigned char*>(&mask->sin6_addr), 16);
      }
    } else {
      continue;
    }
    row.address = text;
    rows.push_back(std::move(row));
  }
  freeifaddrs(list);
  return rows;
}

json collect_network(const CollectContext& context) {
  const auto& root = context.root;
  const auto& host = context.host;
  const auto net = under_root(root, "/sys/class/net");
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(net, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
    if (names.size() >= kMaxInterfaces) break;
  }
  const std::string interfaces_error = ec ? "cannot list /sys/class/net: " + ec.message() : "";
  std::sort(names.begin(), names.end());

  // `iw` for each wireless interface that is up, started first so it runs while files are
  // read; each run is bounded by the probe deadline.
  std::vector<std::unique_ptr<IwRun>> iw_runs;
  std::vector<std::thread> iw_threads;
  for (const auto& name : names) {
    std::error_code wireless_ec;
    const bool wireless = fs::exists(net / name / "wireless", wireless_ec) ||
                          fs::exists(net / name / "phy80211", wireless_ec);
    if (!wireless || first_line(root, "/sys/class/net/" + name + "/operstate") != "up") continue;
    auto& iw = iw_runs.emplace_back(std::make_unique<IwRun>());
    iw->name = name;
    auto work = [&context, run = iw.get()] {
      run->run = run_probe(context, {"iw", "dev", run->name, "link"});
    };
    try {
      iw_threads.emplace_back(work);
    } catch (const std::system_error&) {
      work();
    }
  }
  struct Joiner {
    std::vector<std::thread>& threads;
    ~Joiner() {
      for (auto& thread : threads) {
        if (thread.joinable()) thread.join();
      }
    }
  } joiner{iw_threads};

  std::vector<InterfaceAddress> addresses;
  if (host.interface_addresses) {
    addresses = host.interface_addresses();
  } else if (context.real_root) {
    addresses = system_interface_addresses();
  }

  json interfaces = json::array();
  for (const auto& name : names) interfaces.push_back(read_interface(root, name, addresses));

  json routes = json::array();
  bool any_routes = false;
  if (const auto v4 = read_source(root, "/proc/net/route"); v4.text) {
    any_routes = true;
    routes = parse_ipv4_default_routes(*v4.text);
  }
  if (const auto v6 = read_source(root, "/proc/net/ipv6_route"); v6.text) {
    any_routes = true;
    for (auto& route : parse_ipv6_default_routes(*v6.text)) routes.push_back(std::move(route));
  }

  json dns;
  if (const auto resolv = read_source(root, "/etc/resolv.conf"); resolv.text) {
    std::optional<std::string> upstream;
    if (auto resolved = read_source(root, "/run/systemd/resolve/resolv.conf"); resolved.text) {
      upstream = std::move(resolved.text);
    }
    dns = dns_from_resolv_conf(*resolv.text, upstream);
  }

  std::string listening_error;
  json listening = listening_sockets(context, listening_error);

  std::string wireless_error;
  std::unordered_map<std::string, json> wireless;
  if (const auto text = read_source(root, "/proc/net/wireless"); text.text) {
    wireless = parse_proc_wireless(*text.text);
  } else {
    wireless_error = text.error;
  }

  for (auto& thread : iw_threads) thread.join();
  for (auto& entry : interfaces) {
    if (entry["type"] != "wireless") continue;
    const IwRun* iw = nullptr;
    for (const auto& run : iw_runs) {
      if (entry["name"] == run->name) iw = run.get();
    }
    add_wifi(entry, wireless, wireless_error, iw);
  }

  if (!interfaces_error.empty() && !any_routes && dns.is_null() && listening.is_null()) {
    return unavailable(interfaces_error);
  }
  json network = json::object();
  if (interfaces_error.empty()) {
    network["interfaces"] = std::move(interfaces);
  } else {
    mark_unknown(network, "interfaces", "could not read: " + interfaces_error);
  }
  if (any_routes) {
    network["default_routes"] = std::move(routes);
  } else {
    mark_unknown(network, "default_routes",
                 "could not read: /proc/net/route, /proc/net/ipv6_route");
  }
  if (dns.is_null()) {
    mark_unknown(network, "dns", "not present: no /etc/resolv.conf");
  } else {
    network["dns"] = std::move(dns);
  }
  if (listening.is_null()) {
    mark_unknown(network, "listening", listening_error);
  } else {
    network["listening"] = std::move(listening);
  }
  return network;
}

}  // namespace tether::agent::diag
