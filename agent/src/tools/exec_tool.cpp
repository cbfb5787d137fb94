// `tether exec S-1 -- CMD ARG…` on the agent: runs the command with pipes in a session of its
// own, streams stdout and stderr apart (each frame starts with a stream tag), feeds stdin from
// the technician, stops the whole session at the deadline or when the output passes its limit,
// and closes the channel with the exit status.

#include <csignal>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/agent/tools/child_process.hpp"
#include "tether/agent/tools/exec_params.hpp"
#include "tether/agent/tools/tool.hpp"
#include "tether/protocol/frame.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using protocol::Error;

namespace {

struct OutputBudget {
  std::uint64_t limit = 0;
  std::uint64_t used = 0;
  bool exceeded = false;
};

// Forwards one output stream of the child, each frame tagged with `tag`.
asio::awaitable<void> forward_output(std::shared_ptr<tools::ChildProcess> child,
                                     std::shared_ptr<protocol::Channel> channel, char tag,
                                     std::shared_ptr<OutputBudget> budget) {
  std::string frame(protocol::kMaxFramePayload, '\0');
  frame[0] = tag;
  for (;;) {
    const auto n = co_await (
        tag == kExecStdout ? child->read_stdout(asio::buffer(frame.data() + 1, frame.size() - 1))
                           : child->read_stderr(asio::buffer(frame.data() + 1, frame.size() - 1)));
    if (n == 0) co_return;
    if (budget->exceeded || channel->closed()) continue;  // Drain so the child is not blocked.
    auto allowed = std::min<std::uint64_t>(n, budget->limit - budget->used);
    budget->used += allowed;
    if (allowed > 0 &&
        !co_await channel->write_frame(std::string_view(frame.data(), allowed + 1))) {
      continue;
    }
    if (allowed < n) {
      // Past the limit the command is stopped: a technician never wants gigabytes in a terminal.
      budget->exceeded = true;
      child->signal_session(SIGTERM);
    }
  }
}

// The technician's input, until they send eof or the channel closes.
asio::awaitable<void> forward_input(std::shared_ptr<tools::ChildProcess> child,
                                    std::shared_ptr<protocol::Channel> channel) {
  for (;;) {
    auto data = co_await channel->read();
    if (!data) break;
    if (!co_await child->write_stdin(*data)) break;
  }
  child->close_stdin();
}

// The technician stopped the command (Ctrl-C), or the session ended: stop everything it ran.
asio::awaitable<void> stop_when_closed(std::shared_ptr<tools::ChildProcess> child,
                                       std::shared_ptr<protocol::Channel> channel) {
  co_await channel->wait_closed();
  if (!child->status()) child->signal_session(SIGKILL);
}

}  // namespace

asio::awaitable<void> run_exec_tool(protocol::ChannelOpen open, ToolContext context) {
  auto params = parse_exec_params(open.params);
  if (!params) {
    context.mux->refuse(open, Error::bad_request, params.error());
    co_return;
  }
  tools::PipeOptions options;
  options.cwd = context.settings->files_root.string();
  auto spawned = tools::ChildProcess::spawn_pipes(context.executor, params->argv, options);
  if (!spawned) {
    const auto code = spawned.error() == std::errc::no_such_file_or_directory ? Error::not_found
                      : spawned.error() == std::errc::permission_denied       ? Error::forbidden
                                                                              : Error::internal;
    context.mux->refuse(open, code,
                        "cannot run " + params->argv.front() + ": " + spawned.error().message());
    co_return;
  }
  auto child = *spawned;
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow);
  if (!accepted) co_return;
  auto channel = *accepted;
  context.notify("The technician runs: " + params->display);
  const auto started = std::chrono::steady_clock::now();

  auto budget = std::make_shared<OutputBudget>();
  budget->limit = params->max_output_bytes;
  asio::co_spawn(context.executor, forward_input(child, channel), asio::detached);
  asio::co_spawn(context.executor, stop_when_closed(child, channel), asio::detached);
  const auto status = co_await (child->wait_for(params->timeout) &&
                                (forward_output(child, channel, kExecStdout, budget) &&
                                 forward_output(child, channel, kExecStderr, budget)));

  nlohmann::json result{{"timed_out", status.timed_out && !budget->exceeded},
                        {"output_truncated", budget->exceeded},
                        {"output_bytes", budget->used},
                        {"duration_ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                            std::chrono::steady_clock::now() - started)
                                            .count()}};
  if (status.exit_code) result["exit_code"] = *status.exit_code;
  if (status.signal) result["signal"] = signal_name(*status.signal);
  if (channel->closed()) co_return;  // The technician stopped it; the relay records that.
  channel->send_eof();
  context.notify("The command ended: " + tools::describe(status) + ".");
  channel->close(tools::describe(status), std::move(result));
}

}  // namespace tether::agent
