#include "tether/agent/tools/journal_tools.hpp"

#include <array>
#include <charconv>
#include <chrono>
#include <cstdio>

#include "diag/collectors/source_files.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxJournalOutput = 32 * 1024 * 1024;
constexpr std::size_t kMaxShortField = 256;  // unit, identifier, host
constexpr long long kMaxSinceSeconds = 3650LL * 24 * 3600;

// __REALTIME_TIMESTAMP, __CURSOR and _BOOT_ID come whatever is asked; these are the rest.
constexpr std::string_view kOutputFields =
    "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,"
    "_HOSTNAME";

constexpr std::array<std::string_view, 8> kPriorities{"emerg",   "alert",  "crit", "err",
                                                      "warning", "notice", "info", "debug"};

struct DurationUnit {
  char letter;
  long long seconds;
  std::string_view journal;  // how journalctl's time parser spells it
};
constexpr std::array<DurationUnit, 5> kDurationUnits{
    {{'s', 1, "s"}, {'m', 60, "min"}, {'h', 3600, "h"}, {'d', 86400, "d"}, {'w', 7 * 86400, "w"}}};

constexpr std::string_view kSinceHelp =
    "use a duration back from now (45s, 30m, 1h, 2d, 1w) or an ISO time "
    "(2026-11-30, 2026-11-30T02:55:36Z, 2026-11-30 02:55+01:00)";

bool digits(std::string_view text, std::size_t at, std::size_t count, int& out) {
  if (at + count > text.size()) return false;
  const auto* first = text.data() + at;
  const auto [end, ec] = std::from_chars(first, first + count, out);
  return ec == std::errc() && end == first + count && out >= 0;
}

// "2026-11-30", "2026-11-30T02:55", "2026-11-30 02:55:36Z", "…+01:00", "…-0500" → journalctl's
// unambiguous "2026-11-30 01:55:36 UTC"; no zone means UTC (the technician and the user may
// be in different zones, and UTC is what every other time in Tether is).
std::optional<std::string> iso_since(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-' || !digits(text, 0, 4, year) ||
      !digits(text, 5, 2, month) || !digits(text, 8, 2, day)) {
    return std::nullopt;
  }
  std::size_t at = 10;
  if (at < text.size() && (text[at] == 'T' || text[at] == ' ')) {
    if (!digits(text, at + 1, 2, hour) || at + 3 >= text.size() || text[at + 3] != ':' ||
        !digits(text, at + 4, 2, minute)) {
      return std::nullopt;
    }
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(text, at + 1, 2, second)) return std::nullopt;
      at += 3;
    }
  }
  int offset_minutes = 0;
  const auto zone = text.substr(at);
  if (zone == "Z" || zone == " UTC") {
    at = text.size();
  } else if (!zone.empty() && (zone[0] == '+' || zone[0] == '-')) {
    int zone_hours = 0, zone_minutes = 0;
    const bool colon = zone.size() == 6 && zone[3] == ':';
    if ((zone.size() != 5 && !colon) || !digits(zone, 1, 2, zone_hours) ||
        !digits(zone, colon ? 4 : 3, 2, zone_minutes) || zone_hours > 14 || zone_minutes > 59) {
      return std::nullopt;
    }
    offset_minutes = (zone[0] == '+' ? 1 : -1) * (zone_hours * 60 + zone_minutes);
    at = text.size();
  }
  if (at != text.size()) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(month)},
                                         std::chrono::day{static_cast<unsigned>(day)}};
  if (!date.ok() || year < 1970 || hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const auto utc = std::chrono::sys_days{date} + std::chrono::hours{hour} +
                   std::chrono::minutes{minute - offset_minutes} + std::chrono::seconds{second};
  // format_time writes "2026-11-30T01:55:36Z"; journalctl wants a space and " UTC".
  auto formatted = protocol::format_time(utc);
  formatted[10] = ' ';
  formatted.pop_back();
  return formatted + " UTC";
}

Result<std::string> journal_since(std::string_view text) {
  // A duration: 1-6 digits and one unit letter.
  if (text.size() >= 2 && text.size() <= 7 &&
      text.find_first_not_of("0123456789") == text.size() - 1) {
    long long count = 0;
    std::from_chars(text.data(), text.data() + text.size() - 1, count);
    for (const auto& unit : kDurationUnits) {
      if (unit.letter != text.back()) continue;
      if (count == 0 || count > kMaxSinceSeconds / unit.seconds) {
        return ToolError{"since " + quote_for_error(text) + ": from 1 second to 10 years back"};
      }
      return Result<std::string>(boost::system::in_place_value,
                                 "-" + std::to_string(count) + std::string(unit.journal));
    }
  }
  if (auto absolute = iso_since(text)) {
    return Result<std::string>(boost::system::in_place_value, std::move(*absolute));
  }
  return ToolError{"since " + quote_for_error(text) + ": " + std::string(kSinceHelp)};
}

Result<int> journal_priority(std::string_view text) {
  if (text.size() == 1 && text[0] >= '0' && text[0] <= '7') return text[0] - '0';
  std::string lower;
  for (const char c : text.substr(0, 16))
    lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  for (std::size_t i = 0; i < kPriorities.size(); ++i) {
    if (text.size() <= 16 && kPriorities[i] == lower) return static_cast<int>(i);
  }
  return ToolError{"priority " + quote_for_error(text) +
                   ": use emerg, alert, crit, err, warning, notice, info, debug or 0-7"};
}

