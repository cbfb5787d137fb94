#pragma once
// Before/after: what changed on the user's PC between the diagnostics snapshot taken when a
// session started and the one taken when it ended. Input comes from agents, so every field
// may be missing or mistyped; such parts are skipped, never thrown on.

#include <string>

#include <nlohmann/json.hpp>

namespace tether::relay::helpdesk {

/// The difference of two snapshots (docs/diagnostics-schema.md shapes):
/// {
///   "findings":  {"cleared": [{id, severity, summary, subject?}], "appeared": [...],
///                 "remaining": [... + severity_before when it changed],
///                 "not_rechecked": [...] (problem before, check skipped after),
///                 "compared": false (only when either snapshot has no findings list)},
///                Only critical/warning findings count; they are matched by id and, for
///                checks that report per item, the evidence's subject (mount_point, disk,
///                battery, interface, name, chip+label), shown as "subject".
///   "system":    {rebooted, boot_time_before, boot_time_after, kernel?: {from, to}} | null,
///   "services":  {"restarted": [name], "started": [name], "stopped": [name],
///                 "failed": [name] (failed now, not before), "recovered": [name]},
///                Units carry no PID or start time, so "restarted" means active both times
///                with a different main process (pid or start_time in processes.list: a
///                process named like the unit, e.g. cups.service → cupsd, child of PID 1
///                preferred); never reported across a reboot.
///   "packages":  {"installed": [{name, version, architecture?, source?}], "removed": [...],
///                 "upgraded": [{name, from, to, architecture?, source?}], "downgraded": [...]}
///                (Debian version order decides up or down),
///   "updates":   {pending_before, pending_after, security_before, security_after} | null
///                (null when the pending count did not change),
///   "storage":   [{mount, free_bytes_before, free_bytes_after, freed_bytes}]  (changes ≥ 1 MiB;
///                free = available_bytes, df's "Avail", else free_bytes; negative = used),
///   "filesystems": {"mounted": [mount], "unmounted": [mount]} | null,
///   "memory":    {available_bytes_before, available_bytes_after, total_bytes?} | null,
///   "processes": {"started": [name], "ended": [name]}   (user processes by name, capped at 50),
///   "summary":   "2 findings cleared, 1 appeared; cups restarted; openssl 3.0.11 → 3.0.15;
///                 3.0 GiB freed on /" (≤ 300 characters; "no changes found" when nothing
///                differs; disk changes under 100 MiB only when nothing else changed)
/// }
/// Lists are sorted by name/id and capped at 200 entries each ("truncated": true in the
/// section and at the top level if cut). Text is clipped to 200 characters of valid UTF-8.
/// Never throws on malformed input.
nlohmann::json diff_snapshots(const nlohmann::json& before, const nlohmann::json& after);

/// Counts and the critical/warning findings of one snapshot, as stored on the timeline:
/// {"counts": {critical, warning, info, ok}, "problems": [{id, severity, summary}] (≤ 20)}.
nlohmann::json findings_digest(const nlohmann::json& snapshot);

/// One line for the timeline: "Diagnostics snapshot of HOST (OS): 1 critical, 2 warnings — …".
std::string snapshot_summary(const nlohmann::json& snapshot, const nlohmann::json& digest);

}  // namespace tether::relay::helpdesk
