#pragma once
// SLA clocks: time to first response and time to resolution per priority, counted in
// calendar time (24x7) or in business hours with holidays, paused while a ticket waits on
// the requester (pending) and while it is resolved. Pure arithmetic over an injected "now";
// the relay feeds it the ticket's pause intervals and milestones.
//
// The relay config's "sla" object (every key optional; what is left out keeps its default):
//   {
//     "targets": {                       // keys "P1".."P4"; a partial target keeps the rest
//       "P1": {"first_response_minutes": 15, "resolution_minutes": 240,
//              "business_hours": false},  // true: count only business hours (needs the
//       ...                               //   "business_hours" calendar below)
//     },
//     "business_hours": {                // null or absent: no calendar
//       "utc_offset_minutes": 60,        // local time = UTC + offset, -840..840, default 0
//       "days": {"mon": "08:00-18:00", "tue": ..., "sat": null, "sun": null},
//                                        // "HH:MM-HH:MM" (close may be "24:00") or null =
//                                        // closed; days left out keep Mon–Fri 08:00-18:00,
//                                        // Sat/Sun closed
//       "holidays": ["2026-12-25"]       // whole local days, "YYYY-MM-DD"
//     },
//     "reopen_window_days": 14,          // 0..3650; 0: a closed ticket cannot be reopened
//     "warn_before_minutes": 60          // 0..527040: "breaching soon" horizon of `tether sla`
//   }
// Minutes are whole numbers from 1 to 527040 (366 days). Unknown keys, wrong types, bad
// times ("25:00", a day that closes before it opens), bad dates, a calendar without a single
// open day, or business_hours: true in a target without a calendar are refused with
// std::invalid_argument naming the key, e.g. "sla.business_hours.days.mon: ...".

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay::helpdesk {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

/// Opening hours for one weekday in minutes after local midnight, [open, close). A day with
/// open == close is closed.
struct DayHours {
  int open_minute = 0;
  int close_minute = 0;
  bool operator==(const DayHours&) const = default;
};

/// Business hours: local time = UTC + utc_offset_minutes (a fixed offset; IANA zone names
/// with daylight saving are not supported), per weekday (0 = Monday … 6 = Sunday), plus
/// whole-day holidays given as local dates "YYYY-MM-DD".
struct BusinessCalendar {
  int utc_offset_minutes = 0;
  std::array<DayHours, 7> week{};
  std::vector<std::string> holidays;  ///< sorted, "YYYY-MM-DD"; malformed entries are ignored

  /// Business seconds in [from, to) (0 if to <= from), truncated to the second. Walks the
  /// local days in between: O(days), not O(seconds).
  std::chrono::seconds business_time(TimePoint from, TimePoint to) const;
  /// The earliest instant at which `amount` business seconds have passed since `from`
  /// (`from` itself for amount <= 0). Throws std::invalid_argument if no weekday has an open
  /// minute.
  TimePoint add_business_time(TimePoint from, std::chrono::seconds amount) const;

  bool operator==(const BusinessCalendar&) const = default;
};

struct SlaTarget {
  std::chrono::seconds first_response{0};
  std::chrono::seconds resolution{0};
  bool business_hours = false;  ///< Count in business hours (needs a calendar), else 24x7.
  bool operator==(const SlaTarget&) const = default;
};

/// The relay's SLA policy: targets per priority (index 0 = P1 … 3 = P4), optional calendar.
/// Defaults: P1 15 min / 4 h, P2 1 h / 8 h, P3 4 h / 3 days, P4 8 h / 5 days, all 24x7.
struct SlaPolicy {
  std::array<SlaTarget, 4> targets;
  std::optional<BusinessCalendar> calendar;
  /// How long a closed ticket may still be reopened.
  std::chrono::seconds reopen_window{std::chrono::hours(24 * 14)};
  /// How far ahead `tether sla` calls a running clock "breaching soon".
  std::chrono::seconds warn_before{std::chrono::hours(1)};

  SlaPolicy();
  /// From the relay config's "sla" object (the JSON at the top of this file; null gives the
  /// defaults). Unknown keys, wrong types, bad times or dates throw std::invalid_argument
  /// naming the key.
  static SlaPolicy from_json(const nlohmann::json& value);
  /// The complete object in the same shape (every key written); from_json(to_json()) gives
  /// the policy back as long as its durations are whole minutes (whole days for the window).
  nlohmann::json to_json() const;
  const SlaTarget& target(const std::string& priority) const;  // "P1".."P4"; P3 if unknown

  bool operator==(const SlaPolicy&) const = default;
};

/// A span during which the clocks stand still; `to` empty while it lasts.
struct Pause {
  TimePoint from;
  std::optional<TimePoint> to;
};

/// What the relay knows about one ticket, for the clocks.
struct SlaInput {
  std::string priority;  ///< "P1".."P4"
  TimePoint created_at;
  std::optional<TimePoint> first_response_at;  ///< Stops the first-response clock.
  std::optional<TimePoint> resolved_at;        ///< Set while resolved or closed; stops the
                                               ///< resolution clock.
  std::vector<Pause> pauses;  ///< Pending spans (and resolved spans of a reopened ticket).
};

/// running: counting now. paused: a pause is open now and the target is not yet passed.
/// met: stopped within the target. breached: elapsed passed the target, whether the clock still
/// runs or stopped late (a late first response or resolution is "breached", never "met").
enum class ClockState { running, paused, met, breached };
std::string_view to_string(ClockState state);

struct ClockStatus {
  ClockState state = ClockState::running;
  std::chrono::seconds target{0};
  std::chrono::seconds elapsed{0};       ///< Counted time so far (business or calendar).
  std::chrono::seconds remaining{0};     ///< target - elapsed, 0 when breached.
  std::chrono::seconds overdue{0};       ///< elapsed - target when breached, else 0.
  std::optional<TimePoint> due_at;       ///< When it breaches if nothing pauses it; set only
                                         ///< while running (empty when paused, met, breached).
  std::optional<TimePoint> stopped_at;   ///< first response / resolution time.
  bool breached = false;                 ///< Elapsed passed the target (same as state == breached).
  std::optional<TimePoint> breached_at;  ///< When elapsed reached the target (pauses and
                                         ///< business hours considered); set when breached.
};

struct SlaStatus {
  ClockStatus first_response;
  ClockStatus resolution;
};

/// Each clock counts from created_at to its stop (first response: first_response_at, or
/// resolved_at when there was none; resolution: resolved_at) or to `now` while running, in
/// business time when the priority's target says so and the policy has a calendar (else 24x7),
/// minus the pauses (clipped to that span, overlaps counted once, an open pause lasting until
/// `now`). due_at, only for a running clock: the instant the remaining time runs out counted
/// from `now`. Never throws.
SlaStatus compute_sla(const SlaPolicy& policy, const SlaInput& input, TimePoint now);

/// JSON for the API: {"priority", "business_hours", "first_response": {...}, "resolution":
/// {...}} with each clock as {state, target_seconds, elapsed_seconds, remaining_seconds,
/// overdue_seconds, due_at, stopped_at, breached}; times as protocol::format_time.
nlohmann::json sla_json(const SlaStatus& status, const SlaInput& input, const SlaPolicy& policy);

/// "2 h 05 min", "3 d 4 h", "45 s": the short form shown in tables. Two units at most,
/// truncated (never shows more time than there is); a zero second unit is left out ("2 h",
/// "3 d", "12 min"); "0 s" for zero; negative values get a leading "-".
std::string short_duration(std::chrono::seconds value);

}  // namespace tether::relay::helpdesk
