#include "broker/agent_connection.hpp"

#include "helpdesk/session_diff_entry.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "auth/secrets.hpp"
#include "broker/console_channel.hpp"
#include "broker/device_auth.hpp"
#include "broker/session_broker.hpp"
#include "net/server_websocket.hpp"
#include "relay_context.hpp"
#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/frame.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/support_code.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::Error;

namespace {

// Puts `kind` ("agent.reconnected", …) with `summary` on the timeline of session
// `session_id` while it is open (waiting for consent or active); false once it is over.
bool note_on_open_session(Store& store, std::int64_t session_id, const std::string& actor,
                          const char* kind, std::string summary) {
  auto session = store.find_session(session_id);
  if (!session || session->status == "ended" || session->status == "refused") return false;
  TimelineEntry entry;
  entry.ticket_id = session->ticket_id;
  entry.session_id = session_id;
  entry.at = now();
  entry.actor = actor;
  entry.kind = kind;
  entry.summary = std::move(summary);
  store.append_timeline(entry);
  return true;
}

// Read buffer capacity kept between messages (a channel frame and its header fit, so a
// transfer never reallocates); a larger one is given back.
constexpr std::size_t kKeptReadBufferBytes = protocol::kMaxChannelFrameBytes + 1024;

}  // namespace

struct AgentConnection::Pending {
  explicit Pending(asio::any_io_executor executor) : timer(std::move(executor)) {}
  asio::steady_timer timer;
  std::optional<protocol::Message> reply;
  bool closed = false;
};

AgentConnection::AgentConnection(protocol::WsStream ws, RelayContext& context, std::string remote,
                                 std::optional<protocol::PeerCertificate> peer)
    : ws_(std::move(ws)),
      context_(context),
      remote_(std::move(remote)),
      strand_(ws_.get_executor()),
      write_signal_(strand_),
      peer_(std::move(peer)) {}

asio::awaitable<void> AgentConnection::run(beast::http::request<beast::http::string_body> upgrade) {
  auto self = shared_from_this();
  try {
    if (co_await handshake(upgrade)) {
      asio::co_spawn(strand_, write_loop(), asio::detached);
      co_await read_loop();
    }
  } catch (const std::exception& e) {
    spdlog::warn("agent {}: closed after an unexpected error: {}", remote_, e.what());
  }
  closed_ = true;
  write_signal_.cancel();
  fail_pending();
  for (auto& [id, bridge] : channels_) {
    if (auto console = bridge->console.lock()) {
      console->agent_gone("the agent disconnected", Error::agent_offline);
    }
  }
  channels_.clear();
  if (device_registered_) {
    co_await context_.broker.unregister_device(device_id_, this);
    context_.presence.seen(device_id_, now());
    spdlog::info("device {} ({}) disconnected", device_number(device_id_), hostname_);
  } else if (!code_hash_.empty()) {
    co_await context_.broker.unregister_agent(code_hash_, this);
  }
  if (device_registered_ || !code_hash_.empty()) {
    if (session_id_) {
      spdlog::info("agent {} ({}) disconnected during S-{}", remote_, hostname_, *session_id_);
      const auto session_id = *session_id_;
      const auto actor = "agent:" + hostname_;
      co_await context_.store.run([session_id, actor](Store& store) {
        note_on_open_session(store, session_id, actor, "agent.disconnected",
                             "Agent disconnected from S-" + std::to_string(session_id) +
                                 "; it may reconnect while its session is open");
      });
    }
  }
}

