#include "helpdesk/sla.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <stdexcept>

#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {
namespace {

using std::chrono::days;
using std::chrono::minutes;
using std::chrono::seconds;
using std::chrono::sys_days;
using Duration = Clock::duration;

constexpr std::array<std::string_view, 7> kDayKeys{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::array<std::string_view, 4> kPriorities{"P1", "P2", "P3", "P4"};
constexpr long kMaxMinutes = 366L * 24 * 60;
constexpr int kMaxOffsetMinutes = 14 * 60;
constexpr long kMaxReopenDays = 3650;

// ---------------------------------------------------------------------------------------------
// Dates and opening hours

/// Exactly "YYYY-MM-DD" naming a real day.
std::optional<sys_days> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  auto number = [&](std::size_t pos, std::size_t len, int& out) {
    if (!std::all_of(text.begin() + pos, text.begin() + pos + len,
                     [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc{} && end == text.data() + pos + len;
  };
  int y = 0, m = 0, d = 0;
  if (!number(0, 4, y) || !number(5, 2, m) || !number(8, 2, d)) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{unsigned(m)},
                                         std::chrono::day{unsigned(d)}};
  if (!date.ok()) return std::nullopt;
  return sys_days{date};
}

std::string format_date(sys_days day) {
  const std::chrono::year_month_day date{day};
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02u", int(date.year()), unsigned(date.month()),
                unsigned(date.day()));
  return buffer;
}

/// "HH:MM" → minutes after midnight; "24:00" only when `closing`.
std::optional<int> parse_clock(std::string_view text, bool closing) {
  if (text.size() != 5 || text[2] != ':') return std::nullopt;
  auto digit = [&](std::size_t i) { return text[i] >= '0' && text[i] <= '9'; };
  if (!digit(0) || !digit(1) || !digit(3) || !digit(4)) return std::nullopt;
  const int h = (text[0] - '0') * 10 + (text[1] - '0');
  const int m = (text[3] - '0') * 10 + (text[4] - '0');
  if (m > 59) return std::nullopt;
  if (h == 24 && m == 0 && closing) return 24 * 60;
  if (h > 23) return std::nullopt;
  return h * 60 + m;
}

std::string format_clock(int minute) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "%02d:%02d", minute / 60, minute % 60);
  return buffer;
}

bool has_open_day(const BusinessCalendar& calendar) {
  return std::any_of(calendar.week.begin(), calendar.week.end(),
                     [](const DayHours& d) { return d.close_minute > d.open_minute; });
}

/// Walks a calendar day by day. The holidays are parsed once per walk, which keeps the public
/// struct a plain value (strings in, strings out) and every walk O(days + holidays).
class DayWalker {
 public:
  explicit DayWalker(const BusinessCalendar& calendar)
      : calendar_(calendar), offset_(minutes(calendar.utc_offset_minutes)) {
    for (const auto& text : calendar.holidays) {
      if (auto day = parse_date(text)) holidays_.push_back(*day);
    }
    std::sort(holidays_.begin(), holidays_.end());
  }

  /// The local day that contains the instant `t`.
  sys_days local_day(TimePoint t) const { return std::chrono::floor<days>(t + offset_); }

  /// The open hours of local day `day` as UTC instants, or nothing when it is closed.
  std::optional<std::pair<TimePoint, TimePoint>> open_span(sys_days day) const {
    const auto index = std::chrono::weekday{day}.iso_encoding() - 1;  // Monday = 0
    const DayHours& hours = calendar_.week[index];
    if (hours.close_minute <= hours.open_minute) return std::nullopt;
    if (std::binary_search(holidays_.begin(), holidays_.end(), day)) return std::nullopt;
    const TimePoint midnight = TimePoint{day} - offset_;
    return std::pair{midnight + minutes(hours.open_minute), midnight + minutes(hours.close_minute)};
  }

 private:
  const BusinessCalendar& calendar_;
  minutes offset_;
  std::vector<sys_days> holidays_;
};

Duration exact_business_time(const BusinessCalendar& calendar, TimePoint from, TimePoint to) {
  if (to <= from) return Duration::zero();
  const DayWalker walker(calendar);
  Duration total = Duration::zero();
  const sys_days last = walker.local_day(to);
  for (sys_days day = walker.local_day(from); day <= last; day += days{1}) {
    const auto span = walker.open_span(day);
    if (!span) continue;
    const TimePoint a = std::max(span->first, from);
    const TimePoint b = std::min(span->second, to);
    if (b > a) total += b - a;
  }
  return total;
}

