// `tether ps|kill|services|service|logs S-1 …`: processes, services and logs of the user's PC,
// as readable tables by default and JSON with --json.

#include <sys/ioctl.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include <boost/asio/signal_set.hpp>

#include "tether/console/tool_channel.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/console/tool_views.hpp"

namespace tether::console {

namespace asio = boost::asio;
using json = nlohmann::json;

namespace {

struct ProcessState {
  std::string session;
  std::string sort = "cpu";
  std::string signal = "TERM";
  long long pid = 0;
  bool failed = false;
  std::string action, name;
  std::string unit, since, priority;
  int lines = 200;
  bool follow = false;
  bool as_json = false;
};

std::size_t terminal_width() {
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
    return size.ws_col;
  }
  return 120;
}

// Runs a tool whose answer is one JSON document on the channel; returns it with the close.
std::pair<json, protocol::ChannelClose> fetch_document(const std::string& session,
                                                       const std::string& kind, json params) {
  auto client = ApiClient::from_saved_credentials();
  ToolRequest request{session_id_argument(session), kind, std::move(params)};
  std::string text;
  auto close = run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
    tool.channel->send_eof();
    while (auto data = co_await tool.channel->read()) {
      if (text.size() + data->size() > 64 * 1024 * 1024) {
        tool.channel->close("answer too large");
        break;
      }
      text += *data;
    }
  });
  throw_if_failed(close);
  auto document = json::parse(text, nullptr, false);
  if (!text.empty() && document.is_discarded()) {
    throw CommandError("the agent sent an answer that is not JSON");
  }
  return {document, close};
}

void run_ps(const ProcessState& state) {
  auto [table, close] = fetch_document(state.session, "ps", {{"sort", state.sort}});
  if (state.as_json) {
    std::cout << table.dump(2) << "\n";
  } else {
    std::cout << render_process_table(table, terminal_width());
  }
}

void run_kill(const ProcessState& state) {
  auto client = ApiClient::from_saved_credentials();
  ToolRequest request{
      session_id_argument(state.session), "kill", {{"pid", state.pid}, {"signal", state.signal}}};
  auto close = run_tool(client, request, [](ToolSession& tool) -> asio::awaitable<void> {
    tool.channel->send_eof();
    co_return;
  });
  throw_if_failed(close);
  if (state.as_json) {
    std::cout << close.result.dump(2) << "\n";
  } else {
    std::cout << render_kill_result(close.result);
  }
  if (!close.result.value("ok", false)) throw CommandExit{1};
}

void run_services(const ProcessState& state) {
  auto [list, close] = fetch_document(state.session, "services", {{"failed", state.failed}});
  if (state.as_json) {
    std::cout << list.dump(2) << "\n";
  } else {
    std::cout << render_service_table(list);
  }
}

void run_service(const ProcessState& state) {
  auto [outcome, close] =
      fetch_document(state.session, "service", {{"action", state.action}, {"name", state.name}});
  if (state.as_json) {
    std::cout << outcome.dump(2) << "\n";
  } else {
    std::cout << render_service_action(outcome);
  }
  if (!outcome.value("ok", false)) throw CommandExit{1};
}

void run_logs(const ProcessState& state) {
  auto client = ApiClient::from_saved_credentials();
  json params{{"lines", state.lines}, {"follow", state.follow}};
  if (!state.unit.empty()) params["unit"] = state.unit;
  if (!state.since.empty()) params["since"] = state.since;
  if (!state.priority.empty()) params["priority"] = state.priority;
  ToolRequest request{session_id_argument(state.session), "logs", params};
  bool interrupted = false;
  auto close = run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
    tool.channel->send_eof();
    // --follow runs until Ctrl-C, which stops journalctl on the PC too.
    auto signals = std::make_shared<asio::signal_set>(tool.executor, SIGINT, SIGTERM);
    signals->async_wait([&interrupted, channel = tool.channel](boost::system::error_code ec, int) {
      if (ec) return;
      interrupted = true;
      channel->close("stopped by the technician");
    });
    std::string pending;
    while (auto data = co_await tool.channel->read()) {
      pending += *data;
      for (auto end = pending.find('\n'); end != std::string::npos; end = pending.find('\n')) {
        const auto line = pending.substr(0, end);
        pending.erase(0, end + 1);
        if (state.as_json) {
          std::cout << line << "\n";
        } else {
          auto entry = json::parse(line, nullptr, false);
          if (!entry.is_discarded()) std::cout << render_journal_entry(entry);
        }
      }
      std::cout << std::flush;
    }
    signals->cancel();
  });
  if (interrupted) return;
  throw_if_failed(close);
  if (close.result.value("truncated", false)) {
    std::cerr << "tether: more entries matched; the oldest were left out\n";
  }
}

CLI::App* with_session(CLI::App* command, ProcessState& state) {
  command->add_option("SESSION", state.session, "Session, e.g. S-1")->required();
  command->add_flag("--json", state.as_json, "Print JSON");
  return command;
}

}  // namespace

void add_process_commands(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<ProcessState>();

  auto* ps = with_session(app.add_subcommand("ps", "List the programs running on the PC"), *state);
  ps->add_option("--sort", state->sort, "cpu (default), mem or pid")
      ->check(CLI::IsMember({"cpu", "mem", "pid"}));
  ps->callback([state, &action] { action = [state] { run_ps(*state); }; });

  auto* kill = with_session(app.add_subcommand("kill", "Stop a program on the PC"), *state);
  kill->add_option("PID", state->pid, "Process id (see tether ps)")->required();
  kill->add_option("--signal", state->signal, "TERM (default), KILL, HUP, INT, STOP or CONT")
      ->check(CLI::IsMember({"TERM", "KILL", "HUP", "INT", "STOP", "CONT"}, CLI::ignore_case));
  kill->callback([state, &action] { action = [state] { run_kill(*state); }; });

  auto* services =
      with_session(app.add_subcommand("services", "List the PC's services (systemd)"), *state);
  services->add_flag("--failed", state->failed, "Only the services that failed");
  services->callback([state, &action] { action = [state] { run_services(*state); }; });

  auto* service = with_session(
      app.add_subcommand("service", "Start, stop, restart a service or show its status"), *state);
  service->add_option("ACTION", state->action, "start, stop, restart or status")
      ->required()
      ->check(CLI::IsMember({"start", "stop", "restart", "status"}));
  service->add_option("NAME", state->name, "Service, e.g. cups or cups.service")->required();
  service->callback([state, &action] { action = [state] { run_service(*state); }; });

  auto* logs = with_session(app.add_subcommand("logs", "Read the PC's system logs"), *state);
  logs->add_option("--unit", state->unit, "Only this service, e.g. cups");
  logs->add_option("--since", state->since, "Only newer entries: 30m, 1h, 2d or a date");
  logs->add_option("-n,--lines", state->lines, "How many of the newest entries (default 200)")
      ->check(CLI::Range(1, 10000));
  logs->add_option("--priority", state->priority,
                   "This severity and worse: emerg, alert, crit, err, warning, notice, info");
  logs->add_flag("--follow", state->follow, "Keep printing new entries until Ctrl-C");
  logs->callback([state, &action] { action = [state] { run_logs(*state); }; });
}

}  // namespace tether::console
