#include "diag/collectors/devices_collector.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <span>
#include <vector>

#include <fcntl.h>
#include <unistd.h>
#include "diag/collectors/edid_parser.hpp"

#include "diag/collectors/hw_sources.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxDevices = 1024;
// pci.ids is about 1.4 MB; no real copy is larger than this.
constexpr std::size_t kMaxPciIdsBytes = 8 * 1024 * 1024;
constexpr std::string_view kPciIdsPaths[] = {"/usr/share/misc/pci.ids",
                                             "/usr/share/hwdata/pci.ids"};

bool is_hex4(std::string_view text) {
  return hex_id(text, 4).has_value() && text.size() == 4;
}

}  // namespace

namespace {

// Walks pci.ids line by line, keeping only the names of wanted ids.
class PciIdsScanner {
 public:
  explicit PciIdsScanner(const std::map<std::string, std::set<std::string>>& wanted)
      : wanted_(wanted) {}

  /// Takes one line (without its end); false once nothing further can match.
  bool feed(std::string_view line) {
    if (wanted_.empty()) return false;
    if (line.empty() || line[0] == '#') return true;
    if (line[0] != '\t') {
      // "8086  Intel Corporation"; the class list ("C 03  Display controller") ends vendors.
      if (line.size() < 7 || !is_hex4(line.substr(0, 4))) return false;
      vendor_ = std::string(line.substr(0, 4));
      if (vendor_ > wanted_.rbegin()->first) return false;
      const auto it = wanted_.find(vendor_);
      devices_ = it == wanted_.end() ? nullptr : &it->second;
      if (devices_) names_.vendors[vendor_] = std::string(trim(line.substr(4)));
      return true;
    }
    // "\t9a49  TigerLake-LP GT2 [Iris Xe Graphics]"; "\t\t" lines are subsystems.
    if (!devices_ || line.size() < 8 || line[1] == '\t') return true;
    const auto device = std::string(line.substr(1, 4));
    if (devices_->contains(device)) {
      names_.devices[{vendor_, device}] = std::string(trim(line.substr(5)));
    }
    return true;
  }

  /// The lowest wanted vendor id above the current vendor, or "" when none is left.
  std::string next_wanted_vendor() const {
    const auto it = vendor_.empty() ? wanted_.begin() : wanted_.upper_bound(vendor_);
    return it == wanted_.end() ? std::string() : it->first;
  }

  /// True while the lines that follow belong to a vendor with wanted devices.
  bool in_wanted_vendor() const { return devices_ != nullptr; }

  PciNames take() { return std::move(names_); }

 private:
  const std::map<std::string, std::set<std::string>>& wanted_;
  const std::set<std::string>* devices_ = nullptr;  // wanted devices of the current vendor
  std::string vendor_;
  PciNames names_;
};

}  // namespace

PciNames lookup_pci_names(std::string_view text,
                          const std::map<std::string, std::set<std::string>>& wanted) {
  PciIdsScanner scanner(wanted);
  for (const auto line : split_lines(text)) {
    if (!scanner.feed(line)) break;
  }
  return scanner.take();
}

std::optional<std::string> pci_class_name(unsigned class_code) {
  static constexpr std::pair<unsigned, std::string_view> kSubclasses[] = {
      {0x0100, "SCSI storage controller"},
      {0x0101, "IDE interface"},
      {0x0104, "RAID bus controller"},
      {0x0106, "SATA controller"},
      {0x0107, "Serial Attached SCSI controller"},
      {0x0108, "Non-Volatile memory controller"},
      {0x0200, "Ethernet controller"},
      {0x0280, "Network controller"},
      {0x0300, "VGA compatible controller"},
      {0x0302, "3D controller"},
      {0x0380, "Display controller"},
      {0x0401, "Multimedia audio controller"},
      {0x0403, "Audio device"},
      {0x0500, "RAM memory"},
      {0x0600, "Host bridge"},
      {0x0601, "ISA bridge"},
      {0x0604, "PCI bridge"},
      {0x0680, "Bridge"},
      {0x0780, "Communication controller"},
      {0x0880, "System peripheral"},
      {0x0c03, "USB controller"},
      {0x0c05, "SMBus"},
      {0x0d11, "Bluetooth"},
      {0x1180, "Signal processing controller"},
  };
  static constexpr std::pair<unsigned, std::string_view> kClasses[] = {
      {0x00, "Unclassified device"},
      {0x01, "Mass storage controller"},
      {0x02, "Network controller"},
      {0x03, "Display controller"},
      {0x04, "Multimedia controller"},
      {0x05, "Memory controller"},
      {0x06, "Bridge"},
      {0x07, "Communication controller"},
      {0x08, "Generic system peripheral"},
      {0x09, "Input device controller"},
      {0x0a, "Docking station"},
      {0x0b, "Processor"},
      {0x0c, "Serial bus controller"},
      {0x0d, "Wireless controller"},
      {0x0e, "Intelligent controller"},
      {0x0f, "Satellite communications controller"},
      {0x10, "Encryption controller"},
      {0x11, "Signal processing controller"},
      {0x12, "Processing accelerators"},
      {0x13, "Non-Essential Instrumentation"},
      {0x40, "Coprocessor"},
      {0xff, "Unassigned class"},
  };
  const unsigned subclass = (class_code >> 8) & 0xFFFF;
  for (const auto& [code, name] : kSubclasses) {
    if (code == subclass) return std::string(name);
  }
  const unsigned base = (class_code >> 16) & 0xFF;
  for (const auto& [code, name] : kClasses) {
    if (code == base) return std::string(name);
  }
  return std::nullopt;
}

