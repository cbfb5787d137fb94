#include "helpdesk/sla.hpp"

#include <stdexcept>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {
namespace {

using namespace std::chrono_literals;
using ::testing::StartsWith;

/// A fixed instant from an RFC 3339 UTC string; every test clock is one of these.
TimePoint at(std::string_view text) {
  auto parsed = protocol::parse_time(text);
  if (!parsed) throw std::invalid_argument("bad test time " + std::string(text));
  return *parsed;
}

std::string str(TimePoint t) {
  return protocol::format_time(t);
}

/// Mon–Fri 08:00-18:00 at the given offset: 10 business hours a day, 50 a week.
BusinessCalendar office(int utc_offset_minutes = 0, std::vector<std::string> holidays = {}) {
  BusinessCalendar calendar;
  calendar.utc_offset_minutes = utc_offset_minutes;
  for (int day = 0; day < 5; ++day) calendar.week[day] = DayHours{8 * 60, 18 * 60};
  calendar.holidays = std::move(holidays);
  return calendar;
}

// 2026-11-30 is a Monday; 2026-12-04 a Friday; 2026-12-08 a Tuesday.

// -------------------------------------------------------------------------------------------
// Policy and its JSON

TEST(SlaPolicy, DefaultsAreTheIssuesTargetsAllDayEveryDay) {
  const SlaPolicy policy;
  EXPECT_EQ(policy.target("P1").first_response, 15min);
  EXPECT_EQ(policy.target("P1").resolution, 4h);
  EXPECT_EQ(policy.target("P2").first_response, 1h);
  EXPECT_EQ(policy.target("P2").resolution, 8h);
  EXPECT_EQ(policy.target("P3").first_response, 4h);
  EXPECT_EQ(policy.target("P3").resolution, 72h);
  EXPECT_EQ(policy.target("P4").first_response, 8h);
  EXPECT_EQ(policy.target("P4").resolution, 120h);
  for (const auto& target : policy.targets) EXPECT_FALSE(target.business_hours);
  EXPECT_FALSE(policy.calendar.has_value());
  EXPECT_EQ(policy.reopen_window, 14 * 24h);
  EXPECT_EQ(policy.warn_before, 1h);
  EXPECT_EQ(&policy.target("P9"), &policy.target("P3")) << "unknown priorities count as P3";
  EXPECT_EQ(SlaPolicy::from_json(nullptr), policy);
  EXPECT_EQ(SlaPolicy::from_json(nlohmann::json::object()), policy);
}

TEST(SlaPolicy, DefaultJsonIsComplete) {
  const auto expected = nlohmann::json::parse(R"({
    "targets": {
      "P1": {"first_response_minutes": 15, "resolution_minutes": 240, "business_hours": false},
      "P2": {"first_response_minutes": 60, "resolution_minutes": 480, "business_hours": false},
      "P3": {"first_response_minutes": 240, "resolution_minutes": 4320, "business_hours": false},
      "P4": {"first_response_minutes": 480, "resolution_minutes": 7200, "business_hours": false}
    },
    "business_hours": null,
    "reopen_window_days": 14,
    "warn_before_minutes": 60
  })");
  EXPECT_EQ(SlaPolicy().to_json(), expected);
}

TEST(SlaPolicy, PartialObjectsOverrideOnlyWhatTheyName) {
  const auto policy = SlaPolicy::from_json(nlohmann::json::parse(R"({
    "targets": {"P2": {"resolution_minutes": 600}, "P4": {"business_hours": true}},
    "business_hours": {"days": {"sat": "09:00-13:00", "fri": "08:00-16:00"},
                       "holidays": ["2026-12-25", "2026-01-01", "2026-12-25"]},
    "warn_before_minutes": 30
  })"));
  EXPECT_EQ(policy.target("P2").first_response, 1h);
  EXPECT_EQ(policy.target("P2").resolution, 10h);
  EXPECT_FALSE(policy.target("P2").business_hours);
  EXPECT_EQ(policy.target("P4").first_response, 8h);
  EXPECT_TRUE(policy.target("P4").business_hours);
  EXPECT_EQ(policy.target("P1"), SlaPolicy().target("P1"));
  EXPECT_EQ(policy.warn_before, 30min);
  EXPECT_EQ(policy.reopen_window, 14 * 24h);
  ASSERT_TRUE(policy.calendar.has_value());
  const auto& calendar = *policy.calendar;
  EXPECT_EQ(calendar.utc_offset_minutes, 0);
  EXPECT_EQ(calendar.week[0], (DayHours{8 * 60, 18 * 60})) << "Monday keeps its default";
  EXPECT_EQ(calendar.week[4], (DayHours{8 * 60, 16 * 60}));
  EXPECT_EQ(calendar.week[5], (DayHours{9 * 60, 13 * 60}));
  EXPECT_EQ(calendar.week[6], DayHours{}) << "Sunday stays closed";
  EXPECT_EQ(calendar.holidays, (std::vector<std::string>{"2026-01-01", "2026-12-25"}))
      << "sorted, duplicates dropped";
}

