// `tether exec S-1 [--timeout 30s] -- CMD [ARG…]`: runs one command on the user's PC. Its
// stdout and stderr arrive apart and go to ours; our stdin goes to it when it is not a
// terminal; its exit status becomes ours (128+N when a signal ended it, 124 on timeout).

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/console/duration_option.hpp"
#include "tether/console/tool_channel.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/tool_wire.hpp"

namespace tether::console {

namespace asio = boost::asio;

namespace {

struct ExecState {
  std::string session;
  std::string timeout = "30s";
  std::string max_output = "64M";
  std::vector<std::string> argv;
  bool as_json = false;
};

void write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n <= 0) return;  // Our own output is gone (a closed pipe): nothing left to do.
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

int signal_number(const std::string& name) {
  static const std::pair<const char*, int> kSignals[] = {
      {"TERM", SIGTERM}, {"KILL", SIGKILL}, {"INT", SIGINT},   {"HUP", SIGHUP},
      {"QUIT", SIGQUIT}, {"SEGV", SIGSEGV}, {"ABRT", SIGABRT}, {"PIPE", SIGPIPE}};
  for (const auto& [n, v] : kSignals) {
    if (name == n) return v;
  }
  try {
    return std::stoi(name);
  } catch (...) {
    return 1;
  }
}

asio::awaitable<void> send_stdin(ToolSession& tool) {
  if (isatty(STDIN_FILENO)) {
    tool.channel->send_eof();  // A terminal is for us, not for the remote command.
    co_return;
  }
  std::string buffer(256 * 1024, '\0');
  struct stat info {};
  const bool regular_file = fstat(STDIN_FILENO, &info) == 0 && S_ISREG(info.st_mode);
  if (regular_file) {
    // A file never blocks for long (and cannot be polled): read it directly.
    for (;;) {
      const auto n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n <= 0) break;
      if (!co_await tool.channel->write(
              std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
        co_return;
      }
    }
    tool.channel->send_eof();
    co_return;
  }
  // A pipe may stay open and silent: read it asynchronously so output keeps flowing.
  asio::posix::stream_descriptor input(tool.executor, ::dup(STDIN_FILENO));
  for (;;) {
    auto [ec, n] =
        co_await input.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec || n == 0) break;
    if (!co_await tool.channel->write(std::string_view(buffer.data(), n))) co_return;
  }
  tool.channel->send_eof();
}

void run_exec(const ExecState& state) {
  auto client = ApiClient::from_saved_credentials();
  ToolRequest request;
  request.session = session_id_argument(state.session);
  request.kind = "exec";
  const auto timeout = parse_duration(state.timeout, "--timeout");
  const auto max_output = parse_size(state.max_output, "--max-output");
  request.params = {
      {"argv", state.argv}, {"timeout_ms", timeout.count()}, {"max_output_bytes", max_output}};
  bool interrupted = false;
  std::uint64_t stdout_bytes = 0, stderr_bytes = 0;
  auto close = run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
    // Ctrl-C stops the remote command, not just this console.
    auto signals = std::make_shared<asio::signal_set>(tool.executor, SIGINT, SIGTERM);
    signals->async_wait([&interrupted, channel = tool.channel](boost::system::error_code ec, int) {
      if (ec) return;
      interrupted = true;
      channel->close("stopped by the technician (Ctrl-C)");
    });
    asio::co_spawn(tool.executor, send_stdin(tool), asio::detached);
    for (;;) {
      auto data = co_await tool.channel->read();
      if (!data) break;
      if (data->empty()) continue;
      const auto payload = std::string_view(*data).substr(1);
      if ((*data)[0] == protocol::kExecStderrTag) {
        stderr_bytes += payload.size();
        if (!state.as_json) write_all(STDERR_FILENO, payload);
      } else {
        stdout_bytes += payload.size();
        if (!state.as_json) write_all(STDOUT_FILENO, payload);
      }
    }
    signals->cancel();
  });
  if (interrupted) {
    std::cerr << "tether: stopped the remote command\n";
    throw CommandExit{130};
  }
  if (close.code == "not_found") {
    std::cerr << "tether: " << close.reason << "\n";
    throw CommandExit{127};  // As a shell says "command not found".
  }
  throw_if_failed(close);
  const auto& result = close.result;
  if (state.as_json) {
    auto out = result;
    out["stdout_bytes"] = stdout_bytes;
    out["stderr_bytes"] = stderr_bytes;
    std::cout << out.dump(2) << "\n";
  }
  if (result.value("output_truncated", false)) {
    std::cerr << "tether: the output passed " << state.max_output
              << " and was cut there; the command was stopped\n";
  }
  if (result.value("timed_out", false)) {
    std::cerr << "tether: the command did not finish within " << state.timeout
              << " and was stopped\n";
    throw CommandExit{124};
  }
  if (result.contains("exit_code") && result["exit_code"].is_number_integer()) {
    throw CommandExit{result["exit_code"].get<int>()};
  }
  if (result.contains("signal") && result["signal"].is_string()) {
    std::cerr << "tether: the command was killed by SIG" << result["signal"].get<std::string>()
              << "\n";
    throw CommandExit{128 + signal_number(result["signal"].get<std::string>())};
  }
  throw CommandExit{1};
}

}  // namespace

void add_exec_command(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<ExecState>();
  auto* exec = app.add_subcommand("exec", "Run one command on the session's PC");
  exec->add_option("SESSION", state->session, "Session, e.g. S-1")->required();
  exec->add_option("--timeout", state->timeout,
                   "Stop the command after this long (e.g. 30s, 5m, 1h; default 30s)");
  exec->add_option("--max-output", state->max_output,
                   "Stop the command when its output passes this size (default 64M)");
  exec->add_flag("--json", state->as_json, "Print the result as JSON instead of the output");
  exec->add_option("COMMAND", state->argv, "The command and its arguments, after --")
      ->required()
      ->allow_extra_args();
  exec->callback([state, &action] { action = [state] { run_exec(*state); }; });
}

}  // namespace tether::console
