#pragma once
// Reading the health of a disk from `smartctl -j -H -A <device>` (smartmontools 7+).

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tether/agent/run_program.hpp"

namespace tether::agent::diag {

/// smartctl's JSON output → the schema's health object: {"source": "smartctl", "passed",
/// "temperature_celsius", "power_on_hours", "percentage_used", "media_errors",
/// "reallocated_sectors", "pending_sectors", "critical_warning"}. A value the drive does not
/// report is null with a reason in "unknown" (percentage_used and media_errors exist only
/// on NVMe, reallocated/pending sectors only on ATA attributes 5 and 197).
/// Returns null with `reason` set when the output holds no health at all (not JSON, the
/// device could not be opened, SMART unsupported).
nlohmann::json parse_smartctl_health(std::string_view output, std::string& reason);

/// The health of one disk from a finished smartctl run: the parsed health, or null with
/// `reason` ("tool missing", "timed out", "could not read: …").
nlohmann::json smartctl_health_from_run(const ProgramRun& run, std::string& reason);

}  // namespace tether::agent::diag