TEST(SlaPolicy, JsonRoundTrips) {
  const auto source = nlohmann::json::parse(R"({
    "targets": {
      "P1": {"first_response_minutes": 10, "resolution_minutes": 120, "business_hours": false},
      "P2": {"first_response_minutes": 30, "resolution_minutes": 600, "business_hours": true},
      "P3": {"first_response_minutes": 240, "resolution_minutes": 1800, "business_hours": true},
      "P4": {"first_response_minutes": 480, "resolution_minutes": 3000, "business_hours": true}
    },
    "business_hours": {
      "utc_offset_minutes": -300,
      "days": {"mon": "07:30-17:00", "tue": "07:30-17:00", "wed": "07:30-17:00",
               "thu": "07:30-17:00", "fri": "07:30-12:00", "sat": null, "sun": "00:00-24:00"},
      "holidays": ["2026-07-03", "2026-11-26"]
    },
    "reopen_window_days": 0,
    "warn_before_minutes": 0
  })");
  const auto policy = SlaPolicy::from_json(source);
  EXPECT_EQ(policy.to_json(), source);
  EXPECT_EQ(SlaPolicy::from_json(policy.to_json()), policy);
  EXPECT_EQ(policy.calendar->week[6], (DayHours{0, 24 * 60}));
  EXPECT_EQ(policy.reopen_window, 0s);
  EXPECT_EQ(SlaPolicy::from_json(SlaPolicy().to_json()), SlaPolicy());
}

TEST(SlaPolicy, BadConfigNamesTheKey) {
  struct Case {
    const char* json;
    const char* key;
  };
  const Case cases[] = {
      {R"([])", "sla: "},
      {R"({"target": {}})", "sla.target: "},
      {R"({"targets": []})", "sla.targets: "},
      {R"({"targets": {"P5": {}}})", "sla.targets.P5: "},
      {R"({"targets": {"P1": 15}})", "sla.targets.P1: "},
      {R"({"targets": {"P1": {"speed": 1}}})", "sla.targets.P1.speed: "},
      {R"({"targets": {"P1": {"first_response_minutes": "15"}}})",
       "sla.targets.P1.first_response_minutes: "},
      {R"({"targets": {"P1": {"first_response_minutes": 15.5}}})",
       "sla.targets.P1.first_response_minutes: "},
      {R"({"targets": {"P1": {"first_response_minutes": 0}}})",
       "sla.targets.P1.first_response_minutes: "},
      {R"({"targets": {"P2": {"resolution_minutes": -5}}})", "sla.targets.P2.resolution_minutes: "},
      {R"({"targets": {"P2": {"resolution_minutes": 18446744073709551615}}})",
       "sla.targets.P2.resolution_minutes: "},
      {R"({"targets": {"P3": {"business_hours": "yes"}}})", "sla.targets.P3.business_hours: "},
      {R"({"targets": {"P3": {"business_hours": true}}})", "sla.targets.P3.business_hours: "},
      {R"({"targets": {"P3": {"business_hours": true}}, "business_hours": null})",
       "sla.targets.P3.business_hours: "},
      {R"({"business_hours": 5})", "sla.business_hours: "},
      {R"({"business_hours": {"timezone": "Europe/Berlin"}})", "sla.business_hours.timezone: "},
      {R"({"business_hours": {"utc_offset_minutes": 900}})",
       "sla.business_hours.utc_offset_minutes: "},
      {R"({"business_hours": {"utc_offset_minutes": "+01:00"}})",
       "sla.business_hours.utc_offset_minutes: "},
      {R"({"business_hours": {"days": []}})", "sla.business_hours.days: "},
      {R"({"business_hours": {"days": {"monday": "08:00-18:00"}}})",
       "sla.business_hours.days.monday: "},
      {R"({"business_hours": {"days": {"mon": "25:00-26:00"}}})", "sla.business_hours.days.mon: "},
      {R"({"business_hours": {"days": {"tue": "08:00-25:00"}}})", "sla.business_hours.days.tue: "},
      {R"({"business_hours": {"days": {"wed": "08:60-18:00"}}})", "sla.business_hours.days.wed: "},
      {R"({"business_hours": {"days": {"thu": "24:00-24:00"}}})", "sla.business_hours.days.thu: "},
      {R"({"business_hours": {"days": {"fri": "18:00-08:00"}}})", "sla.business_hours.days.fri: "},
      {R"({"business_hours": {"days": {"fri": "08:00-08:00"}}})", "sla.business_hours.days.fri: "},
      {R"({"business_hours": {"days": {"sat": "8:00-18:00"}}})", "sla.business_hours.days.sat: "},
      {R"({"business_hours": {"days": {"sat": "08:00 - 18:00"}}})",
       "sla.business_hours.days.sat: "},
      {R"({"business_hours": {"days": {"sun": 8}}})", "sla.business_hours.days.sun: "},
      {R"({"business_hours": {"days": {"sun": "a8:00-18:00"}}})", "sla.business_hours.days.sun: "},
      {R"({"business_hours": {"days": {"mon": null, "tue": null, "wed": null, "thu": null,
                                       "fri": null}}})",
       "sla.business_hours.days: "},
      {R"({"business_hours": {"holidays": "2026-12-25"}})", "sla.business_hours.holidays: "},
      {R"({"business_hours": {"holidays": ["2026-02-30"]}})", "sla.business_hours.holidays[0]: "},
      {R"({"business_hours": {"holidays": ["2026-12-25", "25.12.2026"]}})",
       "sla.business_hours.holidays[1]: "},
      {R"({"business_hours": {"holidays": ["2026-12-25", 20261226]}})",
       "sla.business_hours.holidays[1]: "},
      {R"({"business_hours": {"holidays": ["2026-1-01"]}})", "sla.business_hours.holidays[0]: "},
      {R"({"business_hours": {"holidays": ["+026-01-01"]}})", "sla.business_hours.holidays[0]: "},
      {R"({"reopen_window_days": -1})", "sla.reopen_window_days: "},
      {R"({"reopen_window_days": 7.0})", "sla.reopen_window_days: "},
      {R"({"warn_before_minutes": true})", "sla.warn_before_minutes: "},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.json);
    const auto json = nlohmann::json::parse(c.json);
    try {
      (void)SlaPolicy::from_json(json);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_THAT(error.what(), StartsWith(c.key));
    }
  }
}

