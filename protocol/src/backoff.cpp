#include "tether/protocol/backoff.hpp"

#include <algorithm>

namespace tether::protocol {

Backoff::Backoff(Duration base, Duration cap) : Backoff(base, cap, std::random_device{}()) {}

Backoff::Backoff(Duration base, Duration cap, std::uint64_t seed)
    : base_(std::max(base, Duration(1))), cap_(std::max(cap, base_)), random_(seed) {}

Backoff::Duration Backoff::ceiling() const {
  // Doubling stops once past the cap, so the shift never overflows.
  Duration ceiling = base_;
  for (int i = 0; i < attempt_ && ceiling < cap_; ++i) ceiling *= 2;
  return std::min(ceiling, cap_);
}

Backoff::Duration Backoff::next() {
  const auto limit = ceiling();
  if (limit < cap_) ++attempt_;
  std::uniform_int_distribution<Duration::rep> pick(0, limit.count());
  return Duration(pick(random_));
}

}  // namespace tether::protocol
