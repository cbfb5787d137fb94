#include "fleet/inventory_export.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <variant>

#include "tether/protocol/json_access.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::relay::fleet {

using nlohmann::json;
using protocol::json_member;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

struct Decimal {
  double value;  // shown with one decimal
};

/// One cell: unknown, text, a count, a size or percentage, or a yes/no.
using Cell = std::variant<std::monostate, std::string, std::int64_t, Decimal, bool>;

const json& path(const json& j, std::initializer_list<std::string_view> keys) {
  const json* at = &j;
  for (const auto key : keys) at = &json_member(*at, key);
  return *at;
}

// Valid UTF-8 with no control characters but TAB, CR and LF: strings from an agent or a
// technician end up in spreadsheets and JSON, and nlohmann::json refuses to dump invalid UTF-8.
std::string clean_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t n = protocol::utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\xef\xbf\xbd";  // U+FFFD
      ++i;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (n == 1 && (c < 0x20 || c == 0x7f) && c != '\t' && c != '\r' && c != '\n') {
      out += ' ';
    } else {
      out.append(text.substr(i, n));
    }
    i += n;
  }
  return out;
}

Cell text(const json& v) {
  if (v.is_string()) return clean_text(v.get_ref<const std::string&>());
  return {};
}

Cell plain_text(std::string_view v) {
  return clean_text(v);
}

Cell count(const json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::abs(d) < 9e15) {
      return static_cast<std::int64_t>(d);
    }
  }
  return {};
}

Cell decimal(std::optional<double> v) {
  if (!v || !std::isfinite(*v)) return {};
  return Decimal{*v};
}

Cell os_text(const json& inventory) {
  const json& os = path(inventory, {"system", "os"});
  const json& pretty = json_member(os, "pretty_name");
  if (pretty.is_string()) return text(pretty);
  const json& name = json_member(os, "name");
  const json& version = json_member(os, "version");
  if (name.is_string() && version.is_string()) {
    return clean_text(name.get_ref<const std::string&>() + " " +
                      version.get_ref<const std::string&>());
  }
  return text(name);
}

// Fixed disks only: a USB stick plugged in today is not the machine's storage.
std::optional<double> disk_total_gb(const json& inventory) {
  const json& disks = path(inventory, {"storage", "disks"});
  if (!disks.is_array()) return std::nullopt;
  std::optional<double> total;
  for (const json& disk : disks) {
    const json& size = json_member(disk, "size_bytes");
    if (json_member(disk, "removable") == true || !size.is_number()) continue;
    total = total.value_or(0) + size.get<double>() / kGiB;
  }
  return total;
}

// Writable filesystems only, like the agent's disk.space check: a full read-only medium is
// not a problem to act on.
std::optional<double> disk_free_pct_min(const json& inventory) {
  const json& filesystems = path(inventory, {"storage", "filesystems"});
  if (!filesystems.is_array()) return std::nullopt;
  std::optional<double> lowest;
  for (const json& fs : filesystems) {
    if (json_member(fs, "read_only") == true) continue;
    if (const auto free = derived::free_pct(fs)) lowest = std::min(lowest.value_or(*free), *free);
  }
  return lowest;
}

