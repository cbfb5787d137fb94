#include "tether/protocol/glpi_inventory.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <set>

#include "tether/protocol/json_access.hpp"

namespace tether::protocol {
namespace {

using json = nlohmann::json;

constexpr double kMiB = 1024.0 * 1024.0;

const json& at(const json& object, const char* key) {
  return json_member(object, key);
}

const json& at(const json& object, std::initializer_list<const char*> path) {
  const json* value = &object;
  for (const char* key : path) value = &at(*value, key);
  return *value;
}

std::optional<std::string> str(const json& value) {
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) return std::nullopt;
  return value.get<std::string>();
}

std::optional<std::string> str(const json& object, const char* key) {
  return str(at(object, key));
}

// Integers the schema declares as "integer"; nothing outside what a JSON reader keeps exact.
std::optional<long long> whole(std::optional<double> n) {
  if (!n || *n < 0 || *n > 9.0e15) return std::nullopt;
  return std::llround(*n);
}

void put(json& object, const char* key, const std::optional<std::string>& value) {
  if (value) object[key] = *value;
}

void put(json& object, const char* key, std::optional<long long> value) {
  if (value) object[key] = *value;
}

std::optional<long long> mebibytes(std::optional<double> bytes) {
  if (!bytes) return std::nullopt;
  return whole(*bytes / kMiB);
}

bool digits(std::string_view text, std::size_t from, std::size_t count) {
  if (from + count > text.size()) return false;
  for (std::size_t i = from; i < from + count; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

/// "YYYY-MM-DD" from a snapshot date ("2023-04-11", "2023-04-11T08:00:00Z") or from the
/// SMBIOS form "04/11/2023"; nullopt for anything else.
std::optional<std::string> glpi_date(const json& value) {
  const auto text = str(value);
  if (!text) return std::nullopt;
  const std::string_view t = *text;
  if (digits(t, 0, 4) && t.size() >= 10 && t[4] == '-' && digits(t, 5, 2) && t[7] == '-' &&
      digits(t, 8, 2)) {
    return std::string(t.substr(0, 10));
  }
  if (t.size() == 10 && digits(t, 0, 2) && t[2] == '/' && digits(t, 3, 2) && t[5] == '/' &&
      digits(t, 6, 4)) {
    return std::string(t.substr(6, 4)) + "-" + std::string(t.substr(0, 2)) + "-" +
           std::string(t.substr(3, 2));
  }
  return std::nullopt;
}

/// "YYYY-MM-DD HH:MM:SS" (UTC) from "YYYY-MM-DDTHH:MM:SSZ"; nullopt for anything else.
std::optional<std::string> glpi_datetime(const json& value) {
  const auto text = str(value);
  if (!text) return std::nullopt;
  const std::string_view t = *text;
  if (t.size() < 19 || !glpi_date(value) || (t[10] != 'T' && t[10] != ' ') || !digits(t, 11, 2) ||
      t[13] != ':' || !digits(t, 14, 2) || t[16] != ':' || !digits(t, 17, 2)) {
    return std::nullopt;
  }
  return std::string(t.substr(0, 10)) + " " + std::string(t.substr(11, 8));
}

/// A date with its time when the snapshot has one, else the date alone.
std::optional<std::string> glpi_date_or_datetime(const json& value) {
  if (auto datetime = glpi_datetime(value)) return datetime;
  return glpi_date(value);
}

/// PCI and USB ids as GLPI writes them: four lower-case hex digits, no "0x".
std::optional<std::string> hex_id(const json& value) {
  auto text = str(value);
  if (!text) {
    if (const auto n = whole(json_number(value)); n && *n <= 0xffff) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "%04llx", *n);
      return std::string(buffer);
    }
    return std::nullopt;
  }
  if (text->rfind("0x", 0) == 0 || text->rfind("0X", 0) == 0) text->erase(0, 2);
  if (text->empty() || text->size() > 8) return std::nullopt;
  for (auto& c : *text) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

bool is_placeholder(const json& identity, const char* field) {
  const auto& placeholders = at(identity, "placeholders");
  if (!placeholders.is_array()) return false;
  return std::any_of(placeholders.begin(), placeholders.end(),
                     [&](const json& name) { return name == field; });
}

std::optional<std::string> usable_uuid(const json& snapshot) {
  const auto& identity = at(snapshot, "identity");
  if (!is_placeholder(identity, "smbios_uuid")) {
    if (auto uuid = str(identity, "smbios_uuid")) return uuid;
  }
  auto uuid = str(at(snapshot, {"firmware", "system"}), "uuid");
  if (!uuid || uuid->find_first_not_of("0-") == std::string::npos ||
      uuid->find_first_not_of("fF-") == std::string::npos) {
    return std::nullopt;
  }
  return uuid;
}

std::string capitalised(std::string text) {
  if (!text.empty()) text[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(text[0])));
  return text;
}

std::optional<std::string> vm_system(const json& system) {
  const auto type = str(at(system, "virtualization"), "type");
  if (!type) return std::nullopt;
  static const std::pair<const char*, const char*> kNames[] = {{"none", "Physical"},
                                                               {"kvm", "KVM"},
                                                               {"qemu", "QEMU"},
                                                               {"vmware", "VMware"},
                                                               {"virtualbox", "VirtualBox"},
                                                               {"hyperv", "Hyper-V"},
                                                               {"xen", "Xen"},
                                                               {"docker", "Docker"},
                                                               {"podman", "Podman"},
                                                               {"lxc", "lxc"},
                                                               {"wsl", "WSL"},
                                                               {"openvz", "Virtuozzo"},
                                                               {"bochs", "BOCHS"},
                                                               {"parallels", "Parallels"}};
  for (const auto& [from, to] : kNames) {
    if (*type == from) return std::string(to);
  }
  return type;
}

std::optional<std::string> default_gateway(const json& network, const char* interface = nullptr) {
  const auto& routes = at(network, "default_routes");
  if (!routes.is_array()) return std::nullopt;
  for (const auto& route : routes) {
    if (at(route, "family") != "ipv4") continue;
    if (interface != nullptr && at(route, "interface") != interface) continue;
    if (auto gateway = str(route, "gateway")) return gateway;
  }
  return std::nullopt;
}

json hardware(const json& snapshot) {
  json out = json::object();
  const auto& system = at(snapshot, "system");
  const auto& memory = at(snapshot, "memory");
  const auto& network = at(snapshot, "network");
  if (auto hostname = str(system, "hostname"))
    out["name"] = hostname->substr(0, hostname->find('.'));
  put(out, "uuid", usable_uuid(snapshot));
  put(out, "memory", mebibytes(json_number(memory, "total_bytes")));
  put(out, "swap", mebibytes(json_number(memory, "swap_total_bytes")));
  if (auto chassis = str(at(snapshot, {"firmware", "chassis"}), "type_name")) {
    out["chassis_type"] = capitalised(*chassis);
  }
  put(out, "vmsystem", vm_system(system));
  put(out, "defaultgateway", default_gateway(network));
  if (const auto& servers = at(network, {"dns", "servers"}); servers.is_array()) {
    std::string dns;
    for (const auto& server : servers) {
      if (const auto text = str(server)) dns += (dns.empty() ? "" : "/") + *text;
    }
    if (!dns.empty()) out["dns"] = dns;
  }
  if (const auto& sessions = at(snapshot, {"users", "sessions"}); sessions.is_array()) {
    // The last one to log in, as GLPI's own agent reports it.
    const json* last = nullptr;
    for (const auto& session : sessions) {
      if (!str(session, "user")) continue;
      if (last == nullptr ||
          str(session, "login_time").value_or("") >= str(*last, "login_time").value_or("")) {
        last = &session;
      }
    }
    if (last != nullptr) {
      put(out, "lastloggeduser", str(*last, "user"));
      put(out, "datelastloggeduser", glpi_datetime(at(*last, "login_time")));
    }
  }
  return out;
}

json bios(const json& snapshot) {
  const auto& firmware = at(snapshot, "firmware");
  const auto& b = at(firmware, "bios");
  const auto& system = at(firmware, "system");
  const auto& board = at(firmware, "board");
  json out = json::object();
  put(out, "bmanufacturer", str(b, "vendor"));
  put(out, "bversion", str(b, "version"));
  put(out, "bdate", glpi_date(at(b, "date")));
  put(out, "smanufacturer", str(system, "manufacturer"));
  put(out, "smodel", str(system, "product"));
  put(out, "ssn", str(system, "serial"));
  put(out, "skunumber", str(system, "sku"));
  put(out, "mmanufacturer", str(board, "manufacturer"));
  put(out, "mmodel", str(board, "product"));
  put(out, "msn", str(board, "serial"));
  put(out, "assettag", str(board, "asset_tag"));
  put(out, "enclosureserial", str(at(firmware, "chassis"), "serial"));
  if (const auto& secure = at(firmware, "secure_boot"); secure.is_boolean()) {
    out["secure_boot"] = secure.get<bool>() ? "enabled" : "disabled";
  } else if (at(firmware, "boot_mode") == "legacy") {
    out["secure_boot"] = "unsupported";
  }
  return out;
}

std::string offset_text(long seconds) {
  const long minutes = std::abs(seconds) / 60;
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%c%02ld%02ld", seconds < 0 ? '-' : '+', minutes / 60 % 100,
                minutes % 60);
  return buffer;
}

