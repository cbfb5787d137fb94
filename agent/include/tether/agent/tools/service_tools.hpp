#pragma once
/// The technician's service tools: a systemctl-like list of the machine's services and
/// start / stop / restart / status of one of them, through `systemctl` (never a shell).
/// Every function blocks until its programs have finished or the deadline has passed, so
/// call them off any event-loop thread; they never throw for anything systemctl does.

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include "tether/agent/run_program.hpp"

namespace tether::agent::tools {

/// Why a technician's request was refused or failed: one line a person reads, printable
/// ASCII or valid UTF-8, never echoing hostile input raw.
struct ToolError {
  std::string message;
};
/// For boost::system::result<T, ToolError>::value(): throws std::runtime_error(message).
[[noreturn]] void throw_exception_from_error(const ToolError& error,
                                             const boost::source_location& location);

/// A value, or the ToolError that says why there is none. A ToolError converts from a string,
/// so return a string value as Result<std::string>(boost::system::in_place_value, text).
template <typename T>
using Result = boost::system::result<T, ToolError>;

/// Text from a technician made safe to quote in a ToolError: in double quotes, printable ASCII
/// as it is, '"', '\\' and every other byte as \xNN, at most `limit` bytes then "...".
std::string quote_for_error(std::string_view text, std::size_t limit = 32);

/// `bytes` as valid UTF-8: well-formed sequences kept as they are, every other byte replaced
/// by U+FFFD. Control characters are kept (JSON escapes them; a terminal view must too).
std::string lossy_utf8(std::string_view bytes);

/// `text` cut to at most `max_bytes` without splitting a UTF-8 sequence.
void truncate_utf8(std::string& text, std::size_t max_bytes);

/// Runs a program under limits; run_program in production, canned output in tests.
using ProgramRunner =
    std::function<ProgramRun(const std::vector<std::string>& argv, const RunLimits& limits)>;

/// A steady-clock instant after which no more program is started and a running one is killed.
using Deadline = std::chrono::steady_clock::time_point;

/// Checks a unit name a technician typed and makes it whole: systemd's unit-name characters
/// only (letters, digits and `:_.\@-`), at most 256 bytes, no leading '-' or '.', at most one
/// '@' and not first; ".service" is appended unless it already ends in a unit type suffix
/// (.service .socket .timer .target .mount .automount .swap .path .slice .scope .device).
/// Globs, spaces, slashes and shell characters are refused with the offending position.
Result<std::string> normalize_unit_name(std::string_view name);

/// `systemctl list-units --output=json --plain` (systemd ≥ 246; keys "unit", "load", "active",
/// "sub", "description", maybe "job") → [{name, description, load, active, sub}] in the given
/// order; entries that are not objects or have no unit name are skipped; at most 10,000.
/// An error when the text is not a JSON array (an older systemctl printed its table instead).
Result<nlohmann::json> parse_list_units_json(std::string_view text);

/// `systemctl list-unit-files --output=json` ([{"unit_file", "state", "preset"}]) or, when
/// the text is not JSON, its plain `--no-legend` table ("name state [preset]") → unit file →
/// state ("enabled", "disabled", "static", "masked", "alias", "indirect", "generated"…).
std::map<std::string, std::string> parse_unit_file_states(std::string_view text);

/// The services systemd knows, like `systemctl list-units --type=service --all` with the
/// ENABLED column of `list-unit-files`:
///   {"systemd_available": true, "system_state": "running"|"degraded"|…,
///    "services": [{name, description, load, active, sub, enabled}] (sorted by name; enabled is
///    null for a unit without a unit file, such as a transient one),
///    "counts": {"total", "active", "failed"} of the services listed}
/// failed_only keeps the failed units only. When systemd is not the running init system
/// (`systemctl is-system-running` says "offline", or systemctl is missing):
///   {"systemd_available": false, "error": "systemd is not running on this machine…"};
/// any other failure: {"systemd_available": true, "error": "<one line>"}. `run` empty means
/// run_program. Falls back to the plain table on a systemctl without JSON output.
nlohmann::json list_services(bool failed_only, Deadline deadline, const ProgramRunner& run = {});

/// The service units the agent runs inside, from the text of /proc/self/cgroup (the unified
/// "0::" line, else systemd's "name=systemd:" line): each path component that ends in
/// ".service", outermost first ("user@1000.service", "tether-agent.service").
std::vector<std::string> enclosing_service_units(std::string_view proc_self_cgroup);

/// `systemctl --no-ask-password <action> -- <unit>` for action start, stop, restart or
/// status, then the unit's state:
///   {"ok", "action", "name" (normalized), "exit_code" (null when it did not run),
///    "active", "sub" (null when unknown), "output" (systemctl's stdout and stderr, valid
///    UTF-8, at most 64 KiB), "error" (one line, only when ok is false)}.
/// status is ok when the unit exists, whether or not it runs (exit 0 or 3). A refusal for lack
/// of privileges reads "permission denied: starting units needs root or polkit"; an unknown
/// unit "no such service: x.service" ("no such unit: x.socket"). Refused before anything runs:
/// a bad action or name, and stopping or restarting a unit the agent itself runs in
/// (enclosing_service_units), which would end the session.
nlohmann::json service_action(std::string_view action, std::string_view name, Deadline deadline,
                              const ProgramRunner& run = {});

}  // namespace tether::agent::tools
