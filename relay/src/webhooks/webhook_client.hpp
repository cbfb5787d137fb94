#pragma once
/// One HTTP(S) POST of a webhook delivery: resolve, connect, TLS (verified), request, response
/// header and at most 64 KiB of body, all under one deadline (the webhook's timeout_ms).
///
/// Threads: create, run and abort on one strand; the object keeps itself alive while its
/// operations run (enable_shared_from_this), so abort() may race with the end safely.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "tether/protocol/client_stream.hpp"
#include "webhooks/webhook_target.hpp"

namespace tether::relay {

/// Largest response header block and body read from a receiver.
inline constexpr std::size_t kMaxWebhookResponseHeaderBytes = 16 * 1024;
inline constexpr std::size_t kMaxWebhookResponseBodyBytes = 64 * 1024;

/// The TLS client context for a target: its ca_file as the only trust anchors, else the
/// system's CA store; TLS 1.2 minimum, peer verification on. Throws std::runtime_error naming
/// the webhook and the file when the CA file cannot be loaded.
std::unique_ptr<boost::asio::ssl::context> make_webhook_tls_context(const WebhookTarget& target);

/// How one attempt ended.
struct WebhookAttemptOutcome {
  bool delivered = false;          ///< A 2xx status arrived within the deadline.
  bool aborted = false;            ///< abort() was called (shutdown): not a real attempt.
  std::optional<int> http_status;  ///< Set when a response header arrived.
  std::string error;               ///< One line for the log when not delivered.
};

class WebhookRequest : public std::enable_shared_from_this<WebhookRequest> {
 public:
  /// `tls` must outlive the request (nullptr for http:// targets).
  static std::shared_ptr<WebhookRequest> create(boost::asio::any_io_executor executor,
                                                const WebhookTarget& target,
                                                boost::asio::ssl::context* tls);

  /// Sends `body` with the Tether headers (see webhook_payload.hpp). Never throws for
  /// network or HTTP failures: they come back in the outcome.
  boost::asio::awaitable<WebhookAttemptOutcome> post(std::string delivery_id, std::string event,
                                                     std::string signature, std::string body);

  /// Ends the attempt now (closing its connection); post() returns aborted.
  void abort();

 private:
  WebhookRequest(boost::asio::any_io_executor executor, const WebhookTarget& target,
                 boost::asio::ssl::context* tls);
  void stop_io();
  boost::beast::tcp_stream& tcp();
  template <class Stream>
  boost::asio::awaitable<void> exchange(Stream& stream, std::string delivery_id, std::string event,
                                        std::string signature, std::string body,
                                        WebhookAttemptOutcome& out);

  boost::asio::any_io_executor executor_;
  WebhookTarget target_;
  boost::asio::ssl::context* tls_;
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer deadline_;
  std::optional<protocol::TlsStream> tls_stream_;
  std::optional<boost::beast::tcp_stream> plain_stream_;
  bool timed_out_ = false;
  bool aborted_ = false;
};

}  // namespace tether::relay
