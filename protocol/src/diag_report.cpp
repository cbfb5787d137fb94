#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/utf8.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <sstream>

#include "diag_report_model.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::protocol {
namespace diag_report {
namespace {

using json = nlohmann::json;

// Bounds that keep a report readable whatever the machine holds.
constexpr std::size_t kMaxRows = 30;
constexpr std::size_t kMaxPorts = 20;
constexpr std::size_t kMaxDevices = 15;
constexpr std::size_t kMaxLogLines = 10;
constexpr std::size_t kMaxCell = 80;
constexpr std::size_t kMaxCommand = 60;

// ---- Reading any JSON without throwing --------------------------------------------------

const json& at(const json& object, const char* key) {
  return protocol::json_member(object, key);
}

std::string shorten(std::string text, std::size_t limit) {
  if (text.size() <= limit) return text;
  std::size_t cut = limit;
  // Do not cut a UTF-8 sequence in half.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
  return text + "\xe2\x80\xa6";
}

/// A non-empty string value, made printable and bounded; nullopt for anything else.
std::optional<std::string> str(const json& value, std::size_t limit = kMaxCell) {
  if (!value.is_string()) return std::nullopt;
  const auto& s = value.get_ref<const std::string&>();
  if (s.empty()) return std::nullopt;
  return shorten(printable_text(s), limit);
}

std::optional<std::string> str(const json& object, const char* key, std::size_t limit = kMaxCell) {
  return str(at(object, key), limit);
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string integer(double value) {
  return fixed(std::round(value), 0);
}

std::string percent(double value) {
  return (std::abs(value) < 10 && std::round(value) != value ? fixed(value, 1)
                                                             : fixed(std::round(value), 0)) +
         "%";
}

/// Why `key` of `object` could not be read, from its "unknown" map; empty when not recorded.
std::string reason(const json& object, const char* key) {
  return str(at(at(object, "unknown"), key)).value_or("");
}

std::string none_because(const std::string& why) {
  return why.empty() ? std::string(kNone) : std::string(kNone) + "  (" + why + ")";
}

/// Whether the snapshot says anything about `key`: a value, or a reason it has none.
bool mentioned(const json& object, const char* key) {
  return object.is_object() && (object.contains(key) || !reason(object, key).empty());
}

/// A scalar as a person reads it: strings printable, numbers without trailing zeros,
/// booleans yes/no; nullopt for null, objects and arrays.
std::optional<std::string> scalar(const json& value) {
  if (value.is_string()) return str(value);
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  if (const auto n = json_number(value)) {
    return std::round(*n) == *n && std::abs(*n) < 1e15 ? integer(*n) : fixed(*n, 2);
  }
  return std::nullopt;
}

/// The text of `key` in `object` formatted by `format`, or "—" with the recorded reason.
template <typename Format>
std::string cell(const json& object, const char* key, Format format) {
  const auto& value = at(object, key);
  if (auto text = format(value)) return *text;
  return none_because(reason(object, key));
}

std::string cell(const json& object, const char* key) {
  return cell(object, key, scalar);
}

std::string bytes_cell(const json& object, const char* key) {
  return cell(object, key, [](const json& v) -> std::optional<std::string> {
    if (const auto n = json_number(v); n && *n >= 0) return format_bytes(*n);
    return std::nullopt;
  });
}

/// Appends "Key  value" when the snapshot mentions `key` at all.
void add(std::vector<Field>& fields, const json& object, const char* key, const char* label) {
  if (mentioned(object, key)) fields.push_back({label, cell(object, key)});
}

template <typename Format>
void add(std::vector<Field>& fields, const json& object, const char* key, const char* label,
         Format format) {
  if (mentioned(object, key)) fields.push_back({label, cell(object, key, format)});
}

/// Strings of `keys` in `object` joined with spaces (empty when none is there).
std::string joined(const json& object, std::initializer_list<const char*> keys,
                   const char* separator = " ") {
  std::string out;
  for (const char* key : keys) {
    const auto text = scalar(at(object, key));
    if (!text) continue;
    if (!out.empty()) out += separator;
    out += *text;
  }
  return out;
}

/// A list of scalars, joined; nullopt when not an array.
std::optional<std::string> list(const json& value, const char* separator = ", ",
                                std::size_t limit = 12) {
  if (!value.is_array()) return std::nullopt;
  std::string out;
  std::size_t shown = 0;
  for (const auto& item : value) {
    const auto text = scalar(item);
    if (!text) continue;
    if (shown == limit) {
      out += std::string(separator) + "\xe2\x80\xa6";
      break;
    }
    if (!out.empty()) out += separator;
    out += *text;
    ++shown;
  }
  return out.empty() ? std::string("none") : out;
}

const json& array(const json& object, const char* key) {
  const auto& value = at(object, key);
  return value.is_array() ? value : protocol::json_null();
}

/// Rows of a table from the objects of `items`, at most `limit` of them.
template <typename Row>
Table table(std::string title, std::vector<std::string> header, const json& items,
            std::size_t limit, Row row) {
  Table out{std::move(title), std::move(header), {}, 0};
  if (!items.is_array()) return out;
  for (const auto& item : items) {
    if (!item.is_object()) continue;
    if (out.rows.size() == limit) {
      ++out.more;
      continue;
    }
    out.rows.push_back(row(item));
  }
  return out;
}

void push_fields(Section& section, std::vector<Field> fields) {
  if (!fields.empty()) section.blocks.emplace_back(std::move(fields));
}

void push_table(Section& section, Table table, const char* empty_note = nullptr) {
  if (!table.rows.empty()) {
    section.blocks.emplace_back(std::move(table));
  } else if (empty_note != nullptr) {
    section.blocks.emplace_back(Note{empty_note});
  }
}

/// When `key` is not a list but a null with a reason, a note saying so.
void push_reason_note(Section& section, const json& object, const char* key, const char* what) {
  if (at(object, key).is_array()) return;
  const auto why = reason(object, key);
  if (!why.empty()) section.blocks.emplace_back(Note{std::string(what) + ": " + none_because(why)});
}

std::optional<double> clamp_pct(std::optional<double> pct) {
  if (!pct) return std::nullopt;
  return std::clamp(*pct, 0.0, 100.0);
}

// ---- Sections, in docs/diagnostics-schema.md order --------------------------------------

void identity_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "device_id", "Device ID");
  add(fields, s, "machine_id", "Machine ID");
  add(fields, s, "smbios_uuid", "SMBIOS UUID");
  const auto& serials = at(s, "serials");
  add(fields, serials, "system", "System serial");
  add(fields, serials, "board", "Board serial");
  add(fields, serials, "chassis", "Chassis serial");
  add(fields, s, "macs", "MACs", [](const json& v) { return list(v); });
  add(fields, s, "placeholders", "Placeholders", [](const json& v) { return list(v); });
  add(fields, s, "sources", "ID sources", [](const json& v) { return list(v); });
  push_fields(out, std::move(fields));
}

std::optional<std::string> os_name(const json& os) {
  if (auto pretty = str(os, "pretty_name")) return pretty;
  const auto name = joined(os, {"name", "version"});
  if (!name.empty()) return name;
  return str(os);  // schema 1 agents wrote a bare string in places
}

void system_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "hostname", "Hostname");
  add(fields, s, "fqdn", "FQDN");
  add(fields, s, "os", "OS", os_name);
  add(fields, s, "kernel", "Kernel");
  add(fields, s, "architecture", "Architecture");
  add(fields, s, "boot_time", "Booted");
  add(fields, s, "uptime_seconds", "Uptime", [](const json& v) -> std::optional<std::string> {
    if (const auto n = json_number(v); n && *n >= 0) return format_uptime(*n);
    return std::nullopt;
  });
  add(fields, s, "timezone", "Time zone");
  add(fields, s, "virtualization", "Virtualization",
      [](const json& v) -> std::optional<std::string> {
        const auto type = str(v, "type");
        if (!type) return std::nullopt;
        if (*type == "none") return std::string("none (physical machine)");
        const auto role = str(v, "role");
        return role ? *type + " " + *role : *type;
      });
  add(fields, s, "install_date", "Installed");
  add(fields, s, "load", "Load", [](const json& v) -> std::optional<std::string> {
    const auto one = json_number(v, "1m"), five = json_number(v, "5m"),
               fifteen = json_number(v, "15m");
    if (!one && !five && !fifteen) return std::nullopt;
    auto show = [](std::optional<double> n) { return n ? fixed(*n, 2) : std::string("?"); };
    return show(one) + " " + show(five) + " " + show(fifteen) + " (1, 5, 15 min)";
  });
  add(fields, s, "clock", "Clock", [](const json& v) -> std::optional<std::string> {
    const auto& synced = at(v, "synchronized");
    if (!synced.is_boolean()) return std::nullopt;
    std::string text = synced.get<bool>() ? "synchronized" : "NOT synchronized";
    if (const auto offset = json_number(v, "offset_ms"))
      text += ", offset " + fixed(*offset, 1) + " ms";
    if (const auto error = json_number(v, "max_error_ms")) {
      text += ", max error " + fixed(*error, 1) + " ms";
    }
    return text;
  });
  add(fields, s, "reboot_required", "Reboot required",
      [](const json& v) -> std::optional<std::string> {
        const auto& required = at(v, "required");
        if (!required.is_boolean()) return std::nullopt;
        if (!required.get<bool>()) return std::string("no");
        std::string text = "YES";
        if (const auto since = str(v, "since")) text += ", since " + *since;
        if (const auto& packages = at(v, "packages"); packages.is_array() && !packages.empty()) {
          text += " (" + list(packages, ", ", 5).value_or("") + ")";
        }
        return text;
      });
  add(fields, s, "pressure", "Pressure (PSI)", [](const json& v) -> std::optional<std::string> {
    std::string text;
    auto part = [&](const char* key, const char* label) {
      if (const auto n = json_number(v, key)) {
        if (!text.empty()) text += ", ";
        text += std::string(label) + " " + fixed(*n, 1) + "%";
      }
    };
    part("cpu_some_avg10", "cpu");
    part("io_some_avg10", "io");
    part("io_full_avg10", "io full");
    if (text.empty()) return std::nullopt;
    return text + " (10 s average)";
  });
  push_fields(out, std::move(fields));
}