TEST(SlaPolicy, ErrorMessagesSayWhatIsExpected) {
  try {
    (void)SlaPolicy::from_json(
        nlohmann::json::parse(R"({"business_hours": {"days": {"mon": "25:00-26:00"}}})"));
    FAIL() << "accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "sla.business_hours.days.mon: \"25:00-26:00\" is not a valid time range (hours "
                 "00-23, minutes 00-59, closing may be 24:00)");
  }
  try {
    (void)SlaPolicy::from_json(
        nlohmann::json::parse(R"({"targets": {"P1": {"resolution_minutes": 0}}})"));
    FAIL() << "accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "sla.targets.P1.resolution_minutes: must be a whole number from 1 to 527040 "
                 "(got 0)");
  }
}

// -------------------------------------------------------------------------------------------
// Business calendar

TEST(BusinessCalendar, CountsOnlyOpenHours) {
  const auto calendar = office();
  struct Case {
    const char* from;
    const char* to;
    std::chrono::seconds expected;
  };
  const Case cases[] = {
      {"2026-11-30T09:00:00Z", "2026-11-30T10:30:00Z", 90min},   // within a day
      {"2026-11-30T07:00:00Z", "2026-11-30T08:00:01Z", 1s},      // before opening
      {"2026-11-30T17:59:59Z", "2026-11-30T23:00:00Z", 1s},      // after closing
      {"2026-11-30T17:00:00Z", "2026-12-01T09:30:00Z", 150min},  // across a night
      {"2026-11-30T18:30:00Z", "2026-12-01T07:00:00Z", 0s},      // night only
      {"2026-12-04T17:00:00Z", "2026-12-07T09:00:00Z", 2h},      // across a weekend
      {"2026-12-05T10:00:00Z", "2026-12-06T22:00:00Z", 0s},      // weekend only
      {"2026-11-30T00:00:00Z", "2026-12-07T00:00:00Z", 50h},     // one week
      {"2026-11-30T12:00:00Z", "2026-11-30T12:00:00Z", 0s},      // empty
      {"2026-11-30T12:00:00Z", "2026-11-30T11:00:00Z", 0s},      // backwards
      {"2026-11-30T09:00:00Z", "2027-02-08T09:00:00Z", 500h},    // ten weeks
      {"2026-11-30T09:00:07Z", "2027-02-08T09:00:00Z", 500h - 7s},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(calendar.business_time(at(c.from), at(c.to)), c.expected) << c.from << " .. " << c.to;
  }
}

TEST(BusinessCalendar, HolidaysAreClosedAllDay) {
  const auto calendar = office(0, {"2026-12-08", "2026-12-25"});
  // Monday 17:00 to Wednesday 09:00 across holiday Tuesday: 1 h + 1 h.
  EXPECT_EQ(calendar.business_time(at("2026-12-07T17:00:00Z"), at("2026-12-09T09:00:00Z")), 2h);
  EXPECT_EQ(calendar.business_time(at("2026-12-08T08:00:00Z"), at("2026-12-08T18:00:00Z")), 0s);
  // Ten weeks from Monday 2026-11-30 hold both holidays (a Tuesday and a Friday).
  EXPECT_EQ(calendar.business_time(at("2026-11-30T00:00:00Z"), at("2027-02-08T00:00:00Z")), 480h);
  EXPECT_EQ(calendar.add_business_time(at("2026-12-07T17:00:00Z"), 2h), at("2026-12-09T09:00:00Z"));
}