asio::awaitable<bool> AgentConnection::handshake(
    beast::http::request<beast::http::string_body>& upgrade) {
  set_websocket_timeouts(ws_, context_.config);
  ws_.read_message_max(protocol::kMaxControlMessageBytes);
  // One frame per message: Beast would otherwise cut every relay → agent channel frame into
  // 4 KiB WebSocket frames, each its own TLS record (docs/benchmarks.md: `put` +19 %).
  ws_.auto_fragment(false);
  co_await ws_.async_accept(upgrade, asio::use_awaitable);
  if (peer_) {
    // A managed device is judged by its certificate before a word of it is read.
    auto admitted = co_await authenticate_device(context_, *peer_);
    if (auto* refusal = std::get_if<DeviceRefusal>(&admitted)) {
      co_await close_with(refusal->error, refusal->message);
      co_return false;
    }
    device_id_ = std::get<AdmittedDevice>(admitted).id;
    group_ = std::get<AdmittedDevice>(admitted).group;
  }

  // The first message must be a hello, within the handshake time.
  beast::flat_buffer buffer;
  const auto [ec, timed_out] = co_await read_first_message(ws_, strand_, context_.config, buffer);
  if (timed_out) {
    co_await close_with(Error::handshake_timeout, "no hello within the handshake time");
    co_return false;
  }
  if (ec == websocket::error::message_too_big) {
    co_await close_with(Error::message_too_large, "hello is over the message size limit");
    co_return false;
  }
  if (ec) co_return false;
  auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
  if (!parsed) {
    co_await close_with(static_cast<Error>(parsed.error().value()), parsed.error().message());
    co_return false;
  }
  const auto* hello = std::get_if<protocol::Hello>(&*parsed);
  if (hello == nullptr) {
    co_await close_with(Error::unexpected_message, "the first message must be a hello");
    co_return false;
  }
  if (peer_) {
    if (hello->mode != "managed") {
      co_await close_with(Error::unexpected_message,
                          "the first message must be a hello with mode \"managed\"");
      co_return false;
    }
    co_return co_await welcome_device(*hello);
  }
  if (hello->mode != "attended") {
    co_await close_with(Error::unexpected_message,
                        "managed agents connect on " + std::string(protocol::kManagedAgentPath));
    co_return false;
  }
  hostname_ = hello->agent.hostname;
  device_ = hello->agent.hostname + " (" + hello->agent.os + ")";
  auto welcome = co_await answer_hello(*hello);
  if (!welcome) {
    co_await close_with(static_cast<Error>(welcome.error().value()), welcome.error().message());
    co_return false;
  }
  auto previous = co_await context_.broker.register_agent(code_hash_, shared_from_this());
  if (previous) previous->send(protocol::SessionEnd{"", "replaced by a newer connection", "relay"});
  co_await ws_.async_write(asio::buffer(protocol::encode(*welcome)), asio::use_awaitable);
  spdlog::info("agent {} ({}) {}", remote_, device_,
               welcome->resumed ? "resumed its support code" : "received a support code");
  if (!session_id_) {
    asio::co_spawn(strand_, expiry_watch(code_expires_at_), asio::detached);
  }
  co_return true;
}

asio::awaitable<bool> AgentConnection::welcome_device(const protocol::Hello& hello) {
  const auto me = device_number(device_id_);
  if (*hello.device != me) {
    // Only a well-formed id is repeated back and logged.
    const auto claimed = parse_device_number(*hello.device);
    co_await close_with(Error::forbidden,
                        "the certificate is " + me + "'s but the hello claims " +
                            (claimed ? device_number(*claimed) : "a malformed device id"));
    co_return false;
  }
  // Shown in the relay's log and listings: no control characters, bounded.
  hostname_ = protocol::printable_text(hello.agent.hostname.substr(0, 255));
  device_ =
      hostname_ + " (" + protocol::printable_text(hello.agent.os.substr(0, 255)) + ", " + me + ")";
  const auto id = device_id_;
  context_.presence.seen(id, now());
  protocol::Welcome welcome;
  welcome.version = protocol::kProtocolVersion;
  welcome.device = me;
  co_await ws_.async_write(asio::buffer(protocol::encode(welcome)), asio::use_awaitable);

  // Registered only now, so that close() never writes while the welcome is being written.
  auto previous = co_await context_.broker.register_device(device_id_, shared_from_this());
  device_registered_ = true;
  if (previous) previous->close(Error::conflict, "replaced by a newer connection of the device");
  // A revocation that raced with this connection either found it in the broker or is seen
  // here.
  const bool revoked = co_await context_.store.run([id](Store& store) {
    auto device = store.find_device(id);
    return !device || device->status == "revoked";
  });
  spdlog::info("device {} ({}) connected from {}", me, hostname_, remote_);
  if (revoked) {
    co_await close_with(Error::forbidden, "device " + me + " is revoked");
    co_return false;
  }
  // Back during an unattended session: the session finds this connection through the broker;
  // the connection learns its session, and the ticket that the device is back.
  for (const auto session_id :
       co_await context_.broker.sessions_of(SessionBroker::device_key(device_id_))) {
    const auto actor = "agent:" + hostname_;
    const bool active = co_await context_.store.run([session_id, actor](Store& store) {
      return note_on_open_session(store, session_id, actor, "agent.reconnected",
                                  "Agent reconnected to S-" + std::to_string(session_id));
    });
    if (active) session_id_ = session_id;
  }
  co_await request_inventory();
  co_return true;
}