TimePoint exact_add_business_time(const BusinessCalendar& calendar, TimePoint from,
                                  Duration amount) {
  if (amount <= Duration::zero()) return from;
  if (!has_open_day(calendar)) {
    throw std::invalid_argument("the business calendar has no open hour on any weekday");
  }
  // Terminates: some weekday is open and there are finitely many holidays.
  const DayWalker walker(calendar);
  for (sys_days day = walker.local_day(from);; day += days{1}) {
    const auto span = walker.open_span(day);
    if (!span) continue;
    const TimePoint start = std::max(span->first, from);
    if (span->second <= start) continue;
    const Duration available = span->second - start;
    if (amount <= available) return start + amount;
    amount -= available;
  }
}

// ---------------------------------------------------------------------------------------------
// Config JSON

[[noreturn]] void fail(const std::string& key, const std::string& what) {
  throw std::invalid_argument(key + ": " + what);
}

void reject_unknown_keys(const nlohmann::json& object, const std::string& key,
                         std::initializer_list<std::string_view> known) {
  for (const auto& [name, value] : object.items()) {
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(key + "." + name, "unknown key (known: " + list + ")");
    }
  }
}

const nlohmann::json& expect_object(const nlohmann::json& value, const std::string& key) {
  if (!value.is_object()) fail(key, "must be a JSON object");
  return value;
}

long whole_number(const nlohmann::json& value, const std::string& key, long min, long max) {
  if (!value.is_number_integer()) {
    fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  // Unsigned values above LONG_MAX would wrap; they are out of range anyway.
  if (value.is_number_unsigned() && value.get<std::uint64_t>() > std::uint64_t(max)) {
    fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  const long number = value.get<long>();
  if (number < min || number > max) {
    fail(key, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max) +
                  " (got " + std::to_string(number) + ")");
  }
  return number;
}

bool boolean(const nlohmann::json& value, const std::string& key) {
  if (!value.is_boolean()) fail(key, "must be true or false");
  return value.get<bool>();
}

void read_target(const nlohmann::json& value, const std::string& key, SlaTarget& target) {
  expect_object(value, key);
  reject_unknown_keys(value, key,
                      {"first_response_minutes", "resolution_minutes", "business_hours"});
  if (value.contains("first_response_minutes")) {
    target.first_response = minutes(whole_number(value["first_response_minutes"],
                                                 key + ".first_response_minutes", 1, kMaxMinutes));
  }
  if (value.contains("resolution_minutes")) {
    target.resolution = minutes(
        whole_number(value["resolution_minutes"], key + ".resolution_minutes", 1, kMaxMinutes));
  }
  if (value.contains("business_hours")) {
    target.business_hours = boolean(value["business_hours"], key + ".business_hours");
  }
}

BusinessCalendar default_calendar() {
  BusinessCalendar calendar;
  for (int day = 0; day < 5; ++day) calendar.week[day] = DayHours{8 * 60, 18 * 60};
  return calendar;
}

DayHours read_day(const nlohmann::json& value, const std::string& key) {
  if (value.is_null()) return DayHours{};
  const std::string expected = "must be \"HH:MM-HH:MM\" (e.g. \"08:00-18:00\") or null for closed";
  if (!value.is_string()) fail(key, expected);
  const auto text = value.get<std::string>();
  if (text.size() != 11 || text[5] != '-') fail(key, expected + ", not \"" + text + "\"");
  const auto open = parse_clock(std::string_view(text).substr(0, 5), false);
  const auto close = parse_clock(std::string_view(text).substr(6, 5), true);
  if (!open || !close) {
    fail(key, "\"" + text +
                  "\" is not a valid time range (hours 00-23, minutes 00-59, "
                  "closing may be 24:00)");
  }
  if (*close <= *open) {
    fail(key, "\"" + text +
                  "\" closes before it opens (use null for a closed day; ranges past "
                  "midnight are not supported)");
  }
  return DayHours{*open, *close};
}

BusinessCalendar read_calendar(const nlohmann::json& value, const std::string& key) {
  expect_object(value, key);
  reject_unknown_keys(value, key, {"utc_offset_minutes", "days", "holidays"});
  BusinessCalendar calendar = default_calendar();
  if (value.contains("utc_offset_minutes")) {
    calendar.utc_offset_minutes =
        static_cast<int>(whole_number(value["utc_offset_minutes"], key + ".utc_offset_minutes",
                                      -kMaxOffsetMinutes, kMaxOffsetMinutes));
  }
  if (value.contains("days")) {
    const std::string days_key = key + ".days";
    expect_object(value["days"], days_key);
    reject_unknown_keys(value["days"], days_key, {"mon", "tue", "wed", "thu", "fri", "sat", "sun"});
    for (std::size_t i = 0; i < kDayKeys.size(); ++i) {
      const std::string name(kDayKeys[i]);
      if (value["days"].contains(name)) {
        calendar.week[i] = read_day(value["days"][name], days_key + "." + name);
      }
    }
    if (!has_open_day(calendar)) fail(days_key, "no day has opening hours");
  }
  if (value.contains("holidays")) {
    const std::string holidays_key = key + ".holidays";
    const auto& list = value["holidays"];
    if (!list.is_array()) fail(holidays_key, "must be a list of dates \"YYYY-MM-DD\"");
    std::vector<sys_days> days;
    for (std::size_t i = 0; i < list.size(); ++i) {
      const std::string item_key = holidays_key + "[" + std::to_string(i) + "]";
      if (!list[i].is_string()) fail(item_key, "must be a date \"YYYY-MM-DD\"");
      const auto day = parse_date(list[i].get<std::string>());
      if (!day) {
        fail(item_key, "\"" + list[i].get<std::string>() + "\" is not a date \"YYYY-MM-DD\"");
      }
      days.push_back(*day);
    }
    std::sort(days.begin(), days.end());
    days.erase(std::unique(days.begin(), days.end()), days.end());
    calendar.holidays.clear();
    for (const auto day : days) calendar.holidays.push_back(format_date(day));
  }
  return calendar;
}

// ---------------------------------------------------------------------------------------------
// Clocks

struct Span {
  TimePoint from;
  TimePoint to;
};

/// The pauses clipped to [begin, end] and merged, so that overlapping pauses count once.
std::vector<Span> pause_spans(const std::vector<Pause>& pauses, TimePoint begin, TimePoint end,
                              TimePoint now) {
  std::vector<Span> spans;
  for (const auto& pause : pauses) {
    const TimePoint from = std::max(pause.from, begin);
    const TimePoint to = std::min(pause.to.value_or(now), end);
    if (to > from) spans.push_back({from, to});
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.from < b.from; });
  std::vector<Span> merged;
  for (const auto& span : spans) {
    if (!merged.empty() && span.from <= merged.back().to) {
      merged.back().to = std::max(merged.back().to, span.to);
    } else {
      merged.push_back(span);
    }
  }
  return merged;
}