TEST(BusinessCalendar, PositiveOffsetShiftsTheDayEarlierInUtc) {
  const auto berlin = office(60);  // local 08:00-18:00 = 07:00-17:00 UTC
  EXPECT_EQ(berlin.business_time(at("2026-11-30T06:30:00Z"), at("2026-11-30T08:00:00Z")), 1h);
  EXPECT_EQ(berlin.business_time(at("2026-11-30T16:00:00Z"), at("2026-11-30T18:00:00Z")), 1h);
  EXPECT_EQ(berlin.add_business_time(at("2026-11-30T16:30:00Z"), 1h), at("2026-12-01T07:30:00Z"));

  // Tokyo opens at 09:00 local = 00:00 UTC: Sunday 23:00 UTC is already Monday 08:00 local.
  BusinessCalendar tokyo = office(540);
  tokyo.week[0] = DayHours{9 * 60, 18 * 60};
  EXPECT_EQ(tokyo.business_time(at("2026-11-29T23:00:00Z"), at("2026-11-30T01:00:00Z")), 1h);
  // A holiday is a local date: Monday 2026-11-30 in Tokyo is 2026-11-29T15:00Z..11-30T15:00Z.
  tokyo.holidays = {"2026-11-30"};
  EXPECT_EQ(tokyo.business_time(at("2026-11-29T23:00:00Z"), at("2026-11-30T09:00:00Z")), 0s);
  EXPECT_EQ(tokyo.business_time(at("2026-11-29T23:00:00Z"), at("2026-12-01T00:00:00Z")), 1h)
      << "Tuesday 08:00-09:00 local";
}

TEST(BusinessCalendar, NegativeOffsetCanCrossUtcMidnight) {
  // Evening desk in New York (UTC-5): 16:00-22:00 local = 21:00-03:00 UTC, Mon–Fri.
  BusinessCalendar desk;
  desk.utc_offset_minutes = -300;
  for (int day = 0; day < 5; ++day) desk.week[day] = DayHours{16 * 60, 22 * 60};
  EXPECT_EQ(desk.business_time(at("2026-11-30T20:00:00Z"), at("2026-12-01T04:00:00Z")), 6h);
  // Saturday 00:00-03:00 UTC is still Friday evening local: open.
  EXPECT_EQ(desk.business_time(at("2026-12-05T00:00:00Z"), at("2026-12-05T03:00:00Z")), 3h);
  // Saturday evening local (Saturday 21:00 UTC .. Sunday 03:00 UTC): closed.
  EXPECT_EQ(desk.business_time(at("2026-12-05T21:00:00Z"), at("2026-12-06T03:00:00Z")), 0s);
  // Friday 02:00 UTC (Thursday 21:00 local) + 2 h: 1 h on Thursday, the rest from Friday 16:00
  // local = Friday 21:00 UTC.
  EXPECT_EQ(desk.add_business_time(at("2026-12-04T02:00:00Z"), 2h), at("2026-12-04T22:00:00Z"));
  // Saturday 02:30 UTC (Friday 21:30 local) + 1 h runs past Friday evening into Monday's.
  EXPECT_EQ(desk.add_business_time(at("2026-12-05T02:30:00Z"), 1h), at("2026-12-07T21:30:00Z"));
}

