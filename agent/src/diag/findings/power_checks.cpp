// Checks over power: batteries and temperature sensors.

#include <algorithm>
#include <array>

#include "diag/findings/checks.hpp"

namespace tether::agent::diag::findings {
namespace {

// Hardware limits outside this range are firmware junk (0, -273, 65261), not limits.
bool plausible_limit(double celsius) {
  return celsius > 20 && celsius <= 150;
}
bool plausible_reading(double celsius) {
  return celsius > -60 && celsius <= 200;
}

std::string sensor_label(const json& sensor) {
  std::string label(text(sensor, "chip").value_or("sensor"));
  if (auto name = text(sensor, "label"); name && !name->empty()) {
    label += " " + std::string(*name);
  }
  return label;
}

std::string celsius(double value) {
  return format_number(value, 1) + " °C";
}

bool starts_with(std::string_view text_value, std::string_view prefix) {
  return text_value.substr(0, prefix.size()) == prefix;
}

// A sensor on the CPU package or its cores, by the driver names Linux uses.
bool is_cpu_sensor(const json& sensor) {
  static constexpr std::array<std::string_view, 6> kChips = {
      "coretemp", "k10temp", "zenpower", "cpu_thermal", "cpu-thermal", "x86_pkg_temp"};
  const auto chip = text(sensor, "chip").value_or("");
  if (std::find(kChips.begin(), kChips.end(), chip) != kChips.end()) return true;
  const auto label = text(sensor, "label").value_or("");
  return starts_with(label, "Package id") || starts_with(label, "Tctl") ||
         starts_with(label, "Tdie") || starts_with(label, "CPU");
}

template <typename Visit>
void for_each_battery(Check& check, Visit&& visit) {
  const json* batteries = check.find_array("power.batteries");
  if (batteries == nullptr) return;
  for (const json& battery : *batteries) {
    if (!battery.is_object()) continue;
    visit(battery, std::string(text(battery, "name").value_or("battery")));
  }
}

}  // namespace

void check_battery_wear(Check& check) {
  const Thresholds& t = check.limits();
  int checked = 0;
  bool any = false;
  json ok = json::array();
  for_each_battery(check, [&](const json& battery, const std::string& name) {
    any = true;
    const auto design = number(battery, "design_capacity_wh");
    const auto full = number(battery, "full_capacity_wh");
    std::optional<double> health;
    if (auto wear = number(battery, "wear_pct")) {
      health = 100 - *wear;
    } else if (design && full) {
      health = percent(*full, *design);
    }
    if (!health) {
      check.note_missing(why_missing(battery, "wear_pct", "power.batteries[" + name + "]"));
      return;
    }
    ++checked;
    json evidence = {{"battery", name}, {"health_pct", *health}};
    for (const char* key : {"design_capacity_wh", "full_capacity_wh", "wear_pct", "cycle_count",
                            "manufacturer", "model"}) {
      if (const json* value = member(battery, key)) evidence[key] = *value;
    }
    Severity severity = Severity::ok;
    if (*health < t.battery_health_critical_pct) {
      severity = Severity::critical;
    } else if (*health < t.battery_health_warning_pct) {
      severity = Severity::warning;
    }
    if (severity == Severity::ok) {
      ok.push_back(std::move(evidence));
      return;
    }
    std::string summary =
        "Battery " + name + " holds " + format_pct(*health) + " of its design capacity";
    std::vector<std::string> details;
    if (design && full)
      details.push_back(format_number(*full, 1) + " of " + format_number(*design, 1) + " Wh");
    if (auto cycles = number(battery, "cycle_count"); cycles && *cycles > 0) {
      details.push_back(count_of(*cycles, "cycle", "cycles"));
    }
    if (!details.empty()) summary += " (" + join_names(details, 2) + ")";
    check.report(severity, std::move(summary),
                 severity == Severity::critical
                     ? "The battery is worn out: runtime is a fraction of what it was and it may "
                       "shut the laptop down without warning. Replace it."
                     : "The battery is wearing out, so it runs down sooner. Plan a replacement "
                       "if the runtime is too short for the user.",
                 std::move(evidence));
  });
  if (!any) {
    if (check.find_array("power.batteries") != nullptr) check.note_missing("no battery");
    return;
  }
  if (checked == 0) return;
  if (check.findings().empty()) {
    check.report(Severity::ok, count_of(checked, "battery is", "batteries are") + " in good health",
                 "Nothing to do.", {{"batteries", ok}});
  }
}

void check_battery_charge(Check& check) {
  const Thresholds& t = check.limits();
  int checked = 0;
  bool any = false;
  std::vector<std::string> states;
  for_each_battery(check, [&](const json& battery, const std::string& name) {
    any = true;
    const auto charge = number(battery, "capacity_pct");
    const auto status = text(battery, "status");
    if (!charge || !status) {
      check.note_missing(why_missing(battery, charge ? "status" : "capacity_pct",
                                     "power.batteries[" + name + "]"));
      return;
    }
    ++checked;
    json evidence = {{"battery", name}, {"capacity_pct", *charge}, {"status", *status}};
    if (const json* power = member(check.snapshot(), "power")) {
      if (auto ac = boolean(*power, "ac_online")) evidence["ac_online"] = *ac;
    }
    Severity severity = Severity::ok;
    if (*status == "Discharging") {
      if (*charge < t.battery_charge_critical_pct) {
        severity = Severity::critical;
      } else if (*charge < t.battery_charge_warning_pct) {
        severity = Severity::warning;
      }
    }
    if (severity == Severity::ok) {
      states.push_back(name + " at " + format_pct(*charge) + " (" + std::string(*status) + ")");
      return;
    }
    check.report(severity, "Battery " + name + " is at " + format_pct(*charge) + " and discharging",
                 "The laptop will shut down soon: plug in the charger now and save work. If it "
                 "is plugged in, check the charger, cable and socket.",
                 std::move(evidence));
  });
  if (!any) {
    if (check.find_array("power.batteries") != nullptr) check.note_missing("no battery");
    return;
  }
  if (checked == 0) return;
  if (check.findings().empty()) {
    check.report(Severity::ok, "Battery charge: " + join_names(states, 4), "Nothing to do.",
                 json::object());
  }
}

void check_temperature_limits(Check& check) {
  const json* sensors = check.find_array("power.temperatures");
  if (sensors == nullptr) return;
  int checked = 0;
  double closest_margin = 1e9;
  json closest;
  for (const json& sensor : *sensors) {
    const auto reading = number(sensor, "celsius");
    if (!reading || !plausible_reading(*reading)) continue;
    auto critical = number(sensor, "critical_celsius");
    auto max = number(sensor, "max_celsius");
    if (critical && !plausible_limit(*critical)) critical.reset();
    if (max && !plausible_limit(*max)) max.reset();
    if (!critical && !max) continue;
    ++checked;
    json evidence = json::object();
    for (const char* key :
         {"source", "chip", "label", "celsius", "max_celsius", "critical_celsius"}) {
      if (const json* value = member(sensor, key)) evidence[key] = *value;
    }
    const std::string label = sensor_label(sensor);
    const std::string hint =
        "Check that the fans turn and the vents and heatsinks are free of dust; a laptop must "
        "not sit on a soft surface. See what keeps the machine busy (processes.top_cpu). Hardware "
        "at its limit throttles, then shuts down to protect itself.";
    if (critical && *reading >= *critical) {
      check.report(Severity::critical,
                   "Sensor " + label + " is at " + celsius(*reading) +
                       ", at its critical limit of " + celsius(*critical),
                   hint, std::move(evidence));
    } else if (max && *reading >= *max) {
      check.report(Severity::warning,
                   "Sensor " + label + " is at " + celsius(*reading) + ", at its maximum of " +
                       celsius(*max),
                   hint, std::move(evidence));
    } else {
      const double margin = (max ? *max : *critical) - *reading;
      if (margin < closest_margin) {
        closest_margin = margin;
        closest = std::move(evidence);
      }
    }
  }
  if (checked == 0) {
    check.note_missing("no temperature sensor in power.temperatures reports a limit");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok,
                 count_of(checked, "sensor is", "sensors are") + " below their limits (closest: " +
                     sensor_label(closest) + ", " + format_number(closest_margin, 1) + " °C below)",
                 "Nothing to do.", std::move(closest));
  }
}