json operating_system(const json& snapshot, const GlpiOptions& options) {
  const auto& system = at(snapshot, "system");
  const auto& os = at(system, "os");
  json out = json::object();
  put(out, "name", str(os, "name"));
  put(out, "version", str(os, "version_id") ? str(os, "version_id") : str(os, "version"));
  put(out, "full_name", str(os, "pretty_name"));
  if (system.is_object()) out["kernel_name"] = "linux";
  put(out, "kernel_version", str(system, "kernel"));
  put(out, "arch", str(system, "architecture"));
  put(out, "boot_time", glpi_datetime(at(system, "boot_time")));
  put(out, "install_date", glpi_date_or_datetime(at(system, "install_date")));
  if (auto fqdn = str(system, "fqdn")) {
    out["fqdn"] = *fqdn;
    if (const auto dot = fqdn->find('.'); dot != std::string::npos && dot + 1 < fqdn->size()) {
      out["dns_domain"] = fqdn->substr(dot + 1);
    }
  } else {
    put(out, "fqdn", str(system, "hostname"));
  }
  if (options.utc_offset_seconds) {
    auto name = str(system, "timezone");
    if (!name && !options.timezone_abbreviation.empty()) name = options.timezone_abbreviation;
    if (name)
      out["timezone"] = {{"name", *name}, {"offset", offset_text(*options.utc_offset_seconds)}};
  }
  return out;
}

