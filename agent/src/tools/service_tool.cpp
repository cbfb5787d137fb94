#include "tether/agent/tools/tool.hpp"

namespace tether::agent {

// Not built yet: the channel is refused with a clear reason.
boost::asio::awaitable<void> run_service_tool(protocol::ChannelOpen open, ToolContext context) {
  context.mux->refuse(open, protocol::Error::bad_request, "this agent does not have that tool yet");
  co_return;
}

}  // namespace tether::agent
