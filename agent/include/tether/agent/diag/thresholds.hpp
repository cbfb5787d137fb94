#pragma once
/// The limits the health checks compare a snapshot against, and how the agent's config file
/// overrides them. Defaults follow Netdata's stock alarms where Netdata has one; the others
/// are documented, with their reasons, in docs/diagnostics.md ("Findings (health checks)").

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::diag {

/// Every threshold of every check, in one table. Each member is also a key of the
/// `[thresholds]` table of the agent's TOML config file, under the same name. "Above" limits
/// fire when the value is strictly greater, "below" limits when it is strictly smaller.
struct Thresholds {
  // Filesystems (storage.filesystems[]).
  double disk_used_warning_pct = 90;     ///< Used space above which a filesystem warns.
  double disk_used_critical_pct = 98;    ///< Used space above which, with little free, critical.
  double disk_free_critical_gib = 5;     ///< ...and free space below this many GiB.
  double inodes_used_warning_pct = 90;   ///< Used inodes above which a filesystem warns.
  double inodes_used_critical_pct = 98;  ///< Used inodes above which it is critical.
  double boot_free_warning_mib = 150;    ///< /boot free space below which a kernel update fails.
  double boot_free_critical_mib = 50;
  double var_free_warning_mib = 1024;  ///< /var free space below which updates and logs suffer.
  double var_free_critical_mib = 256;

  // Disks (storage.disks[].health).
  double disk_wear_warning_pct = 80;  ///< NVMe percentage_used (rated endurance spent).
  double disk_wear_critical_pct = 95;
  double disk_reallocated_warning = 0;  ///< Reallocated sectors above which a disk warns.
  double disk_reallocated_critical = 100;
  double disk_pending_warning = 0;  ///< Pending (unreadable) sectors.
  double disk_pending_critical = 10;
  double disk_media_errors_warning = 0;  ///< NVMe media and data integrity errors.
  double disk_media_errors_critical = 100;

  // Memory.
  double memory_available_warning_pct = 10;  ///< Available RAM below this share of total.
  double memory_available_critical_pct = 5;
  double swap_used_warning_pct = 90;
  double swap_used_critical_pct = 98;
  double oom_kills_warning = 0;                  ///< OOM kills since boot above which to warn.
  double memory_pressure_some_warning_pct = 10;  ///< PSI memory "some" avg60.
  double memory_pressure_full_critical_pct = 5;  ///< PSI memory "full" avg60.

  // CPU and temperatures.
  double load_warning_per_thread = 2;  ///< 15-minute load average per logical CPU.
  double load_critical_per_thread = 4;
  double cpu_temperature_warning_celsius = 85;
  double cpu_temperature_critical_celsius = 95;

  // Clock.
  double clock_sync_grace_minutes = 17;  ///< Uptime before "not synchronised" is a warning.
  double clock_offset_warning_ms = 500;
  double clock_offset_critical_ms = 60000;

  // Power.
  double battery_health_warning_pct = 80;  ///< Full capacity as a share of design capacity.
  double battery_health_critical_pct = 50;
  double battery_charge_warning_pct = 10;  ///< Charge while discharging.
  double battery_charge_critical_pct = 5;

  // Network (counters since boot, over rx + tx packets).
  double interface_min_packets = 10000;  ///< Fewer packets than this: no ratio is judged.
  double interface_errors_warning_pct = 1;
  double interface_errors_critical_pct = 5;
  double interface_drops_warning_pct = 2;  ///< Wired and virtual interfaces.
  double wireless_drops_warning_pct = 10;  ///< Wi-Fi drops more by nature.

  // System, software and logs.
  double uptime_info_days = 90;
  double reboot_pending_warning_days = 7;
  double security_updates_warning = 0;
  double failed_units_warning = 0;
  double crashes_warning = 0;  ///< Crash dumps of the last 24 h.
  double journal_errors_info = 0;
  double journal_errors_warning = 100;
};

/// One threshold by its config key: the table of all of them, in the order
/// docs/diagnostics.md lists them, read from `thresholds`. For printing the effective values.
struct ThresholdValue {
  std::string_view name;  ///< Key in [thresholds], same as the Thresholds member.
  double value;
};
std::vector<ThresholdValue> threshold_values(const Thresholds& thresholds);

/// The outcome of reading a config file's `[thresholds]` table.
struct ThresholdsFile {
  /// The defaults overridden by the file's keys; empty when `error` is set.
  std::optional<Thresholds> thresholds;
  /// One line naming the file and the offending key, meant for a person; empty on success.
  std::string error;
};

/// Reads `[thresholds]` from a TOML config file. Other tables of the file belong to other
/// parts of the agent and are ignored; a file without `[thresholds]` yields the defaults.
/// A missing or unreadable file, a TOML syntax error, an unknown key, a value of the wrong
/// type, out of range (negative, a percentage above 100) or a warning limit beyond its
/// critical limit yields `error`. Never throws. Thread-safe.
ThresholdsFile load_thresholds(const std::filesystem::path& toml_file);

}  // namespace tether::agent::diag
