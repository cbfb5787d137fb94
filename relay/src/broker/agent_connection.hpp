#pragma once
// One connected agent: its WebSocket, its write queue, and the requests waiting for its
// answers. An attended agent (/agent/v1) is known by its support code; a managed one
// (/agent/v1/managed) by its client certificate, and it also reports its inventory and
// renews its certificate over the same connection. The reader and the writer run as coroutines on
// the connection's strand; other coroutines (REST handlers) reach it through request() and send(),
// which are safe from any executor.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "broker/channel_bridge.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/fair_queue.hpp"
#include "tether/protocol/message.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::relay {

struct RelayContext;

class AgentConnection : public std::enable_shared_from_this<AgentConnection> {
 public:
  /// `peer`: the client certificate of a managed agent; nullopt for an attended one.
  AgentConnection(protocol::WsStream ws, RelayContext& context, std::string remote,
                  std::optional<protocol::PeerCertificate> peer = std::nullopt);

  /// Completes the WebSocket upgrade, the hello/welcome exchange and serves the agent until
  /// either side closes. Runs on the connection's strand; never throws.
  boost::asio::awaitable<void> run(
      boost::beast::http::request<boost::beast::http::string_body> upgrade);

  /// Sends `message` (carrying `id`) and waits up to `timeout` for the agent's reply with the
  /// same id. Fails with agent_offline when the connection closes, agent_timeout on timeout.
  boost::asio::awaitable<protocol::Result<protocol::Message>> request(
      protocol::Message message, std::string id, std::chrono::steady_clock::duration timeout);

  /// Queues a message; safe from any thread. Dropped silently once the connection closed.
  void send(protocol::Message message);

  /// Opens a channel to the agent for `bridge`: numbers it and sends the channel_open. The
  /// agent's answer (channel_accept or a refusing channel_close) reaches the console side
  /// through ConsoleChannel::agent_message, in order with the frames that follow it.
  /// Fails with agent_offline (connection gone) or rate_limited (too many channels).
  /// Safe from any executor.
  boost::asio::awaitable<protocol::Error> open_channel(std::shared_ptr<ChannelBridge> bridge,
                                                       protocol::ChannelOpen open);
  /// A frame from the technician's side of `bridge` (channel id 1 on the console
  /// WebSocket), forwarded after the credit check. Safe from any thread.
  void from_console(std::shared_ptr<ChannelBridge> bridge, std::string frame);
  /// A channel_control or channel_close from the technician's side. Safe from any thread.
  void from_console(std::shared_ptr<ChannelBridge> bridge, protocol::Message message);
  /// Closes every channel of `session_id` (the session ended). Safe from any thread.
  void close_channels(std::int64_t session_id, std::string reason);

  /// Tells the connection its code now belongs to a session, so the code's expiry no
  /// longer closes it.
  void bind_session(std::int64_t session_id);

  /// Closes the connection with `error` after what is queued. Safe from any thread.
  void close(protocol::Error error);
  void close(protocol::Error error, std::string message);

  /// A managed device's connection, and which device (0 for an attended agent).
  bool managed() const { return peer_.has_value(); }
  std::int64_t device_id() const { return device_id_; }
  /// The managed device's group (its policy); "" for an attended agent.
  const std::string& group() const { return group_; }

  /// "host (OS)" as the agent described itself.
  const std::string& device() const { return device_; }
  const std::string& hostname() const { return hostname_; }

 private:
  struct Pending;

  boost::asio::awaitable<bool> handshake(
      boost::beast::http::request<boost::beast::http::string_body>& upgrade);
  boost::asio::awaitable<protocol::Result<protocol::Welcome>> answer_hello(
      const protocol::Hello& hello);
  /// The managed half of the handshake once the hello is read: checks it against the
  /// certificate, answers welcome, registers the device and asks for its inventory.
  boost::asio::awaitable<bool> welcome_device(const protocol::Hello& hello);
  boost::asio::awaitable<void> request_inventory();
  boost::asio::awaitable<void> on_inventory(protocol::InventoryReport report);
  boost::asio::awaitable<void> on_certificate_renew(protocol::CertificateRenew renew);
  boost::asio::awaitable<void> read_loop();
  boost::asio::awaitable<void> write_loop();
  std::chrono::system_clock::time_point code_expires_at_;
  boost::asio::awaitable<void> expiry_watch(std::chrono::system_clock::time_point expires_at);
  boost::asio::awaitable<void> handle(protocol::Message message);
  boost::asio::awaitable<void> close_with(protocol::Error error, std::string message);
  static boost::asio::awaitable<void> close_owned(std::shared_ptr<AgentConnection> self,
                                                  protocol::Error error, std::string message);
  boost::asio::awaitable<void> send_close(protocol::Error error, std::string message);
  void enqueue(std::string text);
  void on_agent_frame(std::string frame);
  bool on_agent_channel_message(protocol::Message& message);
  void drop_channel(std::uint32_t id, std::string reason, protocol::Error code);
  void fail_pending();

  protocol::WsStream ws_;
  RelayContext& context_;
  std::string remote_;
  boost::asio::any_io_executor strand_;  // The socket's executor: a strand.
  boost::asio::steady_timer write_signal_;
  protocol::FairQueue write_queue_;
  std::map<std::uint32_t, std::shared_ptr<ChannelBridge>> channels_;  // by agent channel id
  std::uint32_t next_channel_ = 1;
  std::map<std::string, std::shared_ptr<Pending>> pending_;
  bool closed_ = false;          // No more writes: the peer is gone or the close is done.
  bool writer_running_ = false;  // write_loop owns all writes once started.
  std::optional<std::pair<protocol::Error, std::string>> close_request_;
  std::string code_hash_;
  std::optional<std::int64_t> session_id_;
  std::string hostname_;
  std::string device_;
  std::optional<protocol::PeerCertificate> peer_;
  std::int64_t device_id_ = 0;
  std::string group_;
  bool device_registered_ = false;
};

}  // namespace tether::relay
