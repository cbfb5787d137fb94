#include "broker/console_channel.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "broker/agent_connection.hpp"
#include "broker/channel_records.hpp"
#include "broker/session_broker.hpp"
#include "broker/shell_recorder.hpp"
#include "net/server_websocket.hpp"
#include "relay_context.hpp"
#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/frame.hpp"
#include "tether/protocol/limits.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using protocol::Error;
using json = nlohmann::json;

namespace {

// The console numbers its one channel 1 (it opens with odd ids, starting at 1).
constexpr std::uint32_t kConsoleChannelId = 1;
// Largest text message from a console: a channel_open with its params, a control message.
constexpr std::size_t kMaxConsoleMessageBytes = 256 * 1024;

protocol::ChannelClose close_message(std::string reason, std::optional<Error> code,
                                     json result = json::object()) {
  protocol::ChannelClose close;
  close.channel = kConsoleChannelId;
  close.reason = std::move(reason);
  if (code) close.code = std::string(protocol::to_string(*code));
  close.result = std::move(result);
  return close;
}

}  // namespace

std::string scope_for_kind(std::string_view kind) {
  if (kind == "shell" || kind == "exec") return "shell";
  if (kind == "file.put" || kind == "file.get") return "files";
  if (kind == "ps" || kind == "kill" || kind == "services" || kind == "service") {
    return "processes";
  }
  if (kind == "logs") return "logs";
  return {};
}

ConsoleChannel::ConsoleChannel(protocol::WsStream ws, RelayContext& context, std::string remote,
                               User user, SessionRecord session)
    : ws_(std::move(ws)),
      context_(context),
      remote_(std::move(remote)),
      user_(std::move(user)),
      session_(std::move(session)),
      strand_(ws_.get_executor()),
      write_signal_(strand_),
      writer_finished_(strand_),
      answer_(strand_) {}

ConsoleChannel::~ConsoleChannel() = default;

