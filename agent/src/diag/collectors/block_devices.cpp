#include "diag/collectors/block_devices.hpp"

#include <algorithm>
#include <set>
#include <system_error>
#include <tuple>
#include <vector>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// At most this many entries of /sys/block are looked at: a machine with thousands of loop
// devices must not slow the section down.
constexpr std::size_t kMaxBlockDevices = 1024;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::string> sysfs_text(const fs::path& root, const std::string& path) {
  const auto source = read_source(root, path);
  if (!source.text) return std::nullopt;
  const auto lines = split_lines(*source.text);
  if (lines.empty()) return std::nullopt;
  const auto value = trim(lines.front());
  if (value.empty()) return std::nullopt;
  return std::string(value);
}

std::optional<long long> sysfs_integer(const fs::path& root, const std::string& path) {
  const auto text = sysfs_text(root, path);
  if (!text) return std::nullopt;
  return parse_integer(*text);
}

// Printable ASCII only: serials and models are shown and exported as text.
bool printable(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
  });
}

void set_text(json& object, const char* field, const std::optional<std::string>& value,
              const char* reason) {
  if (value && printable(*value)) {
    object[field] = *value;
  } else {
    mark_unknown(object, field, reason);
  }
}

std::vector<std::string> list_directory(const fs::path& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
    if (names.size() >= kMaxBlockDevices) break;
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The device a dm device's slave name stands for: "/dev/sda2", or "/dev/mapper/<name>" for
// another device-mapper device.
std::string device_path(const fs::path& root, const std::string& block_name) {
  if (starts_with(block_name, "dm-")) {
    if (const auto name = sysfs_text(root, "/sys/block/" + block_name + "/dm/name")) {
      return "/dev/mapper/" + *name;
    }
  }
  return "/dev/" + block_name;
}

}  // namespace

bool is_disk_name(std::string_view name) {
  if (starts_with(name, "nvme")) {
    // nvme<ctrl>n<ns>; nvme<subsys>c<ctrl>n<ns> are the hidden multipath paths.
    const auto rest = name.substr(4);
    const auto n = rest.find('n');
    return n != std::string_view::npos && all_digits(rest.substr(0, n)) &&
           all_digits(rest.substr(n + 1));
  }
  if (starts_with(name, "mmcblk")) return all_digits(name.substr(6));
  for (std::string_view prefix : {"xvd", "sd", "vd", "hd"}) {
    if (starts_with(name, prefix)) {
      const auto letters = name.substr(prefix.size());
      return !letters.empty() && std::all_of(letters.begin(), letters.end(),
                                             [](char c) { return c >= 'a' && c <= 'z'; });
    }
  }
  return false;
}

std::string disk_bus(std::string_view path) {
  const auto has = [&](std::string_view part) { return path.find(part) != std::string_view::npos; };
  // USB first: a USB enclosure's path also passes through a SCSI host and target.
  if (has("/usb")) return "usb";
  if (has("/nvme/") || has("/nvme-subsystem/")) return "nvme";
  if (has("/virtio")) return "virtio";
  if (has("/mmc_host/") || has("/mmc")) return "mmc";
  if (has("/ata")) return "sata";
  if (has("/vbd-") || has("/xen")) return "xen";
  if (has("/host") && has("/target")) return "scsi";
  return "unknown";
}

std::optional<std::string> parse_vpd_serial(std::string_view page) {
  if (page.size() < 4 || static_cast<unsigned char>(page[1]) != 0x80) return std::nullopt;
  const std::size_t length = (static_cast<std::size_t>(static_cast<unsigned char>(page[2])) << 8) |
                             static_cast<unsigned char>(page[3]);
  if (length == 0 || page.size() < 4 + length) return std::nullopt;
  const auto serial = trim(page.substr(4, length));
  if (!printable(serial)) return std::nullopt;
  return std::string(serial);
}

std::optional<std::pair<std::string, std::string>> split_lvm_name(std::string_view dm_name) {
  // The separator is the first "-" that is not part of a "--" pair.
  for (std::size_t i = 0; i < dm_name.size(); ++i) {
    if (dm_name[i] != '-') continue;
    if (i + 1 < dm_name.size() && dm_name[i + 1] == '-') {
      ++i;
      continue;
    }
    if (i == 0 || i + 1 == dm_name.size()) return std::nullopt;
    const auto unescape = [](std::string_view part) {
      std::string out;
      for (std::size_t k = 0; k < part.size(); ++k) {
        out += part[k];
        if (part[k] == '-' && k + 1 < part.size() && part[k + 1] == '-') ++k;
      }
      return out;
    };
    return std::pair{unescape(dm_name.substr(0, i)), unescape(dm_name.substr(i + 1))};
  }
  return std::nullopt;
}

std::string device_mapper_kind(std::string_view uuid) {
  if (starts_with(uuid, "CRYPT-LUKS")) return "luks";
  if (starts_with(uuid, "CRYPT-VERITY") || starts_with(uuid, "CRYPT-INTEGRITY")) return "";
  if (starts_with(uuid, "CRYPT-")) return "dm-crypt";
  if (starts_with(uuid, "LVM-")) return "lvm";
  return "";
}

