#pragma once
// The "processes" section (docs/diagnostics.md): every process with its owner, command, CPU
// share and resident memory, and the top consumers. One pass over /proc/<pid>/.

#include <cstdint>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// The fields of /proc/<pid>/stat the section uses. `comm` points into the parsed text.
struct PidStat {
  long long pid = 0;
  std::string_view comm;  ///< The name between the parentheses; may hold spaces and ')'.
  char state = '?';       ///< R, S, D, Z, T, t, X, I…
  long long ppid = 0;
  std::uint64_t flags = 0;  ///< PF_* flags; PF_KTHREAD (0x00200000) marks a kernel thread.
  std::uint64_t utime_ticks = 0;
  std::uint64_t stime_ticks = 0;
  long long threads = 0;
  std::uint64_t start_ticks = 0;  ///< Clock ticks after boot at which the process started.
  long long rss_pages = 0;
};

/// Parses one /proc/<pid>/stat line. The command name may contain spaces and parentheses,
/// so the fields after it are found from the LAST ')'. nullopt on a truncated or junk line.
std::optional<PidStat> parse_pid_stat(std::string_view text);

/// The effective uid from /proc/<pid>/status ("Uid:\treal\teffective\tsaved\tfs").
std::optional<unsigned> parse_status_euid(std::string_view text);

/// ps(1)'s %CPU: CPU time over the process's lifetime, in percent of one CPU, one decimal.
/// 0 for a process younger than a tick.
double lifetime_cpu_pct(std::uint64_t cpu_ticks, std::uint64_t start_ticks, double uptime_seconds,
                        long ticks_per_second);

/// Collects the "processes" section under context.root: at most 10,000 processes, sorted by
/// pid; a process that ends while it is read is left out.
nlohmann::json collect_processes(const CollectContext& context);

}  // namespace tether::agent::diag
