#pragma once
/// The technician's tools on the agent side: one handler per channel kind (SPEC.md §4.3).
///
/// A handler receives the relay's channel_open after the session and the user's consent scope
/// were checked. It validates the params, then either accepts the channel
/// (`ToolContext::mux->accept`) or refuses it (`mux->refuse`), does its work over the channel,
/// and closes it with a result. Handlers run as coroutines on the agent's main thread; work
/// that blocks (collecting, hashing big files) goes to a thread, processes and PTYs through
/// ChildProcess.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include "tether/protocol/channel_mux.hpp"

namespace tether::agent {

class UvThread;

/// What the user allowed beyond the defaults, and the agent's limits for tools.
struct ToolSettings {
  std::filesystem::path files_root;  ///< Allowed root for put/get (the user's home by default).
  std::uint64_t max_file_bytes = 4ULL << 30;  ///< Largest file put or get will move.
};

struct ToolContext {
  boost::asio::any_io_executor executor;
  std::shared_ptr<protocol::ChannelMux> mux;
  UvThread* uv = nullptr;
  const ToolSettings* settings = nullptr;
  /// Tells the user at the PC what the technician is doing (one line, no control characters).
  std::function<void(const std::string&)> notify;
};

using ToolHandler =
    std::function<boost::asio::awaitable<void>(protocol::ChannelOpen open, ToolContext context)>;

struct ToolSpec {
  std::string_view kind;   ///< Channel kind, e.g. "exec".
  std::string_view scope;  ///< Consent scope it needs, e.g. "shell".
  ToolHandler handler;
};

/// The tool for a channel kind, or null for a kind this agent does not have.
const ToolSpec* find_tool(std::string_view kind);

/// The consent scopes, in the order they are shown to the user, with what each allows.
struct ScopeDescription {
  std::string_view name;
  std::string_view meaning;
};
const std::vector<ScopeDescription>& scope_descriptions();

// Handlers, one per file under agent/src/tools/.
boost::asio::awaitable<void> run_shell_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_exec_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_file_put_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_file_get_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_ps_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_kill_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_services_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_service_tool(protocol::ChannelOpen open, ToolContext context);
boost::asio::awaitable<void> run_logs_tool(protocol::ChannelOpen open, ToolContext context);

}  // namespace tether::agent