TEST(BusinessCalendar, AddBusinessTimeSkipsNightsWeekendsAndHolidays) {
  const auto calendar = office(0, {"2026-12-25"});
  struct Case {
    const char* from;
    std::chrono::seconds amount;
    const char* expected;
  };
  const Case cases[] = {
      {"2026-11-30T09:00:00Z", 0s, "2026-11-30T09:00:00Z"},
      {"2026-11-30T09:00:00Z", -5s, "2026-11-30T09:00:00Z"},
      {"2026-11-30T09:00:00Z", 90min, "2026-11-30T10:30:00Z"},
      {"2026-11-30T17:00:00Z", 1h, "2026-11-30T18:00:00Z"},  // exactly at closing
      {"2026-11-30T17:00:00Z", 1h + 1s, "2026-12-01T08:00:01Z"},
      {"2026-11-30T20:00:00Z", 30min, "2026-12-01T08:30:00Z"},  // from a closed evening
      {"2026-12-05T12:00:00Z", 30min, "2026-12-07T08:30:00Z"},  // from Saturday
      {"2026-12-04T17:00:00Z", 2h, "2026-12-07T09:00:00Z"},     // over a weekend
      {"2026-12-24T17:00:00Z", 2h, "2026-12-28T09:00:00Z"},     // holiday Friday + weekend
      {"2026-11-30T00:00:00Z", 490h, "2027-02-05T18:00:00Z"},   // ten weeks, one holiday
      {"2026-11-30T00:00:00Z", 500h, "2027-02-08T18:00:00Z"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(str(calendar.add_business_time(at(c.from), c.amount)), c.expected)
        << c.from << " + " << c.amount.count() << " s";
  }
}

TEST(BusinessCalendar, AddIsTheInverseOfCount) {
  const auto calendar = office(-210, {"2026-12-08"});  // an odd offset: UTC-3:30
  const TimePoint start = at("2026-11-28T00:00:00Z");
  // Starting points every 97 minutes over three weeks, amounts from seconds to weeks.
  for (int i = 0; i < 300; ++i) {
    const TimePoint from = start + i * 97min;
    for (const std::chrono::seconds amount :
         std::initializer_list<std::chrono::seconds>{1s, 59min, 10h, 10h + 1s, 73h + 17s, 333h}) {
      const TimePoint due = calendar.add_business_time(from, amount);
      ASSERT_EQ(calendar.business_time(from, due), amount) << str(from);
      // Earliest such instant: a second earlier is not enough.
      ASSERT_EQ(calendar.business_time(from, due - 1s), amount - 1s) << str(from);
    }
  }
}

TEST(BusinessCalendar, AddThrowsWhenNoDayIsOpen) {
  BusinessCalendar closed;
  EXPECT_EQ(closed.business_time(at("2026-11-30T00:00:00Z"), at("2026-12-30T00:00:00Z")), 0s);
  EXPECT_THROW((void)closed.add_business_time(at("2026-11-30T00:00:00Z"), 1s),
               std::invalid_argument);
  EXPECT_EQ(closed.add_business_time(at("2026-11-30T00:00:00Z"), 0s), at("2026-11-30T00:00:00Z"));
}

// -------------------------------------------------------------------------------------------
// Clocks

SlaInput ticket(const char* priority, const char* created_at) {
  SlaInput input;
  input.priority = priority;
  input.created_at = at(created_at);
  return input;
}

TEST(SlaClocks, RunningClocksCountDownToTheirDueTimes) {
  const SlaPolicy policy;
  const auto input = ticket("P2", "2026-11-30T09:00:00Z");  // 1 h / 8 h
  const auto sla = compute_sla(policy, input, at("2026-11-30T09:20:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::running);
  EXPECT_EQ(sla.first_response.target, 1h);
  EXPECT_EQ(sla.first_response.elapsed, 20min);
  EXPECT_EQ(sla.first_response.remaining, 40min);
  EXPECT_EQ(sla.first_response.overdue, 0s);
  EXPECT_EQ(sla.first_response.due_at, at("2026-11-30T10:00:00Z"));
  EXPECT_FALSE(sla.first_response.stopped_at.has_value());
  EXPECT_FALSE(sla.first_response.breached);
  EXPECT_EQ(sla.resolution.state, ClockState::running);
  EXPECT_EQ(sla.resolution.remaining, 7h + 40min);
  EXPECT_EQ(sla.resolution.due_at, at("2026-11-30T17:00:00Z"));
}

TEST(SlaClocks, AResponseInTimeMeetsTheTarget) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");
  input.first_response_at = at("2026-11-30T09:30:00Z");
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T12:00:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::met);
  EXPECT_EQ(sla.first_response.elapsed, 30min);
  EXPECT_EQ(sla.first_response.remaining, 30min);
  EXPECT_EQ(sla.first_response.stopped_at, at("2026-11-30T09:30:00Z"));
  EXPECT_FALSE(sla.first_response.due_at.has_value());
  EXPECT_FALSE(sla.first_response.breached);
  EXPECT_EQ(sla.resolution.state, ClockState::running) << "the response does not stop resolution";
  EXPECT_EQ(sla.resolution.elapsed, 3h);

  // On the last second is still in time.
  input.first_response_at = at("2026-11-30T10:00:00Z");
  const auto edge = compute_sla(SlaPolicy(), input, at("2026-11-30T12:00:00Z"));
  EXPECT_EQ(edge.first_response.state, ClockState::met);
  EXPECT_EQ(edge.first_response.remaining, 0s);
  EXPECT_FALSE(edge.first_response.breached);
}

TEST(SlaClocks, ARunningClockBreachesAndCountsTheOverdueTime) {
  const auto input = ticket("P2", "2026-11-30T09:00:00Z");
  const auto exactly = compute_sla(SlaPolicy(), input, at("2026-11-30T10:00:00Z"));
  EXPECT_EQ(exactly.first_response.state, ClockState::running);
  EXPECT_EQ(exactly.first_response.due_at, at("2026-11-30T10:00:00Z"));
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T10:30:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::breached);
  EXPECT_TRUE(sla.first_response.breached);
  EXPECT_EQ(sla.first_response.elapsed, 90min);
  EXPECT_EQ(sla.first_response.remaining, 0s);
  EXPECT_EQ(sla.first_response.overdue, 30min);
  EXPECT_FALSE(sla.first_response.due_at.has_value());
  EXPECT_EQ(sla.first_response.breached_at, at("2026-11-30T10:00:00Z"));
  EXPECT_EQ(sla.resolution.state, ClockState::running);
  EXPECT_FALSE(sla.resolution.breached_at.has_value());
}

TEST(SlaClocks, TheBreachInstantSkipsPauses) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");  // 1 h to respond
  input.pauses = {{at("2026-11-30T09:30:00Z"), at("2026-11-30T10:00:00Z")},
                  {at("2026-11-30T10:20:00Z"), at("2026-11-30T10:25:00Z")}};
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T11:00:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::breached);
  EXPECT_EQ(sla.first_response.overdue, 25min);
  EXPECT_EQ(sla.first_response.breached_at, at("2026-11-30T10:35:00Z"));
}

TEST(SlaClocks, ALateResponseIsBreachedNotMet) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");
  input.first_response_at = at("2026-11-30T10:15:00Z");
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T16:00:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::breached);
  EXPECT_TRUE(sla.first_response.breached);
  EXPECT_EQ(sla.first_response.elapsed, 75min) << "counted to the response, not to now";
  EXPECT_EQ(sla.first_response.overdue, 15min);
  EXPECT_EQ(sla.first_response.stopped_at, at("2026-11-30T10:15:00Z"));
  EXPECT_FALSE(sla.first_response.due_at.has_value());
  EXPECT_EQ(sla.first_response.breached_at, at("2026-11-30T10:00:00Z"));
}