// A journal field's bytes: a string, an array of byte values (binary or non-UTF-8 data), or,
// for a field logged several times, an array whose first element is one of those. At most
// `limit` bytes are decoded from a byte array.
std::optional<std::string> field_bytes(const json& object, const char* key, std::size_t limit) {
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  const json* value = &*it;
  if (value->is_array() && !value->empty() && !value->front().is_number()) value = &value->front();
  if (value->is_string()) return value->get<std::string>();
  if (!value->is_array()) return std::nullopt;  // null: journalctl left out an over-long value
  std::string bytes;
  for (const auto& byte : *value) {
    if (bytes.size() > limit) break;
    if (!byte.is_number_unsigned() && !byte.is_number_integer()) return std::nullopt;
    const auto number = byte.get<long long>();
    if (number < 0 || number > 255) return std::nullopt;
    bytes.push_back(static_cast<char>(number));
  }
  return bytes;
}

std::string short_field(const json& object, const char* key) {
  auto text = lossy_utf8(field_bytes(object, key, kMaxShortField).value_or(""));
  truncate_utf8(text, kMaxShortField);
  return text;
}

std::optional<long long> number_field(const json& object, const char* key) {
  const auto text = field_bytes(object, key, 32);
  if (!text) return std::nullopt;
  return diag::parse_integer(*text);
}

}  // namespace

Result<std::vector<std::string>> journalctl_argv(const LogQuery& query) {
  if (query.lines < 1 || query.lines > kMaxLogLines) {
    return ToolError{"lines " + std::to_string(query.lines) + ": ask for 1 to " +
                     std::to_string(kMaxLogLines)};
  }
  std::vector<std::string> argv{"journalctl",
                                "--no-pager",
                                "--quiet",
                                "--all",
                                "--output=json",
                                std::string(kOutputFields),
                                "--lines=" + std::to_string(query.lines)};
  if (query.follow && !query.since.empty()) {
    // journalctl would print the first N entries after that time, then wait for new ones:
    // neither the newest lines nor everything since then.
    return ToolError{"since cannot be combined with follow: follow starts from the newest lines"};
  }
  if (!query.since.empty()) {
    auto since = journal_since(query.since);
    if (!since) return since.error();
    argv.push_back("--since=" + *since);
  }
  if (!query.priority.empty()) {
    const auto priority = journal_priority(query.priority);
    if (!priority) return priority.error();
    argv.push_back("--priority=" + std::to_string(*priority));
  }
  if (!query.unit.empty()) {
    auto unit = normalize_unit_name(query.unit);
    if (!unit) return unit.error();
    argv.push_back("--unit=" + *unit);
  }
  // Only walking back from the end makes --lines the newest N when --since is set too (forward,
  // journalctl shows the first N after that time); follow cannot walk back.
  argv.emplace_back(query.follow ? "--follow" : "--reverse");
  return argv;
}

std::optional<json> parse_journal_line(std::string_view line) {
  line = diag::trim(line);
  if (line.empty() || line.front() != '{') return std::nullopt;
  const json object = json::parse(line, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return std::nullopt;

  json entry{{"time", nullptr}, {"priority", nullptr}, {"pid", nullptr}};
  if (const auto usec = number_field(object, "__REALTIME_TIMESTAMP"); usec && *usec > 0) {
    entry["time"] = protocol::format_time(std::chrono::system_clock::time_point(
        std::chrono::duration_cast<std::chrono::system_clock::duration>(
            std::chrono::microseconds(*usec))));
  }
  if (const auto priority = number_field(object, "PRIORITY");
      priority && *priority >= 0 && *priority <= 7) {
    entry["priority"] = *priority;
  }
  entry["unit"] = short_field(object, "_SYSTEMD_UNIT");
  auto identifier = short_field(object, "SYSLOG_IDENTIFIER");
  entry["identifier"] = identifier.empty() ? short_field(object, "_COMM") : identifier;
  for (const auto* key : {"_PID", "SYSLOG_PID"}) {
    if (const auto pid = number_field(object, key); pid && *pid > 0) {
      entry["pid"] = *pid;
      break;
    }
  }
  entry["host"] = short_field(object, "_HOSTNAME");
  auto message = lossy_utf8(field_bytes(object, "MESSAGE", kMaxLogMessage).value_or(""));
  truncate_utf8(message, kMaxLogMessage);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
    message.pop_back();
  }
  entry["message"] = std::move(message);
  return entry;
}

json read_journal(const LogQuery& query, Deadline deadline, const ProgramRunner& run) {
  if (query.follow) {
    return json{{"error",
                 "follow needs a streaming reader: run journalctl_argv's command and parse each "
                 "line with parse_journal_line"}};
  }
  const auto argv = journalctl_argv(query);
  if (!argv) return json{{"error", argv.error().message}};
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left <= std::chrono::milliseconds::zero()) {
    return json{{"error", "journalctl did not finish in time"}};
  }
  const RunLimits limits{.timeout = left, .max_output = kMaxJournalOutput};
  const auto journal = run ? run(*argv, limits) : run_program(*argv, limits);
  switch (journal.outcome) {
    case RunOutcome::tool_missing:
      return json{{"error", "journalctl not available: this machine has no systemd journal"}};
    case RunOutcome::timed_out:
      return json{{"error", "journalctl did not finish in time"}};
    case RunOutcome::failed_to_start:
      return json{{"error", "cannot run journalctl: " + journal.error}};
    default:
      break;
  }
  if (!journal.succeeded()) {
    return json{{"error", "journalctl failed: " + lossy_utf8(describe_failure(journal))}};
  }
  json entries = json::array();
  const auto lines = diag::split_lines(journal.out);
  for (auto line = lines.rbegin(); line != lines.rend(); ++line) {  // --reverse: newest first
    if (auto entry = parse_journal_line(*line)) entries.push_back(std::move(*entry));
  }
  return json{{"entries", std::move(entries)}, {"truncated", journal.truncated}};
}

}  // namespace tether::agent::tools
