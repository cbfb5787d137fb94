#include "diag/collectors/power_collector.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "diag/collectors/hw_sources.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxSupplies = 64;
constexpr std::size_t kMaxChips = 128;
constexpr std::size_t kMaxSensorFiles = 512;
constexpr double kAbsentSensorCelsius = -100.0;

// Watt-hours from a battery's energy_* (µWh) or, for batteries that count charge, charge_*
// (µAh) times the design voltage (µV).
std::optional<double> watt_hours(const std::filesystem::path& root, const std::string& base,
                                 const char* suffix, std::optional<long long> voltage_uv) {
  // A capacity of 0 is a driver's "unknown"; only the charge now may truly be 0.
  const long long least = std::string_view(suffix) == "now" ? 0 : 1;
  if (const auto energy = read_integer(root, base + "/energy_" + suffix);
      energy && *energy >= least) {
    return static_cast<double>(*energy) / 1e6;
  }
  const auto charge = read_integer(root, base + "/charge_" + suffix);
  if (!charge || *charge < least || !voltage_uv || *voltage_uv <= 0) return std::nullopt;
  return static_cast<double>(*charge) * static_cast<double>(*voltage_uv) / 1e12;
}

double round2(double value) {
  return std::round(value * 100.0) / 100.0;
}

json battery(const std::filesystem::path& root, const std::string& name, unsigned uid) {
  const std::string base = "/sys/class/power_supply/" + name;
  json b{{"name", name}};
  put_value(b, "manufacturer", read_value(root, base + "/manufacturer", uid));
  put_value(b, "model", read_value(root, base + "/model_name", uid));
  put_value(b, "serial", read_value(root, base + "/serial_number", uid));
  put_value(b, "technology", read_value(root, base + "/technology", uid));
  put_value(b, "status", read_value(root, base + "/status", uid));
  if (const auto capacity = read_integer(root, base + "/capacity");
      capacity && *capacity >= 0 && *capacity <= 100) {
    b["capacity_pct"] = *capacity;
  } else {
    mark_unknown(b, "capacity_pct", capacity ? "could not read: out of range" : "not present");
  }
  auto voltage = read_integer(root, base + "/voltage_min_design");
  if (!voltage || *voltage <= 0) voltage = std::nullopt;
  const auto design = watt_hours(root, base, "full_design", voltage);
  const auto full = watt_hours(root, base, "full", voltage);
  const auto now = watt_hours(root, base, "now", voltage);
  const auto put_wh = [&](const char* field, std::optional<double> value) {
    if (value) {
      b[field] = round2(*value);
    } else {
      mark_unknown(b, field, "not present");
    }
  };
  put_wh("design_capacity_wh", design);
  put_wh("full_capacity_wh", full);
  put_wh("now_wh", now);
  if (design && full && *design > 0) {
    // A new battery may hold a little more than its design figure: that is no wear, not
    // negative wear.
    b["wear_pct"] = round1(std::max(0.0, 100.0 - *full / *design * 100.0));
  } else {
    mark_unknown(b, "wear_pct", "not present: design or full capacity unknown");
  }
  if (const auto cycles = read_integer(root, base + "/cycle_count"); cycles && *cycles >= 0) {
    b["cycle_count"] = *cycles;
  } else {
    mark_unknown(b, "cycle_count", "not present");
  }
  return b;
}

std::optional<double> millidegrees(const std::filesystem::path& root, const std::string& path) {
  const auto value = read_integer(root, path);
  // Below absolute zero or above 1000 °C is a driver's "no reading" or junk.
  if (!value || *value < -273000 || *value > 1000000) return std::nullopt;
  return round1(static_cast<double>(*value) / 1000.0);
}

void put_celsius(json& object, const char* field, std::optional<double> value, const char* reason) {
  if (value) {
    object[field] = *value;
  } else {
    mark_unknown(object, field, reason);
  }
}

void add_hwmon(const std::filesystem::path& root, unsigned uid, json& temperatures) {
  for (const auto& chip_dir : list_directory(root, "/sys/class/hwmon", kMaxChips)) {
    const std::string base = "/sys/class/hwmon/" + chip_dir;
    const auto chip = read_value(root, base + "/name", uid);
    for (const auto& file : list_directory(root, base, kMaxSensorFiles)) {
      // temp<N>_input is one sensor; its siblings share the temp<N>_ prefix.
      if (file.size() < 11 || file.compare(0, 4, "temp") != 0 ||
          file.compare(file.size() - 6, 6, "_input") != 0) {
        continue;
      }
      const auto prefix = base + "/" + file.substr(0, file.size() - 5);
      json sensor{{"source", "hwmon"}, {"_dir", chip_dir}};
      sensor["chip"] = chip.value ? json(*chip.value) : json(chip_dir);
      const auto label = read_value(root, prefix + "label", uid);
      sensor["label"] = label.value ? *label.value : file.substr(0, file.size() - 6);
      const auto input = read_raw(root, prefix + "input", 64);
      std::optional<double> celsius;
      if (input.bytes) celsius = millidegrees(root, prefix + "input");
      // Drivers such as thinkpad_acpi report a missing sensor as -128 °C.
      if (celsius && *celsius <= kAbsentSensorCelsius) continue;
      put_celsius(sensor, "celsius", celsius,
                  input.bytes ? "could not read: not a temperature"
                              : reason_for_errno(input.error, uid).c_str());
      put_celsius(sensor, "max_celsius", millidegrees(root, prefix + "max"), "not present");
      put_celsius(sensor, "critical_celsius", millidegrees(root, prefix + "crit"), "not present");
      temperatures.push_back(std::move(sensor));
    }
  }
}