bool pause_open_at(const std::vector<Pause>& pauses, TimePoint now) {
  return std::any_of(pauses.begin(), pauses.end(), [now](const Pause& pause) {
    return pause.from <= now && (!pause.to || *pause.to > now);
  });
}

/// The instant at which the time counted from `begin`, outside the `paused` spans (sorted,
/// disjoint, within [begin, end]), reaches `target`; `end` if it never does before it.
TimePoint reach_target(TimePoint begin, TimePoint end, const std::vector<Span>& paused,
                       Duration target, const BusinessCalendar* calendar) {
  Duration left = target;
  TimePoint cursor = begin;
  auto walk = [&](TimePoint to) -> std::optional<TimePoint> {
    if (to <= cursor) return std::nullopt;
    const Duration here = calendar ? exact_business_time(*calendar, cursor, to) : to - cursor;
    if (left <= here) {
      return calendar ? exact_add_business_time(*calendar, cursor, left) : cursor + left;
    }
    left -= here;
    return std::nullopt;
  };
  for (const auto& span : paused) {
    if (auto reached = walk(span.from)) return *reached;
    cursor = std::max(cursor, span.to);
  }
  if (auto reached = walk(end)) return *reached;
  return end;
}

ClockStatus compute_clock(const SlaInput& input, seconds target, const BusinessCalendar* calendar,
                          std::optional<TimePoint> stop, TimePoint now) {
  ClockStatus clock;
  clock.target = target;
  clock.stopped_at = stop;
  const TimePoint begin = input.created_at;
  const TimePoint end = std::max(begin, stop.value_or(now));
  auto counted = [calendar](TimePoint a, TimePoint b) {
    if (b <= a) return Duration::zero();
    return calendar ? exact_business_time(*calendar, a, b) : Duration(b - a);
  };
  // Counting is additive over disjoint spans, so the paused time can simply be subtracted.
  const auto paused = pause_spans(input.pauses, begin, end, now);
  Duration elapsed = counted(begin, end);
  for (const auto& span : paused) elapsed -= counted(span.from, span.to);
  elapsed = std::max(elapsed, Duration::zero());
  clock.elapsed = std::chrono::floor<seconds>(elapsed);

  const Duration target_exact = target;
  clock.breached = elapsed > target_exact;
  if (clock.breached) {
    clock.state = ClockState::breached;
    clock.overdue = std::chrono::floor<seconds>(elapsed - target_exact);
    clock.breached_at = reach_target(begin, end, paused, target_exact, calendar);
    return clock;
  }
  const Duration remaining = target_exact - elapsed;
  clock.remaining = std::chrono::floor<seconds>(remaining);
  if (stop) {
    clock.state = ClockState::met;
  } else if (pause_open_at(input.pauses, now)) {
    clock.state = ClockState::paused;
  } else {
    clock.state = ClockState::running;
    if (!calendar) {
      clock.due_at = now + remaining;
    } else if (has_open_day(*calendar)) {
      clock.due_at = exact_add_business_time(*calendar, now, remaining);
    }
  }
  return clock;
}

