// `tether-agent service --inventory-interval`: the durations it takes.

#include <gtest/gtest.h>

#include "tether/agent/managed/service.hpp"

namespace tether::agent::managed {
namespace {

using namespace std::chrono_literals;

TEST(ServiceOptions, IntervalsInSecondsMinutesHoursOrDays) {
  EXPECT_EQ(parse_interval("6h"), std::chrono::seconds(6h));
  EXPECT_EQ(parse_interval("30m"), std::chrono::seconds(30min));
  EXPECT_EQ(parse_interval("90s"), std::chrono::seconds(90));
  EXPECT_EQ(parse_interval("90"), std::chrono::seconds(90));
  EXPECT_EQ(parse_interval("1d"), std::chrono::seconds(24h));
  EXPECT_EQ(parse_interval("365d"), std::chrono::seconds(365 * 24h));
  for (const char* bad :
       {"", "0", "0h", "h", "-5m", "5 m", "1.5h", "6H", "366d", "9999999999999", "1w"}) {
    EXPECT_FALSE(parse_interval(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace tether::agent::managed
