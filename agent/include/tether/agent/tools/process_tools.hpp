#pragma once
/// The technician's process tools: a top-like table of the machine's processes and sending
/// one of them a signal. Reads /proc (a fixture directory in tests). Blocking: call them off
/// any event-loop thread. Safe to call from several threads at once.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::agent::tools {

/// One process as /proc showed it at one instant.
struct ProcessRow {
  long long pid = 0;
  long long ppid = 0;
  std::optional<unsigned> uid;    ///< Effective uid; nullopt when its status was unreadable.
  std::string name;               ///< comm (at most 64 bytes), valid UTF-8.
  char state = '?';               ///< R, S, D, Z, T, t, I…
  std::uint64_t cpu_ticks = 0;    ///< utime + stime, in clock ticks.
  std::uint64_t start_ticks = 0;  ///< Clock ticks after boot at which it started.
  std::uint64_t rss_bytes = 0;
  std::uint64_t vsz_bytes = 0;  ///< VmSize; 0 for a kernel thread.
  long long threads = 0;
  std::string command;  ///< cmdline, arguments joined by spaces, at most 4 KiB, valid UTF-8.
};

/// Every process of one pass over <proc_root>, with the machine-wide figures the table needs.
struct ProcessTable {
  std::vector<ProcessRow> rows;        ///< In directory order; a process gone mid-read is left out.
  std::optional<long long> boot_time;  ///< btime of <proc_root>/stat, s since 1970.
  std::optional<double> uptime_seconds;           ///< <proc_root>/uptime.
  std::optional<std::uint64_t> total_memory;      ///< MemTotal of <proc_root>/meminfo, bytes.
  std::chrono::steady_clock::time_point read_at;  ///< When the pass started.
  std::string error;  ///< Why <proc_root> could not be listed (rows then empty).
};

/// The order of the table: highest CPU share, highest resident memory, or pid.
enum class ProcessSort { cpu, mem, pid };

/// "cpu", "mem" or "pid"; nullopt for anything else.
std::optional<ProcessSort> parse_process_sort(std::string_view text);

/// The most processes one table lists (the first after sorting).
inline constexpr std::size_t kMaxListedProcesses = 5000;

/// One pass over <proc_root>/<pid>/. With details false only stat is read (pid, name, state,
/// CPU and start ticks, RSS, threads): enough for the first of two CPU samples.
ProcessTable read_process_table(const std::filesystem::path& proc_root, bool details = true);

/// The table as JSON, sorted as asked and cut to kMaxListedProcesses:
///   {"processes": [{pid, ppid, user, name, state, cpu_pct, rss_bytes, vsz_bytes, threads,
///                   started_at, command}],
///    "count" (processes seen), "truncated" (more than listed), "total_memory_bytes",
///    "cpu_sample_ms", "sort", "taken_at"}.
/// cpu_pct is top's %CPU: CPU time between `before` and `after` over the time between their
/// read_at, in percent of one CPU (a 4-thread busy loop shows 400). When the two are one pass
/// (no time between) it is ps's %CPU: the average over the process's life. user is the name of
/// the effective uid (getpwuid), its number when it has none, null when unreadable.
/// started_at is ISO 8601 UTC, null without btime. Unknown machine figures are null.
nlohmann::json process_list_json(const ProcessTable& before, const ProcessTable& after,
                                 ProcessSort sort, std::chrono::system_clock::time_point taken_at);

/// Reads <proc_root> twice, `cpu_sample` apart (sleeping in between; 0 reads once and gives
/// lifetime averages), and returns process_list_json. {"error": "<one line>"} for an unknown
/// sort or an unreadable <proc_root>.
nlohmann::json list_processes(
    const std::filesystem::path& proc_root, std::string_view sort,
    std::chrono::milliseconds cpu_sample = std::chrono::milliseconds(200));

/// What sending a signal did. name is the process's name read before the signal was sent.
struct KillResult {
  bool ok = false;
  int pid = 0;
  std::string name;
  std::string signal;  ///< Canonical name, "TERM"; as given (made printable) when unknown.
  std::string error;   ///< One line when ok is false.
};

/// {"ok", "pid", "name", "signal", "error" (only when not ok)}.
void to_json(nlohmann::json& out, const KillResult& result);

/// Sends `signal` ("TERM", "KILL", "HUP", "INT", "STOP" or "CONT"; any case, "SIG" prefix
/// allowed) to process `pid`. Refused before anything is sent: pid 0, 1 or negative, the
/// agent's own pid and its ancestors (stopping those would end the session), an unknown
/// signal, a pid with no process. The process is pinned with a pidfd before its name is read,
/// so a pid reused meanwhile is never signalled. EPERM reads "permission denied: process N
/// (name) belongs to user X".
KillResult kill_process(int pid, std::string_view signal,
                        const std::filesystem::path& proc_root = "/proc");

}  // namespace tether::agent::tools
