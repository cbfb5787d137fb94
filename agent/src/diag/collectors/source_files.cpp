#include "diag/collectors/source_files.hpp"

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <system_error>

#include <unistd.h>

namespace tether::agent::diag {
namespace {

// Generous for /proc/cpuinfo on a many-core server (about 1.5 KiB per logical CPU), small
// enough that a runaway file cannot exhaust memory.
constexpr std::size_t kMaxSourceBytes = 4 * 1024 * 1024;

}  // namespace

std::filesystem::path under_root(const std::filesystem::path& root, std::string_view path) {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  return root / std::filesystem::path(std::string(path));
}

bool is_real_root(const std::filesystem::path& root) {
  std::error_code ec;
  return root == "/" || std::filesystem::equivalent(root, "/", ec);
}

SourceText read_source(const std::filesystem::path& root, std::string_view path) {
  SourceText result;
  const auto full = under_root(root, path);
  errno = 0;
  std::ifstream in(full, std::ios::binary);
  if (!in) {
    const int error = errno;
    result.error = "cannot read " + std::string(path) + ": " +
                   (error != 0 ? std::strerror(error) : "cannot open");
    return result;
  }
  std::string text;
  char buffer[16 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() >= kMaxSourceBytes) break;
  }
  if (in.bad()) {
    // A directory opens fine as an ifstream on Linux and fails on the first read (EISDIR).
    const int error = errno;
    result.error = "cannot read " + std::string(path) + ": " +
                   (error != 0 ? std::strerror(error) : "read error");
    return result;
  }
  result.text = std::move(text);
  return result;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view text) {
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
    const auto start = i;
    while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
    if (i > start) fields.push_back(text.substr(start, i - start));
  }
  return fields;
}

std::optional<long long> parse_integer(std::string_view text) {
  text = trim(text);
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_decimal(std::string_view text) {
  text = trim(text);
  double value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

ProgramRun run_probe(const CollectContext& context, const std::vector<std::string>& argv) {
  const RunLimits limits{.timeout = context.probe_timeout};
  if (context.host.run) return context.host.run(argv, limits);
  if (context.real_root) return run_program(argv, limits);
  ProgramRun refused;
  refused.outcome = RunOutcome::failed_to_start;
  refused.error = "not supported on this platform";
  return refused;
}

unsigned effective_uid(const CollectContext& context) {
  if (context.host.effective_uid) return context.host.effective_uid();
  return context.real_root ? static_cast<unsigned>(geteuid()) : 0U;
}

void mark_unknown(nlohmann::json& object, const std::string& field, std::string reason) {
  object[field] = nullptr;
  object["unknown"][field] = std::move(reason);
}

nlohmann::json unavailable(std::string reason) {
  return nlohmann::json{{"unavailable", std::move(reason)}};
}

}  // namespace tether::agent::diag
