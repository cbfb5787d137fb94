#pragma once
/// A snapshot in the GLPI inventory format, which GLPI and other CMDBs import as it is: the
/// agent writes it (`tether-agent inventory --format glpi`), the relay exports it per managed
/// device (relay/src/fleet/glpi_export.hpp). The document validates against the
/// format's JSON schema (tests/glpi/inventory.schema.json, draft-07).

#include <chrono>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace tether::protocol {

/// What the GLPI format wants that a snapshot does not hold.
struct GlpiOptions {
  /// Local time's offset from UTC when collected, in seconds east of Greenwich, and its
  /// abbreviation ("CEST"): operatingsystem.timezone needs both; left out when unknown.
  std::optional<long> utc_offset_seconds;
  std::string timezone_abbreviation;
};

/// The local time zone's offset and abbreviation at `when` (localtime_r).
GlpiOptions local_glpi_options(std::chrono::system_clock::time_point when);

/// Maps `snapshot` (schema 2; an inventory document — make_inventory's snapshot without live
/// figures — works too, the live fields just stay out) to a GLPI inventory: deviceid, itemtype
/// "Computer", action "inventory" and content {versionclient, hardware, bios, operatingsystem,
/// cpus, memories, storages, drives, networks, softwares, batteries, monitors, videos, controllers,
/// usbdevices, users, local_users}. Sizes are in MB as GLPI counts them (MiB, disks in
/// decimal MB like their label), dates "YYYY-MM-DD" or "YYYY-MM-DD HH:MM:SS" (UTC). A value
/// that is missing, null, mistyped or outside the schema's range is left out, never null.
/// Never throws on any JSON.
nlohmann::json to_glpi_inventory(const nlohmann::json& snapshot, const GlpiOptions& options = {});

}  // namespace tether::protocol