std::optional<std::string> cpu_arch(const json& system) {
  auto arch = str(system, "architecture");
  if (!arch) return std::nullopt;
  // The schema's list: mips, mips64, alpha, sparc, sparc64, m68k, i?86, x86_64, powerpc,
  // powerpc64, arm*, aarch64. Anything else (riscv64, s390x, ppc64le) is left out.
  static const std::set<std::string> kExact{"mips", "mips64", "alpha",   "sparc",     "sparc64",
                                            "m68k", "x86_64", "powerpc", "powerpc64", "aarch64"};
  if (kExact.count(*arch)) return arch;
  if (arch->rfind("arm", 0) == 0) return arch;
  if (arch->size() == 4 && (*arch)[0] == 'i' &&
      std::isdigit(static_cast<unsigned char>((*arch)[1])) && arch->substr(2) == "86") {
    return arch;
  }
  return std::nullopt;
}

std::optional<std::string> cpu_maker(const json& cpu) {
  auto vendor = str(cpu, "vendor");
  if (!vendor) return std::nullopt;
  if (*vendor == "GenuineIntel") return std::string("Intel");
  if (*vendor == "AuthenticAMD") return std::string("AMD");
  return vendor;
}

json cpus(const json& snapshot) {
  json out = json::array();
  const auto& cpu = at(snapshot, "cpu");
  if (!cpu.is_object() || cpu.contains("unavailable")) return out;
  const auto sockets = whole(json_number(cpu, "sockets")).value_or(1);
  const long long count = std::clamp<long long>(sockets, 1, 64);
  json one = json::object();
  put(one, "name", str(cpu, "model"));
  put(one, "manufacturer", cpu_maker(cpu));
  put(one, "arch", cpu_arch(at(snapshot, "system")));
  auto per_socket = [&](const char* key) -> std::optional<long long> {
    const auto n = whole(json_number(cpu, key));
    if (!n || *n == 0) return std::nullopt;
    return std::max<long long>(1, *n / count);
  };
  put(one, "core", per_socket("cores"));
  put(one, "corecount", per_socket("cores"));
  auto threads = per_socket("threads");
  if (!threads) threads = per_socket("logical_cores");
  put(one, "thread", threads);
  auto speed = whole(json_number(cpu, "max_mhz"));
  if (!speed || *speed == 0) speed = whole(json_number(cpu, "mhz"));
  if (speed && *speed > 0) one["speed"] = *speed;
  if (const auto family = whole(json_number(cpu, "family")))
    one["familynumber"] = std::to_string(*family);
  if (const auto model = whole(json_number(cpu, "model_id"))) one["model"] = std::to_string(*model);
  put(one, "stepping", whole(json_number(cpu, "stepping")));
  if (one.empty()) return out;
  for (long long i = 0; i < count; ++i) out.push_back(one);
  return out;
}

