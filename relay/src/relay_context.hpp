#pragma once
// What every connection of the relay shares: configuration, the store, the broker, the
// failure limiters. Owned by RelayServer; outlives every connection.

#include <atomic>
#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "auth/failure_limiter.hpp"
#include "broker/presence_writer.hpp"
#include "fleet/identity_index.hpp"
#include "store/store_executor.hpp"
#include "tether/relay/relay_config.hpp"

namespace tether::relay {

class SessionBroker;
struct PemCertificate;

struct RelayContext {
  RelayConfig config;
  boost::asio::io_context& io;
  StoreExecutor& store;
  SessionBroker& broker;
  FailureLimiter join_failures;
  FailureLimiter login_failures;
  std::atomic<std::size_t> open_connections{0};
  std::atomic<bool> stopping{false};
  /// The CA that signs devices' certificates (enrollment, renewal), read at first use;
  /// touched only on the store's compute thread (device_ca()).
  std::shared_ptr<const PemCertificate> device_ca_cache;
  /// Managed devices' last_seen times, written in batches by the relay's presence loop.
  PresenceWriter presence;
  /// Identity keys → enrolled devices, for matching machines; touched only on the store's
  /// thread (inside store.run).
  fleet::IdentityIndex identity_index;
};

/// The device CA of `context`, read from the data directory the first time. Call only on
/// the store's compute thread. Throws std::runtime_error when the files cannot be read.
std::shared_ptr<const PemCertificate> device_ca(RelayContext& context);

/// Wall-clock now, for everything that is stored or shown.
inline TimePoint now() {
  return std::chrono::system_clock::now();
}

}  // namespace tether::relay