asio::awaitable<void> ConsoleChannel::run(beast::http::request<beast::http::string_body> upgrade) {
  auto self = shared_from_this();
  try {
    if (co_await accept(upgrade)) {
      asio::co_spawn(strand_, write_loop(), asio::detached);
      if (co_await read_open()) co_await pump();
    }
  } catch (const std::exception& e) {
    spdlog::warn("console {}: channel closed after an unexpected error: {}", remote_, e.what());
  }
  if (writer_running_) {
    // Let the writer deliver what is queued (a refusal, the final close), for a few seconds.
    finished_ = true;
    write_signal_.cancel();
    writer_finished_.expires_after(std::chrono::seconds(5));
    co_await writer_finished_.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  closed_ = true;
  write_signal_.cancel();
  if (bridge_ && agent_ && !outcome_) {
    // The technician vanished mid-action: the agent stops what it was doing.
    agent_->from_console(bridge_, protocol::ChannelClose{0, "the technician disconnected",
                                                         std::nullopt, json::object()});
    outcome_ = close_message("the technician's connection was lost", std::nullopt);
    outcome_->code = "interrupted";
  }
  if (recorder_ && outcome_ && !outcome_->result.contains("recording")) {
    recorder_->finish();
    outcome_->result["recording"] = recorder_->name();
  }
  if (open_ && outcome_ && !recorded_) {
    try {
      co_await record(*open_, *outcome_, false);
    } catch (const std::exception& e) {
      spdlog::error("console {}: could not record the channel on the ticket: {}", remote_,
                    e.what());
    }
  }
}

asio::awaitable<bool> ConsoleChannel::accept(
    beast::http::request<beast::http::string_body>& upgrade) {
  set_websocket_timeouts(ws_, context_.config);
  ws_.read_message_max(std::max(kMaxConsoleMessageBytes, protocol::kMaxChannelFrameBytes));
  ws_.auto_fragment(false);
  co_await ws_.async_accept(upgrade, asio::use_awaitable);
  co_return true;
}

asio::awaitable<std::optional<protocol::ChannelOpen>> ConsoleChannel::read_open() {
  beast::flat_buffer buffer;
  const auto first = co_await read_first_message(ws_, strand_, context_.config, buffer);
  if (first.error) co_return std::nullopt;
  auto refuse = [&](Error code, std::string reason) {
    finish(close_message(std::move(reason), code));
  };
  if (!ws_.got_text()) {
    refuse(Error::unexpected_message, "open a channel first");
    co_return std::nullopt;
  }
  auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
  auto* open = parsed ? std::get_if<protocol::ChannelOpen>(&*parsed) : nullptr;
  if (open == nullptr) {
    refuse(parsed ? Error::unexpected_message : static_cast<Error>(parsed.error().value()),
           "the first message must be a valid channel_open");
    co_return std::nullopt;
  }
  const auto session_number = "S-" + std::to_string(session_.id);
  if (open->channel != kConsoleChannelId || open->session != session_number || open->window == 0 ||
      open->window > protocol::kMaxChannelWindow) {
    refuse(Error::bad_message,
           "channel_open must use channel 1, this session and a window of 1 "
           "byte to 16 MiB");
    co_return std::nullopt;
  }
  const auto scope = scope_for_kind(open->kind);
  if (scope.empty()) {
    refuse(Error::bad_request, "no such tool: " + open->kind.substr(0, 64));
    co_return std::nullopt;
  }
  bool granted = false;
  if (session_.consent.is_object()) {
    for (const auto& s : session_.consent.value("scopes", json::array())) {
      if (s.is_string() && s.get<std::string>() == scope) granted = true;
    }
  }
  if (!granted) {
    // Refused here without asking the agent: the user's answer is already on record.
    const auto close =
        close_message("not permitted by the user", Error::forbidden, {{"scope", scope}});
    co_await record(*open, close, true);
    finish(close);
    co_return std::nullopt;
  }
  agent_ = co_await context_.broker.agent_for_session(session_.id);
  if (!agent_) {
    refuse(Error::agent_offline, "the agent of " + session_number + " is not connected");
    co_return std::nullopt;
  }
  bridge_ = std::make_shared<ChannelBridge>();
  bridge_->console = weak_from_this();
  bridge_->session_id = session_.id;
  bridge_->kind = open->kind;
  open_ = *open;
  started_ = std::chrono::steady_clock::now();
  protocol::ChannelOpen to_agent = *open;
  to_agent.channel = 0;  // The agent connection numbers it.
  const auto sent = co_await agent_->open_channel(bridge_, to_agent);
  if (sent != Error::ok) {
    const auto close = close_message(std::string(protocol::describe(sent)), sent);
    co_await record(*open, close, false);
    recorded_ = true;
    finish(close);
    co_return std::nullopt;
  }
  // The answer comes through agent_message, which forwards the accept to the console before
  // any frame of the channel.
  answer_.expires_after(context_.config.agent_request_timeout);
  if (!answered_) co_await answer_.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!answered_) {
    answered_ = true;
    agent_->from_console(
        bridge_, protocol::ChannelClose{0, "no answer in time", "agent_timeout", json::object()});
    const auto close = close_message("the agent did not answer in time", Error::agent_timeout);
    co_await record(*open, close, false);
    recorded_ = true;
    finish(close);
    co_return std::nullopt;
  }
  if (refused_) {
    // The refusal is being recorded on the ticket; its close is queued once that is done.
    answer_.expires_after(std::chrono::seconds(5));
    if (!finished_) co_await answer_.async_wait(asio::as_tuple(asio::use_awaitable));
    co_return std::nullopt;
  }
  co_return *open;
}

void ConsoleChannel::start_recording() {
  if (!open_ || open_->kind != "shell") return;
  const auto session_number = "S-" + std::to_string(session_.id);
  try {
    const auto cols = open_->params.value("cols", 80u);
    const auto rows = open_->params.value("rows", 24u);
    recorder_ = std::make_unique<ShellRecorder>(
        context_.config.data_dir / "recordings", session_.id, cols, rows,
        open_->params.value("term", std::string("xterm-256color")),
        session_number + " shell by " + user_.name);
  } catch (const std::exception& e) {
    spdlog::error("{}: cannot record the shell: {}", session_number, e.what());
  }
}

