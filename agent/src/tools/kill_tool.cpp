// `tether kill S-1 PID [--signal TERM|KILL]`: one signal to one process, named in the result.

#include "tether/agent/tools/process_tools.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tools/tool_params.hpp"

namespace tether::agent {

using protocol::Error;

boost::asio::awaitable<void> run_kill_tool(protocol::ChannelOpen open, ToolContext context) {
  std::string signal = "TERM";
  auto problem = unknown_params(open.params, {"pid", "signal"});
  if (problem.empty()) problem = read_string(open.params, "signal", signal, 16);
  const auto pid = open.params.find("pid");
  if (problem.empty() && (pid == open.params.end() || !pid->is_number_integer() ||
                          pid->get<long long>() < 1 || pid->get<long long>() > 4194304)) {
    problem = "\"pid\" must be a process number";
  }
  if (!problem.empty()) {
    context.mux->refuse(open, Error::bad_request, problem);
    co_return;
  }
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  const auto outcome = tools::kill_process(static_cast<int>(pid->get<long long>()), signal);
  nlohmann::json result = outcome;
  if (outcome.ok) {
    context.notify("The technician sent SIG" + outcome.signal + " to " + outcome.name + " (" +
                   std::to_string(outcome.pid) + ").");
  }
  channel->close(outcome.ok ? "signal sent" : outcome.error, std::move(result));
}

}  // namespace tether::agent
