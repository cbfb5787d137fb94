#pragma once
// Linux software RAID (md) state from /proc/mdstat.

#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// /proc/mdstat text → the schema's raid[]: {"name", "level", "state", "devices_total",
/// "devices_active", "devices_failed", "degraded", "sync_action", "sync_pct",
/// "members": [{"device", "state"}]}, sorted by name. state is "active", "inactive",
/// "read-only" or "auto-read-only"; member state "active", "failed", "spare" or
/// "replacement"; sync_action "idle", "resync", "recovery",
/// "reshape", "check" or "repair". Malformed arrays are skipped; never throws.
nlohmann::json parse_mdstat(std::string_view text);

}  // namespace tether::agent::diag