void check_cpu_temperature(Check& check) {
  const json* sensors = check.find_array("power.temperatures");
  if (sensors == nullptr) return;
  const json* hottest = nullptr;
  double hottest_celsius = -1000;
  for (const json& sensor : *sensors) {
    if (!is_cpu_sensor(sensor)) continue;
    const auto reading = number(sensor, "celsius");
    if (!reading || !plausible_reading(*reading)) continue;
    if (*reading > hottest_celsius) {
      hottest_celsius = *reading;
      hottest = &sensor;
    }
  }
  if (hottest == nullptr) {
    check.note_missing("no CPU temperature sensor in power.temperatures");
    return;
  }
  const Thresholds& t = check.limits();
  Severity severity = Severity::ok;
  if (hottest_celsius > t.cpu_temperature_critical_celsius) {
    severity = Severity::critical;
  } else if (hottest_celsius > t.cpu_temperature_warning_celsius) {
    severity = Severity::warning;
  }
  json evidence = json::object();
  for (const char* key :
       {"source", "chip", "label", "celsius", "max_celsius", "critical_celsius"}) {
    if (const json* value = member(*hottest, key)) evidence[key] = *value;
  }
  check.report(severity,
               "The CPU is at " + celsius(hottest_celsius) + " (" + sensor_label(*hottest) + ")",
               severity == Severity::ok
                   ? std::string("Nothing to do.")
                   : std::string("The CPU runs hot, so it throttles and the PC feels slow. "
                                 "Check that the fans turn and the vents are free of dust; see "
                                 "what keeps the CPU busy (processes.top_cpu)."),
               std::move(evidence));
}

}  // namespace tether::agent::diag::findings