nlohmann::json time_json(const std::optional<TimePoint>& t) {
  return t ? nlohmann::json(protocol::format_time(*t)) : nlohmann::json(nullptr);
}

nlohmann::json clock_json(const ClockStatus& clock) {
  return {
      {"state", to_string(clock.state)},           {"target_seconds", clock.target.count()},
      {"elapsed_seconds", clock.elapsed.count()},  {"remaining_seconds", clock.remaining.count()},
      {"overdue_seconds", clock.overdue.count()},  {"due_at", time_json(clock.due_at)},
      {"stopped_at", time_json(clock.stopped_at)}, {"breached", clock.breached}};
}

/// The calendar a target counts in, or null for 24x7 (also when business hours are asked for
/// but the policy has no calendar: from_json refuses that, a hand-built policy falls back).
const BusinessCalendar* calendar_for(const SlaPolicy& policy, const SlaTarget& target) {
  return target.business_hours && policy.calendar ? &*policy.calendar : nullptr;
}

}  // namespace

// -------------------------------------------------------------------------------------------------

std::chrono::seconds BusinessCalendar::business_time(TimePoint from, TimePoint to) const {
  return std::chrono::floor<seconds>(exact_business_time(*this, from, to));
}

TimePoint BusinessCalendar::add_business_time(TimePoint from, std::chrono::seconds amount) const {
  return exact_add_business_time(*this, from, amount);
}

SlaPolicy::SlaPolicy()
    : targets{SlaTarget{minutes(15), std::chrono::hours(4)},
              SlaTarget{std::chrono::hours(1), std::chrono::hours(8)},
              SlaTarget{std::chrono::hours(4), days(3)},
              SlaTarget{std::chrono::hours(8), days(5)}} {}

SlaPolicy SlaPolicy::from_json(const nlohmann::json& value) {
  SlaPolicy policy;
  if (value.is_null()) return policy;
  expect_object(value, "sla");
  reject_unknown_keys(value, "sla",
                      {"targets", "business_hours", "reopen_window_days", "warn_before_minutes"});
  if (value.contains("targets")) {
    const auto& targets = expect_object(value["targets"], "sla.targets");
    reject_unknown_keys(targets, "sla.targets", {"P1", "P2", "P3", "P4"});
    for (std::size_t i = 0; i < kPriorities.size(); ++i) {
      const std::string name(kPriorities[i]);
      if (targets.contains(name)) {
        read_target(targets[name], "sla.targets." + name, policy.targets[i]);
      }
    }
  }
  if (value.contains("business_hours") && !value["business_hours"].is_null()) {
    policy.calendar = read_calendar(value["business_hours"], "sla.business_hours");
  }
  if (value.contains("reopen_window_days")) {
    policy.reopen_window = days(
        whole_number(value["reopen_window_days"], "sla.reopen_window_days", 0, kMaxReopenDays));
  }
  if (value.contains("warn_before_minutes")) {
    policy.warn_before = minutes(
        whole_number(value["warn_before_minutes"], "sla.warn_before_minutes", 0, kMaxMinutes));
  }
  for (std::size_t i = 0; i < kPriorities.size(); ++i) {
    if (policy.targets[i].business_hours && !policy.calendar) {
      fail("sla.targets." + std::string(kPriorities[i]) + ".business_hours",
           "true needs a \"business_hours\" calendar in the sla object");
    }
  }
  return policy;
}

