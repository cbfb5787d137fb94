#include "tether/protocol/time_format.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

TEST(TimeFormat, RoundTripsUtcSeconds) {
  const auto parsed = parse_time("2026-11-30T06:14:14Z");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(format_time(*parsed), "2026-11-30T06:14:14Z");
}

TEST(TimeFormat, RefusesSignsAndOutOfRangeFields) {
  for (const char* text :
       {"2026-11-30T-1:00:00Z", "2026-11-30T00:-1:00Z", "2026-11-30T00:00:-1Z",
        "+026-11-30T00:00:00Z", "2026-+1-30T00:00:00Z", "2026-11-+3T00:00:00Z",
        "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z", "2026-11-30T24:00:00Z",
        "2026-11-30T00:60:00Z", "2026-11-30 00:00:00Z", "2026-11-30T00:00:00", ""}) {
    EXPECT_FALSE(parse_time(text)) << text;
  }
}

TEST(ParseDuration, AcceptsSecondsMinutesHoursDaysAndBareNumbersInTheGivenUnit) {
  using namespace std::chrono_literals;
  EXPECT_EQ(parse_duration("90s", 1min), 90s);
  EXPECT_EQ(parse_duration("30m", 1s), 30min);
  EXPECT_EQ(parse_duration("12h", 1s), 12h);
  EXPECT_EQ(parse_duration("7d", 1s), 24h * 7);
  EXPECT_EQ(parse_duration("45", 1min), 45min);
  EXPECT_EQ(parse_duration("45", 1s), 45s);
  EXPECT_EQ(parse_duration("99999999999s", 1s), 99999999999s);
  for (const char* bad : {"", "m", "-5m", "+5m", "5 m", "1.5h", "5w", "ten", "9999999999999m"}) {
    EXPECT_FALSE(parse_duration(bad, 1min)) << bad;
  }
}

}  // namespace
}  // namespace tether::protocol
