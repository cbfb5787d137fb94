#pragma once
/// Reconnect delays: capped exponential backoff with full jitter. Attempt n waits a uniform
/// random time in [0, min(cap, base * 2^n)], so a relay restart does not bring every agent
/// back in the same instant. Not thread-safe; one per reconnecting client.

#include <chrono>
#include <cstdint>
#include <random>

namespace tether::protocol {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;

  /// `base` is the ceiling of the first delay, `cap` the ceiling of every delay.
  Backoff(Duration base, Duration cap);
  /// As above with a fixed seed, for reproducible tests.
  Backoff(Duration base, Duration cap, std::uint64_t seed);

  /// The delay before the next attempt; each call raises the ceiling until `cap`.
  Duration next();
  /// Ceiling the next call to next() will draw under.
  Duration ceiling() const;
  /// After a successful connection: start again from `base`.
  void reset() { attempt_ = 0; }

 private:
  Duration base_;
  Duration cap_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

}  // namespace tether::protocol