json memories(const json& snapshot) {
  json out = json::array();
  const auto& dimms = at(snapshot, {"memory", "dimms"});
  if (!dimms.is_array()) return out;
  long long slot = 0;
  for (const auto& dimm : dimms) {
    if (!dimm.is_object()) continue;
    json m = {{"numslots", ++slot}};
    put(m, "capacity", mebibytes(json_number(dimm, "size_bytes")));
    put(m, "caption", str(dimm, "locator"));
    put(m, "description", str(dimm, "form_factor"));
    put(m, "type", str(dimm, "type"));
    auto speed = whole(json_number(dimm, "configured_speed_mts"));
    if (!speed || *speed == 0) speed = whole(json_number(dimm, "speed_mts"));
    if (speed && *speed > 0) m["speed"] = std::to_string(*speed) + " MT/s";
    put(m, "manufacturer", str(dimm, "manufacturer"));
    put(m, "model", str(dimm, "part_number"));
    put(m, "serialnumber", str(dimm, "serial"));
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<std::string> bus_name(const json& disk) {
  const auto bus = str(disk, "bus");
  if (!bus) return std::nullopt;
  if (*bus == "nvme") return std::string("NVMe");
  if (*bus == "virtio") return std::string("VirtIO");
  std::string upper = *bus;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

json storages(const json& snapshot) {
  json out = json::array();
  const auto& disks = at(snapshot, {"storage", "disks"});
  if (!disks.is_array()) return out;
  for (const auto& disk : disks) {
    if (!disk.is_object()) continue;
    json s = json::object();
    put(s, "name", str(disk, "name"));
    put(s, "model", str(disk, "model"));
    put(s, "serial", str(disk, "serial"));
    put(s, "firmware", str(disk, "firmware"));
    // Disks are sold in decimal units; GLPI's own agent reports them that way too.
    if (const auto size = json_number(disk, "size_bytes")) put(s, "disksize", whole(*size / 1e6));
    put(s, "interface", bus_name(disk));
    s["type"] = at(disk, "removable") == true ? "removable" : "disk";
    if (const auto media = str(disk, "media"); media && *media != "unknown") {
      std::string upper = *media;
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      s["description"] = upper;
    }
    out.push_back(std::move(s));
  }
  return out;
}

json drives(const json& snapshot) {
  json out = json::array();
  const auto& storage = at(snapshot, "storage");
  const auto& filesystems = at(storage, "filesystems");
  if (!filesystems.is_array()) return out;
  const auto& encrypted = at(storage, "encrypted");
  for (const auto& filesystem : filesystems) {
    if (!filesystem.is_object()) continue;
    json d = json::object();
    put(d, "volumn", str(filesystem, "device"));
    put(d, "type", str(filesystem, "mount_point"));
    put(d, "filesystem", str(filesystem, "type"));
    put(d, "total", mebibytes(json_number(filesystem, "size_bytes")));
    auto free = json_number(filesystem, "available_bytes");
    if (!free) free = json_number(filesystem, "free_bytes");
    put(d, "free", mebibytes(free));
    if (const auto device = str(filesystem, "device"); device && encrypted.is_array()) {
      for (const auto& volume : encrypted) {
        const auto name = str(volume, "name");
        if (!name || *device != "/dev/mapper/" + *name) continue;
        d["encrypt_name"] = at(volume, "type") == "luks" ? "LUKS" : "dm-crypt";
        d["encrypt_status"] = "Yes";
        d["encrypt_type"] = "software";
      }
    }
    if (!d.empty()) out.push_back(std::move(d));
  }
  return out;
}

/// Mask and subnet of an address with `prefix` bits, in the address family's text form.
std::optional<std::pair<std::string, std::string>> mask_and_subnet(const std::string& address,
                                                                   long long prefix, int family) {
  std::array<unsigned char, 16> bytes{};
  const std::size_t size = family == AF_INET ? 4 : 16;
  if (prefix < 0 || prefix > static_cast<long long>(size * 8)) return std::nullopt;
  if (inet_pton(family, address.c_str(), bytes.data()) != 1) return std::nullopt;
  std::array<unsigned char, 16> mask{};
  for (std::size_t i = 0; i < size; ++i) {
    const long long bits = std::clamp<long long>(prefix - static_cast<long long>(i) * 8, 0, 8);
    mask[i] = static_cast<unsigned char>(0xff << (8 - bits));
    bytes[i] &= mask[i];
  }
  char mask_text[INET6_ADDRSTRLEN];
  char subnet_text[INET6_ADDRSTRLEN];
  if (inet_ntop(family, mask.data(), mask_text, sizeof mask_text) == nullptr ||
      inet_ntop(family, bytes.data(), subnet_text, sizeof subnet_text) == nullptr) {
    return std::nullopt;
  }
  return std::pair{std::string(mask_text), std::string(subnet_text)};
}

std::optional<std::string> network_type(const json& interface) {
  const auto type = str(interface, "type");
  if (!type) return std::nullopt;
  static const std::pair<const char*, const char*> kTypes[] = {
      {"ethernet", "ethernet"},  {"wireless", "wifi"},         {"wifi", "wifi"},
      {"loopback", "loopback"},  {"bridge", "bridge"},         {"bond", "aggregate"},
      {"team", "aggregate"},     {"infiniband", "infiniband"}, {"ppp", "dialup"},
      {"bluetooth", "bluetooth"}};
  for (const auto& [from, to] : kTypes) {
    if (*type == from) return std::string(to);
  }
  return std::nullopt;
}

json networks(const json& snapshot) {
  json out = json::array();
  const auto& network = at(snapshot, "network");
  const auto& interfaces = at(network, "interfaces");
  if (!interfaces.is_array()) return out;
  static const std::set<std::string> kStates{
      "up", "down", "dormant", "notpresent", "lowerlayerdown", "unknown", "testing"};
  for (const auto& interface : interfaces) {
    const auto name = str(interface, "name");
    if (!name) continue;  // description is required
    json base = {{"description", *name}};
    put(base, "mac", str(interface, "mac"));
    if (const auto state = str(interface, "state")) {
      base["status"] = kStates.count(*state) ? *state : "unknown";
    }
    put(base, "type", network_type(interface));
    if (const auto& virtual_device = at(interface, "virtual"); virtual_device.is_boolean()) {
      base["virtualdev"] = virtual_device.get<bool>();
    }
    if (const auto speed = whole(json_number(interface, "speed_mbps")); speed && *speed > 0) {
      base["speed"] = std::to_string(*speed);
    }
    put(base, "mtu", whole(json_number(interface, "mtu")));
    put(base, "driver", str(interface, "driver"));
    put(base, "wifi_ssid", str(at(interface, "wifi"), "ssid"));
    // One entry per address, as GLPI's own agent writes them.
    bool any = false;
    if (const auto& addresses = at(interface, "addresses"); addresses.is_array()) {
      for (const auto& address : addresses) {
        const auto text = str(address, "address");
        const auto prefix = whole(json_number(address, "prefix"));
        if (!text) continue;
        json entry = base;
        if (at(address, "family") == "ipv4") {
          const auto parts = mask_and_subnet(*text, prefix.value_or(32), AF_INET);
          if (!parts) continue;  // not an IPv4 address after all: the schema checks the format
          entry["ipaddress"] = *text;
          if (prefix) {
            entry["ipmask"] = parts->first;
            entry["ipsubnet"] = parts->second;
          }
          put(entry, "ipgateway", default_gateway(network, name->c_str()));
        } else if (at(address, "family") == "ipv6") {
          const auto parts = mask_and_subnet(*text, prefix.value_or(128), AF_INET6);
          if (!parts) continue;
          entry["ipaddress6"] = *text;
          if (prefix) {
            entry["ipmask6"] = parts->first;
            entry["ipsubnet6"] = parts->second;
          }
        } else {
          continue;
        }
        out.push_back(std::move(entry));
        any = true;
      }
    }
    if (!any) out.push_back(std::move(base));
  }
  return out;
}

json softwares(const json& snapshot) {
  json out = json::array();
  const auto& packages = at(snapshot, {"software", "packages"});
  if (!packages.is_array()) return out;
  for (const auto& package : packages) {
    const auto name = str(package, "name");
    if (!name) continue;  // name is required
    json s = {{"name", *name}};
    put(s, "version", str(package, "version"));
    put(s, "arch", str(package, "architecture"));
    put(s, "from", str(package, "source"));
    put(s, "filesize", whole(json_number(package, "install_size_bytes")));
    put(s, "install_date", glpi_date_or_datetime(at(package, "installed_at")));
    out.push_back(std::move(s));
  }
  return out;
}

json batteries(const json& snapshot) {
  json out = json::array();
  const auto& list = at(snapshot, {"power", "batteries"});
  if (!list.is_array()) return out;
  for (const auto& battery : list) {
    if (!battery.is_object()) continue;
    json b = json::object();
    auto name = str(battery, "model");
    if (!name) name = str(battery, "name");
    put(b, "name", name);
    put(b, "manufacturer", str(battery, "manufacturer"));
    put(b, "serial", str(battery, "serial"));
    put(b, "chemistry", str(battery, "technology"));
    if (const auto wh = json_number(battery, "design_capacity_wh"))
      put(b, "capacity", whole(*wh * 1000));
    if (const auto wh = json_number(battery, "full_capacity_wh"))
      put(b, "real_capacity", whole(*wh * 1000));
    if (!b.empty()) out.push_back(std::move(b));
  }
  return out;
}

json monitors(const json& snapshot) {
  json out = json::array();
  const auto& list = at(snapshot, {"devices", "monitors"});
  if (!list.is_array()) return out;
  for (const auto& monitor : list) {
    if (!monitor.is_object()) continue;
    json m = json::object();
    put(m, "name", str(monitor, "name"));
    put(m, "caption", str(monitor, "name"));
    put(m, "manufacturer", str(monitor, "manufacturer"));
    put(m, "serial", str(monitor, "serial"));
    put(m, "port", str(monitor, "connector"));
    if (const auto year = whole(json_number(monitor, "manufacture_year"))) {
      m["description"] = std::to_string(*year);
    }
    if (!m.empty()) out.push_back(std::move(m));
  }
  return out;
}

json videos(const json& snapshot) {
  json out = json::array();
  const auto& gpus = at(snapshot, {"devices", "gpus"});
  if (!gpus.is_array()) return out;
  std::optional<std::string> resolution;
  if (const auto& monitors = at(snapshot, {"devices", "monitors"});
      monitors.is_array() && !monitors.empty()) {
    resolution = str(monitors[0], "preferred_resolution");
  }
  for (const auto& gpu : gpus) {
    if (!gpu.is_object()) continue;
    json v = json::object();
    put(v, "name", str(gpu, "model"));
    put(v, "chipset", str(gpu, "vendor"));
    put(v, "pcislot", str(gpu, "slot"));
    if (gpus.size() == 1) put(v, "resolution", resolution);
    if (!v.empty()) out.push_back(std::move(v));
  }
  return out;
}

json controllers(const json& snapshot) {
  json out = json::array();
  const auto& pci = at(snapshot, {"devices", "pci"});
  if (!pci.is_array()) return out;
  for (const auto& device : pci) {
    if (!device.is_object()) continue;
    json c = json::object();
    put(c, "name", str(device, "device"));
    put(c, "caption", str(device, "device"));
    put(c, "manufacturer", str(device, "vendor"));
    put(c, "vendorid", hex_id(at(device, "vendor_id")));
    put(c, "productid", hex_id(at(device, "device_id")));
    // GLPI keeps class and subclass ("0600"), not the programming interface ("060000").
    if (auto pci_class = hex_id(at(device, "class_id")))
      put(c, "pciclass", pci_class->substr(0, 4));
    put(c, "type", str(device, "class"));
    put(c, "pcislot", str(device, "slot"));
    put(c, "driver", str(device, "driver"));
    if (!c.empty()) out.push_back(std::move(c));
  }
  return out;
}

json usb_devices(const json& snapshot) {
  json out = json::array();
  const auto& usb = at(snapshot, {"devices", "usb"});
  if (!usb.is_array()) return out;
  for (const auto& device : usb) {
    if (!device.is_object()) continue;
    json u = json::object();
    put(u, "vendorid", hex_id(at(device, "vendor_id")));
    put(u, "productid", hex_id(at(device, "product_id")));
    put(u, "manufacturer", str(device, "manufacturer"));
    put(u, "name", str(device, "product"));
    put(u, "caption", str(device, "product"));
    put(u, "serial", str(device, "serial"));
    if (!u.empty()) out.push_back(std::move(u));
  }
  return out;
}

json users(const json& snapshot) {
  json out = json::array();
  std::set<std::string> seen;
  const auto& section = at(snapshot, "users");
  auto add = [&](const json& name) {
    if (const auto login = str(name); login && seen.insert(*login).second) {
      out.push_back(json{{"login", *login}});
    }
  };
  if (const auto& sessions = at(section, "sessions"); sessions.is_array()) {
    for (const auto& session : sessions) add(at(session, "user"));
  }
  if (const auto& logged_in = at(section, "logged_in"); logged_in.is_array()) {
    for (const auto& name : logged_in) add(name);
  }
  return out;
}

json local_users(const json& snapshot) {
  json out = json::array();
  const auto& local = at(snapshot, {"users", "local"});
  if (!local.is_array()) return out;
  for (const auto& user : local) {
    const auto uid = whole(json_number(user, "uid"));
    if (!uid) continue;  // id is required
    json u = {{"id", std::to_string(*uid)}};
    put(u, "login", str(user, "name"));
    put(u, "name", str(user, "name"));
    put(u, "home", str(user, "home"));
    put(u, "shell", str(user, "shell"));
    out.push_back(std::move(u));
  }
  return out;
}

std::string device_id(const json& snapshot) {
  // Stable across runs, like the id GLPI's agent keeps in its state file: the host name and
  // the start of the machine's identity hash.
  std::string id = str(at(snapshot, "system"), "hostname").value_or("tether");
  id = id.substr(0, id.find('.'));
  if (auto hash = str(at(snapshot, "identity"), "device_id")) {
    if (hash->rfind("sha256:", 0) == 0) hash->erase(0, 7);
    id += "-" + hash->substr(0, 16);
  }
  return id;
}

}  // namespace

GlpiOptions local_glpi_options(std::chrono::system_clock::time_point when) {
  GlpiOptions options;
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm local{};
  if (localtime_r(&t, &local) != nullptr) {
    options.utc_offset_seconds = local.tm_gmtoff;
    if (local.tm_zone != nullptr) options.timezone_abbreviation = local.tm_zone;
  }
  return options;
}

json to_glpi_inventory(const json& snapshot, const GlpiOptions& options) {
  const auto version = str(at(snapshot, "agent"), "version")
                           .value_or(str(at(snapshot, "identity"), "agent_version").value_or("0"));
  json content = {{"versionclient", "Tether-Agent_v" + version}};
  try {
    auto section = [&](const char* name, json value) {
      if (!value.empty()) content[name] = std::move(value);
    };
    section("hardware", hardware(snapshot));
    section("bios", bios(snapshot));
    section("operatingsystem", operating_system(snapshot, options));
    section("cpus", cpus(snapshot));
    section("memories", memories(snapshot));
    section("storages", storages(snapshot));
    section("drives", drives(snapshot));
    section("networks", networks(snapshot));
    section("softwares", softwares(snapshot));
    section("batteries", batteries(snapshot));
    section("monitors", monitors(snapshot));
    section("videos", videos(snapshot));
    section("controllers", controllers(snapshot));
    section("usbdevices", usb_devices(snapshot));
    section("users", users(snapshot));
    section("local_users", local_users(snapshot));
  } catch (const std::exception&) {
    // Only allocation failure gets here: what was mapped so far is still a valid document.
  }
  return json{{"deviceid", device_id(snapshot)},
              {"itemtype", "Computer"},
              {"action", "inventory"},
              {"content", std::move(content)}};
}

}  // namespace tether::protocol
