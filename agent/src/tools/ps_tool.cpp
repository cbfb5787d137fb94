// `tether ps S-1`: the process table (a top-like CPU sample), as one JSON document.

#include "tether/agent/tools/process_tools.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tools/blocking.hpp"
#include "tools/tool_params.hpp"

namespace tether::agent {

using protocol::Error;

boost::asio::awaitable<void> run_ps_tool(protocol::ChannelOpen open, ToolContext context) {
  std::string sort = "cpu";
  auto problem = unknown_params(open.params, {"sort"});
  if (problem.empty()) problem = read_string(open.params, "sort", sort, 8);
  if (problem.empty() && !tools::parse_process_sort(sort)) problem = "sort by cpu, mem or pid";
  if (!problem.empty()) {
    context.mux->refuse(open, Error::bad_request, problem);
    co_return;
  }
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  auto table = co_await run_blocking([sort]() { return tools::list_processes("/proc", sort); });
  const auto count = table.value("processes", nlohmann::json::array()).size();
  co_await channel->write(table.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  if (channel->closed()) co_return;
  channel->send_eof();
  context.notify("The technician looked at the running programs.");
  channel->close("listed", {{"count", count}});
}

}  // namespace tether::agent
