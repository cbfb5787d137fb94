#pragma once
// Reading the Linux sources (/proc, /sys, /etc) under a filesystem root, and the small text
// helpers every collector shares.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// What every section collector gets: where to read, the system calls, and its limits.
struct CollectContext {
  std::filesystem::path root = "/";
  Host host;
  bool real_root = true;  ///< root is the running machine's "/": system calls describe it.
  std::chrono::milliseconds probe_timeout{2000};
  std::chrono::milliseconds cpu_sample{10};
};

/// Runs a program for a collector: host.run when set, the real run_program on the real
/// root, and a "not supported on this platform" failure for a fixture root without host.run.
ProgramRun run_probe(const CollectContext& context, const std::vector<std::string>& argv);

/// The effective uid (host.effective_uid, else geteuid() on the real root, else 0 so a
/// fixture reads everything it holds).
unsigned effective_uid(const CollectContext& context);

/// Records why `field` of `object` could not be read: sets it to null and adds
/// {"<field>": reason} to object["unknown"]. Reasons start with one of: "not root",
/// "not present", "tool missing", "timed out", "not supported on this platform",
/// "could not read" (followed by ": detail" where it helps).
void mark_unknown(nlohmann::json& object, const std::string& field, std::string reason);

/// A source file's text, or why it could not be read ("cannot read /proc/meminfo: No such
/// file or directory"). The message names the path as on a real machine, not under root.
struct SourceText {
  std::optional<std::string> text;
  std::string error;
};

/// Reads `path` (absolute, as on a real machine: "/proc/meminfo") under `root`. Reads at most
/// a few MiB: /proc files report size 0, so the size is not known in advance.
SourceText read_source(const std::filesystem::path& root, std::string_view path);

/// `path` (absolute, as on a real machine) placed under `root`.
std::filesystem::path under_root(const std::filesystem::path& root, std::string_view path);

/// True when `root` is the real machine's root, so system calls describe the same machine.
bool is_real_root(const std::filesystem::path& root);

/// `text` without leading and trailing ASCII white space.
std::string_view trim(std::string_view text);

/// `text` split into lines, without the line ends.
std::vector<std::string_view> split_lines(std::string_view text);

/// `text` split on runs of spaces and tabs.
std::vector<std::string_view> split_fields(std::string_view text);

/// A whole-string integer or decimal; nullopt on anything else (including trailing junk).
std::optional<long long> parse_integer(std::string_view text);
std::optional<double> parse_decimal(std::string_view text);

/// {"unavailable": reason}: a section that could not be collected.
nlohmann::json unavailable(std::string reason);

}  // namespace tether::agent::diag