json read_disks(const fs::path& root) {
  json disks = json::array();
  for (const auto& name : list_directory(under_root(root, "/sys/block"))) {
    if (!is_disk_name(name)) continue;
    const std::string base = "/sys/block/" + name + "/";
    json disk{{"name", name}};

    set_text(disk, "model",
             starts_with(name, "mmcblk") ? sysfs_text(root, base + "device/name")
                                         : sysfs_text(root, base + "device/model"),
             "not present: sysfs gives no model");

    auto serial = sysfs_text(root, base + "device/serial");
    if (!serial) serial = sysfs_text(root, base + "serial");  // virtio-blk
    if (!serial) {
      if (const auto page = read_source(root, base + "device/vpd_pg80"); page.text) {
        serial = parse_vpd_serial(*page.text);
      }
    }
    set_text(disk, "serial", serial, "not present: sysfs gives no serial number");

    auto firmware = sysfs_text(root, base + "device/firmware_rev");
    if (!firmware) firmware = sysfs_text(root, base + "device/rev");
    if (!firmware) firmware = sysfs_text(root, base + "device/fwrev");
    set_text(disk, "firmware", firmware, "not present: sysfs gives no firmware revision");

    if (const auto sectors = sysfs_integer(root, base + "size"); sectors && *sectors >= 0) {
      // /sys/block/<dev>/size counts 512-byte sectors whatever the device's block size.
      disk["size_bytes"] = static_cast<std::uint64_t>(*sectors) * 512U;
    } else {
      mark_unknown(disk, "size_bytes", "could not read: " + base + "size");
    }

    std::error_code ec;
    auto link = fs::read_symlink(under_root(root, "/sys/block/" + name), ec);
    if (ec) link = fs::read_symlink(under_root(root, "/sys/class/block/" + name), ec);
    const std::string bus = ec ? "unknown" : disk_bus(link.generic_string());
    disk["bus"] = bus;

    const auto rotational = sysfs_integer(root, base + "queue/rotational");
    if (rotational && (*rotational == 0 || *rotational == 1)) {
      disk["rotational"] = *rotational == 1;
    } else {
      mark_unknown(disk, "rotational", "could not read: " + base + "queue/rotational");
    }
    // A virtual disk's rotational flag says nothing about the storage behind it.
    if (!rotational || bus == "virtio" || bus == "xen" || (*rotational != 0 && *rotational != 1)) {
      disk["media"] = "unknown";
    } else {
      disk["media"] = *rotational == 1 ? "hdd" : "ssd";
    }
    const auto removable = sysfs_integer(root, base + "removable");
    if (removable && (*removable == 0 || *removable == 1)) {
      disk["removable"] = *removable == 1;
    } else {
      mark_unknown(disk, "removable", "could not read: " + base + "removable");
    }
    disks.push_back(std::move(disk));
  }
  return disks;
}

json read_device_mapper(const fs::path& root) {
  json encrypted = json::array();
  json logical_volumes = json::array();
  std::set<std::string> volume_groups;
  for (const auto& block : list_directory(under_root(root, "/sys/block"))) {
    if (!starts_with(block, "dm-")) continue;
    const std::string base = "/sys/block/" + block + "/";
    const auto name = sysfs_text(root, base + "dm/name");
    const auto uuid = sysfs_text(root, base + "dm/uuid");
    if (!name || !uuid || !printable(*name)) continue;
    const auto kind = device_mapper_kind(*uuid);
    if (kind == "luks" || kind == "dm-crypt") {
      json volume{{"name", *name}, {"type", kind}};
      const auto slaves = list_directory(under_root(root, base + "slaves"));
      if (!slaves.empty()) {
        volume["backing_device"] = device_path(root, slaves.front());
      } else {
        mark_unknown(volume, "backing_device", "not present: no slaves in " + base);
      }
      encrypted.push_back(std::move(volume));
    } else if (kind == "lvm") {
      const auto parts = split_lvm_name(*name);
      if (!parts) continue;
      json volume{{"name", parts->second},
                  {"volume_group", parts->first},
                  {"device", "/dev/" + parts->first + "/" + parts->second}};
      if (const auto sectors = sysfs_integer(root, base + "size"); sectors && *sectors >= 0) {
        volume["size_bytes"] = static_cast<std::uint64_t>(*sectors) * 512U;
      } else {
        mark_unknown(volume, "size_bytes", "could not read: " + base + "size");
      }
      volume_groups.insert(parts->first);
      logical_volumes.push_back(std::move(volume));
    }
  }
  const auto by = [](const char* first, const char* second) {
    return [=](const json& a, const json& b) {
      return std::tie(a[first], a[second]) < std::tie(b[first], b[second]);
    };
  };
  std::sort(encrypted.begin(), encrypted.end(), by("name", "type"));
  std::sort(logical_volumes.begin(), logical_volumes.end(), by("volume_group", "name"));
  json groups = json::array();
  for (const auto& group : volume_groups) groups.push_back(json{{"name", group}});
  return json{
      {"encrypted", std::move(encrypted)},
      {"lvm",
       {{"volume_groups", std::move(groups)}, {"logical_volumes", std::move(logical_volumes)}}}};
}

}  // namespace tether::agent::diag
