#pragma once
/// `tether-relay serve`: the TLS listener with the agent endpoint and the REST API, over the
/// store in the data directory.
///
/// Threads: one io_context run by `config.threads` threads (default: one per core); each
/// connection is a coroutine on its own strand; the broker has its own strand; the store and
/// password hashing have their own threads.

#include <memory>
#include <string>

#include "tether/relay/relay_config.hpp"

namespace tether::relay {

class RelayServer {
 public:
  /// Opens the database and loads the server certificate. Throws ConfigError or StoreError
  /// with a message for the operator.
  explicit RelayServer(RelayConfig config);
  ~RelayServer();

  /// Binds the listener (port 0 picks a free one), writes DIR/relay.addr and returns the bound
  /// "ADDR:PORT". Throws ConfigError when the address cannot be bound.
  std::string bind();

  /// Serves until SIGINT or SIGTERM (or stop()), then stops accepting, closes connections
  /// and waits a bounded grace period for them.
  void run();

  /// Thread-safe; makes run() return.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tether::relay
