#include "net/server_websocket.hpp"

#include <memory>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket.hpp>

#include "tether/protocol/message.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;

void set_websocket_timeouts(protocol::WsStream& ws, const RelayConfig& config) {
  websocket::stream_base::timeout limits{};
  limits.handshake_timeout = config.handshake_timeout;
  limits.idle_timeout = config.idle_timeout;
  limits.keep_alive_pings = true;
  beast::get_lowest_layer(ws).expires_never();
  ws.set_option(limits);
}

asio::awaitable<FirstMessage> read_first_message(protocol::WsStream& ws,
                                                 asio::any_io_executor strand,
                                                 const RelayConfig& config,
                                                 beast::flat_buffer& buffer) {
  asio::steady_timer deadline(strand, config.handshake_timeout);
  // Shared with the timer's handler, which may run after this coroutine has returned (when
  // the deadline passed just as the message arrived).
  auto timed_out = std::make_shared<bool>(false);
  deadline.async_wait([&ws, timed_out](boost::system::error_code ec) {
    if (ec) return;
    *timed_out = true;
    beast::get_lowest_layer(ws).socket().cancel();
  });
  auto [ec, size] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
  deadline.cancel();
  co_return FirstMessage{ec, *timed_out};
}

asio::awaitable<void> send_error_and_close(protocol::WsStream& ws, protocol::Error error,
                                           const std::string& message) {
  protocol::ErrorMessage out;
  out.code = std::string(protocol::to_string(error));
  out.message = message;
  ws.text(true);
  auto [write_ec, n] = co_await ws.async_write(asio::buffer(protocol::encode(out)),
                                               asio::as_tuple(asio::use_awaitable));
  if (!write_ec) {
    websocket::close_reason reason(static_cast<websocket::close_code>(protocol::close_code(error)),
                                   message.substr(0, 120));
    co_await ws.async_close(reason, asio::as_tuple(asio::use_awaitable));
  }
}

}  // namespace tether::relay
