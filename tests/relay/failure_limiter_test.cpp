#include "auth/failure_limiter.hpp"

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

TEST(FailureLimiter, BlocksAtTheLimitAndForgetsAfterTheWindow) {
  FailureLimiter limiter(3, 60s);
  const auto t0 = FailureLimiter::Clock::time_point{} + 1h;
  for (int i = 0; i < 2; ++i) limiter.record_failure("addr:1.2.3.4", t0 + std::chrono::seconds(i));
  EXPECT_FALSE(limiter.blocked("addr:1.2.3.4", t0 + 2s));
  limiter.record_failure("addr:1.2.3.4", t0 + 2s);
  EXPECT_TRUE(limiter.blocked("addr:1.2.3.4", t0 + 3s));
  EXPECT_FALSE(limiter.blocked("addr:5.6.7.8", t0 + 3s)) << "keys are independent";
  // The first failure leaves the window at t0 + 60 s.
  EXPECT_EQ(limiter.retry_after("addr:1.2.3.4", t0 + 3s), 57s);
  EXPECT_FALSE(limiter.blocked("addr:1.2.3.4", t0 + 60s));
  EXPECT_EQ(limiter.retry_after("addr:1.2.3.4", t0 + 60s), 0s);
}

}  // namespace
}  // namespace tether::relay
