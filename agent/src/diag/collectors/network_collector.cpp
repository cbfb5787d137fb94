#include "diag/collectors/network_collector.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <bit>
#include <system_error>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

json first_line(const std::filesystem::path& root, const std::string& path) {
  const auto source = read_source(root, path);
  if (!source.text) return nullptr;
  const auto lines = split_lines(*source.text);
  if (lines.empty() || trim(lines.front()).empty()) return nullptr;
  return std::string(trim(lines.front()));
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
  namespace fs = std::filesystem;
  const auto net = under_root(root, "/sys/class/net");
  std::error_code ec;
  std::vector<std::string> names;
  for (fs::directory_iterator it(net, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  if (ec) return unavailable("cannot list /sys/class/net: " + ec.message());
  std::sort(names.begin(), names.end());

  std::vector<InterfaceAddress> addresses;
  if (host.interface_addresses) {
    addresses = host.interface_addresses();
  } else if (is_real_root(root)) {
    addresses = system_interface_addresses();
  }

  json interfaces = json::array();
  for (const auto& name : names) {
    const std::string base = "/sys/class/net/" + name + "/";
    const auto type_text = first_line(root, base + "type");
    std::error_code link_ec;
    const auto link = fs::read_symlink(net / name, link_ec);
    const bool virtual_device =
        !link_ec && link.generic_string().find("devices/virtual/") != std::string::npos;
    const bool wireless = fs::exists(net / name / "wireless", link_ec);

    json entry{{"name", name},
               {"type", interface_kind(type_text.is_string() ? type_text.get<std::string>() : "",
                                       wireless, virtual_device)},
               {"mac", first_line(root, base + "address")},
               {"state", first_line(root, base + "operstate")},
               {"mtu", nullptr},
               {"addresses", json::array()}};
    if (const auto mtu = first_line(root, base + "mtu"); mtu.is_string()) {
      if (const auto value = parse_integer(mtu.get<std::string>()); value && *value > 0) {
        entry["mtu"] = *value;
      }
    }
    for (const auto& address : addresses) {
      if (address.interface != name) continue;
      entry["addresses"].push_back(json{
          {"family", address.family}, {"address", address.address}, {"prefix", address.prefix}});
    }
    interfaces.push_back(std::move(entry));
  }
  return json{{"interfaces", std::move(interfaces)}};
}

}  // namespace tether::agent::diag
