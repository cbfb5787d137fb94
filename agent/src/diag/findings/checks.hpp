#pragma once
// The health checks, one pure function each over the snapshot, and the table that lists them.
// A check reports through its Check: findings (one per affected object where that makes
// sense, else one) or, when its inputs are missing, nothing but a noted reason.

#include <string_view>
#include <vector>

#include "diag/findings/check.hpp"

namespace tether::agent::diag::findings {

using CheckFunction = void (*)(Check&);

struct CheckDefinition {
  std::string_view id;  ///< Stable, dot-separated: "disk.space".
  CheckFunction run;
};

/// Every check, in id order.
const std::vector<CheckDefinition>& all_checks();

// storage_checks.cpp
void check_disk_space(Check& check);
void check_disk_inodes(Check& check);
void check_boot_free(Check& check);
void check_var_free(Check& check);
void check_root_read_only(Check& check);
void check_disk_smart(Check& check);
void check_disk_wear(Check& check);
void check_disk_bad_sectors(Check& check);
void check_raid(Check& check);

// memory_checks.cpp
void check_memory_available(Check& check);
void check_swap(Check& check);
void check_oom_kills(Check& check);
void check_memory_pressure(Check& check);

// system_checks.cpp
void check_load(Check& check);
void check_clock_sync(Check& check);
void check_clock_offset(Check& check);
void check_reboot_required(Check& check);
void check_uptime(Check& check);
void check_placeholders(Check& check);
void check_secure_boot(Check& check);

// power_checks.cpp
void check_battery_wear(Check& check);
void check_battery_charge(Check& check);
void check_temperature_limits(Check& check);
void check_cpu_temperature(Check& check);

// network_checks.cpp
void check_gateway(Check& check);
void check_dns(Check& check);
void check_interface_errors(Check& check);
void check_interface_drops(Check& check);

// software_checks.cpp
void check_failed_units(Check& check);
void check_security_updates(Check& check);
void check_crashes(Check& check);
void check_journal_errors(Check& check);

}  // namespace tether::agent::diag::findings
