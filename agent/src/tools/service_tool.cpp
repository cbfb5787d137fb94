// `tether service S-1 start|stop|restart|status NAME`: one systemctl action and the state after.

#include "tether/agent/tools/service_tools.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tools/blocking.hpp"
#include "tools/tool_params.hpp"

namespace tether::agent {

using protocol::Error;

boost::asio::awaitable<void> run_service_tool(protocol::ChannelOpen open, ToolContext context) {
  std::string action, name;
  auto problem = unknown_params(open.params, {"action", "name"});
  if (problem.empty()) problem = read_string(open.params, "action", action, 16);
  if (problem.empty()) problem = read_string(open.params, "name", name, 256);
  if (problem.empty() && action != "start" && action != "stop" && action != "restart" &&
      action != "status") {
    problem = "the action is start, stop, restart or status";
  }
  if (problem.empty() && name.empty()) problem = "name the service";
  if (problem.empty()) {
    if (auto normalized = tools::normalize_unit_name(name); !normalized) {
      problem = normalized.error().message;
    }
  }
  if (!problem.empty()) {
    context.mux->refuse(open, Error::bad_request, problem);
    co_return;
  }
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  auto outcome = co_await run_blocking([action, name]() {
    return tools::service_action(action, name,
                                 std::chrono::steady_clock::now() + std::chrono::seconds(60));
  });
  if (action != "status") {
    context.notify("The technician ran \"" + action + "\" on the service " +
                   outcome.value("name", name) + ".");
  }
  co_await channel->write(outcome.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (channel->closed()) co_return;
  channel->send_eof();
  nlohmann::json result = {{"ok", outcome.value("ok", false)},
                           {"name", outcome.value("name", name)},
                           {"active", outcome.value("active", nlohmann::json())},
                           {"sub", outcome.value("sub", nlohmann::json())},
                           {"exit_code", outcome.value("exit_code", nlohmann::json())}};
  if (outcome.contains("error")) result["error"] = outcome["error"];
  channel->close(
      outcome.value("ok", false) ? "done" : outcome.value("error", std::string("failed")),
      std::move(result));
}

}  // namespace tether::agent
