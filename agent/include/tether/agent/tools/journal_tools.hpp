#pragma once
/// The technician's log tool: a journalctl-like view of the systemd journal. A query is
/// validated field by field and turned into journalctl's argv (no shell is involved); each
/// line journalctl prints in JSON becomes one entry the console renders or passes on as JSON.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/agent/tools/service_tools.hpp"

namespace tether::agent::tools {

/// What a technician asks of the journal. Every field is untrusted text from the network.
struct LogQuery {
  std::string unit;      ///< Empty: every unit; else a unit name (".service" appended if bare).
  std::string since;     ///< Empty: no bound; "45s", "30m", "1h", "2d", "1w" back from now
                         ///< (at most 10 years); or an ISO 8601 date or time:
                         ///< "2026-11-30", "2026-11-30T02:55", "2026-11-30T02:55:36Z",
                         ///< "2026-11-30 02:55:36+01:00" (no zone means UTC).
  int lines = 200;       ///< The newest this many entries, 1 … 10,000.
  std::string priority;  ///< Empty: all; else this and more severe: "emerg", "alert", "crit",
                         ///< "err", "warning", "notice", "info", "debug" or "0" … "7".
  bool follow = false;   ///< Print the newest `lines`, then new entries as they come
                         ///< (journalctl --follow); cannot be combined with since.
};

/// The highest number of lines one query may ask for.
inline constexpr int kMaxLogLines = 10000;

/// The largest message kept in an entry, in bytes (cut at a UTF-8 character boundary).
inline constexpr std::size_t kMaxLogMessage = 16 * 1024;

/// journalctl's argv for `query`: "journalctl", "--no-pager", "--quiet", "--all",
/// "--output=json", "--output-fields=…", "--lines=N", then "--since=…" (relative as
/// "-30min", absolute as "2026-11-30 01:55:36 UTC"), "--priority=N", "--unit=…" as asked,
/// and last "--follow" or else "--reverse": without follow journalctl prints the newest N
/// entries NEWEST FIRST (the only way it counts back from now when since is set too); with
/// follow, the newest N oldest first and then each new entry. An error naming the field for
/// anything out of range or malformed, and for since with follow.
Result<std::vector<std::string>> journalctl_argv(const LogQuery& query);

/// One line of `journalctl -o json` → {"time" (ISO 8601 UTC to the second, or null),
/// "priority" (0-7, or null), "unit" (_SYSTEMD_UNIT or ""), "identifier" (SYSLOG_IDENTIFIER,
/// else _COMM, or ""), "pid" (_PID, else SYSLOG_PID, or null), "host" (_HOSTNAME or ""),
/// "message" (at most kMaxLogMessage bytes, trailing line ends dropped)}. Every string is valid
/// UTF-8: a field journald stored as a byte array (binary or non-UTF-8) is decoded with
/// U+FFFD for bad bytes. nullopt for a line that is not a JSON object.
std::optional<nlohmann::json> parse_journal_line(std::string_view line);

/// Runs journalctl for a query without follow (a follow needs a streaming runner, which the
/// caller owns: journalctl_argv and parse_journal_line are its parts) and returns
///   {"entries": [...oldest first...], "truncated": bool (output was cut at its limit; the
///    oldest entries are the ones missing)}
/// or {"error": "<one line>"}: the query's own error, "journalctl not available: this machine
/// has no systemd journal", a time-out, or journalctl's first line of complaint.
nlohmann::json read_journal(const LogQuery& query, Deadline deadline,
                            const ProgramRunner& run = {});

}  // namespace tether::agent::tools
