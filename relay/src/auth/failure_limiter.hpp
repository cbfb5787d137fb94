#pragma once
// Counts failures (wrong support codes, wrong passwords) per key in a sliding window and says
// when a key must wait. Thread-safe: the few microseconds under the lock never block a loop.

#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace tether::relay {

class FailureLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  FailureLimiter(int limit, Clock::duration window) : limit_(limit), window_(window) {}

  /// True while `key` has `limit` or more failures inside the window ending at `now`.
  bool blocked(const std::string& key, Clock::time_point now);
  void record_failure(const std::string& key, Clock::time_point now);
  /// How long until `key` is allowed again (zero when it is not blocked).
  Clock::duration retry_after(const std::string& key, Clock::time_point now);

 private:
  void prune(std::deque<Clock::time_point>& failures, Clock::time_point now) const;

  const int limit_;
  const Clock::duration window_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::deque<Clock::time_point>> failures_;
};

}  // namespace tether::relay
