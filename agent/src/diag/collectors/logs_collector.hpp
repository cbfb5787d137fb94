#pragma once
// The "logs" section (docs/diagnostics.md): the journal's errors since boot, the kernel's OOM
// kills, and the crash dumps of the last 24 hours.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// A systemd-coredump file name, "core.<comm>.<uid>.<boot id>.<pid>.<µs since 1970>" with an
/// optional ".zst", ".xz" or ".lz4": the command (its "\xNN" escapes undone) and the time.
struct CoredumpName {
  std::string comm;
  unsigned uid = 0;
  long long pid = 0;
  std::chrono::system_clock::time_point time;
};
std::optional<CoredumpName> parse_coredump_name(std::string_view name);

/// The "ExecutablePath:" value of an apport .crash report's head; nullopt when absent.
std::optional<std::string> crash_report_executable(std::string_view head);

/// Collects the "logs" section under context.root. Ages are measured from context.host.now.
nlohmann::json collect_logs(const CollectContext& context);

}  // namespace tether::agent::diag