asio::awaitable<protocol::Result<protocol::Welcome>> AgentConnection::answer_hello(
    const protocol::Hello& hello) {
  const auto issued_at = now();
  protocol::Welcome welcome;
  welcome.version = protocol::kProtocolVersion;

  if (!hello.resume) {
    // A fresh code must not collide with one still on record (used codes stay while their
    // session lives); with 10^8 codes a retry is rare and a few always suffice.
    for (int attempt = 0; attempt < 5; ++attempt) {
      const auto code = protocol::SupportCode::generate();
      const auto secret = random_token();
      SupportCodeRecord record;
      record.code_hash = sha256_hex(code.digits());
      record.secret_hash = sha256_hex(secret);
      record.created_at = issued_at;
      // Whole seconds, so the time the user is shown is exactly when the code stops working.
      record.expires_at =
          std::chrono::ceil<std::chrono::seconds>(issued_at + context_.config.support_code_ttl);
      const bool saved = co_await context_.store.run([record](Store& store) {
        store.purge_expired_codes(record.created_at);
        if (store.find_support_code(record.code_hash)) return false;
        store.save_support_code(record);
        return true;
      });
      if (!saved) continue;
      code_expires_at_ = record.expires_at;
      code_hash_ = record.code_hash;
      welcome.support_code = code.digits();
      welcome.expires_at = protocol::format_time(record.expires_at);
      welcome.secret = secret;
      welcome.resumed = false;
      co_return welcome;
    }
    co_return protocol::make_error_code(Error::internal);
  }

  // A reconnecting agent proves it holds the code with the secret it was given.
  auto code = protocol::SupportCode::parse(hello.resume->code);
  if (!code) co_return protocol::make_error_code(Error::code_invalid);
  const auto code_hash = sha256_hex(code->digits());
  auto record = co_await context_.store.run(
      [code_hash](Store& store) { return store.find_support_code(code_hash); });
  if (!record || !constant_time_equal(record->secret_hash, sha256_hex(hello.resume->secret))) {
    co_return protocol::make_error_code(Error::code_invalid);
  }
  if (record->session_id) {
    const auto session_id = *record->session_id;
    auto session = co_await context_.store.run(
        [session_id](Store& store) { return store.find_session(session_id); });
    if (!session || session->status == "ended" || session->status == "refused") {
      co_return protocol::make_error_code(Error::session_ended);
    }
    session_id_ = session_id;
  } else if (record->expires_at <= issued_at) {
    co_return protocol::make_error_code(Error::code_expired);
  }
  code_hash_ = code_hash;
  welcome.support_code = code->digits();
  code_expires_at_ = record->expires_at;
  welcome.expires_at = protocol::format_time(record->expires_at);
  welcome.resumed = true;
  if (session_id_) {
    co_await context_.broker.attach_session(*session_id_, code_hash_);
    const auto session_id = *session_id_;
    const auto actor = "agent:" + hostname_;
    co_await context_.store.run([session_id, actor](Store& store) {
      note_on_open_session(store, session_id, actor, "agent.reconnected",
                           "Agent reconnected to S-" + std::to_string(session_id));
    });
  }
  co_return welcome;
}

