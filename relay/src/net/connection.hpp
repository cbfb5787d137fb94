#pragma once
// One accepted TCP connection: TLS (or a polite refusal of plain HTTP), then either the agent
// WebSocket or a keep-alive series of REST requests. This is the connection's one catch site:
// whatever goes wrong ends this peer only.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include "api/rest_api.hpp"

namespace tether::relay {

struct RelayContext;

boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                              boost::asio::ssl::context& tls, RelayContext& context,
                                              RestApi& api);

/// Asks every connected agent to close (the relay is stopping).
void close_all_connections(RelayContext& context);

}  // namespace tether::relay