asio::awaitable<void> ConsoleChannel::pump() {
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, size] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    if (finished_) continue;  // Closing: drain until the console acknowledges.
    if (!ws_.got_text()) {
      auto frame = beast::buffers_to_string(buffer.data());
      auto decoded = protocol::decode_frame(
          {reinterpret_cast<const std::uint8_t*>(frame.data()), frame.size()});
      if (!decoded || decoded->channel != kConsoleChannelId) {
        agent_->from_console(bridge_, protocol::ChannelClose{0, "bad frame from the technician",
                                                             "channel_error", json::object()});
        finish(close_message("bad channel frame", Error::channel_error));
        continue;
      }
      if (decoded->kind == protocol::FrameKind::data)
        bytes_from_console_ += decoded->payload.size();
      agent_->from_console(bridge_, std::move(frame));
      continue;
    }
    auto parsed = protocol::parse_message(beast::buffers_to_string(buffer.data()));
    if (!parsed) {
      agent_->from_console(bridge_, protocol::ChannelClose{0, "bad message from the technician",
                                                           "bad_message", json::object()});
      finish(close_message("bad message", static_cast<Error>(parsed.error().value())));
      continue;
    }
    if (auto* control = std::get_if<protocol::ChannelControl>(&*parsed)) {
      if (recorder_ && control->control.contains("resize")) {
        // Recorded only when the agent would accept it too: 1 to 1000 columns and rows.
        const auto& r = control->control["resize"];
        auto dimension = [&](const char* key) -> std::uint32_t {
          auto it = r.find(key);
          if (it == r.end() || !it->is_number_integer()) return 0;
          const auto v = it->get<std::int64_t>();
          return v >= 1 && v <= 1000 ? static_cast<std::uint32_t>(v) : 0;
        };
        if (r.is_object() && dimension("cols") && dimension("rows")) {
          recorder_->resize(dimension("cols"), dimension("rows"));
        }
      }
      agent_->from_console(bridge_, std::move(*parsed));
    } else if (auto* close = std::get_if<protocol::ChannelClose>(&*parsed)) {
      // The technician stopped (Ctrl-C, a failed local write): the agent stops too.
      auto reason =
          close->reason.empty() ? std::string("stopped by the technician") : close->reason;
      agent_->from_console(bridge_, std::move(*parsed));
      auto outcome = close_message(reason, std::nullopt);
      outcome.code = "interrupted";
      if (recorder_) {
        recorder_->finish();
        outcome.result["recording"] = recorder_->name();
      }
      outcome_ = outcome;
      finished_ = true;
      write_signal_.cancel();
    } else {
      agent_->from_console(bridge_, protocol::ChannelClose{0,
                                                           "unexpected message from the "
                                                           "technician",
                                                           "unexpected_message", json::object()});
      finish(close_message("only channel_control and channel_close may follow channel_open",
                           Error::unexpected_message));
    }
  }
}

void ConsoleChannel::deliver(std::string frame) {
  asio::post(strand_, [self = shared_from_this(), frame = std::move(frame)]() mutable {
    if (self->closed_ || self->finished_) return;
    protocol::set_frame_channel(frame, kConsoleChannelId);
    if (!frame.empty() && frame[0] == static_cast<char>(protocol::FrameKind::data)) {
      const auto payload = std::string_view(frame).substr(protocol::kFrameHeaderBytes);
      self->bytes_to_console_ += payload.size();
      if (self->recorder_) self->recorder_->output(payload);
    }
    self->enqueue(std::move(frame), false);
  });
}

void ConsoleChannel::agent_message(protocol::Message message) {
  asio::post(strand_, [self = shared_from_this(), message = std::move(message)]() mutable {
    if (self->closed_ || self->finished_) return;
    if (auto* accept = std::get_if<protocol::ChannelAccept>(&message)) {
      if (self->answered_) return;
      self->answered_ = true;
      self->answer_.cancel();
      self->start_recording();
      accept->channel = kConsoleChannelId;
      self->enqueue(protocol::encode(message), true);
    } else if (auto* control = std::get_if<protocol::ChannelControl>(&message)) {
      control->channel = kConsoleChannelId;
      self->enqueue(protocol::encode(message), true);
    } else if (auto* close = std::get_if<protocol::ChannelClose>(&message)) {
      if (!self->answered_) {
        self->answered_ = true;
        self->refused_ = true;
        self->answer_.cancel();
      }
      close->channel = kConsoleChannelId;
      if (self->recorder_) {
        self->recorder_->finish();
        close->result["recording"] = self->recorder_->name();
        if (self->recorder_->truncated()) close->result["recording_truncated"] = true;
      }
      self->record_then_finish(std::move(*close));
    }
  });
}