asio::awaitable<void> AgentConnection::expiry_watch(
    std::chrono::system_clock::time_point expires_at) {
  auto self = shared_from_this();
  asio::steady_timer timer(strand_);
  timer.expires_after(std::max<std::chrono::system_clock::duration>(expires_at - now(), {}));
  auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (ec || closed_ || session_id_) co_return;
  spdlog::info("agent {}: support code expired unused", remote_);
  co_await close_with(Error::code_expired, "the support code expired before a technician joined");
}

asio::awaitable<void> AgentConnection::read_loop() {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    // A connection lives for days: one large message (an inventory, a snapshot) must not
    // keep its buffer for the rest of it.
    if (buffer.capacity() > kKeptReadBufferBytes) buffer.shrink_to_fit();
    auto [ec, size] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec == websocket::error::message_too_big) {
      co_await close_with(Error::message_too_large, "message over the size limit");
      co_return;
    }
    if (ec) {
      if (ec != websocket::error::closed && ec != asio::error::operation_aborted) {
        spdlog::info("agent {}: connection ended: {}", remote_, ec.message());
      }
      co_return;
    }
    if (!ws_.got_text()) {
      if (!close_request_) on_agent_frame(beast::buffers_to_string(buffer.data()));
      continue;
    }
    auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
    if (!parsed) {
      // A malformed message ends this peer only; the code says what was wrong.
      co_await close_with(static_cast<Error>(parsed.error().value()), parsed.error().message());
      continue;  // Keep reading: the close handshake completes through this reader.
    }
    if (close_request_) continue;  // Closing: drain until the peer acknowledges.
    co_await handle(std::move(*parsed));
  }
}

asio::awaitable<void> AgentConnection::handle(protocol::Message message) {
  if (on_agent_channel_message(message)) co_return;
  if (peer_) {
    if (auto* report = std::get_if<protocol::InventoryReport>(&message)) {
      co_await on_inventory(std::move(*report));
      co_return;
    }
    if (auto* renew = std::get_if<protocol::CertificateRenew>(&message)) {
      co_await on_certificate_renew(std::move(*renew));
      co_return;
    }
  }
  auto reply_id = std::visit(
      [](const auto& m) -> std::optional<std::string> {
        using T = std::decay_t<decltype(m)>;
        if constexpr (std::is_same_v<T, protocol::Consent> ||
                      std::is_same_v<T, protocol::DiagResult>) {
          return m.id;
        } else if constexpr (std::is_same_v<T, protocol::ErrorMessage>) {
          return m.id;
        } else {
          return std::nullopt;
        }
      },
      message);
  if (auto* error = std::get_if<protocol::ErrorMessage>(&message); error && !error->id) {
    // The agent could not use something the relay sent; it says so and carries on.
    spdlog::warn("agent {}: reported {}: {}", remote_, error->code, error->message);
    co_return;
  }
  if (reply_id) {
    auto it = pending_.find(*reply_id);
    if (it == pending_.end()) co_return;  // A late answer to a request that timed out.
    auto pending = it->second;
    pending_.erase(it);
    asio::post(pending->timer.get_executor(), [pending, m = std::move(message)]() mutable {
      pending->reply = std::move(m);
      pending->timer.cancel();
    });
    co_return;
  }
  if (auto* end = std::get_if<protocol::SessionEnd>(&message)) {
    if (!session_id_) co_return;
    const auto session_id = *session_id_;
    spdlog::info("agent {}: the user ended S-{}", remote_, session_id);
    const std::string by = end->by.empty() ? "the user" : end->by;
    const std::string reason = end->reason;
    const std::string actor = "agent:" + hostname_;
    co_await context_.store.run([session_id, by, reason, actor](Store& store) {
      auto session = store.find_session(session_id);
      if (!session || session->status == "ended") return;
      const auto at = now();
      store.end_session(session_id, at, "ended by " + by + " on the agent");
      TimelineEntry entry;
      entry.ticket_id = session->ticket_id;
      entry.session_id = session_id;
      entry.at = at;
      entry.actor = actor;
      entry.kind = "session.ended";
      entry.summary = "Session S-" + std::to_string(session_id) + " ended by " + by +
                      " on the user's PC" + (reason.empty() ? "" : ": " + reason);
      entry.detail = {{"by", by}, {"reason", reason}, {"from", "agent"}};
      // The agent is gone for new requests: the diff uses the snapshots the session has.
      if (auto diff = helpdesk::session_diff_entry(store, *session, actor, at)) {
        store.append_timeline(*diff);
      }
      store.append_timeline(entry);
    });
    co_await context_.broker.detach_session(session_id);
    close_channels(session_id, "the user ended the session");
    session_id_.reset();
    co_return;
  }
  co_await close_with(
      Error::unexpected_message,
      std::string("an agent may not send ") + std::string(protocol::type_name(message)) + " here");
}

