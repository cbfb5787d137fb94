#pragma once
/// The console's side of a technician tool: a WebSocket to the relay on
/// /api/v1/sessions/S-n/channel carrying one channel to the session's agent (SPEC.md §4.5).
///
/// run_tool() connects (verifying the relay like every console call), opens the channel and
/// runs `body` with it on a fresh io_context; it returns how the channel ended. A refusal
/// ("not permitted by the user"), an unknown session or a lost agent becomes a CommandError
/// with one readable line.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "tether/console/api_client.hpp"
#include "tether/protocol/channel_mux.hpp"

namespace tether::console {

/// What a tool body works with.
struct ToolSession {
  std::shared_ptr<protocol::Channel> channel;
  std::shared_ptr<protocol::ChannelMux> mux;
  boost::asio::any_io_executor executor;
};

using ToolBody = std::function<boost::asio::awaitable<void>(ToolSession&)>;

struct ToolRequest {
  std::string session;  ///< "S-1".
  std::string kind;     ///< "exec", "file.get", ...
  nlohmann::json params = nlohmann::json::object();
  std::uint32_t window = protocol::kInteractiveChannelWindow;
};

/// Opens the tool channel and runs `body`; then waits for the agent's channel_close and
/// returns it (its `result` and, when the tool failed, its `code` and `reason`).
/// Throws CommandError when the channel cannot be opened.
protocol::ChannelClose run_tool(ApiClient& client, const ToolRequest& request, ToolBody body);

/// "S-1" from "S-1", "s-1" or "1"; throws CommandError otherwise.
std::string session_id_argument(const std::string& text);

/// Exit status for a failure the agent reported (maps error codes to distinct statuses).
int exit_status_for(const protocol::ChannelClose& close);

/// Throws CommandError for a channel that ended with an error code.
void throw_if_failed(const protocol::ChannelClose& close);

}  // namespace tether::console
