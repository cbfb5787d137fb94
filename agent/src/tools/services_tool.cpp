// `tether services S-1 [--failed]`: systemd's services as one JSON document.

#include "tether/agent/tools/service_tools.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tools/blocking.hpp"
#include "tools/tool_params.hpp"

namespace tether::agent {

using protocol::Error;

boost::asio::awaitable<void> run_services_tool(protocol::ChannelOpen open, ToolContext context) {
  auto problem = unknown_params(open.params, {"failed"});
  const auto failed = open.params.find("failed");
  if (problem.empty() && failed != open.params.end() && !failed->is_boolean()) {
    problem = "\"failed\" must be true or false";
  }
  if (!problem.empty()) {
    context.mux->refuse(open, Error::bad_request, problem);
    co_return;
  }
  const bool failed_only = failed != open.params.end() && failed->get<bool>();
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  auto list = co_await run_blocking([failed_only]() {
    return tools::list_services(failed_only,
                                std::chrono::steady_clock::now() + std::chrono::seconds(10));
  });
  if (list.contains("error")) {
    channel->close(list.value("error", std::string("cannot list services")), {},
                   list.value("systemd_available", true) ? Error::internal : Error::not_found);
    co_return;
  }
  const auto count = list.value("services", nlohmann::json::array()).size();
  co_await channel->write(list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (channel->closed()) co_return;
  channel->send_eof();
  channel->close("listed", {{"count", count}});
}

}  // namespace tether::agent