void ConsoleChannel::agent_gone(std::string reason, Error code) {
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason), code]() mutable {
    if (self->closed_ || self->finished_) return;
    if (!self->answered_) {
      self->answered_ = true;
      self->refused_ = true;
      self->answer_.cancel();
    }
    auto close = close_message(std::move(reason), code);
    if (self->recorder_) {
      self->recorder_->finish();
      close.result["recording"] = self->recorder_->name();
    }
    self->record_then_finish(std::move(close));
  });
}

void ConsoleChannel::record_then_finish(protocol::ChannelClose close) {
  if (finished_ || recorded_) return;
  recorded_ = true;  // From here on nothing else is recorded for this channel.
  asio::co_spawn(strand_, record_then_finish_owned(shared_from_this(), std::move(close)),
                 asio::detached);
}

asio::awaitable<void> ConsoleChannel::record_then_finish_owned(std::shared_ptr<ConsoleChannel> self,
                                                               protocol::ChannelClose close) {
  if (!self->outcome_) self->outcome_ = close;
  if (self->open_) {
    try {
      co_await self->record(*self->open_, close, false);
    } catch (const std::exception& e) {
      spdlog::error("console {}: could not record the channel on the ticket: {}", self->remote_,
                    e.what());
    }
  }
  self->finish(std::move(close));
}

// Queues the channel_close for the console and ends the channel: the writer sends it after
// what is queued, then closes the WebSocket.
void ConsoleChannel::finish(protocol::ChannelClose close) {
  if (finished_) return;
  close.channel = kConsoleChannelId;
  if (!outcome_) outcome_ = close;
  enqueue(protocol::encode(close), true);
  finished_ = true;
  write_signal_.cancel();
  answer_.cancel();
}

void ConsoleChannel::enqueue(std::string bytes, bool text) {
  if (closed_) return;
  write_queue_.emplace_back(std::move(bytes), text);
  write_signal_.cancel();
}

asio::awaitable<void> ConsoleChannel::write_loop() {
  auto self = shared_from_this();
  writer_running_ = true;
  struct Done {
    ConsoleChannel& channel;
    ~Done() {
      channel.writer_running_ = false;
      channel.writer_finished_.cancel();
    }
  } done{*this};
  while (!closed_) {
    if (write_queue_.empty()) {
      if (finished_) break;
      write_signal_.expires_at(asio::steady_timer::time_point::max());
      co_await write_signal_.async_wait(asio::as_tuple(asio::use_awaitable));
      continue;
    }
    auto [bytes, text] = std::move(write_queue_.front());
    write_queue_.pop_front();
    ws_.text(text);
    auto [ec, n] =
        co_await ws_.async_write(asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      closed_ = true;
      beast::get_lowest_layer(ws_).socket().close(ec);
      co_return;
    }
  }
  if (!closed_) {
    auto [ec] = co_await ws_.async_close(websocket::close_code::normal,
                                         asio::as_tuple(asio::use_awaitable));
    (void)ec;
    beast::get_lowest_layer(ws_).close();
  }
}

asio::awaitable<void> ConsoleChannel::record(const protocol::ChannelOpen& open,
                                             const protocol::ChannelClose& outcome, bool refused) {
  (void)refused;
  const auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(
      started_.time_since_epoch().count() == 0 ? std::chrono::steady_clock::duration{}
                                               : std::chrono::steady_clock::now() - started_);
  auto record =
      describe_channel(user_.name, open, outcome, duration, bytes_to_console_, bytes_from_console_);
  TimelineEntry entry;
  entry.ticket_id = session_.ticket_id;
  entry.session_id = session_.id;
  entry.at = now();
  entry.actor = user_.name;
  entry.kind = std::move(record.kind);
  entry.summary = std::move(record.summary);
  entry.detail = std::move(record.detail);
  co_await context_.store.run([entry](Store& store) { store.append_timeline(entry); });
}

}  // namespace tether::relay
