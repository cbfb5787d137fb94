#pragma once
// Entries of `journalctl -o json`: one JSON object per line, every value a string, except
// that a value which is not valid UTF-8 (or holds control characters) comes as an array of
// byte values, a field present several times as an array of those, and an over-long value as
// null.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::diag {

/// The fields of one journal entry the "logs" section shows.
struct JournalEntry {
  std::optional<std::int64_t> realtime_usec;  ///< __REALTIME_TIMESTAMP, µs since 1970.
  std::optional<int> priority;                ///< PRIORITY, 0 (emerg) … 7 (debug).
  std::string unit;     ///< _SYSTEMD_UNIT, else SYSLOG_IDENTIFIER ("kernel"); may be empty.
  std::string message;  ///< MESSAGE as bytes (not necessarily UTF-8), at most 2 KiB.
};

/// Parses one line; nullopt when it is not a JSON object (a garbage or truncated line).
std::optional<JournalEntry> parse_journal_line(std::string_view line);

/// Every parsable line of `text`, in order, at most `limit` of them.
std::vector<JournalEntry> parse_journal_json(std::string_view text, std::size_t limit);

/// The victim of a kernel OOM kill from its message: "Out of memory: Killed process 1234
/// (firefox) total-vm:…" (also "Memory cgroup out of memory: Killed process …" and older
/// kernels' "Kill process 1234 (name) score …").
struct OomVictim {
  long long pid = 0;
  std::string process;
};
std::optional<OomVictim> parse_oom_kill(std::string_view message);

}  // namespace tether::agent::diag