asio::awaitable<void> AgentConnection::write_loop() {
  auto self = shared_from_this();
  writer_running_ = true;
  while (!closed_) {
    if (write_queue_.empty() && !close_request_) {
      write_signal_.expires_at(asio::steady_timer::time_point::max());
      co_await write_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    if (write_queue_.empty()) {
      co_await send_close(close_request_->first, close_request_->second);
      break;
    }
    auto item = write_queue_.pop();
    ws_.text(item->text);
    auto [ec, n] =
        co_await ws_.async_write(asio::buffer(item->bytes), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      closed_ = true;
      beast::get_lowest_layer(ws_).socket().close(ec);
    }
  }
  writer_running_ = false;
}

asio::awaitable<void> AgentConnection::close_with(Error error, std::string message) {
  if (close_request_ || closed_) co_return;
  spdlog::info("agent {}{}: closing: {} ({})", remote_,
               device_id_ > 0 ? " (" + device_number(device_id_) + ")" : std::string(),
               protocol::to_string(error), message);
  close_request_.emplace(error, message);
  if (writer_running_) {
    // The writer owns the stream's write side; it sends the error and the close frame after
    // whatever is queued, and the reader then sees the close.
    write_signal_.cancel();
    co_return;
  }
  co_await send_close(error, std::move(message));
}

asio::awaitable<void> AgentConnection::send_close(Error error, std::string message) {
  // The socket is closed in any case.
  co_await send_error_and_close(ws_, error, message);
  closed_ = true;
  beast::get_lowest_layer(ws_).close();
}

void AgentConnection::enqueue(std::string text) {
  if (closed_ || close_request_) return;
  write_queue_.push_control(std::move(text));
  write_signal_.cancel();
}

void AgentConnection::send(protocol::Message message) {
  asio::post(strand_, [self = shared_from_this(), m = std::move(message)]() {
    self->enqueue(protocol::encode(m));
  });
}

// A free coroutine holding the connection alive by parameter: capturing coroutine lambdas
// are miscompiled by GCC 12 when handed to co_spawn.
asio::awaitable<void> AgentConnection::close_owned(std::shared_ptr<AgentConnection> self,
                                                   Error error, std::string message) {
  co_await self->close_with(error, std::move(message));
}

void AgentConnection::close(Error error) {
  close(error, std::string(protocol::describe(error)));
}

void AgentConnection::close(Error error, std::string message) {
  asio::co_spawn(strand_, close_owned(shared_from_this(), error, std::move(message)),
                 asio::detached);
}

void AgentConnection::bind_session(std::int64_t session_id) {
  asio::post(strand_,
             [self = shared_from_this(), session_id]() { self->session_id_ = session_id; });
}

void AgentConnection::fail_pending() {
  for (auto& [id, pending] : pending_) {
    asio::post(pending->timer.get_executor(), [pending]() {
      pending->closed = true;
      pending->timer.cancel();
    });
  }
  pending_.clear();
}

asio::awaitable<protocol::Result<protocol::Message>> AgentConnection::request(
    protocol::Message message, std::string id, std::chrono::steady_clock::duration timeout) {
  auto self = shared_from_this();
  auto pending = std::make_shared<Pending>(co_await asio::this_coro::executor);
  pending->timer.expires_after(timeout);
  co_await run_on(strand_, [&]() {
    if (closed_) {
      pending->closed = true;
      return;
    }
    pending_[id] = pending;
    enqueue(protocol::encode(message));
  });
  // The reply is delivered by a handler posted to this coroutine's executor, so checking
  // before waiting cannot miss one that arrived in between.
  if (!pending->reply && !pending->closed) {
    co_await pending->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (pending->reply) co_return std::move(*pending->reply);
  co_await run_on(strand_, [&]() { pending_.erase(id); });
  if (pending->closed) co_return protocol::make_error_code(Error::agent_offline);
  co_return protocol::make_error_code(Error::agent_timeout);
}

// ------------------------------------------------------------------ channels

asio::awaitable<Error> AgentConnection::open_channel(std::shared_ptr<ChannelBridge> bridge,
                                                     protocol::ChannelOpen open) {
  auto self = shared_from_this();
  Error outcome = Error::ok;
  co_await run_on(strand_, [&]() {
    if (closed_ || close_request_) {
      outcome = Error::agent_offline;
      return;
    }
    if (channels_.size() >= protocol::kMaxChannelsPerConnection) {
      outcome = Error::rate_limited;
      return;
    }
    while (channels_.contains(next_channel_) || next_channel_ == 0) next_channel_ += 2;
    open.channel = next_channel_;
    next_channel_ += 2;
    bridge->agent_channel = open.channel;
    bridge->agent_may_send = open.window;
    channels_[open.channel] = bridge;
    write_queue_.push(open.channel, protocol::encode(open), true);
    write_signal_.cancel();
  });
  co_return outcome;
}

// Channel messages from the agent: its answer to a channel_open, and the traffic of open
// channels. Everything goes to the console side by post, so it arrives there in order with
// the frames. Returns false for messages that are not about a channel.
bool AgentConnection::on_agent_channel_message(protocol::Message& message) {
  std::uint32_t id = 0;
  if (auto* accept = std::get_if<protocol::ChannelAccept>(&message)) {
    id = accept->channel;
  } else if (auto* close = std::get_if<protocol::ChannelClose>(&message)) {
    id = close->channel;
  } else if (auto* control = std::get_if<protocol::ChannelControl>(&message)) {
    id = control->channel;
  } else {
    return false;
  }
  auto it = channels_.find(id);
  if (it == channels_.end()) return true;  // A channel closed from this side meanwhile.
  auto bridge = it->second;
  if (auto* accept = std::get_if<protocol::ChannelAccept>(&message)) {
    if (bridge->open) return true;  // A second accept means nothing.
    if (accept->window == 0 || accept->window > protocol::kMaxChannelWindow) {
      drop_channel(id, "the agent announced an invalid window", Error::channel_error);
      return true;
    }
    bridge->console_may_send = accept->window;
    bridge->open = true;
  } else if (std::holds_alternative<protocol::ChannelControl>(message) && !bridge->open) {
    return true;  // Control before the accept: ignored.
  } else if (std::holds_alternative<protocol::ChannelClose>(message)) {
    channels_.erase(it);
  }
  if (auto console = bridge->console.lock()) console->agent_message(std::move(message));
  return true;
}

void AgentConnection::on_agent_frame(std::string frame) {
  auto decoded =
      protocol::decode_frame({reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()});
  if (!decoded) {
    close(Error::channel_error);
    return;
  }
  auto it = channels_.find(decoded->channel);
  if (it == channels_.end() || !it->second->open) return;  // Closed meanwhile: dropped.
  auto bridge = it->second;
  if (decoded->kind == protocol::FrameKind::data) {
    if (decoded->payload.size() > bridge->agent_may_send) {
      drop_channel(decoded->channel, "the agent sent past its credit", Error::channel_error);
      return;
    }
    bridge->agent_may_send -= decoded->payload.size();
  } else if (decoded->kind == protocol::FrameKind::credit) {
    bridge->console_may_send += decoded->credit;
    if (bridge->console_may_send > protocol::kMaxChannelWindow * 2ULL) {
      drop_channel(decoded->channel, "the agent granted more credit than a window",
                   Error::channel_error);
      return;
    }
  }
  if (auto console = bridge->console.lock()) console->deliver(std::move(frame));
}

void AgentConnection::from_console(std::shared_ptr<ChannelBridge> bridge, std::string frame) {
  asio::post(strand_, [self = shared_from_this(), bridge = std::move(bridge),
                       frame = std::move(frame)]() mutable {
    if (self->closed_ || !bridge->open || !self->channels_.contains(bridge->agent_channel)) return;
    auto decoded =
        protocol::decode_frame({reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()});
    if (!decoded) return;  // The console side decoded it already.
    if (decoded->kind == protocol::FrameKind::data) {
      if (decoded->payload.size() > bridge->console_may_send) {
        self->drop_channel(bridge->agent_channel, "the technician sent past the agent's credit",
                           Error::channel_error);
        return;
      }
      bridge->console_may_send -= decoded->payload.size();
    } else if (decoded->kind == protocol::FrameKind::credit) {
      bridge->agent_may_send += decoded->credit;
      if (bridge->agent_may_send > protocol::kMaxChannelWindow * 2ULL) {
        self->drop_channel(bridge->agent_channel, "the technician granted more than a window",
                           Error::channel_error);
        return;
      }
    }
    protocol::set_frame_channel(frame, bridge->agent_channel);
    self->write_queue_.push(bridge->agent_channel, std::move(frame));
    self->write_signal_.cancel();
  });
}

void AgentConnection::from_console(std::shared_ptr<ChannelBridge> bridge,
                                   protocol::Message message) {
  asio::post(strand_, [self = shared_from_this(), bridge = std::move(bridge),
                       message = std::move(message)]() mutable {
    if (self->closed_ || !self->channels_.contains(bridge->agent_channel)) return;
    const auto id = bridge->agent_channel;
    if (auto* control = std::get_if<protocol::ChannelControl>(&message)) {
      control->channel = id;
    } else if (auto* close = std::get_if<protocol::ChannelClose>(&message)) {
      close->channel = id;
      self->channels_.erase(id);
    } else {
      return;
    }
    if (self->close_request_) return;
    self->write_queue_.push(id, protocol::encode(message), true);
    self->write_signal_.cancel();
  });
}

void AgentConnection::close_channels(std::int64_t session_id, std::string reason) {
  asio::post(strand_, [self = shared_from_this(), session_id, reason = std::move(reason)]() {
    std::vector<std::uint32_t> ids;
    for (const auto& [id, bridge] : self->channels_) {
      if (bridge->session_id == session_id) ids.push_back(id);
    }
    for (auto id : ids) self->drop_channel(id, reason, Error::session_ended);
  });
}

// Closes a channel on both sides: the agent is told with channel_close, the console with
// the same reason and code. Runs on the strand.
void AgentConnection::drop_channel(std::uint32_t id, std::string reason, Error code) {
  auto it = channels_.find(id);
  if (it == channels_.end()) return;
  auto bridge = it->second;
  channels_.erase(it);
  write_queue_.drop(id);
  protocol::ChannelClose close{id, reason, std::string(protocol::to_string(code)),
                               nlohmann::json::object()};
  if (!closed_ && !close_request_) {
    write_queue_.push(id, protocol::encode(close), true);
    write_signal_.cancel();
  }
  if (auto console = bridge->console.lock()) console->agent_gone(std::move(reason), code);
}

}  // namespace tether::relay
