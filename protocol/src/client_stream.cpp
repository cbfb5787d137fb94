#include "tether/protocol/client_stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/version.hpp>

#include "tether/protocol/limits.hpp"

namespace tether::protocol {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;

asio::awaitable<void> connect_tls(TlsStream& stream, const RelayUrl& url,
                                  std::chrono::steady_clock::duration timeout) {
  auto& tcp = beast::get_lowest_layer(stream);
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  tcp.expires_after(timeout);
  auto endpoints = co_await resolver.async_resolve(url.host, url.port, asio::use_awaitable);
  co_await tcp.async_connect(endpoints, asio::use_awaitable);
  set_expected_host(stream.native_handle(), url.host);
  co_await stream.async_handshake(asio::ssl::stream_base::client, asio::use_awaitable);
  tcp.expires_never();
}

asio::awaitable<void> connect_agent_websocket(WsStream& ws, const RelayUrl& url,
                                              std::chrono::steady_clock::duration timeout,
                                              std::string_view path) {
  co_await connect_tls(ws.next_layer(), url, timeout);
  // Keep at most 128 KiB unsent in the kernel: bulk channel frames then wait in the agent's
  // fair queue, where a keystroke's echo can overtake them, instead of in the socket, where it
  // cannot (docs/benchmarks.md, "Experiments": echo p99 during a transfer 23 -> 8 ms).
  const int unsent_limit = 128 * 1024;
  auto& socket = beast::get_lowest_layer(ws).socket();
  // A kernel without it only costs latency under load, so a failure is not an error.
  (void)::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &unsent_limit,
                     sizeof unsent_limit);
  websocket::stream_base::timeout limits{};
  limits.handshake_timeout = timeout;
  limits.idle_timeout = kIdleTimeout;
  limits.keep_alive_pings = true;
  ws.set_option(limits);
  ws.read_message_max(kMaxControlMessageBytes);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& req) {
    req.set(http::field::user_agent, "tether-agent/" TETHER_VERSION);
  }));
  co_await ws.async_handshake(url.authority(), std::string(path), asio::use_awaitable);
}

HttpsClient::HttpsClient(RelayUrl url, TrustAnchor trust)
    : url_(std::move(url)), context_(make_client_context(trust)) {}

Result<HttpResponse> HttpsClient::request(http::verb method, const std::string& target,
                                          const std::optional<std::string>& json_body,
                                          const std::string& bearer_token,
                                          std::chrono::steady_clock::duration timeout) {
  asio::io_context ioc;
  HttpResponse out;
  auto exchange = [&]() -> asio::awaitable<void> {
    TlsStream stream(co_await asio::this_coro::executor, context_);
    co_await connect_tls(stream, url_, timeout);
    beast::get_lowest_layer(stream).expires_after(timeout);

    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, url_.authority());
    req.set(http::field::user_agent, "tether/" TETHER_VERSION);
    req.set(http::field::accept, "application/json");
    if (!bearer_token.empty()) req.set(http::field::authorization, "Bearer " + bearer_token);
    if (json_body) {
      req.set(http::field::content_type, "application/json");
      req.body() = *json_body;
    }
    req.prepare_payload();
    co_await http::async_write(stream, req, asio::use_awaitable);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(kMaxHttpResponseBytes);
    co_await http::async_read(stream, buffer, parser, asio::use_awaitable);
    out.status = static_cast<int>(parser.get().result_int());
    out.body = std::move(parser.get().body());

    // A polite close; the relay may already have gone, which changes nothing for the caller.
    auto [ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
    (void)ec;
  };
  auto done = asio::co_spawn(ioc, exchange(), asio::use_future);
  ioc.run();
  try {
    done.get();
  } catch (const boost::system::system_error& e) {
    if (is_verification_failure(e.code())) return make_error_code(Error::identity_mismatch);
    if (e.code() == beast::error::timeout) return std::make_error_code(std::errc::timed_out);
    return std::error_code(e.code());
  }
  return out;
}

std::string describe_connection_error(const std::error_code& ec, const RelayUrl& url,
                                      const TrustAnchor& trust) {
  const std::string where = "relay " + url.authority();
  if (ec == Error::identity_mismatch || is_verification_failure(ec)) {
    return "the identity of " + where + " did not match the pinned " + trust.describe() +
           "; refusing to connect (check the fingerprint or CA file you were given)";
  }
  if (ec == std::errc::connection_refused) {
    return "cannot reach " + where + ": connection refused (is tether-relay running?)";
  }
  if (ec == std::errc::timed_out) return "cannot reach " + where + ": timed out";
  return "cannot talk to " + where + ": " + ec.message();
}

}  // namespace tether::protocol