nlohmann::json SlaPolicy::to_json() const {
  nlohmann::json targets_json = nlohmann::json::object();
  for (std::size_t i = 0; i < kPriorities.size(); ++i) {
    const auto& target = targets[i];
    targets_json[std::string(kPriorities[i])] = {
        {"first_response_minutes", std::chrono::floor<minutes>(target.first_response).count()},
        {"resolution_minutes", std::chrono::floor<minutes>(target.resolution).count()},
        {"business_hours", target.business_hours}};
  }
  nlohmann::json calendar_json = nullptr;
  if (calendar) {
    nlohmann::json days_json = nlohmann::json::object();
    for (std::size_t i = 0; i < kDayKeys.size(); ++i) {
      const auto& hours = calendar->week[i];
      days_json[std::string(kDayKeys[i])] =
          hours.close_minute > hours.open_minute
              ? nlohmann::json(format_clock(hours.open_minute) + "-" +
                               format_clock(hours.close_minute))
              : nlohmann::json(nullptr);
    }
    calendar_json = {{"utc_offset_minutes", calendar->utc_offset_minutes},
                     {"days", days_json},
                     {"holidays", calendar->holidays}};
  }
  return {{"targets", targets_json},
          {"business_hours", calendar_json},
          {"reopen_window_days", std::chrono::floor<days>(reopen_window).count()},
          {"warn_before_minutes", std::chrono::floor<minutes>(warn_before).count()}};
}

const SlaTarget& SlaPolicy::target(const std::string& priority) const {
  for (std::size_t i = 0; i < kPriorities.size(); ++i) {
    if (priority == kPriorities[i]) return targets[i];
  }
  return targets[2];
}

std::string_view to_string(ClockState state) {
  switch (state) {
    case ClockState::running:
      return "running";
    case ClockState::paused:
      return "paused";
    case ClockState::met:
      return "met";
    case ClockState::breached:
      return "breached";
  }
  return "unknown";
}

SlaStatus compute_sla(const SlaPolicy& policy, const SlaInput& input, TimePoint now) {
  const SlaTarget& target = policy.target(input.priority);
  const BusinessCalendar* calendar = calendar_for(policy, target);
  // A ticket resolved without an earlier response was answered by its resolution.
  const auto first_stop = input.first_response_at ? input.first_response_at : input.resolved_at;
  SlaStatus status;
  status.first_response = compute_clock(input, target.first_response, calendar, first_stop, now);
  status.resolution = compute_clock(input, target.resolution, calendar, input.resolved_at, now);
  return status;
}

nlohmann::json sla_json(const SlaStatus& status, const SlaInput& input, const SlaPolicy& policy) {
  const SlaTarget& target = policy.target(input.priority);
  return {{"priority", input.priority},
          {"business_hours", calendar_for(policy, target) != nullptr},
          {"first_response", clock_json(status.first_response)},
          {"resolution", clock_json(status.resolution)}};
}

std::string short_duration(std::chrono::seconds value) {
  if (value < seconds::zero()) return "-" + short_duration(-value);
  const long long total = value.count();
  const long long d = total / 86400;
  const long long h = total % 86400 / 3600;
  const long long m = total % 3600 / 60;
  const long long s = total % 60;
  char buffer[64];
  if (d > 0) {
    if (h == 0)
      std::snprintf(buffer, sizeof buffer, "%lld d", d);
    else
      std::snprintf(buffer, sizeof buffer, "%lld d %lld h", d, h);
  } else if (h > 0) {
    if (m == 0)
      std::snprintf(buffer, sizeof buffer, "%lld h", h);
    else
      std::snprintf(buffer, sizeof buffer, "%lld h %02lld min", h, m);
  } else if (m > 0) {
    if (s == 0)
      std::snprintf(buffer, sizeof buffer, "%lld min", m);
    else
      std::snprintf(buffer, sizeof buffer, "%lld min %02lld s", m, s);
  } else {
    std::snprintf(buffer, sizeof buffer, "%lld s", s);
  }
  return buffer;
}

}  // namespace tether::relay::helpdesk