std::optional<double> battery_wear_pct(const json& inventory) {
  const json& batteries = path(inventory, {"power", "batteries"});
  if (!batteries.is_array()) return std::nullopt;
  std::optional<double> worst;
  for (const json& battery : batteries) {
    const json& wear = json_member(battery, "wear_pct");
    if (wear.is_number()) worst = std::max(worst.value_or(wear.get<double>()), wear.get<double>());
  }
  return worst;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Severities compare without case, as in queries.
Cell findings_of(const json& inventory, std::string_view severity) {
  const json& findings = json_member(inventory, "findings");
  if (!findings.is_array()) return {};
  std::int64_t n = 0;
  for (const json& f : findings) {
    const json& s = json_member(f, "severity");
    if (s.is_string() && lower(s.get_ref<const std::string&>()) == severity) ++n;
  }
  return n;
}

Cell array_size(const json& v) {
  if (!v.is_array()) return {};
  return static_cast<std::int64_t>(v.size());
}

// clang-format off
constexpr std::array<std::string_view, 19> kColumns = {
    "id", "hostname", "group", "online", "last_seen", "os", "kernel", "vendor", "model", "serial",
    "cpu", "cores", "memory_gb", "disk_total_gb", "disk_free_pct_min", "battery_wear_pct",
    "critical_findings", "warning_findings", "software_count"};
// clang-format on

// The cells of one device, in kColumns order.
std::vector<Cell> row(const FleetDevice& d) {
  const json& inv = d.inventory;
  std::vector<Cell> cells;
  cells.reserve(kColumns.size());
  cells.push_back(plain_text(d.id));
  cells.push_back(d.hostname.empty() ? text(path(inv, {"system", "hostname"}))
                                     : plain_text(d.hostname));
  cells.push_back(plain_text(d.group));
  cells.push_back(d.online);
  cells.push_back(d.last_seen ? Cell(protocol::format_time(*d.last_seen)) : Cell());
  cells.push_back(os_text(inv));
  cells.push_back(text(path(inv, {"system", "kernel"})));
  cells.push_back(text(path(inv, {"firmware", "system", "manufacturer"})));
  cells.push_back(text(path(inv, {"firmware", "system", "product"})));
  cells.push_back(text(path(inv, {"firmware", "system", "serial"})));
  cells.push_back(text(path(inv, {"cpu", "model"})));
  cells.push_back(count(path(inv, {"cpu", "cores"})));
  cells.push_back(decimal(derived::memory_gb(inv)));
  cells.push_back(decimal(disk_total_gb(inv)));
  cells.push_back(decimal(disk_free_pct_min(inv)));
  cells.push_back(decimal(battery_wear_pct(inv)));
  cells.push_back(findings_of(inv, "critical"));
  cells.push_back(findings_of(inv, "warning"));
  cells.push_back(array_size(path(inv, {"software", "packages"})));
  return cells;
}

double rounded(double v) {
  return std::round(v * 10.0) / 10.0;
}

std::string decimal_text(double v) {
  char buffer[64];
  const auto [end, ec] =
      std::to_chars(buffer, buffer + sizeof buffer, rounded(v), std::chars_format::fixed, 1);
  if (ec != std::errc()) return {};
  std::string out(buffer, end);
  return out == "-0.0" ? "0.0" : out;
}

// OWASP's list of characters that make a spreadsheet read a cell as a formula.
bool starts_formula(std::string_view s) {
  return !s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string_view::npos;
}

void append_csv_text(std::string& out, std::string_view value) {
  std::string cell;
  if (starts_formula(value)) cell += '\'';
  cell += value;
  if (cell.find_first_of(",\"\r\n") == std::string::npos) {
    out += cell;
    return;
  }
  out += '"';
  for (const char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

struct CsvCell {
  std::string& out;
  void operator()(std::monostate) const {}
  void operator()(const std::string& s) const { append_csv_text(out, s); }
  void operator()(std::int64_t n) const { out += std::to_string(n); }
  void operator()(Decimal d) const { out += decimal_text(d.value); }
  void operator()(bool b) const { out += b ? "true" : "false"; }
};

struct JsonCell {
  json operator()(std::monostate) const { return nullptr; }
  json operator()(const std::string& s) const { return s; }
  json operator()(std::int64_t n) const { return n; }
  json operator()(Decimal d) const { return rounded(d.value); }
  json operator()(bool b) const { return b; }
};

}  // namespace

const std::vector<std::string_view>& inventory_export_columns() {
  static const std::vector<std::string_view> columns(kColumns.begin(), kColumns.end());
  return columns;
}

std::string export_csv(const std::vector<FleetDevice>& devices) {
  std::string out;
  for (std::size_t i = 0; i < kColumns.size(); ++i) {
    if (i > 0) out += ',';
    out += kColumns[i];
  }
  out += "\r\n";
  for (const auto& device : devices) {
    const auto cells = row(device);
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) out += ',';
      std::visit(CsvCell{out}, cells[i]);
    }
    out += "\r\n";
  }
  return out;
}

json export_json(const std::vector<FleetDevice>& devices) {
  json rows = json::array();
  for (const auto& device : devices) {
    const auto cells = row(device);
    json object = json::object();
    for (std::size_t i = 0; i < cells.size(); ++i) {
      object[std::string(kColumns[i])] = std::visit(JsonCell{}, cells[i]);
    }
    rows.push_back(std::move(object));
  }
  return rows;
}

}  // namespace tether::relay::fleet
