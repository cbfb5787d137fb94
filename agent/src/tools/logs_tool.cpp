// `tether logs S-1 [--unit U] [--since 1h] [-n 200] [--priority err] [--follow]`: journal
// entries as JSON lines, oldest first. Without --follow the output is bounded by the line count
// (at most 10 000) and journalctl's own limits; with --follow new entries stream until the
// technician stops (the channel closes, which stops journalctl).

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include "tether/agent/tools/child_process.hpp"
#include "tether/agent/tools/journal_tools.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tools/blocking.hpp"
#include "tools/tool_params.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using protocol::Error;

namespace {

std::string parse_query(const nlohmann::json& params, tools::LogQuery& query) {
  auto problem = unknown_params(params, {"unit", "since", "lines", "priority", "follow"});
  if (problem.empty()) problem = read_string(params, "unit", query.unit, 256);
  if (problem.empty()) problem = read_string(params, "since", query.since, 64);
  if (problem.empty()) problem = read_string(params, "priority", query.priority, 16);
  if (!problem.empty()) return problem;
  if (auto lines = params.find("lines"); lines != params.end()) {
    if (!lines->is_number_integer()) return "\"lines\" must be a number";
    const auto n = lines->get<long long>();
    if (n < 1 || n > tools::kMaxLogLines) return "\"lines\" must be from 1 to 10000";
    query.lines = static_cast<int>(n);
  }
  if (auto follow = params.find("follow"); follow != params.end()) {
    if (!follow->is_boolean()) return "\"follow\" must be true or false";
    query.follow = follow->get<bool>();
  }
  if (auto argv = tools::journalctl_argv(query); !argv) return argv.error().message;
  return {};
}

std::string line_of(const nlohmann::json& entry) {
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// journalctl --follow, each entry forwarded as it comes, until the channel closes.
asio::awaitable<std::uint64_t> follow(std::shared_ptr<protocol::Channel> channel,
                                      const tools::LogQuery& query, ToolContext& context) {
  auto argv = tools::journalctl_argv(query);
  auto spawned = tools::ChildProcess::spawn_pipes(context.executor, *argv);
  if (!spawned) {
    channel->close("journalctl not available: this machine has no systemd journal", {},
                   Error::not_found);
    co_return 0;
  }
  auto child = *spawned;
  asio::co_spawn(
      context.executor,
      [](std::shared_ptr<tools::ChildProcess> child,
         std::shared_ptr<protocol::Channel> channel) -> asio::awaitable<void> {
        co_await channel->wait_closed();
        child->signal_session(SIGKILL);
      }(child, channel),
      asio::detached);
  std::uint64_t lines = 0;
  std::string pending;
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    const auto n = co_await child->read_stdout(asio::buffer(buffer));
    if (n == 0) break;
    pending.append(buffer.data(), n);
    std::string out;
    for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
      if (auto entry = tools::parse_journal_line(std::string_view(pending).substr(0, end))) {
        out += line_of(*entry);
        ++lines;
      }
      pending.erase(0, end + 1);
    }
    // A line longer than any journal entry can be is not one: drop it rather than grow.
    if (pending.size() > 4 * 1024 * 1024) pending.clear();
    if (!out.empty() && !co_await channel->write(out)) break;
  }
  co_return lines;
}

}  // namespace

asio::awaitable<void> run_logs_tool(protocol::ChannelOpen open, ToolContext context) {
  tools::LogQuery query;
  if (auto problem = parse_query(open.params, query); !problem.empty()) {
    context.mux->refuse(open, Error::bad_request, problem);
    co_return;
  }
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  context.notify("The technician is reading the system logs" +
                 (query.unit.empty() ? std::string() : " of " + query.unit) + ".");
  if (query.follow) {
    const auto lines = co_await follow(channel, query, context);
    if (!channel->closed()) {
      channel->send_eof();
      channel->close("journalctl ended", {{"lines", lines}, {"truncated", false}});
    }
    co_return;
  }
  auto journal = co_await run_blocking([query]() {
    return tools::read_journal(query, std::chrono::steady_clock::now() + std::chrono::seconds(30));
  });
  if (journal.contains("error")) {
    const auto error = journal.value("error", std::string("cannot read the journal"));
    channel->close(
        error, {},
        error.starts_with("journalctl not available") ? Error::not_found : Error::internal);
    co_return;
  }
  std::string out;
  std::uint64_t lines = 0;
  for (const auto& entry : journal.value("entries", nlohmann::json::array())) {
    out += line_of(entry);
    ++lines;
  }
  if (!co_await channel->write(out)) co_return;
  channel->send_eof();
  channel->close("read", {{"lines", lines}, {"truncated", journal.value("truncated", false)}});
}

}  // namespace tether::agent
