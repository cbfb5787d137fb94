#include "auth/failure_limiter.hpp"

namespace tether::relay {

void FailureLimiter::prune(std::deque<Clock::time_point>& failures, Clock::time_point now) const {
  while (!failures.empty() && failures.front() + window_ <= now) failures.pop_front();
}

bool FailureLimiter::blocked(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return false;
  prune(it->second, now);
  if (it->second.empty()) {
    failures_.erase(it);
    return false;
  }
  return static_cast<int>(it->second.size()) >= limit_;
}

void FailureLimiter::record_failure(const std::string& key, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto& failures = failures_[key];
  prune(failures, now);
  failures.push_back(now);
  // Keep memory per key bounded even under a flood: only the newest `limit_` matter.
  while (static_cast<int>(failures.size()) > limit_) failures.pop_front();
}

FailureLimiter::Clock::duration FailureLimiter::retry_after(const std::string& key,
                                                            Clock::time_point now) {
  std::lock_guard lock(mutex_);
  auto it = failures_.find(key);
  if (it == failures_.end()) return {};
  prune(it->second, now);
  if (static_cast<int>(it->second.size()) < limit_) return {};
  return it->second.front() + window_ - now;
}

}  // namespace tether::relay
