#pragma once
// What the relay does the same on every WebSocket it accepts (an agent's, a console's): the
// timeouts it sets before the upgrade, and the deadline for the peer's first message.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/system/error_code.hpp>

#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/error.hpp"
#include "tether/relay/relay_config.hpp"

namespace tether::relay {

/// Gives `ws` the handshake and idle timeouts of `config` with keep-alive pings, and clears the
/// TCP layer's own deadline so these are the only ones. Call before async_accept.
void set_websocket_timeouts(protocol::WsStream& ws, const RelayConfig& config);

/// What read_first_message got.
struct FirstMessage {
  boost::system::error_code error;  ///< The read's outcome (an error when it timed out).
  bool timed_out = false;           ///< The deadline passed before a whole message arrived.
};

/// Reads one message from `ws` into `buffer` within `config.handshake_timeout`: when that
/// passes first, the socket's operations are cancelled, so the read ends with an error and
/// `timed_out` is set. Call from a coroutine on `strand`, the stream's executor; `ws` must
/// outlive the call by at least one turn of that strand (the connection object owns it).
boost::asio::awaitable<FirstMessage> read_first_message(protocol::WsStream& ws,
                                                        boost::asio::any_io_executor strand,
                                                        const RelayConfig& config,
                                                        boost::beast::flat_buffer& buffer);

/// Tells the peer why it is being closed: an error message, then a WebSocket close frame whose
/// code is protocol::close_code(error) and whose reason is the message (cut to 120 bytes).
/// Best effort: a peer that is already gone is fine. The caller closes the socket.
boost::asio::awaitable<void> send_error_and_close(protocol::WsStream& ws, protocol::Error error,
                                                  const std::string& message);

}  // namespace tether::relay