/// "vendor product version" of a firmware part; "—  (reason)" when none of it is there.
void add_part(std::vector<Field>& fields, const json& parent, const char* key, const char* label,
              std::initializer_list<const char*> keys) {
  if (!mentioned(parent, key)) return;
  const auto& part = at(parent, key);
  const auto text = joined(part, keys);
  if (!text.empty()) {
    fields.push_back({label, text});
    return;
  }
  // Nothing there: say why, from the part itself or from its first field with a reason.
  auto why = reason(parent, key);
  for (const char* field : keys) {
    if (why.empty()) why = reason(part, field);
  }
  fields.push_back({label, none_because(why)});
}

void firmware_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add_part(fields, s, "bios", "BIOS", {"vendor", "version"});
  if (const auto date = str(at(s, "bios"), "date")) fields.push_back({"BIOS date", *date});
  add_part(fields, s, "system", "System", {"manufacturer", "product", "version"});
  const auto& system = at(s, "system");
  add(fields, system, "serial", "System serial");
  add(fields, system, "uuid", "System UUID");
  add(fields, system, "sku", "SKU");
  add(fields, system, "family", "Family");
  add_part(fields, s, "board", "Board", {"manufacturer", "product", "version"});
  const auto& board = at(s, "board");
  add(fields, board, "serial", "Board serial");
  add(fields, board, "asset_tag", "Asset tag");
  add(fields, s, "chassis", "Chassis", [](const json& v) -> std::optional<std::string> {
    auto text = str(v, "type_name");
    const auto maker = str(v, "manufacturer");
    if (!text) return maker;
    return maker ? *text + " (" + *maker + ")" : *text;
  });
  add(fields, at(s, "chassis"), "serial", "Chassis serial");
  add(fields, s, "boot_mode", "Boot mode");
  add(fields, s, "secure_boot", "Secure boot", [](const json& v) -> std::optional<std::string> {
    if (!v.is_boolean()) return std::nullopt;
    return v.get<bool>() ? "enabled" : "disabled";
  });
  push_fields(out, std::move(fields));
}

