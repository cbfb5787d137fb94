#pragma once
// What every connection of the relay shares: configuration, the store, the broker, the
// failure limiters. Owned by RelayServer; outlives every connection.

#include <atomic>
#include <chrono>

#include <boost/asio/io_context.hpp>

#include "auth/failure_limiter.hpp"
#include "store/store_executor.hpp"
#include "tether/relay/relay_config.hpp"

namespace tether::relay {

class SessionBroker;

struct RelayContext {
  RelayConfig config;
  boost::asio::io_context& io;
  StoreExecutor& store;
  SessionBroker& broker;
  FailureLimiter join_failures;
  FailureLimiter login_failures;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> stopping{false};
};

/// Wall-clock now, for everything that is stored or shown.
inline TimePoint now() {
  return std::chrono::system_clock::now();
}

}  // namespace tether::relay
