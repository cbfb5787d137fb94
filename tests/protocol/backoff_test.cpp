#include "tether/protocol/backoff.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, CeilingDoublesUpToTheCap) {
  Backoff backoff(milliseconds(250), milliseconds(30000), 1);
  std::vector<long> ceilings;
  for (int i = 0; i < 10; ++i) {
    ceilings.push_back(backoff.ceiling().count());
    backoff.next();
  }
  EXPECT_EQ(ceilings,
            (std::vector<long>{250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000}));
}

TEST(Backoff, DelaysAreFullJitterUnderTheCeiling) {
  Backoff backoff(milliseconds(100), milliseconds(1000), 7);
  long max_seen = 0;
  long min_seen = 1000;
  for (int i = 0; i < 2000; ++i) {
    const auto ceiling = backoff.ceiling();
    const auto delay = backoff.next();
    ASSERT_GE(delay.count(), 0);
    ASSERT_LE(delay, ceiling);
    if (ceiling.count() == 1000) {
      max_seen = std::max(max_seen, long(delay.count()));
      min_seen = std::min(min_seen, long(delay.count()));
    }
  }
  // Full jitter spreads delays over the whole range, not just near the ceiling.
  EXPECT_GT(max_seen, 900);
  EXPECT_LT(min_seen, 100);
}

TEST(Backoff, ResetStartsOver) {
  Backoff backoff(milliseconds(250), milliseconds(30000), 3);
  for (int i = 0; i < 20; ++i) backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(30000));
  backoff.reset();
  EXPECT_EQ(backoff.ceiling(), milliseconds(250));
  EXPECT_LE(backoff.next(), milliseconds(250));
}

TEST(Backoff, NeverOverflowsAfterManyAttempts) {
  Backoff backoff(milliseconds(1), milliseconds(60000), 5);
  for (int i = 0; i < 100000; ++i) ASSERT_LE(backoff.next(), milliseconds(60000));
}

TEST(Backoff, SameSeedSameDelays) {
  Backoff a(milliseconds(250), milliseconds(30000), 42);
  Backoff b(milliseconds(250), milliseconds(30000), 42);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(a.next(), b.next());
}

}  // namespace
}  // namespace tether::protocol
