#include "broker/managed_connection.hpp"

#include <spdlog/spdlog.h>

#include <charconv>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "broker/session_broker.hpp"
#include "net/server_websocket.hpp"
#include "relay_context.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::Error;

namespace {

constexpr std::string_view kDeviceUriPrefix = "urn:tether:device:";

std::string device_number(std::int64_t id) {
  return "D-" + std::to_string(id);
}

}  // namespace

std::optional<std::int64_t> parse_device_number(std::string_view text) {
  if (!text.starts_with("D-") || text.size() < 3 || text.size() > 20) return std::nullopt;
  std::int64_t id = 0;
  const auto* first = text.data() + 2;
  const auto* last = text.data() + text.size();
  auto [end, ec] = std::from_chars(first, last, id);
  if (ec != std::errc() || end != last || id <= 0 || *first == '0') return std::nullopt;
  return id;
}

std::optional<std::int64_t> certificate_device(const protocol::PeerCertificate& peer) {
  auto id = parse_device_number(peer.common_name);
  if (!id) return std::nullopt;
  for (const auto& uri : peer.uris) {
    if (!uri.starts_with(kDeviceUriPrefix)) continue;
    if (parse_device_number(std::string_view(uri).substr(kDeviceUriPrefix.size())) != id) {
      return std::nullopt;
    }
  }
  return id;
}

ManagedConnection::ManagedConnection(protocol::WsStream ws, RelayContext& context,
                                     std::string remote, protocol::PeerCertificate peer)
    : ws_(std::move(ws)),
      context_(context),
      remote_(std::move(remote)),
      peer_(std::move(peer)),
      strand_(ws_.get_executor()) {}

asio::awaitable<std::optional<std::pair<Error, std::string>>> ManagedConnection::authenticate() {
  using Refusal = std::optional<std::pair<Error, std::string>>;
  if (!peer_.presented) {
    co_return Refusal{{Error::unauthorized,
                       "no client certificate: the managed endpoint needs the device "
                       "certificate from `tether-agent enroll`"}};
  }
  if (peer_.expired) {
    co_return Refusal{{Error::unauthorized, "the client certificate has expired"}};
  }
  if (!peer_.verified) {
    co_return Refusal{{Error::unauthorized,
                       "the client certificate was not issued by this "
                       "relay's CA (" +
                           peer_.verify_error + ")"}};
  }
  const auto claimed = certificate_device(peer_);
  if (!claimed) {
    co_return Refusal{{Error::unauthorized, "the client certificate names no device"}};
  }
  const auto fingerprint = peer_.fingerprint_hex;
  const auto id = *claimed;
  auto [by_fingerprint, by_id] = co_await context_.store.run([fingerprint, id](Store& store) {
    return std::pair(store.find_device_by_fingerprint(fingerprint), store.find_device(id));
  });
  if (!by_id) co_return Refusal{{Error::unauthorized, "unknown device " + device_number(id)}};
  if (by_id->status == "revoked") {
    co_return Refusal{{Error::forbidden, "device " + device_number(id) + " is revoked"}};
  }
  if (!by_fingerprint || by_fingerprint->id != id) {
    co_return Refusal{{Error::unauthorized, "the client certificate is not " + device_number(id) +
                                                "'s current certificate"}};
  }
  device_id_ = id;
  co_return std::nullopt;
}

