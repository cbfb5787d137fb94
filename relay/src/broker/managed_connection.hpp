#pragma once
// One managed (enrolled) device's connection on /agent/v1/managed: mutual TLS identifies the
// device, its hello must claim the same device, and while it lasts the broker lists the device
// as online. The reader runs on the connection's strand; close() is safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/error.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::relay {

struct RelayContext;

/// "D-7" → 7; nullopt for anything else.
std::optional<std::int64_t> parse_device_number(std::string_view text);

/// The device a client certificate names: CN=D-<n> and, when present, every
/// URI:urn:tether:device:D-<n> agreeing with it. nullopt when it names none or disagrees.
std::optional<std::int64_t> certificate_device(const protocol::PeerCertificate& peer);

class ManagedConnection : public std::enable_shared_from_this<ManagedConnection> {
 public:
  ManagedConnection(protocol::WsStream ws, RelayContext& context, std::string remote,
                    protocol::PeerCertificate peer);

  /// Upgrades, checks the certificate against the device's record and the hello against the
  /// certificate, then serves the device until either side closes. Never throws.
  boost::asio::awaitable<void> run(
      boost::beast::http::request<boost::beast::http::string_body> upgrade);

  /// Sends `error` with `message` and closes (revoked, replaced, relay stopping). Safe from
  /// any thread; a second call does nothing.
  void close(protocol::Error error, std::string message);

 private:
  /// Why the certificate does not admit the connection, or nullopt with device_id_ set.
  boost::asio::awaitable<std::optional<std::pair<protocol::Error, std::string>>> authenticate();
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> close_with(protocol::Error error, std::string message);

  protocol::WsStream ws_;
  RelayContext& context_;
  std::string remote_;
  protocol::PeerCertificate peer_;
  boost::asio::any_io_executor strand_;
  std::int64_t device_id_ = 0;
  std::string hostname_;
  bool closing_ = false;
};

}  // namespace tether::relay