TEST(SlaClocks, PendingPausesTheClock) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");
  input.first_response_at = at("2026-11-30T09:05:00Z");
  input.pauses = {{at("2026-11-30T10:00:00Z"), at("2026-11-30T12:00:00Z")}};
  const auto resumed = compute_sla(SlaPolicy(), input, at("2026-11-30T13:00:00Z"));
  EXPECT_EQ(resumed.resolution.state, ClockState::running);
  EXPECT_EQ(resumed.resolution.elapsed, 2h);
  EXPECT_EQ(resumed.resolution.remaining, 6h);
  EXPECT_EQ(resumed.resolution.due_at, at("2026-11-30T19:00:00Z"));

  // Pending again since 14:00 and still pending at 16:00: paused, no due time.
  input.pauses.push_back({at("2026-11-30T14:00:00Z"), std::nullopt});
  const auto paused = compute_sla(SlaPolicy(), input, at("2026-11-30T16:00:00Z"));
  EXPECT_EQ(paused.resolution.state, ClockState::paused);
  EXPECT_EQ(paused.resolution.elapsed, 3h);
  EXPECT_EQ(paused.resolution.remaining, 5h);
  EXPECT_FALSE(paused.resolution.due_at.has_value());
  EXPECT_EQ(paused.first_response.state, ClockState::met) << "a stopped clock stays stopped";

  // The same pause a day later: still 3 h, nothing counted while pending.
  const auto later = compute_sla(SlaPolicy(), input, at("2026-12-01T16:00:00Z"));
  EXPECT_EQ(later.resolution.state, ClockState::paused);
  EXPECT_EQ(later.resolution.elapsed, 3h);
}

TEST(SlaClocks, APauseDoesNotUndoABreach) {
  auto input = ticket("P1", "2026-11-30T09:00:00Z");  // 15 min / 4 h
  input.pauses = {{at("2026-11-30T09:20:00Z"), std::nullopt}};
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T11:00:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::breached);
  EXPECT_EQ(sla.first_response.overdue, 5min);
  EXPECT_EQ(sla.first_response.breached_at, at("2026-11-30T09:15:00Z"));
  EXPECT_EQ(sla.resolution.state, ClockState::paused);
  EXPECT_EQ(sla.resolution.elapsed, 20min);
}

TEST(SlaClocks, OverlappingPausesCountOnce) {
  auto input = ticket("P3", "2026-11-30T09:00:00Z");
  input.pauses = {
      {at("2026-11-30T11:00:00Z"), at("2026-11-30T13:00:00Z")},
      {at("2026-11-30T10:00:00Z"), at("2026-11-30T12:00:00Z")},
      {at("2026-11-30T11:30:00Z"), at("2026-11-30T11:45:00Z")},  // inside both
      {at("2026-11-30T08:00:00Z"), at("2026-11-30T09:30:00Z")},  // starts before the ticket
      {at("2026-11-30T13:00:00Z"), at("2026-11-30T13:10:00Z")},  // touches the merged span
  };
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T15:00:00Z"));
  // 6 h since creation minus 09:00-09:30 and 10:00-13:10.
  EXPECT_EQ(sla.resolution.elapsed, 6h - 30min - 3h - 10min);
  EXPECT_EQ(sla.resolution.state, ClockState::running);
}

TEST(SlaClocks, PausesReachingPastTheStopAreClipped) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");
  input.first_response_at = at("2026-11-30T09:10:00Z");
  input.resolved_at = at("2026-11-30T12:00:00Z");
  input.pauses = {{at("2026-11-30T11:00:00Z"), at("2026-11-30T15:00:00Z")},
                  {at("2026-11-30T12:00:00Z"), std::nullopt}};  // the resolved span
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T16:00:00Z"));
  EXPECT_EQ(sla.resolution.state, ClockState::met);
  EXPECT_EQ(sla.resolution.elapsed, 2h);
  EXPECT_EQ(sla.resolution.remaining, 6h);
  EXPECT_EQ(sla.resolution.stopped_at, at("2026-11-30T12:00:00Z"));
  EXPECT_FALSE(sla.resolution.due_at.has_value());
}

