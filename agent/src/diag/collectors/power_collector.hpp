#pragma once
// The "power" section: AC adapter, batteries (charge, capacity, wear) and temperature
// sensors with their limits.

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "power" section under context.root: /sys/class/power_supply/*,
/// /sys/class/hwmon/hwmon*/temp*, /sys/class/thermal/thermal_zone*. Lists are empty where the
/// machine has no such device; unavailable only when <root>/sys is missing altogether.
nlohmann::json collect_power(const CollectContext& context);

}  // namespace tether::agent::diag