namespace {

struct PciDevice {
  std::string slot;
  std::optional<unsigned> class_code;
  std::optional<std::string> vendor_id;
  std::optional<std::string> device_id;
  std::optional<std::string> driver;
};

std::vector<PciDevice> read_pci(const std::filesystem::path& root) {
  std::vector<PciDevice> devices;
  // Slots are fixed-width hex ("0000:00:1f.3"): plain order is bus order.
  auto slots = list_directory(root, "/sys/bus/pci/devices", kMaxDevices);
  std::sort(slots.begin(), slots.end());
  for (const auto& slot : slots) {
    const std::string base = "/sys/bus/pci/devices/" + slot;
    PciDevice device{.slot = slot};
    if (const auto raw = read_raw(root, base + "/class", 64); raw.bytes) {
      if (const auto hex = hex_id(*raw.bytes, 6)) {
        device.class_code = static_cast<unsigned>(std::stoul(*hex, nullptr, 16));
      }
    }
    if (const auto raw = read_raw(root, base + "/vendor", 64); raw.bytes) {
      device.vendor_id = hex_id(*raw.bytes, 4);
    }
    if (const auto raw = read_raw(root, base + "/device", 64); raw.bytes) {
      device.device_id = hex_id(*raw.bytes, 4);
    }
    device.driver = link_name(root, base + "/driver");
    devices.push_back(std::move(device));
  }
  return devices;
}

// Streams pci.ids in blocks, looking up the wanted ids as lines go by, and stops once past
// the highest wanted vendor: a few hundred KiB read for a typical Intel laptop, never the
// whole file in memory.
std::optional<PciNames> read_pci_names(const std::filesystem::path& root,
                                       const std::map<std::string, std::set<std::string>>& wanted) {
  for (const auto path : kPciIdsPaths) {
    const int fd = ::open(under_root(root, path).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    PciIdsScanner scanner(wanted);
    std::string pending;
    char buffer[64 * 1024];
    std::size_t total = 0;
    bool going = true;
    while (going && total < kMaxPciIdsBytes) {
      const auto got = ::read(fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      total += static_cast<std::size_t>(got);
      pending.append(buffer, static_cast<std::size_t>(got));
      const char* data = pending.data();
      std::size_t start = 0;
      // The file is sorted by vendor: when the last vendor line of this block is still below
      // the next wanted vendor, nothing before that line can match, so the block is skipped
      // up to it without looking at its lines.
      if (!scanner.in_wanted_vendor()) {
        const auto next = scanner.next_wanted_vendor();
        if (next.empty()) break;
        for (auto pos = pending.size(); pos > 0;) {
          const auto newline = pending.rfind('\n', pos - 1);
          if (newline == std::string::npos) break;
          const auto line = std::string_view(pending).substr(newline + 1);
          if (line.size() >= 6 && line[0] != '\t' && line[0] != '#' &&
              pending.find('\n', newline + 1) != std::string::npos) {
            if (is_hex4(line.substr(0, 4)) && line.substr(0, 4) < next) start = newline + 1;
            break;
          }
          pos = newline;
        }
      }
      while (start < pending.size()) {
        const auto* newline =
            static_cast<const char*>(std::memchr(data + start, '\n', pending.size() - start));
        if (newline == nullptr) break;
        const auto end = static_cast<std::size_t>(newline - data);
        // Most lines are devices and subsystems of vendors nobody asked about: skip them
        // without parsing.
        const bool skip =
            data[start] == '#' || (data[start] == '\t' && !scanner.in_wanted_vendor());
        if (!skip && !(going = scanner.feed(std::string_view(data + start, end - start)))) break;
        start = end + 1;
      }
      pending.erase(0, start);
      if (pending.size() > 4096) break;  // no line is that long: not a pci.ids file
    }
    if (going && !pending.empty()) scanner.feed(pending);
    ::close(fd);
    return scanner.take();
  }
  return std::nullopt;
}

json pci_section(const std::filesystem::path& root, json& gpus) {
  const auto devices = read_pci(root);
  std::map<std::string, std::set<std::string>> wanted;
  for (const auto& d : devices) {
    if (d.vendor_id) {
      auto& ids = wanted[*d.vendor_id];
      if (d.device_id) ids.insert(*d.device_id);
    }
  }
  const auto names = devices.empty() ? std::nullopt : read_pci_names(root, wanted);
  json pci = json::array();
  for (const auto& d : devices) {
    json entry{{"slot", d.slot}};
    if (d.class_code) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "%06x", *d.class_code);
      entry["class_id"] = buffer;
      if (const auto name = pci_class_name(*d.class_code)) {
        entry["class"] = *name;
      } else {
        mark_unknown(entry, "class", "not present: unknown class");
      }
    } else {
      mark_unknown(entry, "class_id", "could not read: /sys/bus/pci/devices/" + d.slot + "/class");
      mark_unknown(entry, "class", "could not read: /sys/bus/pci/devices/" + d.slot + "/class");
    }
    const auto put_id = [&](const char* field, const std::optional<std::string>& id,
                            const char* file) {
      if (id) {
        entry[field] = *id;
      } else {
        mark_unknown(entry, field, "could not read: /sys/bus/pci/devices/" + d.slot + "/" + file);
      }
    };
    put_id("vendor_id", d.vendor_id, "vendor");
    put_id("device_id", d.device_id, "device");
    if (!names) {
      mark_unknown(entry, "vendor", "not present: no pci.ids");
      mark_unknown(entry, "device", "not present: no pci.ids");
    } else {
      const auto vendor = d.vendor_id ? names->vendors.find(*d.vendor_id) : names->vendors.end();
      if (vendor != names->vendors.end()) {
        entry["vendor"] = vendor->second;
      } else {
        mark_unknown(entry, "vendor", "not present: not in pci.ids");
      }
      const auto device = d.vendor_id && d.device_id
                              ? names->devices.find({*d.vendor_id, *d.device_id})
                              : names->devices.end();
      if (device != names->devices.end()) {
        entry["device"] = device->second;
      } else {
        mark_unknown(entry, "device", "not present: not in pci.ids");
      }
    }
    if (d.driver) {
      entry["driver"] = *d.driver;
    } else {
      entry["driver"] = nullptr;  // no driver bound: a fact, not a read failure
    }
    if (d.class_code && (*d.class_code >> 16) == 0x03) {
      json gpu{{"slot", d.slot},
               {"vendor_id", entry["vendor_id"]},
               {"device_id", entry["device_id"]},
               {"vendor", entry["vendor"]},
               {"model", entry["device"]},
               {"driver", entry["driver"]}};
      if (entry.contains("unknown")) {
        for (const auto& [field, reason] : entry["unknown"].items()) {
          if (field == "vendor_id" || field == "device_id" || field == "vendor") {
            gpu["unknown"][field] = reason;
          } else if (field == "device") {
            gpu["unknown"]["model"] = reason;
          }
        }
      }
      gpus.push_back(std::move(gpu));
    }
    pci.push_back(std::move(entry));
  }
  return pci;
}

json usb_section(const std::filesystem::path& root, unsigned uid) {
  const auto names = list_directory(root, "/sys/bus/usb/devices", kMaxDevices);
  json usb = json::array();
  for (const auto& name : names) {
    // "1-1.2" is a device, "1-1.2:1.0" one of its interfaces, "usb1" a root hub (the host
    // controller itself, already listed under PCI).
    if (name.find(':') != std::string::npos || name.compare(0, 3, "usb") == 0) continue;
    const auto dash = name.find('-');
    if (dash == std::string::npos) continue;
    const std::string base = "/sys/bus/usb/devices/" + name;
    json device = json::object();
    if (const auto bus = read_integer(root, base + "/busnum"); bus && *bus > 0) {
      device["bus"] = *bus;
    } else if (const auto from_name = parse_integer(std::string_view(name).substr(0, dash))) {
      device["bus"] = *from_name;
    } else {
      mark_unknown(device, "bus", "could not read: " + base + "/busnum");
    }
    device["port"] = name.substr(dash + 1);
    const auto id = [&](const char* field, const char* file) {
      const auto raw = read_raw(root, base + "/" + file, 64);
      const auto value = raw.bytes ? hex_id(*raw.bytes, 4) : std::nullopt;
      if (value) {
        device[field] = *value;
      } else {
        mark_unknown(device, field,
                     raw.bytes ? "could not read: not a USB id" : reason_for_errno(raw.error, uid));
      }
    };
    id("vendor_id", "idVendor");
    id("product_id", "idProduct");
    // Many devices have no manufacturer, product or serial string at all.
    put_value(device, "manufacturer", read_value(root, base + "/manufacturer", uid));
    put_value(device, "product", read_value(root, base + "/product", uid));
    put_value(device, "serial", read_value(root, base + "/serial", uid));
    // The device-level driver is the generic "usb"; the useful one drives an interface.
    std::optional<std::string> driver;
    const std::string prefix = name + ":";
    for (const auto& other : names) {
      if (other.compare(0, prefix.size(), prefix) != 0) continue;
      if ((driver = link_name(root, "/sys/bus/usb/devices/" + other + "/driver"))) break;
    }
    if (!driver) driver = link_name(root, base + "/driver");
    device["driver"] = driver ? json(*driver) : json(nullptr);
    if (const auto speed = read_value(root, base + "/speed", uid); !speed.value) {
      mark_unknown(device, "speed_mbps", speed.reason);
    } else if (const auto mbps = parse_decimal(*speed.value); mbps && *mbps > 0) {
      if (*mbps == static_cast<double>(static_cast<long long>(*mbps))) {
        device["speed_mbps"] = static_cast<long long>(*mbps);
      } else {
        device["speed_mbps"] = *mbps;  // 1.5 for low-speed devices
      }
    } else {
      mark_unknown(device, "speed_mbps", "could not read: not a speed");
    }
    usb.push_back(std::move(device));
  }
  return usb;
}

json monitors_section(const std::filesystem::path& root) {
  json monitors = json::array();
  for (const auto& name : list_directory(root, "/sys/class/drm", 256)) {
    // "card0-eDP-1", "card1-HDMI-A-1": connectors; "card0", "renderD128": the devices.
    if (name.compare(0, 4, "card") != 0) continue;
    const auto dash = name.find('-');
    if (dash == std::string::npos) continue;
    const auto raw = read_raw(root, "/sys/class/drm/" + name + "/edid", 32 * 1024);
    if (!raw.bytes || raw.bytes->empty()) continue;  // nothing connected
    json monitor{{"connector", name.substr(dash + 1)}};
    const auto result = parse_edid(std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(raw.bytes->data()), raw.bytes->size()));
    static constexpr const char* kFields[] = {
        "manufacturer",     "product_code",        "name", "serial", "width_mm", "height_mm",
        "manufacture_year", "preferred_resolution"};
    if (!result.info) {
      for (const char* field : kFields) {
        mark_unknown(monitor, field, "could not read: EDID " + result.error);
      }
      monitors.push_back(std::move(monitor));
      continue;
    }
    const auto& info = *result.info;
    monitor["manufacturer"] = info.manufacturer;
    monitor["product_code"] = info.product_code;
    const auto put = [&](const char* field, const auto& value) {
      if (value) {
        monitor[field] = *value;
      } else {
        mark_unknown(monitor, field, "not present");
      }
    };
    put("name", info.name);
    put("serial", info.serial);
    put("width_mm", info.width_mm);
    put("height_mm", info.height_mm);
    put("manufacture_year", info.manufacture_year);
    put("preferred_resolution", info.preferred_resolution);
    monitors.push_back(std::move(monitor));
  }
  return monitors;
}

}  // namespace

json collect_devices(const CollectContext& context) {
  const auto& root = context.root;
  if (!source_exists(root, "/sys")) return unavailable("cannot read /sys: not present");
  const auto uid = effective_uid(context);
  json gpus = json::array();
  json pci = pci_section(root, gpus);
  return json{{"gpus", std::move(gpus)},
              {"pci", std::move(pci)},
              {"usb", usb_section(root, uid)},
              {"monitors", monitors_section(root)}};
}

}  // namespace tether::agent::diag
