#include "broker/session_broker.hpp"

#include "broker/agent_connection.hpp"
#include "net/run_on.hpp"

namespace tether::relay {

namespace asio = boost::asio;

std::string SessionBroker::device_key(std::int64_t device_id) {
  return std::string(kDeviceKeyPrefix) + std::to_string(device_id);
}

asio::awaitable<std::shared_ptr<AgentConnection>> SessionBroker::register_agent(
    std::string code_hash, std::shared_ptr<AgentConnection> agent) {
  co_return co_await run_on(strand_, [&]() {
    auto& slot = agents_[code_hash];
    auto previous = std::move(slot);
    slot = std::move(agent);
    return previous;
  });
}

asio::awaitable<void> SessionBroker::unregister_agent(std::string code_hash,
                                                      AgentConnection* agent) {
  co_await run_on(strand_, [&]() {
    auto it = agents_.find(code_hash);
    if (it != agents_.end() && it->second.get() == agent) agents_.erase(it);
  });
}

asio::awaitable<std::shared_ptr<AgentConnection>> SessionBroker::agent_for_code(
    std::string code_hash) {
  co_return co_await run_on(strand_, [&]() -> std::shared_ptr<AgentConnection> {
    auto it = agents_.find(code_hash);
    return it == agents_.end() ? nullptr : it->second;
  });
}

asio::awaitable<void> SessionBroker::attach_session(std::int64_t session_id,
                                                    std::string code_hash) {
  co_await run_on(strand_, [&]() { sessions_[session_id] = code_hash; });
}

asio::awaitable<void> SessionBroker::detach_session(std::int64_t session_id) {
  co_await run_on(strand_, [&]() { sessions_.erase(session_id); });
}

asio::awaitable<std::vector<std::int64_t>> SessionBroker::sessions_of(std::string key) {
  co_return co_await run_on(strand_, [&]() {
    std::vector<std::int64_t> ids;
    for (const auto& [session, holder] : sessions_) {
      if (holder == key) ids.push_back(session);
    }
    return ids;
  });
}

asio::awaitable<std::shared_ptr<AgentConnection>> SessionBroker::agent_for_session(
    std::int64_t session_id) {
  co_return co_await run_on(strand_, [&]() -> std::shared_ptr<AgentConnection> {
    auto session = sessions_.find(session_id);
    if (session == sessions_.end()) return nullptr;
    if (session->second.starts_with(kDeviceKeyPrefix)) {
      auto device = devices_.find(std::stoll(session->second.substr(kDeviceKeyPrefix.size())));
      return device == devices_.end() ? nullptr : device->second;
    }
    auto agent = agents_.find(session->second);
    return agent == agents_.end() ? nullptr : agent->second;
  });
}

asio::awaitable<std::shared_ptr<AgentConnection>> SessionBroker::register_device(
    std::int64_t device_id, std::shared_ptr<AgentConnection> connection) {
  co_return co_await run_on(strand_, [&]() {
    auto& slot = devices_[device_id];
    auto previous = std::move(slot);
    slot = std::move(connection);
    return previous;
  });
}

asio::awaitable<bool> SessionBroker::unregister_device(std::int64_t device_id,
                                                       AgentConnection* connection) {
  co_return co_await run_on(strand_, [&]() {
    auto it = devices_.find(device_id);
    if (it == devices_.end() || it->second.get() != connection) return false;
    devices_.erase(it);
    return true;
  });
}

asio::awaitable<std::shared_ptr<AgentConnection>> SessionBroker::device_connection(
    std::int64_t device_id) {
  co_return co_await run_on(strand_, [&]() -> std::shared_ptr<AgentConnection> {
    auto it = devices_.find(device_id);
    return it == devices_.end() ? nullptr : it->second;
  });
}

asio::awaitable<std::set<std::int64_t>> SessionBroker::online_devices() {
  co_return co_await run_on(strand_, [&]() {
    std::set<std::int64_t> ids;
    for (const auto& [id, connection] : devices_) ids.insert(id);
    return ids;
  });
}

void SessionBroker::close_all() {
  asio::post(strand_, [this]() {
    for (auto& [code, agent] : agents_) agent->close(protocol::Error::shutting_down);
    for (auto& [id, device] : devices_) device->close(protocol::Error::shutting_down);
  });
}

}  // namespace tether::relay
