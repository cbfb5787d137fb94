// Prints the relay's GLPI export (fleet::glpi_device_inventory) of one device whose inventory
// is read from a file, for the glpi_inventory_schema.relay_* ctests: validate_glpi.py runs it
// and validates what it prints against the format's schema.
//
// usage: relay_glpi_export DEVICE_ID GROUP INVENTORY.json [HOSTNAME]

#include <fstream>
#include <iostream>

#include "fleet/glpi_export.hpp"
#include "tether/protocol/time_format.hpp"

int main(int argc, char** argv) {
  using tether::relay::fleet::FleetDevice;
  if (argc != 4 && argc != 5) {
    std::cerr << "usage: relay_glpi_export DEVICE_ID GROUP INVENTORY.json [HOSTNAME]\n";
    return 2;
  }
  std::ifstream in(argv[3]);
  if (!in.is_open()) {
    std::cerr << "relay_glpi_export: cannot open " << argv[3] << "\n";
    return 1;
  }
  FleetDevice device;
  device.id = argv[1];
  device.group = argv[2];
  if (argc == 5) device.hostname = argv[4];
  device.last_seen = tether::protocol::parse_time("2026-11-30T08:00:00Z").value();
  device.inventory = nlohmann::json::parse(in, nullptr, false);
  if (device.inventory.is_discarded()) {
    std::cerr << "relay_glpi_export: " << argv[3] << " is not JSON\n";
    return 1;
  }
  std::cout << tether::relay::fleet::glpi_device_inventory(device).dump(2) << "\n";
  return std::cout ? 0 : 1;
}
