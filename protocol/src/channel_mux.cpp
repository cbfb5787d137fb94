#include "tether/protocol/channel_mux.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <cstdlib>

#include "tether/protocol/frame.hpp"

namespace tether::protocol {

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

// Waits on `timer` until it is cancelled (the state it guards changed).
asio::awaitable<void> wait_for_signal(asio::steady_timer& timer) {
  timer.expires_at(asio::steady_timer::time_point::max());
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

}  // namespace

// ---------------------------------------------------------------- Channel

Channel::Channel(std::shared_ptr<ChannelMux> mux, std::uint32_t id, ChannelOpen open,
                 std::uint32_t send_window, std::uint32_t receive_window)
    : mux_(std::move(mux)),
      id_(id),
      open_(std::move(open)),
      send_(send_window),
      receive_(receive_window),
      readable_(mux_->ws().get_executor()),
      writable_(mux_->ws().get_executor()),
      closed_signal_(mux_->ws().get_executor()) {}

asio::awaitable<bool> Channel::write(std::string_view bytes) {
  while (!bytes.empty()) {
    while (!closed_ && send_.available() == 0) co_await wait_for_signal(writable_);
    if (closed_ || eof_sent_) co_return false;
    const auto n =
        static_cast<std::size_t>(send_.allowance(std::min(bytes.size(), kMaxFramePayload)));
    send_.consume(n);
    mux_->queue(id_, encode_data_frame(id_, bytes.substr(0, n)), false);
    bytes.remove_prefix(n);
  }
  co_return true;
}

asio::awaitable<bool> Channel::write_frame(std::string_view bytes) {
  if (bytes.size() > kMaxFramePayload) {
    std::fputs("tether: write_frame over the frame payload limit\n", stderr);
    std::abort();
  }
  while (!closed_ && send_.available() < bytes.size()) co_await wait_for_signal(writable_);
  if (closed_ || eof_sent_) co_return false;
  send_.consume(bytes.size());
  mux_->queue(id_, encode_data_frame(id_, bytes), false);
  co_return true;
}

asio::awaitable<std::optional<std::string>> Channel::read() {
  while (inbox_.empty() && !eof_received_ && !closed_) co_await wait_for_signal(readable_);
  if (inbox_.empty()) co_return std::nullopt;
  auto [frame, offset] = std::move(inbox_.front());
  inbox_.pop_front();
  std::string payload = frame.substr(offset);
  if (!closed_) {
    if (auto grant = receive_.on_consumed(payload.size())) {
      mux_->queue(id_, encode_credit_frame(id_, *grant), false);
    }
  }
  co_return payload;
}

void Channel::send_eof() {
  if (closed_ || eof_sent_) return;
  eof_sent_ = true;
  mux_->queue(id_, encode_eof_frame(id_), false);
}

void Channel::send_control(nlohmann::json control) {
  if (closed_) return;
  mux_->queue(id_, encode(ChannelControl{id_, std::move(control)}), true);
}

void Channel::close(std::string reason, nlohmann::json result, std::optional<Error> code) {
  if (closed_) return;
  ChannelClose message;
  message.channel = id_;
  message.reason = std::move(reason);
  if (code) message.code = std::string(to_string(*code));
  message.result = std::move(result);
  mux_->queue(id_, encode(message), true);
  on_closed(std::nullopt);
}

asio::awaitable<std::optional<ChannelClose>> Channel::wait_closed() {
  while (!closed_) co_await wait_for_signal(closed_signal_);
  co_return peer_close_;
}

void Channel::deliver(std::string frame_bytes, std::size_t payload_offset) {
  inbox_.emplace_back(std::move(frame_bytes), payload_offset);
  readable_.cancel();
}

void Channel::on_credit(std::uint32_t increment) {
  if (!send_.grant(increment)) {
    close("credit overflow", {}, Error::channel_error);
    return;
  }
  writable_.cancel();
}

void Channel::on_eof() {
  eof_received_ = true;
  readable_.cancel();
}

void Channel::on_closed(std::optional<ChannelClose> by_peer) {
  if (closed_) return;
  closed_ = true;
  peer_close_ = std::move(by_peer);
  readable_.cancel();
  writable_.cancel();
  closed_signal_.cancel();
  // Data already received stays readable. Forgetting the channel breaks the cycle between
  // mux and channel; callers hold their own reference while this runs.
  mux_->forget(id_);
}

// ---------------------------------------------------------------- ChannelMux

ChannelMux::~ChannelMux() = default;

void ChannelMux::queue(std::uint32_t channel, std::string bytes, bool text) {
  if (closed_ || closing_) return;
  if (channel == 0) {
    queue_.push_control(std::move(bytes));
  } else {
    queue_.push(channel, std::move(bytes), text);
  }
  signal_.cancel();
}

void ChannelMux::send(const Message& message) {
  queue(0, encode(message), true);
}

void ChannelMux::forget(std::uint32_t channel) {
  channels_.erase(channel);
}

asio::awaitable<void> ChannelMux::write_loop() {
  auto self = shared_from_this();
  writer_running_ = true;
  while (!closed_) {
    auto item = queue_.pop();
    if (!item) {
      if (closing_) break;
      co_await wait_for_signal(signal_);
      continue;
    }
    ws_.text(item->text);
    auto [ec, n] =
        co_await ws_.async_write(asio::buffer(item->bytes), asio::as_tuple(asio::use_awaitable));
    if (ec) closed_ = true;
  }
  if (!closed_) {
    closed_ = true;
    co_await ws_.async_close(beast::websocket::close_code::normal,
                             asio::as_tuple(asio::use_awaitable));
  }
  writer_running_ = false;
  finished_.cancel();
}

asio::awaitable<void> ChannelMux::close() {
  auto self = shared_from_this();
  if (!writer_running_) {
    closed_ = true;
    co_return;
  }
  closing_ = true;
  signal_.cancel();
  finished_.expires_after(std::chrono::seconds(3));
  co_await finished_.async_wait(asio::as_tuple(asio::use_awaitable));
}

void ChannelMux::close_all_channels(const std::string& reason, std::optional<Error> code) {
  auto channels = channels_;  // on_closed erases from the map.
  for (auto& [id, channel] : channels) {
    ChannelClose message;
    message.channel = id;
    message.reason = reason;
    if (code) message.code = std::string(to_string(*code));
    channel->on_closed(message);
  }
  for (auto& [id, opening] : opening_) {
    opening->answered = true;
    opening->timer.cancel();
  }
}

asio::awaitable<Result<Message>> ChannelMux::next_message() {
  auto self = shared_from_this();
  beast::flat_buffer buffer;
  for (;;) {
    buffer.clear();
    auto [ec, size] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      closed_ = true;
      signal_.cancel();
      close_all_channels("the connection was lost", Error::agent_offline);
      co_return ec;
    }
    if (!ws_.got_text()) {
      on_frame(beast::buffers_to_string(buffer.data()));
      continue;
    }
    auto message = parse_message(beast::buffers_to_string(buffer.data()));
    if (!message) co_return message.error();
    if (on_channel_message(*message)) continue;
    co_return std::move(*message);
  }
}