void cpu_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "model", "Model");
  add(fields, s, "vendor", "Vendor");
  if (mentioned(s, "family") || mentioned(s, "model_id") || mentioned(s, "stepping")) {
    fields.push_back({"Family", cell(s, "family") + ", model " + cell(s, "model_id") +
                                    ", stepping " + cell(s, "stepping")});
  }
  add(fields, s, "microcode", "Microcode");
  std::string topology;
  auto part = [&](const char* key, const char* one, const char* many) {
    if (const auto n = json_number(s, key); n && *n >= 0) {
      if (!topology.empty()) topology += ", ";
      topology += integer(*n) + (*n == 1 ? one : many);
    }
  };
  part("sockets", " socket", " sockets");
  part("cores", " core", " cores");
  if (json_number(s, "threads")) {
    part("threads", " thread", " threads");
  } else {
    part("logical_cores", " logical core", " logical cores");
  }
  if (!topology.empty()) fields.push_back({"Topology", topology});
  if (const auto mhz = json_number(s, "mhz"); mhz && *mhz > 0) {
    std::string clock = integer(*mhz) + " MHz";
    if (const auto max = json_number(s, "max_mhz"); max && *max > 0) {
      clock += " (max " + integer(*max) + " MHz)";
    }
    fields.push_back({"Clock", clock});
  } else {
    add(fields, s, "mhz", "Clock");
  }
  if (const auto& caches = at(s, "caches"); caches.is_object()) {
    std::string text;
    for (const auto& [key, label] : {std::pair{"l1d_bytes", "L1d"}, std::pair{"l1i_bytes", "L1i"},
                                     std::pair{"l2_bytes", "L2"}, std::pair{"l3_bytes", "L3"}}) {
      if (const auto n = json_number(caches, key); n && *n > 0) {
        if (!text.empty()) text += ", ";
        text += std::string(label) + " " + format_bytes(*n);
      }
    }
    if (!text.empty()) fields.push_back({"Caches", text});
  }
  add(fields, s, "flags_summary", "Flags", [&](const json& v) -> std::optional<std::string> {
    auto text = list(v, " ", 20);
    if (!text) return std::nullopt;
    if (const auto count = json_number(s, "flag_count"))
      *text += " (" + integer(*count) + " in all)";
    return text;
  });
  add(fields, s, "utilization_pct", "Utilisation",
      [&](const json& v) -> std::optional<std::string> {
        const auto pct = json_number(v);
        if (!pct) return std::nullopt;
        std::string text = percent(*pct);
        if (const auto window = json_number(s, "sample_ms"))
          text += " over " + integer(*window) + " ms";
        if (const auto& cores = at(s, "per_core_pct"); cores.is_array() && !cores.empty()) {
          text += "; per core:";
          std::size_t shown = 0;
          for (const auto& core : cores) {
            if (++shown > 64) {
              text += " \xe2\x80\xa6";
              break;
            }
            const auto n = json_number(core);
            text += " " + (n ? integer(*n) : std::string("?"));
          }
        }
        return text;
      });
  push_fields(out, std::move(fields));
}

void memory_section(const json& s, Section& out) {
  std::vector<Field> fields;
  std::vector<Bar> bars;
  add(fields, s, "total_bytes", "Total", [](const json& v) -> std::optional<std::string> {
    if (const auto n = json_number(v); n && *n >= 0) return format_bytes(*n);
    return std::nullopt;
  });
  const auto total = json_number(s, "total_bytes");
  const auto available = json_number(s, "available_bytes");
  std::optional<double> used_pct;
  if (total && available && *total > 0 && *available >= 0 && *available <= *total) {
    used_pct = (*total - *available) / *total * 100;
  } else {
    used_pct = clamp_pct(json_number(s, "used_pct"));
  }
  if (mentioned(s, "available_bytes")) {
    std::string text = bytes_cell(s, "available_bytes");
    if (used_pct && available) text += " (" + integer(*used_pct) + "% used)";
    fields.push_back({"Available", text});
  }
  if (used_pct) {
    bars.push_back({"Memory", *used_pct,
                    integer(*used_pct) + "% used" +
                        (total && available ? ", " + format_bytes(*available) + " of " +
                                                  format_bytes(*total) + " available"
                                            : ""),
                    80, 95});
  }
  const auto swap_total = json_number(s, "swap_total_bytes");
  const auto swap_free = json_number(s, "swap_free_bytes");
  if (swap_total && *swap_total == 0) {
    fields.push_back({"Swap", "none"});
  } else if (swap_total || swap_free || mentioned(s, "swap_total_bytes")) {
    std::string text =
        bytes_cell(s, "swap_total_bytes") + " total, " + bytes_cell(s, "swap_free_bytes") + " free";
    if (swap_total && swap_free && *swap_total > 0 && *swap_free <= *swap_total) {
      const double pct = (*swap_total - *swap_free) / *swap_total * 100;
      text += " (" + integer(pct) + "% used)";
      bars.push_back(
          {"Swap", pct, integer(pct) + "% used of " + format_bytes(*swap_total), 80, 95});
    }
    fields.push_back({"Swap", text});
  }
  add(fields, s, "pressure", "Pressure (PSI)", [](const json& v) -> std::optional<std::string> {
    const auto some = json_number(v, "some_avg10"), full = json_number(v, "full_avg10");
    if (!some && !full) return std::nullopt;
    return "some " + (some ? fixed(*some, 1) + "%" : std::string("?")) + ", full " +
           (full ? fixed(*full, 1) + "%" : std::string("?")) + " (10 s average)";
  });
  add(fields, s, "oom_kills_since_boot", "OOM kills");
  if (const auto used = json_number(s, "slots_used"), slots = json_number(s, "slots_total");
      used || slots) {
    fields.push_back({"DIMM slots", (used ? integer(*used) : std::string("?")) + " of " +
                                        (slots ? integer(*slots) : std::string("?")) + " used"});
  }
  push_fields(out, std::move(fields));
  if (!bars.empty()) out.blocks.emplace_back(std::move(bars));
  push_table(out,
             table("Memory modules", {"SLOT", "SIZE", "TYPE", "FORM", "SPEED", "MAKER", "PART"},
                   array(s, "dimms"), kMaxRows, [](const json& d) {
                     std::string slot = joined(d, {"locator", "bank"}, " / ");
                     const auto speed = json_number(d, "configured_speed_mts")
                                            ? json_number(d, "configured_speed_mts")
                                            : json_number(d, "speed_mts");
                     return std::vector<std::string>{
                         slot.empty() ? kNone : slot,
                         bytes_cell(d, "size_bytes"),
                         cell(d, "type"),
                         cell(d, "form_factor"),
                         speed ? integer(*speed) + " MT/s" : none_because(reason(d, "speed_mts")),
                         cell(d, "manufacturer"),
                         cell(d, "part_number")};
                   }));
  push_reason_note(out, s, "dimms", "Memory modules");
}