TEST(SlaClocks, AReopenedTicketSkipsTheTimeItWasResolved) {
  auto input = ticket("P3", "2026-11-30T09:00:00Z");  // 4 h / 3 d
  input.first_response_at = at("2026-11-30T09:10:00Z");
  // Resolved Monday 11:00: the clock is met, the resolved span an open pause.
  input.resolved_at = at("2026-11-30T11:00:00Z");
  input.pauses = {{at("2026-11-30T11:00:00Z"), std::nullopt}};
  const auto resolved = compute_sla(SlaPolicy(), input, at("2026-12-01T10:00:00Z"));
  EXPECT_EQ(resolved.resolution.state, ClockState::met);
  EXPECT_EQ(resolved.resolution.elapsed, 2h);

  // Reopened Tuesday 11:00: resolved_at is cleared and the resolved span becomes a pause.
  input.resolved_at.reset();
  input.pauses = {{at("2026-11-30T11:00:00Z"), at("2026-12-01T11:00:00Z")}};
  const auto reopened = compute_sla(SlaPolicy(), input, at("2026-12-01T12:00:00Z"));
  EXPECT_EQ(reopened.resolution.state, ClockState::running);
  EXPECT_EQ(reopened.resolution.elapsed, 3h);
  EXPECT_EQ(reopened.resolution.remaining, 69h);
  EXPECT_EQ(reopened.resolution.due_at, at("2026-12-04T09:00:00Z"));
  EXPECT_FALSE(reopened.resolution.stopped_at.has_value());
  EXPECT_EQ(reopened.first_response.state, ClockState::met);
  EXPECT_EQ(reopened.first_response.elapsed, 10min);
}

TEST(SlaClocks, AResolutionWithoutAResponseAnswersTheTicket) {
  auto input = ticket("P1", "2026-11-30T09:00:00Z");
  input.resolved_at = at("2026-11-30T09:12:00Z");
  const auto sla = compute_sla(SlaPolicy(), input, at("2026-11-30T10:00:00Z"));
  EXPECT_EQ(sla.first_response.state, ClockState::met);
  EXPECT_EQ(sla.first_response.stopped_at, at("2026-11-30T09:12:00Z"));
  EXPECT_EQ(sla.resolution.state, ClockState::met);
  EXPECT_EQ(sla.resolution.elapsed, 12min);
}

SlaPolicy office_policy() {
  // P3 counts in business hours (4 h to respond, 20 business hours to resolve); Berlin
  // (UTC+1), Mon–Fri 08:00-18:00 local, Tuesday 2026-12-08 a holiday.
  return SlaPolicy::from_json(nlohmann::json::parse(R"({
    "targets": {"P3": {"first_response_minutes": 240, "resolution_minutes": 1200,
                       "business_hours": true}},
    "business_hours": {"utc_offset_minutes": 60, "holidays": ["2026-12-08"]}
  })"));
}

TEST(SlaClocks, BusinessHoursSkipNightsWeekendsAndHolidays) {
  const auto policy = office_policy();
  // Created Friday 16:00 local (15:00 UTC); now Monday 09:30 local (08:30 UTC).
  auto input = ticket("P3", "2026-12-04T15:00:00Z");
  const auto monday = compute_sla(policy, input, at("2026-12-07T08:30:00Z"));
  EXPECT_EQ(monday.first_response.elapsed, 3h + 30min) << "2 h Friday, 1.5 h Monday";
  EXPECT_EQ(monday.first_response.state, ClockState::running);
  EXPECT_EQ(monday.first_response.remaining, 30min);
  EXPECT_EQ(monday.first_response.due_at, at("2026-12-07T09:00:00Z"));
  // 16.5 h left: 8.5 h on Monday, Tuesday is a holiday, 8 h on Wednesday → 16:00 local.
  EXPECT_EQ(monday.resolution.remaining, 16h + 30min);
  EXPECT_EQ(monday.resolution.due_at, at("2026-12-09T15:00:00Z"));

  // Friday night to Monday 11:00 local: 5 h counted, the response is 1 h late.
  const auto late = compute_sla(policy, input, at("2026-12-07T10:00:00Z"));
  EXPECT_EQ(late.first_response.state, ClockState::breached);
  EXPECT_EQ(late.first_response.overdue, 1h);
  EXPECT_EQ(late.first_response.breached_at, at("2026-12-07T09:00:00Z")) << "10:00 local";

  // Over one night: Monday 17:00 local to Wednesday 09:00 local (holiday in between) = 2 h.
  const auto night =
      compute_sla(policy, ticket("P3", "2026-12-07T16:00:00Z"), at("2026-12-09T08:00:00Z"));
  EXPECT_EQ(night.first_response.elapsed, 2h);

  // A running clock in the middle of the night is due in the morning.
  const auto overnight =
      compute_sla(policy, ticket("P3", "2026-12-09T16:00:00Z"), at("2026-12-09T22:00:00Z"));
  EXPECT_EQ(overnight.first_response.elapsed, 1h);
  EXPECT_EQ(overnight.first_response.state, ClockState::running);
  EXPECT_EQ(overnight.first_response.due_at, at("2026-12-10T10:00:00Z"));
}