asio::awaitable<void> ManagedConnection::run(
    beast::http::request<beast::http::string_body> upgrade) {
  auto self = shared_from_this();
  bool registered = false;
  try {
    set_websocket_timeouts(ws_, context_.config);
    ws_.read_message_max(protocol::kMaxControlMessageBytes);
    co_await ws_.async_accept(upgrade, asio::use_awaitable);

    if (auto refusal = co_await authenticate()) {
      co_await close_with(refusal->first, refusal->second);
      co_return;
    }
    beast::flat_buffer buffer;
    const auto [ec, timed_out] = co_await read_first_message(ws_, strand_, context_.config, buffer);
    if (timed_out) {
      co_await close_with(Error::handshake_timeout, "no hello within the handshake time");
      co_return;
    }
    if (ec) co_return;
    auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
    if (!parsed) {
      co_await close_with(static_cast<Error>(parsed.error().value()), parsed.error().message());
      co_return;
    }
    const auto* hello = std::get_if<protocol::Hello>(&*parsed);
    if (hello == nullptr || hello->mode != "managed") {
      co_await close_with(Error::unexpected_message,
                          "the first message must be a hello with mode \"managed\"");
      co_return;
    }
    if (*hello->device != device_number(device_id_)) {
      // Only a well-formed id is repeated back and logged.
      const auto claimed = parse_device_number(*hello->device);
      co_await close_with(Error::forbidden,
                          "the certificate is " + device_number(device_id_) +
                              "'s but the hello claims " +
                              (claimed ? device_number(*claimed) : "a malformed device id"));
      co_return;
    }
    // Shown in the relay's log: no control characters, bounded.
    hostname_ = protocol::printable_text(hello->agent.hostname.substr(0, 255));

    const auto id = device_id_;
    const auto seen = now();
    co_await context_.store.run([id, seen](Store& store) { store.set_device_last_seen(id, seen); });
    protocol::Welcome welcome;
    welcome.version = protocol::kProtocolVersion;
    welcome.device = device_number(device_id_);
    co_await ws_.async_write(asio::buffer(protocol::encode(welcome)), asio::use_awaitable);

    // Registered only now, so that close() never writes while the welcome is being written.
    auto previous = co_await context_.broker.register_device(device_id_, self);
    registered = true;
    if (previous) previous->close(Error::conflict, "replaced by a newer connection of the device");
    // A revocation that raced with this connection either found it in the broker or is seen
    // here.
    const bool revoked = co_await context_.store.run([id](Store& store) {
      auto device = store.find_device(id);
      return !device || device->status == "revoked";
    });
    spdlog::info("device {} ({}) connected from {}", device_number(id), hostname_, remote_);
    if (revoked) {
      co_await close_with(Error::forbidden, "device " + device_number(id) + " is revoked");
    } else {
      co_await read_loop();
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != asio::error::eof && e.code() != asio::error::operation_aborted &&
        e.code() != websocket::error::closed) {
      spdlog::info("managed agent {}: closed: {}", remote_, e.code().message());
    }
  } catch (const std::exception& e) {
    spdlog::warn("managed agent {}: closed after an unexpected error: {}", remote_, e.what());
  }
  closing_ = true;
  if (registered) {
    co_await context_.broker.unregister_device(device_id_, this);
    const auto id = device_id_;
    const auto seen = now();
    try {
      co_await context_.store.run(
          [id, seen](Store& store) { store.set_device_last_seen(id, seen); });
    } catch (const std::exception& e) {
      spdlog::error("device {}: cannot record when it was last seen: {}", device_number(id),
                    e.what());
    }
    spdlog::info("device {} ({}) disconnected", device_number(id), hostname_);
  }
}

asio::awaitable<void> ManagedConnection::read_loop() {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (!ws_.got_text()) {
      co_await close_with(Error::unexpected_message, "no channels are open on this connection");
      co_return;
    }
    auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
    if (!parsed) {
      co_await close_with(static_cast<Error>(parsed.error().value()), parsed.error().message());
      co_return;
    }
    if (const auto* error = std::get_if<protocol::ErrorMessage>(&*parsed)) {
      spdlog::info("device D-{} reported an error: {} ({})", device_id_, error->code,
                   error->message.substr(0, 200));
      continue;
    }
    co_await close_with(Error::unexpected_message,
                        "a managed agent sends nothing but errors in this version");
    co_return;
  }
}

void ManagedConnection::close(Error error, std::string message) {
  asio::co_spawn(
      strand_,
      [](std::shared_ptr<ManagedConnection> self, Error error,
         std::string message) -> asio::awaitable<void> {
        co_await self->close_with(error, std::move(message));
      }(shared_from_this(), error, std::move(message)),
      asio::detached);
}

asio::awaitable<void> ManagedConnection::close_with(Error error, std::string message) {
  if (closing_) co_return;
  closing_ = true;
  spdlog::info("managed agent {}{}: closing: {} ({})", remote_,
               device_id_ > 0 ? " (" + device_number(device_id_) + ")" : std::string(),
               protocol::to_string(error), message);
  // The socket is closed in any case, which also ends a read the reader still has pending.
  co_await send_error_and_close(ws_, error, message);
  boost::system::error_code ignored;
  beast::get_lowest_layer(ws_).socket().close(ignored);
}

}  // namespace tether::relay