// Use% as df(1) computes it: used / (used + available), rounded up, so a disk whose
// reserved blocks are all that is left shows 100%.
std::optional<double> use_percent(const json& filesystem) {
  const auto size = json_number(filesystem, "size_bytes");
  const auto free = json_number(filesystem, "free_bytes");
  auto available = json_number(filesystem, "available_bytes");
  if (!available) available = free;
  if (size && available && *size > 0 && *available >= 0) {
    const double used =
        free && *free >= 0 && *free <= *size ? *size - *free : *size - std::min(*available, *size);
    const double denominator = used + *available;
    if (denominator > 0) return std::clamp(std::ceil(used / denominator * 100), 0.0, 100.0);
  }
  return clamp_pct(json_number(filesystem, "used_pct"));
}

std::string disk_health(const json& disk) {
  const auto& health = at(disk, "health");
  if (!health.is_object()) return none_because(reason(disk, "health"));
  std::string text;
  const auto& passed = at(health, "passed");
  if (passed.is_boolean()) text = passed.get<bool>() ? "passed" : "FAILED";
  auto part = [&](std::string piece) {
    if (!text.empty()) text += ", ";
    text += piece;
  };
  if (const auto t = json_number(health, "temperature_celsius"))
    part(integer(*t) +
         " \xc2\xb0"
         "C");
  if (const auto used = json_number(health, "percentage_used")) part(integer(*used) + "% worn");
  if (const auto hours = json_number(health, "power_on_hours")) part(integer(*hours) + " h on");
  if (const auto n = json_number(health, "media_errors"); n && *n > 0)
    part(integer(*n) + " media errors");
  if (const auto n = json_number(health, "reallocated_sectors"); n && *n > 0) {
    part(integer(*n) + " reallocated");
  }
  if (const auto n = json_number(health, "pending_sectors"); n && *n > 0)
    part(integer(*n) + " pending");
  if (const auto n = json_number(health, "critical_warning"); n && *n > 0) {
    part("critical warning " + integer(*n));
  }
  return text.empty() ? std::string(kNone) : text;
}

void storage_section(const json& s, Section& out) {
  push_table(out, table("Disks", {"DISK", "MODEL", "SERIAL", "SIZE", "BUS", "TYPE", "HEALTH"},
                        array(s, "disks"), kMaxRows, [](const json& d) {
                          std::string type = cell(d, "media");
                          if (at(d, "removable") == true) type += ", removable";
                          return std::vector<std::string>{
                              cell(d, "name"),   cell(d, "model"),
                              cell(d, "serial"), bytes_cell(d, "size_bytes"),
                              cell(d, "bus"),    type,
                              disk_health(d)};
                        }));
  push_reason_note(out, s, "disks", "Disks");

  std::vector<Bar> bars;
  auto filesystems = table(
      "Filesystems", {"MOUNT", "DEVICE", "TYPE", "SIZE", "AVAIL", "USE%", "INODES"},
      array(s, "filesystems"), kMaxRows, [&](const json& f) {
        std::string type = cell(f, "type");
        if (at(f, "read_only") == true) type += " (ro)";
        const auto use = use_percent(f);
        const auto inodes = clamp_pct(json_number(f, "inodes_used_pct"));
        const auto mount = cell(f, "mount_point");
        if (use) {
          const auto size = json_number(f, "size_bytes");
          bars.push_back(
              {mount, *use,
               integer(*use) + "% used" +
                   (size ? " of " + format_bytes(*size) + ", " +
                               bytes_cell(f, mentioned(f, "available_bytes") ? "available_bytes"
                                                                             : "free_bytes") +
                               " free"
                         : std::string()),
               90, 98});
        }
        return std::vector<std::string>{
            mount,
            cell(f, "device"),
            type,
            bytes_cell(f, "size_bytes"),
            bytes_cell(f, mentioned(f, "available_bytes") ? "available_bytes" : "free_bytes"),
            use ? integer(*use) + "%" : std::string(kNone),
            inodes ? integer(*inodes) + "%" : std::string(kNone)};
      });
  push_table(out, std::move(filesystems),
             at(s, "filesystems").is_array() ? "No filesystems." : nullptr);
  if (!bars.empty()) out.blocks.emplace_back(std::move(bars));

  push_table(out, table("Encrypted", {"NAME", "TYPE", "BACKING DEVICE"}, array(s, "encrypted"),
                        kMaxRows, [](const json& e) {
                          return std::vector<std::string>{cell(e, "name"), cell(e, "type"),
                                                          cell(e, "backing_device")};
                        }));
  push_table(out, table("LVM logical volumes", {"LV", "VG", "SIZE", "DEVICE"},
                        array(at(s, "lvm"), "logical_volumes"), kMaxRows, [](const json& lv) {
                          return std::vector<std::string>{
                              cell(lv, "name"), cell(lv, "volume_group"),
                              bytes_cell(lv, "size_bytes"), cell(lv, "device")};
                        }));
  push_table(out, table("RAID", {"ARRAY", "LEVEL", "STATE", "ACTIVE", "FAILED", "SYNC"},
                        array(s, "raid"), kMaxRows, [](const json& r) {
                          std::string state = cell(r, "state");
                          if (at(r, "degraded") == true) state += " (DEGRADED)";
                          std::string sync = kNone;
                          if (const auto action = str(r, "sync_action");
                              action && *action != "idle") {
                            sync = *action;
                            if (const auto pct = json_number(r, "sync_pct"))
                              sync += " " + fixed(*pct, 1) + "%";
                          }
                          return std::vector<std::string>{
                              cell(r, "name"),
                              cell(r, "level"),
                              state,
                              cell(r, "devices_active") + " of " + cell(r, "devices_total"),
                              cell(r, "devices_failed"),
                              sync};
                        }));
}

std::string addresses(const json& interface) {
  std::string out;
  const auto& list = at(interface, "addresses");
  if (!list.is_array()) return kNone;
  for (const auto& address : list) {
    const auto value = str(address, "address");
    if (!value) continue;
    if (!out.empty()) out += ", ";
    out += *value;
    if (const auto prefix = json_number(address, "prefix"); prefix && *prefix >= 0) {
      out += "/" + integer(*prefix);
    }
  }
  return out.empty() ? std::string(kNone) : shorten(out, 2 * kMaxCell);
}

