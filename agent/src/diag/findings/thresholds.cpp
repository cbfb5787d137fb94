// The thresholds table as data (name, member, unit, pairs that must stay ordered) and the
// reader of the config file's [thresholds] table. Config is untrusted input: every problem is
// one line that names the file, the line and the key.

#include <cmath>
#include <system_error>

#include <toml++/toml.h>

#include "tether/agent/diag/thresholds.hpp"

namespace tether::agent::diag {
namespace {

enum class Kind {
  percent,  // 0 to 100
  count,    // a whole number, 0 or more
  amount,   // any number, 0 or more (GiB, MiB, ms, °C, days, per-thread load)
};

struct Key {
  std::string_view name;
  double Thresholds::*member;
  Kind kind;
};

#define TETHER_THRESHOLD(name, kind)     \
  Key {                                  \
    #name, &Thresholds::name, Kind::kind \
  }

constexpr Key kKeys[] = {
    TETHER_THRESHOLD(disk_used_warning_pct, percent),
    TETHER_THRESHOLD(disk_used_critical_pct, percent),
    TETHER_THRESHOLD(disk_free_critical_gib, amount),
    TETHER_THRESHOLD(inodes_used_warning_pct, percent),
    TETHER_THRESHOLD(inodes_used_critical_pct, percent),
    TETHER_THRESHOLD(boot_free_warning_mib, amount),
    TETHER_THRESHOLD(boot_free_critical_mib, amount),
    TETHER_THRESHOLD(var_free_warning_mib, amount),
    TETHER_THRESHOLD(var_free_critical_mib, amount),
    TETHER_THRESHOLD(disk_wear_warning_pct, amount),  // NVMe may report past 100 %
    TETHER_THRESHOLD(disk_wear_critical_pct, amount),
    TETHER_THRESHOLD(disk_reallocated_warning, count),
    TETHER_THRESHOLD(disk_reallocated_critical, count),
    TETHER_THRESHOLD(disk_pending_warning, count),
    TETHER_THRESHOLD(disk_pending_critical, count),
    TETHER_THRESHOLD(disk_media_errors_warning, count),
    TETHER_THRESHOLD(disk_media_errors_critical, count),
    TETHER_THRESHOLD(memory_available_warning_pct, percent),
    TETHER_THRESHOLD(memory_available_critical_pct, percent),
    TETHER_THRESHOLD(swap_used_warning_pct, percent),
    TETHER_THRESHOLD(swap_used_critical_pct, percent),
    TETHER_THRESHOLD(oom_kills_warning, count),
    TETHER_THRESHOLD(memory_pressure_some_warning_pct, percent),
    TETHER_THRESHOLD(memory_pressure_full_critical_pct, percent),
    TETHER_THRESHOLD(load_warning_per_thread, amount),
    TETHER_THRESHOLD(load_critical_per_thread, amount),
    TETHER_THRESHOLD(cpu_temperature_warning_celsius, amount),
    TETHER_THRESHOLD(cpu_temperature_critical_celsius, amount),
    TETHER_THRESHOLD(clock_sync_grace_minutes, amount),
    TETHER_THRESHOLD(clock_offset_warning_ms, amount),
    TETHER_THRESHOLD(clock_offset_critical_ms, amount),
    TETHER_THRESHOLD(battery_health_warning_pct, percent),
    TETHER_THRESHOLD(battery_health_critical_pct, percent),
    TETHER_THRESHOLD(battery_charge_warning_pct, percent),
    TETHER_THRESHOLD(battery_charge_critical_pct, percent),
    TETHER_THRESHOLD(interface_min_packets, count),
    TETHER_THRESHOLD(interface_errors_warning_pct, percent),
    TETHER_THRESHOLD(interface_errors_critical_pct, percent),
    TETHER_THRESHOLD(interface_drops_warning_pct, percent),
    TETHER_THRESHOLD(wireless_drops_warning_pct, percent),
    TETHER_THRESHOLD(uptime_info_days, amount),
    TETHER_THRESHOLD(reboot_pending_warning_days, amount),
    TETHER_THRESHOLD(security_updates_warning, count),
    TETHER_THRESHOLD(failed_units_warning, count),
    TETHER_THRESHOLD(crashes_warning, count),
    TETHER_THRESHOLD(journal_errors_info, count),
    TETHER_THRESHOLD(journal_errors_warning, count),
};

#undef TETHER_THRESHOLD

// Every member of Thresholds is a double listed above: a member added without its key fails.
static_assert(sizeof(Thresholds) == std::size(kKeys) * sizeof(double));

// Limits that must stay in order: the milder one first. For "above" limits the milder is the
// smaller; for "below" limits (free space, available memory, battery) the larger.
struct OrderedPair {
  double Thresholds::*milder;
  std::string_view milder_name;
  double Thresholds::*stronger;
  std::string_view stronger_name;
  bool below;
};

#define TETHER_PAIR(milder, stronger, below)                              \
  OrderedPair {                                                           \
    &Thresholds::milder, #milder, &Thresholds::stronger, #stronger, below \
  }

constexpr OrderedPair kPairs[] = {
    TETHER_PAIR(disk_used_warning_pct, disk_used_critical_pct, false),
    TETHER_PAIR(inodes_used_warning_pct, inodes_used_critical_pct, false),
    TETHER_PAIR(boot_free_warning_mib, boot_free_critical_mib, true),
    TETHER_PAIR(var_free_warning_mib, var_free_critical_mib, true),
    TETHER_PAIR(disk_wear_warning_pct, disk_wear_critical_pct, false),
    TETHER_PAIR(disk_reallocated_warning, disk_reallocated_critical, false),
    TETHER_PAIR(disk_pending_warning, disk_pending_critical, false),
    TETHER_PAIR(disk_media_errors_warning, disk_media_errors_critical, false),
    TETHER_PAIR(memory_available_warning_pct, memory_available_critical_pct, true),
    TETHER_PAIR(swap_used_warning_pct, swap_used_critical_pct, false),
    TETHER_PAIR(load_warning_per_thread, load_critical_per_thread, false),
    TETHER_PAIR(cpu_temperature_warning_celsius, cpu_temperature_critical_celsius, false),
    TETHER_PAIR(clock_offset_warning_ms, clock_offset_critical_ms, false),
    TETHER_PAIR(battery_health_warning_pct, battery_health_critical_pct, true),
    TETHER_PAIR(battery_charge_warning_pct, battery_charge_critical_pct, true),
    TETHER_PAIR(interface_errors_warning_pct, interface_errors_critical_pct, false),
    TETHER_PAIR(journal_errors_info, journal_errors_warning, false),
};

#undef TETHER_PAIR

std::string type_name(toml::node_type type) {
  switch (type) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::boolean:
      return "true/false";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
    case toml::node_type::time:
    case toml::node_type::date_time:
      return "a date or time";
    default:
      return "something else";
  }
}

std::string number_text(double value) {
  std::string text = std::to_string(value);
  if (text.find('.') != std::string::npos) {
    while (text.back() == '0') text.pop_back();
    if (text.back() == '.') text.pop_back();
  }
  return text;
}

// "config.toml:12: [thresholds] disk_used_warning_pct: "
std::string where(const std::filesystem::path& file, const toml::node& node, std::string_view key) {
  std::string out = file.string();
  if (node.source().begin) out += ":" + std::to_string(node.source().begin.line);
  out += ": [thresholds] ";
  out += key;
  out += ": ";
  return out;
}

// Checks one value against its kind; empty when fine, else what is wrong.
std::string range_problem(const Key& key, double value, bool was_integer) {
  if (!std::isfinite(value)) return "must be a finite number";
  if (value < 0) return number_text(value) + " is negative; it must be 0 or more";
  if (key.kind == Kind::percent && value > 100) {
    return number_text(value) + " is out of range; a percentage is 0 to 100";
  }
  if (key.kind == Kind::count && !was_integer && std::floor(value) != value) {
    return "expected a whole number, got " + number_text(value);
  }
  return "";
}

ThresholdsFile failure(std::string error) {
  return ThresholdsFile{std::nullopt, std::move(error)};
}

}  // namespace

