#pragma once
// A technician's tool connection: the console's WebSocket on /api/v1/sessions/S-n/channel,
// carrying exactly one channel (id 1 on this WebSocket) to the session's agent (SPEC.md §4.5).
//
// run() reads the console's channel_open, checks the user's consent scopes, opens the
// channel on the agent connection and then pumps: console frames go to the agent connection
// (which checks credit and forwards them), agent frames come back through deliver(). Every
// outcome (done, failed, refused, interrupted) becomes one timeline entry on the ticket.
// The reader and writer run on this connection's strand; the agent side reaches it by
// posting (deliver, agent_message, agent_gone), never by locking.

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "broker/channel_bridge.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/message.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay {

struct RelayContext;
class AgentConnection;
class ShellRecorder;

/// Which consent scope a channel kind needs ("shell", "files", ...); empty for unknown kinds.
std::string scope_for_kind(std::string_view kind);

class ConsoleChannel : public std::enable_shared_from_this<ConsoleChannel> {
 public:
  ConsoleChannel(protocol::WsStream ws, RelayContext& context, std::string remote, User user,
                 SessionRecord session);
  ~ConsoleChannel();

  /// Serves the console until the channel closes. Never throws.
  boost::asio::awaitable<void> run(
      boost::beast::http::request<boost::beast::http::string_body> upgrade);

  /// From the agent connection's strand: a frame of this channel, credit already checked.
  void deliver(std::string frame);
  /// From the agent connection's strand: channel_control or channel_close for this channel.
  void agent_message(protocol::Message message);
  /// From the agent connection's strand: the agent's side is gone.
  void agent_gone(std::string reason, protocol::Error code);

 private:
  boost::asio::awaitable<bool> accept(
      boost::beast::http::request<boost::beast::http::string_body>& upgrade);
  boost::asio::awaitable<std::optional<protocol::ChannelOpen>> read_open();
  boost::asio::awaitable<void> pump();
  boost::asio::awaitable<void> write_loop();
  boost::asio::awaitable<void> record(const protocol::ChannelOpen& open,
                                      const protocol::ChannelClose& outcome, bool refused);
  void start_recording();
  void enqueue(std::string bytes, bool text);
  void finish(protocol::ChannelClose close);
  // Records `close` on the ticket, then tells the console: a technician who reads the ticket
  // right after a tool returned finds the action there.
  void record_then_finish(protocol::ChannelClose close);
  static boost::asio::awaitable<void> record_then_finish_owned(std::shared_ptr<ConsoleChannel> self,
                                                               protocol::ChannelClose close);

  protocol::WsStream ws_;
  RelayContext& context_;
  std::string remote_;
  User user_;
  SessionRecord session_;
  boost::asio::any_io_executor strand_;
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer writer_finished_;
  bool writer_running_ = false;
  std::deque<std::pair<std::string, bool>> write_queue_;
  std::shared_ptr<ChannelBridge> bridge_;
  std::shared_ptr<AgentConnection> agent_;
  std::unique_ptr<ShellRecorder> recorder_;
  std::optional<protocol::ChannelOpen> open_;
  std::optional<protocol::ChannelClose> outcome_;  // How the channel ended, once it did.
  std::chrono::steady_clock::time_point started_;
  std::uint64_t bytes_to_console_ = 0;
  std::uint64_t bytes_from_console_ = 0;
  bool finished_ = false;  // No more traffic: the close is queued.
  bool recorded_ = false;  // The outcome is on the ticket.
  bool answered_ = false;  // The agent accepted or refused the channel.
  bool refused_ = false;
  boost::asio::steady_timer answer_;
  bool closed_ = false;  // The WebSocket is gone.
};

}  // namespace tether::relay