void network_section(const json& s, Section& out) {
  std::vector<Field> problems;
  const auto& interfaces = array(s, "interfaces");
  push_table(
      out,
      table("Interfaces", {"INTERFACE", "TYPE", "STATE", "SPEED", "MAC", "ADDRESSES"}, interfaces,
            kMaxRows,
            [&](const json& i) {
              std::string type = cell(i, "type");
              if (at(i, "virtual") == true && type != "virtual" && type != "loopback") {
                type += " (virtual)";
              }
              const auto speed = json_number(i, "speed_mbps");
              const auto name = cell(i, "name");
              const auto& stats = at(i, "stats");
              auto count = [&](const char* key) { return json_number(stats, key).value_or(0); };
              if (count("rx_errors") + count("tx_errors") + count("rx_dropped") +
                      count("tx_dropped") >
                  0) {
                problems.push_back({name, "errors rx " + integer(count("rx_errors")) + ", tx " +
                                              integer(count("tx_errors")) + "; dropped rx " +
                                              integer(count("rx_dropped")) + ", tx " +
                                              integer(count("tx_dropped"))});
              }
              if (const auto& wifi = at(i, "wifi"); wifi.is_object()) {
                std::string text = "Wi-Fi";
                if (const auto ssid = str(wifi, "ssid")) text += " \"" + *ssid + "\"";
                if (const auto dbm = json_number(wifi, "signal_dbm")) {
                  text += ", " + integer(*dbm) + " dBm";
                }
                if (const auto quality = json_number(wifi, "link_quality")) {
                  text += ", quality " + integer(*quality);
                }
                problems.push_back({name, text});
              }
              return std::vector<std::string>{
                  name,
                  type,
                  cell(i, "state"),
                  speed && *speed > 0 ? integer(*speed) + " Mb/s" : std::string(kNone),
                  i.contains("permanent_mac") && str(i, "permanent_mac") &&
                          str(i, "permanent_mac") != str(i, "mac")
                      ? cell(i, "mac") + " (hw " + cell(i, "permanent_mac") + ")"
                      : cell(i, "mac"),
                  addresses(i)};
            }),
      interfaces.is_array() ? "No interfaces." : nullptr);
  push_fields(out, std::move(problems));

  std::vector<Field> fields;
  if (const auto& routes = at(s, "default_routes"); routes.is_array()) {
    if (routes.empty()) fields.push_back({"Default route", "none"});
    std::size_t shown = 0;
    for (const auto& route : routes) {
      if (!route.is_object() || ++shown > 8) continue;
      std::string text = "via " + cell(route, "gateway") + " on " + cell(route, "interface");
      if (const auto family = str(route, "family")) text += " (" + *family;
      if (const auto metric = json_number(route, "metric")) {
        text += (str(route, "family") ? ", metric " : " (metric ") + integer(*metric);
      }
      if (str(route, "family") || json_number(route, "metric")) text += ")";
      fields.push_back({shown == 1 ? "Default route" : "", text});
    }
  } else {
    add(fields, s, "default_routes", "Default route");
  }
  const auto& dns = at(s, "dns");
  if (dns.is_object()) {
    fields.push_back({"DNS servers", list(at(dns, "servers")).value_or(kNone)});
    if (const auto search = list(at(dns, "search")); search && *search != "none") {
      fields.push_back({"DNS search", *search});
    }
  } else {
    add(fields, s, "dns", "DNS");
  }
  push_fields(out, std::move(fields));

  push_table(out, table("Listening ports", {"PROTO", "ADDRESS", "PORT", "PROCESS", "USER"},
                        array(s, "listening"), kMaxPorts, [](const json& l) {
                          std::string process = cell(l, "process");
                          if (const auto pid = json_number(l, "pid"))
                            process += " (" + integer(*pid) + ")";
                          return std::vector<std::string>{cell(l, "protocol"), cell(l, "address"),
                                                          cell(l, "port"), process,
                                                          cell(l, "user")};
                        }));
  push_reason_note(out, s, "listening", "Listening ports");
}

void power_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "ac_online", "AC power", [](const json& v) -> std::optional<std::string> {
    if (!v.is_boolean()) return std::nullopt;
    return v.get<bool>() ? "connected" : "on battery";
  });
  push_fields(out, std::move(fields));
  std::vector<Bar> bars;
  const auto& batteries = array(s, "batteries");
  push_table(
      out,
      table("Batteries", {"BATTERY", "MODEL", "STATUS", "CHARGE", "WEAR", "CAPACITY", "CYCLES"},
            batteries, kMaxRows,
            [&](const json& b) {
              const auto name = cell(b, "name");
              const auto charge = clamp_pct(json_number(b, "capacity_pct"));
              const auto wear = clamp_pct(json_number(b, "wear_pct"));
              if (charge) {
                bars.push_back({name + " charge", *charge, integer(*charge) + "%", 20, 10, true});
              }
              if (wear) {
                bars.push_back({name + " wear", *wear,
                                integer(*wear) + "% worn (" + integer(100 - *wear) +
                                    "% of design capacity left)",
                                20, 50});
              }
              std::string capacity = kNone;
              const auto full = json_number(b, "full_capacity_wh");
              const auto design = json_number(b, "design_capacity_wh");
              if (full && design) {
                capacity = fixed(*full, 1) + " of " + fixed(*design, 1) + " Wh";
              } else if (full) {
                capacity = fixed(*full, 1) + " Wh";
              }
              return std::vector<std::string>{
                  name,
                  joined(b, {"manufacturer", "model"}).empty()
                      ? std::string(kNone)
                      : joined(b, {"manufacturer", "model"}),
                  cell(b, "status"),
                  charge ? integer(*charge) + "%" : none_because(reason(b, "capacity_pct")),
                  wear ? integer(*wear) + "%" : none_because(reason(b, "wear_pct")),
                  capacity,
                  cell(b, "cycle_count")};
            }),
      batteries.is_array() ? "No batteries." : nullptr);
  if (!bars.empty()) out.blocks.emplace_back(std::move(bars));
  push_table(out, table("Temperatures",
                        {"SENSOR",
                         "\xc2\xb0"
                         "C",
                         "MAX", "CRITICAL"},
                        array(s, "temperatures"), kMaxRows, [](const json& t) {
                          auto degrees = [&](const char* key) {
                            const auto n = json_number(t, key);
                            return n ? fixed(*n, 1) : std::string(kNone);
                          };
                          const auto label = joined(t, {"chip", "label"});
                          return std::vector<std::string>{
                              label.empty() ? kNone : label, degrees("celsius"),
                              degrees("max_celsius"), degrees("critical_celsius")};
                        }));
}

