#include "net/connection.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "broker/agent_connection.hpp"
#include "broker/console_channel.hpp"
#include "broker/session_broker.hpp"
#include "relay_context.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using protocol::Error;

namespace {

// Counts the connection for the limit for as long as it lives.
struct ConnectionCount {
  explicit ConnectionCount(RelayContext& c) : context(c) { ++context.open_connections; }
  ~ConnectionCount() { --context.open_connections; }
  RelayContext& context;
};

HttpResponse error_response(Error code, std::string message, unsigned version) {
  HttpResponse response{static_cast<http::status>(protocol::http_status(code)), version};
  response.set(http::field::content_type, "application/json");
  response.keep_alive(false);
  response.body() =
      nlohmann::json{
          {"error", {{"code", protocol::to_string(code)}, {"message", std::move(message)}}}}
          .dump();
  response.prepare_payload();
  return response;
}

asio::awaitable<void> refuse_plain_http(beast::tcp_stream& stream) {
  static constexpr std::string_view kRefusal =
      "HTTP/1.1 400 Bad Request\r\n"
      "Content-Type: text/plain\r\n"
      "Connection: close\r\n"
      "Content-Length: 62\r\n"
      "\r\n"
      "This port speaks TLS only: use https:// or wss:// to connect.\n";
  stream.expires_after(std::chrono::seconds(2));
  co_await asio::async_write(stream, asio::buffer(kRefusal), asio::as_tuple(asio::use_awaitable));
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both);
}

asio::awaitable<void> serve_tls(protocol::TlsStream stream, beast::flat_buffer buffer,
                                RelayContext& context, RestApi& api, const std::string& remote,
                                const std::string& client_address) {
  auto& tcp = beast::get_lowest_layer(stream);
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(protocol::kMaxHttpHeaderBytes);
    parser.body_limit(protocol::kMaxHttpBodyBytes);
    auto [ec, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::end_of_stream || ec == asio::ssl::error::stream_truncated ||
        ec == beast::error::timeout || ec == asio::error::eof ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
      co_return;
    }
    if (ec == http::error::body_limit || ec == http::error::header_limit) {
      tcp.expires_after(std::chrono::seconds(5));
      co_await http::async_write(
          stream, error_response(Error::message_too_large, "request over the size limit", 11),
          asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    if (ec) {
      tcp.expires_after(std::chrono::seconds(5));
      co_await http::async_write(
          stream, error_response(Error::bad_request, "malformed HTTP request: " + ec.message(), 11),
          asio::as_tuple(asio::use_awaitable));
      co_return;
    }
    auto request = parser.release();

    if (beast::websocket::is_upgrade(request) && request.target() != protocol::kAgentPath &&
        std::string_view(request.target()).starts_with("/api/v1/")) {
      // A technician's tool channel: authenticated like any API call before the upgrade.
      std::optional<ApiError> refused;
      std::optional<std::pair<User, SessionRecord>> granted;
      try {
        granted = co_await api.authorize_channel(request);
      } catch (const ApiError& e) {
        refused = e;
      }
      if (refused) {
        tcp.expires_after(std::chrono::seconds(5));
        co_await http::async_write(stream, RestApi::error_response(*refused, request.version()),
                                   asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      protocol::WsStream ws(std::move(stream));
      auto console = std::make_shared<ConsoleChannel>(
          std::move(ws), context, remote, std::move(granted->first), std::move(granted->second));
      co_await console->run(std::move(request));
      co_return;
    }
    if (beast::websocket::is_upgrade(request) && request.target() == protocol::kManagedAgentPath) {
      // An enrolled device: its client certificate (from the TLS handshake) says which.
      auto peer = protocol::peer_certificate(stream.native_handle());
      auto device = std::make_shared<AgentConnection>(protocol::WsStream(std::move(stream)),
                                                      context, remote, std::move(peer));
      co_await device->run(std::move(request));
      co_return;
    }
    if (beast::websocket::is_upgrade(request)) {
      if (request.target() != protocol::kAgentPath) {
        tcp.expires_after(std::chrono::seconds(5));
        co_await http::async_write(
            stream, error_response(Error::not_found, "no WebSocket endpoint here", 11),
            asio::as_tuple(asio::use_awaitable));
        co_return;
      }
      protocol::WsStream ws(std::move(stream));
      // Bytes the HTTP parser read past the request belong to the WebSocket.
      auto agent = std::make_shared<AgentConnection>(std::move(ws), context, remote);
      co_await agent->run(std::move(request));
      co_return;
    }

    // A request may wait for the user's consent, so its time limit is that of the longest
    // wait the API applies, not the handshake's.
    tcp.expires_never();
    auto response = co_await api.handle(request, client_address);
    tcp.expires_after(std::chrono::seconds(30));
    co_await http::async_write(stream, response, asio::use_awaitable);
    if (!response.keep_alive() || context.stopping) {
      auto [shutdown_ec] = co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
      (void)shutdown_ec;
      co_return;
    }
    // Keep-alive: the next request must start within the idle time.
    tcp.expires_after(context.config.idle_timeout);
  }
}

}  // namespace

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, asio::ssl::context& tls,
                                       RelayContext& context, RestApi& api) {
  ConnectionCount count(context);
  boost::system::error_code ignored;
  const auto peer = socket.remote_endpoint(ignored);
  const std::string client_address = peer.address().to_string();
  const std::string remote = client_address + ":" + std::to_string(peer.port());
  try {
    beast::tcp_stream tcp(std::move(socket));
    tcp.expires_after(context.config.handshake_timeout);
    beast::flat_buffer buffer;
    buffer.max_size(protocol::kMaxHttpHeaderBytes + protocol::kMaxHttpBodyBytes);
    const bool is_tls = co_await beast::async_detect_ssl(tcp, buffer, asio::use_awaitable);
    if (!is_tls) {
      spdlog::info("{}: refused a plain (non-TLS) connection", remote);
      co_await refuse_plain_http(tcp);
      co_return;
    }
    protocol::TlsStream stream(std::move(tcp), tls);
    auto consumed = co_await stream.async_handshake(asio::ssl::stream_base::server, buffer.data(),
                                                    asio::use_awaitable);
    buffer.consume(consumed);
    co_await serve_tls(std::move(stream), std::move(buffer), context, api, remote, client_address);
  } catch (const boost::system::system_error& e) {
    if (e.code() == beast::error::timeout) {
      spdlog::info("{}: handshake not finished in time; closed", remote);
    } else if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted) {
      spdlog::info("{}: closed: {}", remote, e.code().message());
    }
  } catch (const std::exception& e) {
    spdlog::error("{}: closed after an unexpected error: {}", remote, e.what());
  }
}

void close_all_connections(RelayContext& context) {
  context.broker.close_all();
}

}  // namespace tether::relay
