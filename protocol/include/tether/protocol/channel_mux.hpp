#pragma once
/// Channels over one WebSocket, for the ends of a tunnel: the agent (many channels on its one
/// relay connection) and the console (one channel per command). SPEC.md §4.
///
/// `ChannelMux` owns the connection's writer (a FairQueue drained by write_loop, never two
/// writes in flight) and its reader (next_message, which delivers frames and channel_*
/// messages to their channels and returns every other control message to the caller).
/// `Channel` is one open channel with credit-based flow control in both directions: write()
/// waits for credit, read() hands out received data and grants credit back as it is consumed.
///
/// Everything runs on one thread: the executor of the WebSocket (the agent's main
/// io_context, the console's io_context). Not thread-safe.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/fair_queue.hpp"
#include "tether/protocol/flow_control.hpp"
#include "tether/protocol/message.hpp"

namespace tether::protocol {

/// Largest receive window either end may announce; the relay refuses more. 16 MiB covers
/// the bandwidth × delay of a 50 ms link at over 300 MB/s.
inline constexpr std::uint32_t kMaxChannelWindow = 16 * 1024 * 1024;
/// Window for bulk channels (files): one transfer is not capped by round-trip time.
inline constexpr std::uint32_t kBulkChannelWindow = kMaxChannelWindow;
/// Window for interactive channels (shell, commands, listings).
inline constexpr std::uint32_t kInteractiveChannelWindow = 1024 * 1024;

class ChannelMux;

class Channel {
 public:
  Channel(std::shared_ptr<ChannelMux> mux, std::uint32_t id, ChannelOpen open,
          std::uint32_t send_window, std::uint32_t receive_window);

  std::uint32_t id() const { return id_; }
  const ChannelOpen& open_message() const { return open_; }
  const std::string& kind() const { return open_.kind; }
  const nlohmann::json& params() const { return open_.params; }
  /// The acceptor's params (channel_accept), on the side that opened the channel.
  const nlohmann::json& accept_params() const { return accept_params_; }

  /// Sends `bytes` as data frames, waiting for credit as needed. Returns false when the
  /// channel closed before everything was queued.
  boost::asio::awaitable<bool> write(std::string_view bytes);
  /// Sends `bytes` (at most kMaxFramePayload) as exactly one data frame, waiting until the
  /// peer's credit covers all of it: for messages whose frame boundaries matter (a stream tag
  /// in front of command output). Returns false when the channel closed first.
  boost::asio::awaitable<bool> write_frame(std::string_view bytes);
  /// The next piece of received data; nothing once the peer sent eof or the channel closed.
  /// Consuming data grants credit back to the peer.
  boost::asio::awaitable<std::optional<std::string>> read();
  /// No more data from this side.
  void send_eof();
  /// Sends a channel_control message (a resize, a signal).
  void send_control(nlohmann::json control);
  /// Called for each channel_control from the peer (set before reading).
  std::function<void(const nlohmann::json&)> on_control;

  /// Closes the channel from this side with a reason, a result and, for a failure, an error
  /// code. Idempotent; frames already queued are still sent before the close.
  void close(std::string reason, nlohmann::json result = nlohmann::json::object(),
             std::optional<Error> code = std::nullopt);
  /// Waits until the channel is closed by either side; returns the peer's channel_close
  /// when the peer closed it.
  boost::asio::awaitable<std::optional<ChannelClose>> wait_closed();

  bool closed() const { return closed_; }
  bool eof_received() const { return eof_received_; }
  /// The peer's channel_close, once it arrived.
  const std::optional<ChannelClose>& peer_close() const { return peer_close_; }
  /// Bytes the peer may still receive before granting more credit.
  std::uint64_t send_credit() const { return send_.available(); }

 private:
  friend class ChannelMux;
  void deliver(std::string frame_bytes, std::size_t payload_offset);
  void on_credit(std::uint32_t increment);
  void on_eof();
  void on_closed(std::optional<ChannelClose> by_peer);