void ChannelMux::on_frame(std::string bytes) {
  auto frame = decode_frame({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (!frame) return;  // The relay validates frames; a bad one here is dropped.
  auto it = channels_.find(frame->channel);
  // Frames for a channel this end already closed may still be in flight: drop them.
  if (it == channels_.end()) return;
  auto holder = it->second;  // close() below makes the mux forget the channel.
  auto& channel = *holder;
  switch (frame->kind) {
    case FrameKind::data:
      if (!channel.receive_.on_data(frame->payload.size())) {
        channel.close("the peer sent past its credit", {}, Error::channel_error);
        return;
      }
      if (!frame->payload.empty()) channel.deliver(std::move(bytes), kFrameHeaderBytes);
      return;
    case FrameKind::credit:
      channel.on_credit(frame->credit);
      return;
    case FrameKind::eof:
      channel.on_eof();
      return;
  }
}

bool ChannelMux::on_channel_message(Message& message) {
  if (auto* accept = std::get_if<ChannelAccept>(&message)) {
    auto it = opening_.find(accept->channel);
    if (it == opening_.end()) return true;
    auto opening = it->second;
    opening_.erase(it);
    auto& channel = opening->channel;
    channel->accept_params_ = accept->params;
    channel->send_ = SendWindow(accept->window);
    channels_[accept->channel] = channel;
    opening->answered = true;
    opening->timer.cancel();
    return true;
  }
  if (auto* close = std::get_if<ChannelClose>(&message)) {
    if (auto it = opening_.find(close->channel); it != opening_.end()) {
      auto opening = it->second;
      opening_.erase(it);
      opening->refusal = *close;
      opening->answered = true;
      opening->timer.cancel();
      return true;
    }
    if (auto it = channels_.find(close->channel); it != channels_.end()) {
      auto channel = it->second;
      channel->on_closed(*close);
    }
    return true;
  }
  if (auto* control = std::get_if<ChannelControl>(&message)) {
    if (auto it = channels_.find(control->channel); it != channels_.end()) {
      auto channel = it->second;
      if (channel->on_control) channel->on_control(control->control);
    }
    return true;
  }
  return false;
}

Result<std::shared_ptr<Channel>> ChannelMux::accept(const ChannelOpen& open,
                                                    std::uint32_t receive_window,
                                                    nlohmann::json params) {
  const bool ours_are_odd = (next_id_ % 2) == 1;
  if (open.channel == 0 || ((open.channel % 2) == 1) == ours_are_odd ||
      channels_.contains(open.channel) || channels_.size() >= kMaxChannelsPerConnection) {
    return make_error_code(Error::channel_error);
  }
  auto channel = std::make_shared<Channel>(shared_from_this(), open.channel, open, open.window,
                                           receive_window);
  channels_[open.channel] = channel;
  queue(open.channel, encode(ChannelAccept{open.channel, receive_window, std::move(params)}), true);
  return channel;
}

void ChannelMux::refuse(const ChannelOpen& open, Error code, std::string reason) {
  ChannelClose message;
  message.channel = open.channel;
  message.reason = std::move(reason);
  message.code = std::string(to_string(code));
  queue(open.channel, encode(message), true);
}

asio::awaitable<Result<std::shared_ptr<Channel>>> ChannelMux::open(
    std::string kind, std::string session, nlohmann::json params, std::uint32_t receive_window,
    std::chrono::steady_clock::duration timeout, std::optional<ChannelClose>* refused) {
  auto self = shared_from_this();
  if (closed_ || channels_.size() + opening_.size() >= kMaxChannelsPerConnection) {
    co_return make_error_code(closed_ ? Error::agent_offline : Error::channel_error);
  }
  while (channels_.contains(next_id_) || opening_.contains(next_id_)) next_id_ += 2;
  const auto id = next_id_;
  next_id_ += 2;
  ChannelOpen message{id, std::move(session), std::move(kind), receive_window, std::move(params)};
  auto opening = std::make_shared<Opening>(ws_.get_executor());
  // Until the accept names the peer's window, this side may send nothing.
  opening->channel = std::make_shared<Channel>(self, id, message, 0, receive_window);
  opening_[id] = opening;
  queue(0, encode(message), true);
  opening->timer.expires_after(timeout);
  if (!opening->answered) {
    co_await opening->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  opening_.erase(id);
  if (opening->refusal) {
    if (refused) *refused = opening->refusal;
    co_return make_error_code(opening->refusal->code ? error_from_string(*opening->refusal->code)
                                                     : Error::channel_error);
  }
  if (!opening->answered) co_return make_error_code(Error::agent_timeout);
  if (closed_) co_return make_error_code(Error::agent_offline);
  co_return opening->channel;
}

}  // namespace tether::protocol