void devices_section(const json& s, Section& out) {
  push_table(out, table("GPUs", {"SLOT", "VENDOR", "MODEL", "DRIVER"}, array(s, "gpus"), kMaxRows,
                        [](const json& g) {
                          return std::vector<std::string>{cell(g, "slot"), cell(g, "vendor"),
                                                          cell(g, "model"), cell(g, "driver")};
                        }));
  push_table(out, table("Monitors", {"CONNECTOR", "MAKER", "NAME", "SIZE", "YEAR", "RESOLUTION"},
                        array(s, "monitors"), kMaxRows, [](const json& m) {
                          const auto width = json_number(m, "width_mm"),
                                     height = json_number(m, "height_mm");
                          std::string size = kNone;
                          if (width && height && *width > 0 && *height > 0) {
                            const double inches = std::hypot(*width, *height) / 25.4;
                            size = integer(*width / 10) + "\xc3\x97" + integer(*height / 10) +
                                   " cm (" + fixed(inches, 1) + "\")";
                          }
                          return std::vector<std::string>{cell(m, "connector"),
                                                          cell(m, "manufacturer"),
                                                          cell(m, "name"),
                                                          size,
                                                          cell(m, "manufacture_year"),
                                                          cell(m, "preferred_resolution")};
                        }));
  push_table(out, table("PCI devices", {"SLOT", "CLASS", "VENDOR", "DEVICE", "DRIVER"},
                        array(s, "pci"), kMaxDevices, [](const json& p) {
                          return std::vector<std::string>{cell(p, "slot"), cell(p, "class"),
                                                          cell(p, "vendor"), cell(p, "device"),
                                                          cell(p, "driver")};
                        }));
  push_table(out, table("USB devices", {"PORT", "ID", "MANUFACTURER", "PRODUCT", "SPEED"},
                        array(s, "usb"), kMaxDevices, [](const json& u) {
                          const auto speed = json_number(u, "speed_mbps");
                          return std::vector<std::string>{
                              // The port name ("1-1.2") already begins with the bus number.
                              str(u, "port") ? *str(u, "port") : cell(u, "bus"),
                              cell(u, "vendor_id") + ":" + cell(u, "product_id"),
                              cell(u, "manufacturer"), cell(u, "product"),
                              speed ? integer(*speed) + " Mb/s" : std::string(kNone)};
                        }));
}

void software_section(const json& s, Section& out) {
  std::vector<Field> fields;
  // Counts per source, never the whole package list: thousands of lines help nobody here.
  std::vector<std::pair<std::string, double>> counts;
  if (const auto& given = at(s, "counts"); given.is_object()) {
    for (const auto& [source, count] : given.items()) {
      if (const auto n = json_number(count)) counts.emplace_back(printable_text(source), *n);
    }
  } else if (const auto& packages = at(s, "packages"); packages.is_array()) {
    for (const auto& package : packages) {
      const auto source = str(package, "source").value_or("other");
      auto it = std::find_if(counts.begin(), counts.end(),
                             [&](const auto& entry) { return entry.first == source; });
      if (it == counts.end()) {
        counts.emplace_back(source, 1);
      } else {
        ++it->second;
      }
    }
  }
  if (!counts.empty()) {
    double total = 0;
    std::string detail;
    for (const auto& [source, count] : counts) {
      total += count;
      if (count <= 0) continue;
      if (!detail.empty()) detail += ", ";
      detail += source + " " + integer(count);
    }
    fields.push_back({"Packages", integer(total) + (detail.empty() ? "" : " (" + detail + ")")});
  } else {
    add(fields, s, "packages", "Packages");
  }
  add(fields, s, "pending_updates", "Pending updates",
      [](const json& v) -> std::optional<std::string> {
        const auto total = json_number(v, "total");
        if (!total) return std::nullopt;
        std::string text = integer(*total);
        if (const auto security = json_number(v, "security"))
          text += " (" + integer(*security) + " security)";
        if (const auto source = str(v, "source")) text += " via " + *source;
        return text;
      });
  push_fields(out, std::move(fields));
}

std::vector<std::string> process_row(const json& p) {
  const auto cpu = json_number(p, "cpu_pct");
  auto command = str(p, "command", kMaxCommand);
  return {cell(p, "pid"), cell(p, "user"), cpu ? fixed(*cpu, 1) : std::string(kNone),
          bytes_cell(p, "rss_bytes"), command ? *command : cell(p, "name")};
}

void processes_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "count", "Processes");
  add(fields, s, "threads", "Threads");
  push_fields(out, std::move(fields));
  const std::vector<std::string> header{"PID", "USER", "CPU%", "RSS", "COMMAND"};
  push_table(out, table("Top CPU", header, array(s, "top_cpu"), 5, process_row));
  push_table(out, table("Top memory", header, array(s, "top_memory"), 5, process_row));
}

void services_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "manager", "Manager");
  if (const auto& counts = at(s, "counts"); counts.is_object()) {
    fields.push_back({"Units", cell(counts, "total") + " total, " + cell(counts, "active") +
                                   " active, " + cell(counts, "failed") + " failed"});
  }
  if (const auto& failed = at(s, "failed"); failed.is_array()) {
    if (failed.empty()) {
      fields.push_back({"Failed units", "none"});
    } else {
      std::size_t shown = 0;
      for (const auto& unit : failed) {
        const auto name = scalar(unit);
        if (!name) continue;
        if (shown == kMaxRows) {
          fields.push_back(
              {"", "\xe2\x80\xa6 and " + std::to_string(failed.size() - shown) + " more"});
          break;
        }
        fields.push_back({shown++ == 0 ? "Failed units" : "", *name});
      }
    }
  } else if (reason(s, "failed") != reason(s, "manager")) {
    add(fields, s, "failed", "Failed units");
  }
  push_fields(out, std::move(fields));
}

void users_section(const json& s, Section& out) {
  std::vector<Field> fields;
  const auto& local = array(s, "local");
  json humans = json::array();
  std::size_t system_accounts = 0;
  if (local.is_array()) {
    for (const auto& user : local) {
      if (at(user, "human") == true) {
        humans.push_back(user);
      } else if (user.is_object()) {
        ++system_accounts;
      }
    }
    fields.push_back({"Local accounts", std::to_string(humans.size()) +
                                            (humans.size() == 1 ? " person, " : " people, ") +
                                            std::to_string(system_accounts) + " system"});
  } else {
    add(fields, s, "local", "Local accounts");
  }
  add(fields, s, "logged_in", "Logged in", [](const json& v) -> std::optional<std::string> {
    if (v.is_array()) return list(v);
    return scalar(v);
  });
  push_fields(out, std::move(fields));
  push_table(out,
             table("People", {"USER", "UID", "HOME", "SHELL"}, humans, kMaxRows, [](const json& u) {
               return std::vector<std::string>{cell(u, "name"), cell(u, "uid"), cell(u, "home"),
                                               cell(u, "shell")};
             }));
  push_table(out, table("Sessions", {"USER", "TTY", "FROM", "SINCE"}, array(s, "sessions"),
                        kMaxRows, [](const json& u) {
                          return std::vector<std::string>{cell(u, "user"), cell(u, "tty"),
                                                          cell(u, "host"), cell(u, "login_time")};
                        }));
  if (reason(s, "sessions") != reason(s, "logged_in")) {
    push_reason_note(out, s, "sessions", "Sessions");
  }
}