TEST(SlaClocks, BusinessHoursWithAPause) {
  const auto policy = office_policy();
  auto input = ticket("P3", "2026-12-04T15:00:00Z");  // Friday 16:00 local
  input.first_response_at = at("2026-12-04T15:05:00Z");
  // Pending from Friday 17:00 local to Monday 10:00 local: only Friday's last hour and Monday
  // 08:00-10:00 were business time.
  input.pauses = {{at("2026-12-04T16:00:00Z"), at("2026-12-07T09:00:00Z")}};
  const auto sla = compute_sla(policy, input, at("2026-12-07T11:00:00Z"));
  // Friday 16-18 (2 h) + Monday 08-12 (4 h) - paused (1 h + 2 h) = 3 h.
  EXPECT_EQ(sla.resolution.elapsed, 3h);
  EXPECT_EQ(sla.resolution.remaining, 17h);
  EXPECT_EQ(sla.resolution.state, ClockState::running);
  // Monday 12:00 local + 6 h, Wednesday 10 h, Thursday 1 h → Thursday 09:00 local.
  EXPECT_EQ(sla.resolution.due_at, at("2026-12-10T08:00:00Z"));

  // Without the response: 1 h on Friday and from Monday 10:00 local the 4 h run out at 13:00.
  input.first_response_at.reset();
  const auto unanswered = compute_sla(policy, input, at("2026-12-07T13:00:00Z"));
  EXPECT_EQ(unanswered.first_response.state, ClockState::breached);
  EXPECT_EQ(unanswered.first_response.overdue, 1h);
  EXPECT_EQ(unanswered.first_response.breached_at, at("2026-12-07T12:00:00Z"));
}

TEST(SlaClocks, OtherPrioritiesStayAllDayWhenACalendarExists) {
  const auto policy = office_policy();
  // P2 is 24x7 (1 h / 8 h) even though the policy has a calendar: Saturday counts.
  const auto sla =
      compute_sla(policy, ticket("P2", "2026-12-05T10:00:00Z"), at("2026-12-05T10:45:00Z"));
  EXPECT_EQ(sla.first_response.elapsed, 45min);
  EXPECT_EQ(sla.first_response.due_at, at("2026-12-05T11:00:00Z"));
  // An unknown priority uses P3's targets, here in business hours.
  const auto unknown =
      compute_sla(policy, ticket("P7", "2026-12-05T10:00:00Z"), at("2026-12-05T10:45:00Z"));
  EXPECT_EQ(unknown.first_response.target, 4h);
  EXPECT_EQ(unknown.first_response.elapsed, 0s);
}

TEST(SlaClocks, HandBuiltPolicyWithoutCalendarFallsBackToAllDay) {
  SlaPolicy policy;
  policy.targets[0].business_hours = true;  // no calendar: from_json would refuse this
  const auto sla =
      compute_sla(policy, ticket("P1", "2026-12-05T10:00:00Z"), at("2026-12-05T10:10:00Z"));
  EXPECT_EQ(sla.first_response.elapsed, 10min);
  EXPECT_EQ(sla_json(sla, ticket("P1", "2026-12-05T10:00:00Z"), policy)["business_hours"], false);
}

TEST(SlaClocks, JsonForTheApi) {
  auto input = ticket("P2", "2026-11-30T09:00:00Z");
  input.first_response_at = at("2026-11-30T10:15:00Z");
  const SlaPolicy policy;
  const auto sla = compute_sla(policy, input, at("2026-11-30T11:00:00Z"));
  const auto expected = nlohmann::json::parse(R"({
    "priority": "P2", "business_hours": false,
    "first_response": {"state": "breached", "target_seconds": 3600, "elapsed_seconds": 4500,
                       "remaining_seconds": 0, "overdue_seconds": 900, "due_at": null,
                       "stopped_at": "2026-11-30T10:15:00Z", "breached": true},
    "resolution": {"state": "running", "target_seconds": 28800, "elapsed_seconds": 7200,
                   "remaining_seconds": 21600, "overdue_seconds": 0,
                   "due_at": "2026-11-30T17:00:00Z", "stopped_at": null, "breached": false}
  })");
  EXPECT_EQ(sla_json(sla, input, policy), expected);
  EXPECT_EQ(sla_json(compute_sla(office_policy(), ticket("P3", "2026-11-30T09:00:00Z"),
                                 at("2026-11-30T09:00:00Z")),
                     ticket("P3", "2026-11-30T09:00:00Z"), office_policy())["business_hours"],
            true);
}

TEST(SlaClocks, StateNames) {
  EXPECT_EQ(to_string(ClockState::running), "running");
  EXPECT_EQ(to_string(ClockState::paused), "paused");
  EXPECT_EQ(to_string(ClockState::met), "met");
  EXPECT_EQ(to_string(ClockState::breached), "breached");
}

TEST(SlaClocks, ShortDurations) {
  const std::pair<std::chrono::seconds, const char*> cases[] = {
      {0s, "0 s"},
      {45s, "45 s"},
      {60s, "1 min"},
      {12min + 5s, "12 min 05 s"},
      {59min + 59s, "59 min 59 s"},
      {1h, "1 h"},
      {2h + 5min, "2 h 05 min"},
      {2h + 5min + 59s, "2 h 05 min"},
      {23h + 59min, "23 h 59 min"},
      {24h, "1 d"},
      {3 * 24h + 4h + 30min, "3 d 4 h"},
      {400 * 24h, "400 d"},
      {-(2h + 5min), "-2 h 05 min"},
      {-30s, "-30 s"},
  };
  for (const auto& [value, expected] : cases) {
    EXPECT_EQ(short_duration(value), expected) << value.count();
  }
}

}  // namespace
}  // namespace tether::relay::helpdesk
