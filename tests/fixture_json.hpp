#pragma once
// JSON fixtures kept under tests/ (snapshots, inventories), shared by the test modules.

#include <fstream>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

namespace tether {

/// TETHER_SOURCE_DIR/tests/`relative` parsed; throws when it is missing or not JSON.
inline nlohmann::json fixture_json(const std::string& relative) {
  std::ifstream in(std::string(TETHER_SOURCE_DIR) + "/tests/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

/// The laptop snapshot most diagnostics, inventory and GLPI tests start from.
inline nlohmann::json laptop_snapshot() {
  return fixture_json("glpi/snapshot_laptop.json");
}

}  // namespace tether