void logs_section(const json& s, Section& out) {
  std::vector<Field> fields;
  add(fields, s, "error_count", "Errors", [](const json& v) -> std::optional<std::string> {
    const auto n = json_number(v);
    if (!n) return std::nullopt;
    return integer(*n) + " since boot";
  });
  push_fields(out, std::move(fields));
  // The newest errors matter most; the list is oldest first.
  const auto& errors = array(s, "errors");
  json newest = json::array();
  if (errors.is_array()) {
    const std::size_t skip = errors.size() > kMaxLogLines ? errors.size() - kMaxLogLines : 0;
    for (std::size_t i = skip; i < errors.size(); ++i) newest.push_back(errors[i]);
  }
  auto recent =
      table("Last errors", {"TIME", "UNIT", "MESSAGE"}, newest, kMaxLogLines, [](const json& e) {
        return std::vector<std::string>{cell(e, "time"), cell(e, "unit"),
                                        str(e, "message", 100).value_or(kNone)};
      });
  if (errors.is_array() && errors.size() > kMaxLogLines) {
    recent.title +=
        " (newest " + std::to_string(kMaxLogLines) + " of " + std::to_string(errors.size()) + ")";
  }
  push_table(out, std::move(recent));
  if (reason(s, "errors") != reason(s, "error_count")) push_reason_note(out, s, "errors", "Errors");
  push_table(
      out,
      table("OOM kills", {"TIME", "PROCESS", "PID"}, array(s, "oom_kills"), kMaxLogLines,
            [](const json& k) {
              return std::vector<std::string>{cell(k, "time"), cell(k, "process"), cell(k, "pid")};
            }));
  push_table(out, table("Crashes (24 h)", {"TIME", "EXECUTABLE", "DUMP"}, array(s, "crashes"),
                        kMaxLogLines, [](const json& c) {
                          return std::vector<std::string>{cell(c, "time"), cell(c, "executable"),
                                                          cell(c, "path")};
                        }));
}

struct SectionRenderer {
  const char* name;
  const char* title;
  void (*render)(const json&, Section&);
};

constexpr SectionRenderer kSections[] = {
    {"identity", "Identity", identity_section},
    {"system", "System", system_section},
    {"firmware", "Firmware", firmware_section},
    {"cpu", "CPU", cpu_section},
    {"memory", "Memory", memory_section},
    {"storage", "Storage", storage_section},
    {"network", "Network", network_section},
    {"power", "Power", power_section},
    {"devices", "Devices", devices_section},
    {"software", "Software", software_section},
    {"processes", "Processes", processes_section},
    {"services", "Services", services_section},
    {"users", "Users", users_section},
    {"logs", "Logs", logs_section},
};

std::string evidence_text(const json& evidence) {
  if (!evidence.is_object() || evidence.empty()) return "";
  std::string out;
  for (const auto& [key, value] : evidence.items()) {
    if (!out.empty()) out += ", ";
    auto text = scalar(value);
    if (!text) {
      // Lists and objects as compact JSON; dump cannot throw with replacement of bad UTF-8.
      text = printable_text(value.dump(-1, ' ', false, json::error_handler_t::replace));
    }
    out += printable_text(key) + "=" + *text;
    if (out.size() > 200) break;
  }
  return shorten(out, 200);
}

void read_findings(const json& snapshot, Report& report) {
  const auto& findings = at(snapshot, "findings");
  report.has_findings = findings.is_array();
  if (findings.is_array()) {
    for (const auto& finding : findings) {
      auto severity = str(finding, "severity").value_or("info");
      if (severity == "ok") {
        ++report.passed;
        continue;
      }
      if (severity != "critical" && severity != "warning") severity = "info";
      report.findings.push_back({severity, str(finding, "id").value_or("?"),
                                 str(finding, "summary", 200).value_or("(no summary)"),
                                 str(finding, "hint", 300).value_or(""),
                                 evidence_text(at(finding, "evidence"))});
    }
    auto rank = [](const std::string& severity) {
      return severity == "critical" ? 0 : severity == "warning" ? 1 : 2;
    };
    std::stable_sort(
        report.findings.begin(), report.findings.end(),
        [&](const Finding& a, const Finding& b) { return rank(a.severity) < rank(b.severity); });
  }
  if (const auto& skipped = at(snapshot, "checks_skipped"); skipped.is_array()) {
    for (const auto& check : skipped) {
      if (!check.is_object()) continue;
      report.skipped.push_back(str(check, "id").value_or("?") + ": " +
                               str(check, "reason").value_or("no reason given"));
    }
  }
}

}  // namespace

Report build_report(const json& snapshot) {
  Report report;
  if (!snapshot.is_object()) return report;
  report.empty = false;
  const auto& system = at(snapshot, "system");
  report.host = str(system, "hostname").value_or("");
  if (const auto os = os_name(at(system, "os"))) report.header.push_back({"OS", *os});
  std::string collected = str(snapshot, "collected_at").value_or("?");
  if (const auto ms = json_number(snapshot, "duration_ms"); ms && *ms >= 0) {
    collected += " in " + integer(*ms) + " ms";
  }
  if (const auto version = str(at(snapshot, "agent"), "version")) {
    collected += " by agent " + *version;
  }
  report.header.push_back({"Collected", collected});
  if (at(snapshot, "redacted") == true) {
    report.header.push_back(
        {"Redacted", "serial numbers, MAC addresses, user and host names removed"});
  }
  read_findings(snapshot, report);

  for (const auto& renderer : kSections) {
    if (!snapshot.contains(renderer.name)) continue;
    const auto& value = snapshot[renderer.name];
    Section section{renderer.name, renderer.title, "", {}};
    if (!value.is_object()) {
      section.unavailable = "no usable data";
    } else if (value.contains("unavailable")) {
      section.unavailable = str(value, "unavailable").value_or("no reason given");
    } else {
      renderer.render(value, section);
    }
    report.sections.push_back(std::move(section));
  }
  if (const auto& errors = at(snapshot, "errors"); errors.is_array()) {
    for (const auto& error : errors) {
      if (!error.is_object()) continue;
      report.not_collected.push_back(str(error, "section").value_or("?") + " (" +
                                     str(error, "message").value_or("?") + ")");
    }
  }
  return report;
}

}  // namespace diag_report

