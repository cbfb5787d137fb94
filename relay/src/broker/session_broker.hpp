#pragma once
// Which agent holds which support code and which session: the registry that pairs a
// technician's request with the agent connection that can answer it. All state lives on the
// broker's own strand; every method is a coroutine that hops there and back.

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace tether::relay {

class AgentConnection;

class SessionBroker {
 public:
  static constexpr std::string_view kDeviceKeyPrefix = "device:";

  explicit SessionBroker(boost::asio::io_context& io) : strand_(boost::asio::make_strand(io)) {}

  /// The agent now holding `code_hash`. A previous connection for the same code (a stale one
  /// the agent has replaced after a network change) is returned so the caller can close it.
  boost::asio::awaitable<std::shared_ptr<AgentConnection>> register_agent(
      std::string code_hash, std::shared_ptr<AgentConnection> agent);
  /// Forgets `agent` if it still holds the code (a newer connection may have replaced it).
  boost::asio::awaitable<void> unregister_agent(std::string code_hash, AgentConnection* agent);
  boost::asio::awaitable<std::shared_ptr<AgentConnection>> agent_for_code(std::string code_hash);

  /// The key a session of a managed device is attached under (instead of a code hash).
  static std::string device_key(std::int64_t device_id);

  /// Binds a session to the agent holding `code_hash` (or device_key()).
  boost::asio::awaitable<void> attach_session(std::int64_t session_id, std::string code_hash);
  boost::asio::awaitable<void> detach_session(std::int64_t session_id);
  /// The sessions attached under `key` (a code hash or device_key()), oldest first.
  boost::asio::awaitable<std::vector<std::int64_t>> sessions_of(std::string key);
  /// The connected agent serving `session_id`, or null when it is offline.
  boost::asio::awaitable<std::shared_ptr<AgentConnection>> agent_for_session(
      std::int64_t session_id);

  /// The managed device `device_id` is now served by `connection`; the connection it
  /// replaces (an older one of the same device) is returned for the caller to close.
  boost::asio::awaitable<std::shared_ptr<AgentConnection>> register_device(
      std::int64_t device_id, std::shared_ptr<AgentConnection> connection);
  /// Forgets `connection` if it still serves the device; true when it did.
  boost::asio::awaitable<bool> unregister_device(std::int64_t device_id,
                                                 AgentConnection* connection);
  /// The connection of `device_id`, or null when it is offline.
  boost::asio::awaitable<std::shared_ptr<AgentConnection>> device_connection(
      std::int64_t device_id);
  /// Ids of the managed devices connected now.
  boost::asio::awaitable<std::set<std::int64_t>> online_devices();

  /// Asks every connected agent to close with `shutting_down`. Safe from any thread.
  void close_all();

 private:
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  std::map<std::string, std::shared_ptr<AgentConnection>> agents_;    // by code hash
  std::map<std::int64_t, std::string> sessions_;                      // session → code hash
  std::map<std::int64_t, std::shared_ptr<AgentConnection>> devices_;  // by device id
};

}  // namespace tether::relay