void add_thermal_zones(const std::filesystem::path& root, unsigned uid, json& temperatures) {
  for (const auto& zone : list_directory(root, "/sys/class/thermal", kMaxChips)) {
    if (zone.compare(0, 12, "thermal_zone") != 0) continue;
    const std::string base = "/sys/class/thermal/" + zone;
    json sensor{{"source", "thermal_zone"}, {"chip", zone}, {"_dir", zone}};
    const auto type = read_value(root, base + "/type", uid);
    sensor["label"] = type.value ? json(*type.value) : json(zone);
    // A disabled zone or a failing ACPI method reads EINVAL/ENODATA/EIO.
    const auto input = read_raw(root, base + "/temp", 64);
    std::optional<double> celsius;
    if (input.bytes) celsius = millidegrees(root, base + "/temp");
    put_celsius(sensor, "celsius", celsius,
                input.bytes ? "could not read: not a temperature"
                            : reason_for_errno(input.error, uid).c_str());
    std::optional<double> hot;
    std::optional<double> critical;
    for (int trip = 0; trip < 32; ++trip) {
      const auto prefix = base + "/trip_point_" + std::to_string(trip) + "_";
      const auto trip_type = read_value(root, prefix + "type", uid);
      if (!trip_type.value) break;
      if (*trip_type.value == "critical" && !critical)
        critical = millidegrees(root, prefix + "temp");
      if (*trip_type.value == "hot" && !hot) hot = millidegrees(root, prefix + "temp");
    }
    put_celsius(sensor, "max_celsius", hot, "not present");
    put_celsius(sensor, "critical_celsius", critical, "not present");
    temperatures.push_back(std::move(sensor));
  }
}

std::string sort_key_part(const json& value) {
  return value.is_string() ? value.get<std::string>() : "";
}

}  // namespace

json collect_power(const CollectContext& context) {
  const auto& root = context.root;
  if (!source_exists(root, "/sys")) return unavailable("cannot read /sys: not present");
  const auto uid = effective_uid(context);

  json batteries = json::array();
  std::optional<bool> ac_online;
  std::string ac_reason = "not present";
  for (const auto& name : list_directory(root, "/sys/class/power_supply", kMaxSupplies)) {
    const std::string base = "/sys/class/power_supply/" + name;
    const auto type = read_value(root, base + "/type", uid);
    if (!type.value) continue;
    if (*type.value == "Battery") {
      // Batteries of a wireless mouse or headset have scope "Device": not the system's.
      const auto scope = read_value(root, base + "/scope", uid);
      if (scope.value && *scope.value == "Device") continue;
      if (const auto present = read_integer(root, base + "/present"); present && *present == 0) {
        continue;  // an empty battery bay
      }
      batteries.push_back(battery(root, name, uid));
    } else if (*type.value == "Mains" || *type.value == "USB") {
      if (const auto online = read_integer(root, base + "/online"); online) {
        ac_online = ac_online.value_or(false) || *online != 0;
      } else {
        ac_reason = "could not read: " + base + "/online";
      }
    }
  }

  json temperatures = json::array();
  add_hwmon(root, uid, temperatures);
  add_thermal_zones(root, uid, temperatures);
  std::stable_sort(temperatures.begin(), temperatures.end(), [](const json& a, const json& b) {
    const auto key = [](const json& t) {
      return std::array<std::string, 4>{sort_key_part(t["source"]), sort_key_part(t["chip"]),
                                        sort_key_part(t["_dir"]), sort_key_part(t["label"])};
    };
    const auto ka = key(a);
    const auto kb = key(b);
    for (std::size_t i = 0; i < ka.size(); ++i) {
      if (ka[i] != kb[i]) return natural_less(ka[i], kb[i]);
    }
    return false;
  });

  for (auto& sensor : temperatures) sensor.erase("_dir");
  json power{{"batteries", std::move(batteries)}, {"temperatures", std::move(temperatures)}};
  if (ac_online) {
    power["ac_online"] = *ac_online;
  } else {
    // Desktops and servers do not report their power supply.
    mark_unknown(power, "ac_online", ac_reason);
  }
  return power;
}

}  // namespace tether::agent::diag