  std::shared_ptr<ChannelMux> mux_;  // Released when the channel closes (breaks the cycle).
  std::uint32_t id_;
  ChannelOpen open_;
  nlohmann::json accept_params_ = nlohmann::json::object();
  SendWindow send_;
  ReceiveWindow receive_;
  std::deque<std::pair<std::string, std::size_t>> inbox_;  // frames and their payload offset
  boost::asio::steady_timer readable_;
  boost::asio::steady_timer writable_;
  boost::asio::steady_timer closed_signal_;
  bool eof_sent_ = false;
  bool eof_received_ = false;
  bool closed_ = false;
  std::optional<ChannelClose> peer_close_;
};

class ChannelMux : public std::enable_shared_from_this<ChannelMux> {
 public:
  /// `odd_ids`: this end numbers the channels it opens with odd ids (relay side and console),
  /// else even (agent). The mux owns the WebSocket, built from `args` (connect it with ws()).
  template <class... Args>
  explicit ChannelMux(bool odd_ids, Args&&... args)
      : ws_(std::forward<Args>(args)...),
        signal_(ws_.get_executor()),
        finished_(ws_.get_executor()),
        next_id_(odd_ids ? 1 : 2) {}
  ~ChannelMux();
  ChannelMux(const ChannelMux&) = delete;
  ChannelMux& operator=(const ChannelMux&) = delete;

  /// Writes queued messages until close() drained the queue or the connection failed; then
  /// sends a normal WebSocket close. Start it once, right after the handshake.
  boost::asio::awaitable<void> write_loop();

  /// Reads until a control message that concerns no open channel arrives and returns it;
  /// frames and channel_* messages go to their channels on the way. Returns an error when
  /// the connection ended (then every channel is closed) or a message could not be parsed
  /// (the connection stays usable; the caller decides what to tell the peer).
  boost::asio::awaitable<Result<Message>> next_message();

  /// Queues a control message.
  void send(const Message& message);

  /// Accepts a channel the peer opened: registers it and sends channel_accept with our
  /// receive window and `params`. Error::channel_error for an id of our parity, an id in use
  /// or a full table; the caller then refuses with `refuse`.
  Result<std::shared_ptr<Channel>> accept(const ChannelOpen& open, std::uint32_t receive_window,
                                          nlohmann::json params = nlohmann::json::object());
  /// Refuses a channel the peer opened, with an error code and a reason the user reads.
  void refuse(const ChannelOpen& open, Error code, std::string reason);

  /// Opens a channel: sends channel_open and waits (up to `timeout`) for channel_accept.
  /// A refusal comes back as the peer's channel_close (code and reason) in `refused`.
  boost::asio::awaitable<Result<std::shared_ptr<Channel>>> open(
      std::string kind, std::string session, nlohmann::json params, std::uint32_t receive_window,
      std::chrono::steady_clock::duration timeout, std::optional<ChannelClose>* refused = nullptr);

  /// Drains what is queued, then closes the WebSocket normally; returns when done or after
  /// a few seconds.
  boost::asio::awaitable<void> close();
  /// Closes every channel locally (the session ended or the connection is gone).
  void close_all_channels(const std::string& reason, std::optional<Error> code = std::nullopt);

  WsStream& ws() { return ws_; }
  bool connection_closed() const { return closed_; }
  std::size_t channel_count() const { return channels_.size(); }

 private:
  friend class Channel;
  void queue(std::uint32_t channel, std::string bytes, bool text);
  void forget(std::uint32_t channel);
  void on_frame(std::string bytes);
  bool on_channel_message(Message& message);

  WsStream ws_;
  FairQueue queue_;
  boost::asio::steady_timer signal_;
  boost::asio::steady_timer finished_;
  std::map<std::uint32_t, std::shared_ptr<Channel>> channels_;
  struct Opening {
    std::shared_ptr<Channel> channel;
    std::optional<ChannelClose> refusal;
    bool answered = false;
    explicit Opening(const boost::asio::any_io_executor& e) : timer(e) {}
    boost::asio::steady_timer timer;
  };
  std::map<std::uint32_t, std::shared_ptr<Opening>> opening_;
  std::uint32_t next_id_;
  bool closed_ = false;
  bool closing_ = false;
  bool writer_running_ = false;
};

}  // namespace tether::protocol
