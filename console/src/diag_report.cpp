#include "tether/console/diag_report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>
#include <sstream>
#include <vector>

namespace tether::console {
namespace {

using json = nlohmann::json;

const json kNull;

// Every accessor below answers "nothing" instead of throwing, whatever `object` holds.
const json& field(const json& object, const char* key) {
  if (!object.is_object()) return kNull;
  const auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::optional<double> number(const json& value) {
  if (!value.is_number()) return std::nullopt;
  const auto n = value.get<double>();
  if (!std::isfinite(n)) return std::nullopt;
  return n;
}

std::optional<double> number(const json& object, const char* key) {
  return number(field(object, key));
}

// Control characters from the network must not drive the technician's terminal.
std::string printable(std::string s) {
  for (auto& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

std::string text(const json& object, const char* key, const std::string& fallback = "?") {
  const auto& value = field(object, key);
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) return fallback;
  return printable(value.get<std::string>());
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

std::string bytes_or_unknown(const json& object, const char* key) {
  const auto n = number(object, key);
  return n ? format_bytes(*n) : "?";
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    out << "  ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

/// A section worth rendering: present, an object, and not marked unavailable. Anything else
/// present goes to the "Not collected" list with its reason.
const json* usable_section(const json& snapshot, const char* name,
                           std::vector<std::string>& not_collected) {
  if (!snapshot.contains(name)) return nullptr;
  const auto& section = snapshot[name];
  if (!section.is_object()) {
    not_collected.push_back(std::string(name) + " (no usable data)");
    return nullptr;
  }
  if (section.contains("unavailable")) {
    not_collected.push_back(std::string(name) + " (" +
                            text(section, "unavailable", "no reason given") + ")");
    return nullptr;
  }
  return &section;
}

void render_system(const json& system, std::ostream& out) {
  out << "Host:     " << text(system, "hostname") << "\n";
  const auto& os = field(system, "os");
  std::string os_name = text(os, "pretty_name", "");
  if (os_name.empty()) {
    os_name = text(os, "name");
    if (const auto version = text(os, "version", ""); !version.empty()) os_name += " " + version;
  }
  out << "OS:       " << os_name << "\n";
  out << "Kernel:   " << text(system, "kernel") << "\n";
  out << "Arch:     " << text(system, "architecture") << "\n";
  const auto uptime = number(system, "uptime_seconds");
  out << "Uptime:   " << (uptime ? format_uptime(*uptime) : "?");
  if (const auto boot = text(system, "boot_time", ""); !boot.empty()) {
    out << " (booted " << boot << ")";
  }
  out << "\n";
  const auto& load = field(system, "load");
  const auto one = number(load, "1m");
  const auto five = number(load, "5m");
  const auto fifteen = number(load, "15m");
  out << "Load:     ";
  if (one || five || fifteen) {
    out << (one ? fixed(*one, 2) : "?") << " " << (five ? fixed(*five, 2) : "?") << " "
        << (fifteen ? fixed(*fifteen, 2) : "?") << " (1, 5, 15 min)\n";
  } else {
    out << "?\n";
  }
}

void render_cpu(const json& cpu, std::ostream& out) {
  out << "CPU:      " << text(cpu, "model");
  if (const auto cores = number(cpu, "logical_cores"); cores && *cores >= 0) {
    out << ", " << fixed(*cores, 0) << (*cores == 1 ? " logical core" : " logical cores");
  }
  if (const auto mhz = number(cpu, "mhz"); mhz && *mhz > 0) out << ", " << fixed(*mhz, 0) << " MHz";
  out << "\n";
}

void render_memory(const json& memory, std::ostream& out) {
  const auto total = number(memory, "total_bytes");
  const auto available = number(memory, "available_bytes");
  out << "Memory:   " << (total ? format_bytes(*total) : "?") << " total, "
      << (available ? format_bytes(*available) : "?") << " available";
  if (total && available && *total > 0 && *available >= 0 && *available <= *total) {
    out << " (" << fixed(std::round((*total - *available) / *total * 100), 0) << "% used)";
  }
  out << "\n";
  const auto swap_total = number(memory, "swap_total_bytes");
  const auto swap_free = number(memory, "swap_free_bytes");
  if (swap_total && *swap_total == 0) {
    out << "Swap:     none\n";
  } else if (swap_total || swap_free) {
    out << "Swap:     " << (swap_total ? format_bytes(*swap_total) : "?") << " total, "
        << (swap_free ? format_bytes(*swap_free) : "?") << " free\n";
  }
}

// Use% as df(1) computes it: used / (used + available), rounded up, so a disk whose
// reserved blocks are all that is left shows 100%.
std::string use_percent(const json& filesystem) {
  const auto size = number(filesystem, "size_bytes");
  const auto free = number(filesystem, "free_bytes");
  auto available = number(filesystem, "available_bytes");
  if (!available) available = free;
  if (!size || !available || *size <= 0 || *available < 0) return "?";
  const double used = free && *free <= *size ? *size - *free : *size - std::min(*available, *size);
  const double denominator = used + *available;
  if (denominator <= 0) return "?";
  return fixed(std::clamp(std::ceil(used / denominator * 100), 0.0, 100.0), 0) + "%";
}

void render_storage(const json& storage, std::ostream& out) {
  const auto& filesystems = field(storage, "filesystems");
  out << "\nStorage:\n";
  if (!filesystems.is_array() || filesystems.empty()) {
    out << "  no filesystems reported\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"MOUNT", "TYPE", "SIZE", "FREE", "USE%"}};
  for (const auto& filesystem : filesystems) {
    if (!filesystem.is_object()) continue;
    std::string type = text(filesystem, "type");
    if (field(filesystem, "read_only") == true) type += " (ro)";
    const auto available = number(filesystem, "available_bytes");
    rows.push_back(
        {text(filesystem, "mount_point"), type, bytes_or_unknown(filesystem, "size_bytes"),
         available ? format_bytes(*available) : bytes_or_unknown(filesystem, "free_bytes"),
         use_percent(filesystem)});
  }
  out << table(rows);
}

void render_network(const json& network, std::ostream& out) {
  const auto& interfaces = field(network, "interfaces");
  out << "\nNetwork:\n";
  if (!interfaces.is_array() || interfaces.empty()) {
    out << "  no interfaces reported\n";
    return;
  }
  std::vector<std::vector<std::string>> rows{{"INTERFACE", "TYPE", "STATE", "MAC", "ADDRESSES"}};
  for (const auto& interface : interfaces) {
    if (!interface.is_object()) continue;
    std::string addresses;
    const auto& list = field(interface, "addresses");
    if (list.is_array()) {
      for (const auto& address : list) {
        const auto value = text(address, "address", "");
        if (value.empty()) continue;
        if (!addresses.empty()) addresses += ", ";
        addresses += value;
        if (const auto prefix = number(address, "prefix"); prefix && *prefix >= 0) {
          addresses += "/" + fixed(*prefix, 0);
        }
      }
    }
    rows.push_back({text(interface, "name"), text(interface, "type"), text(interface, "state"),
                    text(interface, "mac", "-"), addresses.empty() ? "-" : addresses});
  }
  out << table(rows);
}

std::string render(const json& snapshot) {
  if (!snapshot.is_object()) return "No diagnostics in this snapshot.\n";
  std::ostringstream out;
  out << "Diagnostics collected " << text(snapshot, "collected_at");
  if (const auto version = text(field(snapshot, "agent"), "version", ""); !version.empty()) {
    out << " by agent " << version;
  }
  if (const auto ms = number(snapshot, "duration_ms"); ms && *ms >= 0) {
    out << " in " << fixed(*ms, 0) << " ms";
  }
  out << "\n\n";

  std::vector<std::string> not_collected;
  if (const auto* system = usable_section(snapshot, "system", not_collected)) {
    render_system(*system, out);
  }
  if (const auto* cpu = usable_section(snapshot, "cpu", not_collected)) render_cpu(*cpu, out);
  if (const auto* memory = usable_section(snapshot, "memory", not_collected)) {
    render_memory(*memory, out);
  }
  if (const auto* storage = usable_section(snapshot, "storage", not_collected)) {
    render_storage(*storage, out);
  }
  if (const auto* network = usable_section(snapshot, "network", not_collected)) {
    render_network(*network, out);
  }

  const auto& errors = field(snapshot, "errors");
  if (errors.is_array()) {
    for (const auto& error : errors) {
      if (!error.is_object()) continue;
      not_collected.push_back(text(error, "section") + " (" + text(error, "message") + ")");
    }
  }
  if (!not_collected.empty()) {
    out << "\n";
    for (const auto& line : not_collected) out << "Not collected: " << line << "\n";
  }
  // Sections left out leave runs of blank lines behind; one blank line separates blocks.
  auto report = out.str();
  for (auto at = report.find("\n\n\n"); at != std::string::npos; at = report.find("\n\n\n")) {
    report.erase(at, 1);
  }
  return report;
}

}  // namespace

std::string format_bytes(double bytes) {
  if (!std::isfinite(bytes) || bytes < 0) return "?";
  if (bytes < 1024) return fixed(std::floor(bytes), 0) + " B";
  static constexpr std::array<const char*, 6> kUnits{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double value = bytes / 1024;
  std::size_t unit = 0;
  // 1023.96 KiB would print as "1024.0 KiB"; move up a unit before that can happen.
  while (value >= 1023.95 && unit + 1 < kUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return fixed(value, 1) + " " + kUnits[unit];
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

std::string render_diagnostics_text(const json& snapshot) {
  try {
    return render(snapshot);
  } catch (const std::exception&) {
    // Unreachable with the accessors above; a report must still never take the console down.
    return "The diagnostics snapshot could not be rendered.\n";
  }
}

}  // namespace tether::console
