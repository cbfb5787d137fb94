#pragma once
/// Client side of the transport: a verified TLS connection to the relay, the agent's
/// WebSocket on top of it, and the console's one-shot HTTPS requests.

#include <chrono>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "tether/protocol/relay_url.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::protocol {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;
using WsStream = boost::beast::websocket::stream<TlsStream>;

/// Path of the agent endpoint on the relay.
inline constexpr std::string_view kAgentPath = "/agent/v1";
/// Path of the managed (enrolled, mutual-TLS) agent endpoint on the relay.
inline constexpr std::string_view kManagedAgentPath = "/agent/v1/managed";

/// Resolves `url`, connects, and completes a TLS handshake that verifies the relay against the
/// context's trust anchor and `url.host`. The whole sequence is bounded by `timeout`.
/// Throws boost::system::system_error (see is_verification_failure for identity errors).
boost::asio::awaitable<void> connect_tls(TlsStream& stream, const RelayUrl& url,
                                         std::chrono::steady_clock::duration timeout);

/// connect_tls, then the WebSocket upgrade on `path` (kAgentPath or kManagedAgentPath) with
/// the protocol's message limit, handshake and idle timeouts and keep-alive pings.
/// Throws boost::system::system_error.
boost::asio::awaitable<void> connect_agent_websocket(WsStream& ws, const RelayUrl& url,
                                                     std::chrono::steady_clock::duration timeout,
                                                     std::string_view path = kAgentPath);

struct HttpResponse {
  int status = 0;
  std::string body;
};

/// Synchronous HTTPS client for the console: one connection per request, bounded in time and
/// response size. Not thread-safe; cheap to create.
class HttpsClient {
 public:
  HttpsClient(RelayUrl url, TrustAnchor trust);

  /// Sends `method target` with an optional JSON body and bearer token. Transport failures
  /// come back as errors (Error::identity_mismatch when the relay's certificate does not
  /// match the pin); any HTTP status is a successful result.
  Result<HttpResponse> request(boost::beast::http::verb method, const std::string& target,
                               const std::optional<std::string>& json_body,
                               const std::string& bearer_token,
                               std::chrono::steady_clock::duration timeout);

  const RelayUrl& url() const { return url_; }

 private:
  RelayUrl url_;
  boost::asio::ssl::context context_;
};

/// One line a user can act on, for a transport error from connect_tls or HttpsClient.
std::string describe_connection_error(const std::error_code& ec, const RelayUrl& url,
                                      const TrustAnchor& trust);

}  // namespace tether::protocol
