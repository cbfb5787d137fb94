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

}  // namespace
}  // namespace tether::protocol
