#pragma once
/// Sends the relay's ticket and session events to the configured webhooks, without ever
/// holding up a technician: REST handlers only append timeline entries; this dispatcher finds
/// them later and delivers them from its own coroutines.
///
/// How it works (an outbox over the store):
/// 1. Every 500 ms, or at once after notify(), each webhook's new timeline entries (those
///    after its cursor, at most 100 per webhook per round) whose kind the webhook wants become
///    delivery rows with the exact payload to send; rows and the moved cursor are committed
///    together, so after a crash nothing is lost or queued twice (one row per entry and
///    webhook). A webhook that has never run starts at the relay's start: it does not replay
///    the history that was there before it was configured.
/// 2. Due rows (at most 100 per round) are posted, at most 4 at once per webhook, each bounded
///    by the webhook's timeout_ms. A 2xx makes the row "delivered"; anything else is recorded
///    (attempts, last status, last error) and retried after a full-jitter backoff
///    (webhook_target.hpp) until max_attempts, when the row becomes "failed". A slow or dead
///    receiver only delays its own rows: when a webhook's due rows fill a whole query while
///    its 4 slots are busy, they are pushed back by up to 5 s in the store (so the next query
///    reaches the other webhooks' rows) and kept in memory, at most 100 per webhook, to be
///    started as soon as a slot frees.
/// 3. stop() aborts the attempts in flight; they stay "pending" and are sent again (same
///    X-Tether-Delivery) after the next start.
/// Rows of a webhook that was removed from relay.json are marked "failed".
///
/// Threads: all state lives on one strand of the relay's io_context; the store is reached
/// through StoreExecutor. start(), notify() and stop() may be called from any thread. The
/// dispatcher's coroutines keep its state alive, so it may be destroyed before the
/// io_context.

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "store/store_executor.hpp"
#include "webhooks/webhook_target.hpp"

namespace tether::relay {

class WebhookDispatcher {
 public:
  /// `relay_name` is the "relay" field of every payload (the relay's hostname). Loads each
  /// https target's TLS context; throws std::runtime_error naming an unreadable ca_file.
  WebhookDispatcher(boost::asio::io_context& io, StoreExecutor& store,
                    std::vector<WebhookTarget> targets, std::string relay_name);
  ~WebhookDispatcher();
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  /// Starts the dispatch loop (nothing happens without targets). Call once.
  void start();
  /// Looks for new entries and due deliveries now instead of at the next tick.
  void notify();
  /// Stops the loop and aborts attempts in flight. Idempotent.
  void stop();

 private:
  struct Core;
  std::shared_ptr<Core> core_;
};

}  // namespace tether::relay
