#pragma once
// Reading the Linux sources (/proc, /sys, /etc) under a filesystem root, and the small text
// helpers every collector shares.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

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