std::vector<ThresholdValue> threshold_values(const Thresholds& thresholds) {
  std::vector<ThresholdValue> values;
  values.reserve(std::size(kKeys));
  for (const Key& key : kKeys) values.push_back({key.name, thresholds.*(key.member)});
  return values;
}

ThresholdsFile load_thresholds(const std::filesystem::path& toml_file) {
  try {
    std::error_code error;
    const auto status = std::filesystem::status(toml_file, error);
    if (status.type() == std::filesystem::file_type::not_found) {
      return failure(toml_file.string() + ": cannot read the config file: no such file");
    }
    if (error || !std::filesystem::is_regular_file(status)) {
      return failure(toml_file.string() + ": cannot read the config file: " +
                     (error ? error.message() : std::string("not a regular file")));
    }
    toml::table config;
    try {
      config = toml::parse_file(toml_file.string());
    } catch (const toml::parse_error& parse) {
      std::string line = toml_file.string();
      if (parse.source().begin) {
        line += ":" + std::to_string(parse.source().begin.line) + ":" +
                std::to_string(parse.source().begin.column);
      }
      return failure(line + ": " + std::string(parse.description()));
    }

    Thresholds thresholds;
    const toml::node* section = config.get("thresholds");
    if (section == nullptr) return ThresholdsFile{thresholds, ""};
    const toml::table* table = section->as_table();
    if (table == nullptr) {
      return failure(toml_file.string() + ": thresholds must be a table ([thresholds]), not " +
                     type_name(section->type()));
    }
    for (const auto& [name, node] : *table) {
      const Key* key = nullptr;
      for (const Key& candidate : kKeys) {
        if (candidate.name == name.str()) key = &candidate;
      }
      if (key == nullptr) {
        return failure(where(toml_file, node, name.str()) +
                       "unknown key (docs/diagnostics.md lists the thresholds)");
      }
      double value = 0;
      bool was_integer = false;
      if (const auto* integer = node.as_integer()) {
        value = static_cast<double>(integer->get());
        was_integer = true;
      } else if (const auto* floating = node.as_floating_point()) {
        value = floating->get();
      } else {
        return failure(where(toml_file, node, name.str()) + "expected a number, got " +
                       type_name(node.type()));
      }
      if (auto problem = range_problem(*key, value, was_integer); !problem.empty()) {
        return failure(where(toml_file, node, name.str()) + problem);
      }
      thresholds.*(key->member) = value;
    }
    for (const OrderedPair& pair : kPairs) {
      const double milder = thresholds.*(pair.milder);
      const double stronger = thresholds.*(pair.stronger);
      const bool wrong = pair.below ? milder < stronger : milder > stronger;
      if (!wrong) continue;
      return failure(toml_file.string() + ": [thresholds] " + std::string(pair.milder_name) + " (" +
                     number_text(milder) + ") must not be " + (pair.below ? "below " : "above ") +
                     std::string(pair.stronger_name) + " (" + number_text(stronger) + ")");
    }
    return ThresholdsFile{thresholds, ""};
  } catch (const std::exception& error) {
    return failure(toml_file.string() + ": cannot read the config file: " + error.what());
  }
}

}  // namespace tether::agent::diag
