#pragma once
// One managed device's inventory in the GLPI inventory format, for `tether inventory export
// --format glpi`: the agent's own mapping (tether/protocol/glpi_inventory.hpp) over the
// relay's current inventory, plus what only the relay knows — a deviceid that stays the same
// for the device, its group as GLPI's tag, its last contact.

#include <string>

#include <nlohmann/json.hpp>

#include "fleet/inventory_query.hpp"

namespace tether::relay::fleet {

/// GLPI's agent id for the device: "<host>-<device id>" ("anna-laptop-D-7"), host being the
/// relay's host name for it, else the inventory's system.hostname, else "tether", without
/// its domain. GLPI keys agents by this exact text (its own agent writes
/// "<host>-<date of first run>"; the schema sets no pattern), so it must not change between
/// exports: it has no date. Characters other than letters, digits, "_" and "-" become "_";
/// the host part is cut at 64 characters.
std::string glpi_device_id(const FleetDevice& device);

/// One device's GLPI inventory from its FleetDevice (`inventory`: a snapshot-like document,
/// inventory sections with or without live figures and findings): {deviceid, itemtype
/// "Computer", action "inventory", tag (the group, when it has one), content {versionclient,
/// hardware (name at least, when the host is known), bios, operatingsystem, …, accesslog
/// {logdate: last_seen, UTC} when seen}}. Valid against the format's JSON schema
/// (tests/glpi/inventory.schema.json) for any input: missing, null or malformed values are
/// left out; strings are valid UTF-8 (bad bytes become U+FFFD). Never throws on any input.
nlohmann::json glpi_device_inventory(const FleetDevice& device);

}  // namespace tether::relay::fleet