namespace {

using diag_report::Report;

// Display width of UTF-8 text: code points, which is right for everything but wide CJK.
std::size_t width(const std::string& text) {
  std::size_t n = 0;
  for (const char c : text) n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::string pad(const std::string& text, std::size_t to) {
  const auto w = width(text);
  return w >= to ? text : text + std::string(to - w, ' ');
}

void write_table(const diag_report::Table& table, std::ostream& out) {
  if (!table.title.empty()) out << "  " << table.title << ":\n";
  std::vector<std::size_t> widths(table.header.size(), 0);
  auto measure = [&](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], width(row[i]));
    }
  };
  measure(table.header);
  for (const auto& row : table.rows) measure(row);
  auto write_row = [&](const std::vector<std::string>& row) {
    std::string line = "    ";
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      line += i + 1 < row.size() ? pad(row[i], widths[i] + 2) : row[i];
    }
    out << line << "\n";
  };
  write_row(table.header);
  for (const auto& row : table.rows) write_row(row);
  if (table.more > 0) out << "    \xe2\x80\xa6 and " << table.more << " more\n";
}

constexpr std::size_t kKeyWidth = 18;

std::string render_text(const Report& report) {
  if (report.empty) return "No diagnostics in this snapshot.\n";
  std::ostringstream out;
  out << "TETHER DIAGNOSTICS" << (report.host.empty() ? "" : " \xe2\x80\x94 " + report.host)
      << "\n";
  for (const auto& field : report.header) {
    out << "  " << pad(field.key, kKeyWidth) << field.value << "\n";
  }

  if (report.has_findings || !report.skipped.empty()) {
    out << "\nFINDINGS\n";
    if (report.findings.empty()) out << "  No problems found.\n";
    for (const auto& finding : report.findings) {
      if (finding.severity == "info") {
        out << "  info      " << finding.summary << "  [" << finding.id << "]\n";
        continue;
      }
      out << "  " << pad(finding.severity == "critical" ? "CRITICAL" : "WARNING", 10)
          << finding.summary << "  [" << finding.id << "]\n";
      if (!finding.hint.empty()) out << "            \xe2\x86\x92 " << finding.hint << "\n";
      if (!finding.evidence.empty()) out << "            (" << finding.evidence << ")\n";
    }
    out << "  " << report.passed << (report.passed == 1 ? " check" : " checks") << " passed";
    if (!report.skipped.empty()) {
      out << ", " << report.skipped.size() << " skipped (inputs missing)";
    }
    out << "\n";
  }

  for (const auto& section : report.sections) {
    std::string title = section.title;
    std::transform(title.begin(), title.end(), title.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    out << "\n" << title << "\n";
    if (!section.unavailable.empty()) {
      out << "  not collected: " << section.unavailable << "\n";
      continue;
    }
    if (section.blocks.empty()) out << "  nothing reported\n";
    for (const auto& block : section.blocks) {
      if (const auto* fields = std::get_if<std::vector<diag_report::Field>>(&block)) {
        for (const auto& field : *fields) {
          out << "  " << pad(field.key, kKeyWidth) << field.value << "\n";
        }
      } else if (const auto* table = std::get_if<diag_report::Table>(&block)) {
        write_table(*table, out);
      } else if (const auto* note = std::get_if<diag_report::Note>(&block)) {
        out << "  " << note->text << "\n";
      }
      // Bars are for the HTML report; the tables above carry the same figures.
    }
  }
  if (!report.not_collected.empty()) {
    out << "\n";
    for (const auto& line : report.not_collected) out << "Not collected: " << line << "\n";
  }
  return out.str();
}

std::string fixed_point(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

}  // namespace

std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence_length(text, i);
    const bool ok = length != 0;
    if (!ok) {
      out += "\xef\xbf\xbd";
      ++i;
      continue;
    }
    if (length == 1) {
      out += byte < 0x20 || byte == 0x7f ? ' ' : static_cast<char>(byte);
    } else if (length == 2 && byte == 0xc2 && static_cast<unsigned char>(text[i + 1]) < 0xa0) {
      out += ' ';  // C1 controls, U+0080–U+009F: CSI (U+009B) drives some terminals
    } else if (length == 3 && byte == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(text[i + 2]) >= 0xaa &&
                static_cast<unsigned char>(text[i + 2]) <= 0xae)) {
      out += ' ';  // U+202A–U+202E: bidirectional embeddings and overrides
    } else if (length == 3 && byte == 0xe2 && static_cast<unsigned char>(text[i + 1]) == 0x81 &&
               (static_cast<unsigned char>(text[i + 2]) >= 0xa6 &&
                static_cast<unsigned char>(text[i + 2]) <= 0xa9)) {
      out += ' ';  // U+2066–U+2069: bidirectional isolates
    } else {
      out.append(text, i, length);
    }
    i += length;
  }
  return out;
}

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return fixed_point(std::floor(bytes), 0) + " B";
  static constexpr std::array<const char*, 6> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = bytes / 1024;
  std::size_t unit = 0;
  // 1023.96 KiB would print as "1024.0 KiB"; move up a unit before that can happen.
  while (value >= 1023.95 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return fixed_point(value, 1) + " " + kUnits[unit];
}

std::string format_uptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto total_minutes = static_cast<long long>(std::min(seconds, 1e15) / 60);
  const auto days = total_minutes / (24 * 60);
  const auto hours = total_minutes / 60 % 24;
  const auto minutes = total_minutes % 60;
  std::string out;
  if (days > 0) out += std::to_string(days) + (days == 1 ? " day " : " days ");
  if (days > 0 || hours > 0) out += std::to_string(hours) + " h ";
  return out + std::to_string(minutes) + " min";
}

std::string render_diagnostics_text(const nlohmann::json& snapshot) {
  try {
    return render_text(diag_report::build_report(snapshot));
  } catch (const std::exception&) {
    // Only allocation failure can get here; a report must never take its caller down.
    return "The diagnostics snapshot could not be rendered.\n";
  }
}

}  // namespace tether::protocol
