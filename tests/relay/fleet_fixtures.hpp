#pragma once
// The four fixture devices of tests/relay/data/fleet as the fleet queries and exports see
// them: D-1 a Debian 12 HP laptop (openssl 3.0.11, a full read-only backup disk, battery 27 %
// worn), D-2 the build VM (a trimmed real snapshot, openssl 3.0.19, no battery, no DMI), D-3
// an Ubuntu 22.04 Dell desktop in accounting, offline for 10 days (root 95 % full, openssl
// 3.0.2), D-4 an old Debian 11 Lenovo in accounting, offline for 3 days (two batteries, one
// 45.5 % worn, 4 GiB, openssl 1.1.1w).

#include <optional>
#include <string>
#include <vector>

#include "../fixture_json.hpp"
#include "fleet/inventory_query.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {

/// "Now" for every evaluation: the fixtures' last_seen values are relative to it.
inline const TimePoint kFleetNow = protocol::parse_time("2026-11-30T08:00:00Z").value();

/// tests/relay/data/fleet/`name`.
inline nlohmann::json fleet_fixture(const std::string& name) {
  return fixture_json("relay/data/fleet/" + name);
}

inline FleetDevice fleet_device(std::string id, std::string group, bool online,
                                std::optional<TimePoint> last_seen, nlohmann::json inventory) {
  FleetDevice d;
  d.id = std::move(id);
  d.group = std::move(group);
  d.online = online;
  d.last_seen = last_seen;
  d.inventory = std::move(inventory);
  return d;
}

inline std::vector<FleetDevice> fixture_fleet() {
  using namespace std::chrono_literals;
  std::vector<FleetDevice> devices;
  devices.push_back(
      fleet_device("D-1", "sales", true, kFleetNow - 5min, fleet_fixture("laptop.json")));
  devices.push_back(fleet_device("D-2", "lab", true, kFleetNow, fleet_fixture("vm.json")));
  devices.push_back(fleet_device("D-3", "accounting", false, kFleetNow - 240h,
                                 fleet_fixture("workstation.json")));
  devices.push_back(
      fleet_device("D-4", "accounting", false, kFleetNow - 72h, fleet_fixture("old_laptop.json")));
  devices[0].hostname = "anna-laptop";  // the others fall back to system.hostname
  return devices;
}

}  // namespace tether::relay::fleet
