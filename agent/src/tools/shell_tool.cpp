// `tether shell S-1` on the agent: the user's login shell on a pseudo-terminal of its own, as
// the user who runs the agent. The terminal's output goes to the technician as it comes (frame
// boundaries mean nothing), their typing comes back to it, and their window size follows
// through channel_control {"resize":{"cols":C,"rows":R}}. The channel ends with the shell's
// exit status; when the channel ends first (the technician left, the session ended, the
// connection was lost) the terminal is hung up and everything started in it is stopped.

#include <pwd.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/result.hpp>

#include "tether/agent/tools/child_process.hpp"
#include "tether/agent/tools/exec_params.hpp"
#include "tether/agent/tools/tool.hpp"

namespace tether::agent {

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;
using nlohmann::json;
using protocol::Error;

namespace {

constexpr std::int64_t kMaxDimension = 1000;
constexpr std::size_t kMaxTermLength = 64;
// After the shell exits, what it printed last is still in the terminal: it is forwarded until
// the terminal reports its end, which is at once unless a background job keeps it open. Such
// a job does not keep the technician's window open for longer than this.
constexpr auto kDrainAfterExit = std::chrono::milliseconds(500);
// A hung-up shell gets this long to leave (bash saves its history) before SIGKILL.
constexpr auto kHangupGrace = std::chrono::milliseconds(1000);

struct ShellParams {
  unsigned short cols = 80;
  unsigned short rows = 24;
  std::string term;
};

// An integer in 1..kMaxDimension (JSON booleans and floats are not integers here).
std::optional<unsigned short> dimension(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n < 1 || n > static_cast<std::uint64_t>(kMaxDimension)) return std::nullopt;
    return static_cast<unsigned short>(n);
  }
  const auto n = value.get<std::int64_t>();
  if (n < 1 || n > kMaxDimension) return std::nullopt;
  return static_cast<unsigned short>(n);
}

// TERM ends up in the shell's environment and selects a terminfo file: a short plain name.
bool valid_term(const std::string& term) {
  if (term.empty() || term.size() > kMaxTermLength) return false;
  for (const char c : term) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '.' || c == '_' || c == '+' || c == '-';
    if (!plain) return false;
  }
  return true;
}

// {cols: 1..1000, rows: 1..1000, term: [A-Za-z0-9._+-]{1,64}}, nothing else.
boost::system::result<ShellParams, std::string> parse_shell_params(const json& params) {
  if (!params.is_object()) return std::string("shell params must be an object");
  for (const auto& [key, value] : params.items()) {
    if (key != "cols" && key != "rows" && key != "term") {
      return "unknown shell param \"" + key.substr(0, 32) + "\"";
    }
  }
  ShellParams parsed;
  for (const char* key : {"cols", "rows"}) {
    if (!params.contains(key)) return std::string("shell params need ") + key;
    const auto value = dimension(params.at(key));
    if (!value) return std::string(key) + " must be an integer from 1 to 1000";
    (std::string_view(key) == "cols" ? parsed.cols : parsed.rows) = *value;
  }
  if (!params.contains("term") || !params.at("term").is_string() ||
      !valid_term(params.at("term").get<std::string>())) {
    return std::string("term must be 1 to 64 letters, digits or ._+-");
  }
  parsed.term = params.at("term").get<std::string>();
  return parsed;
}

// {"resize":{"cols":C,"rows":R}} with both in range; nothing for anything else.
std::optional<std::pair<unsigned short, unsigned short>> parse_resize(const json& control) {
  if (!control.is_object() || control.size() != 1 || !control.contains("resize"))
    return std::nullopt;
  const auto& resize = control.at("resize");
  if (!resize.is_object() || resize.size() != 2 || !resize.contains("cols") ||
      !resize.contains("rows")) {
    return std::nullopt;
  }
  const auto cols = dimension(resize.at("cols"));
  const auto rows = dimension(resize.at("rows"));
  if (!cols || !rows) return std::nullopt;
  return std::pair{*cols, *rows};
}

std::string user_name() {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16 * 1024);
  if (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == 0 &&
      found != nullptr && found->pw_name != nullptr && found->pw_name[0] != '\0') {
    return found->pw_name;
  }
  return std::to_string(::geteuid());
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

// Whether the terminal's output has all been forwarded; wait_for_exit waits on the timer.
struct OutputState {
  explicit OutputState(const asio::any_io_executor& executor) : done_signal(executor) {}
  bool done = false;
  asio::steady_timer done_signal;
};

// The terminal → the technician, until the terminal ends or the channel closes.
asio::awaitable<void> forward_output(std::shared_ptr<tools::ChildProcess> child,
                                     std::shared_ptr<protocol::Channel> channel,
                                     std::shared_ptr<OutputState> output) {
  std::string buffer(64 * 1024, '\0');
  try {
    for (;;) {
      const auto n = co_await child->read_stdout(asio::buffer(buffer));
      if (n == 0) break;
      if (!co_await channel->write(std::string_view(buffer.data(), n))) break;
    }
  } catch (const boost::system::system_error&) {
    // The terminal failed in an unexpected way: it is over for the technician too.
  }
  output->done = true;
  output->done_signal.cancel();
}

// The shell's exit status, once what it printed has been forwarded (or kDrainAfterExit passed).
asio::awaitable<tools::ExitStatus> wait_for_exit(std::shared_ptr<tools::ChildProcess> child,
                                                 std::shared_ptr<OutputState> output) {
  const auto status = co_await child->wait();
  if (!output->done) {
    output->done_signal.expires_after(kDrainAfterExit);
    co_await output->done_signal.async_wait(asio::as_tuple(asio::use_awaitable));
    // Ends the pending read: a background job holding the terminal does not keep us here.
    if (!output->done) child->close_streams();
  }
  co_return status;
}

// The technician → the terminal. Their end of input (a script piped into `tether shell`)
// becomes the terminal's end-of-file character, as if they pressed Ctrl-D.
asio::awaitable<void> forward_input(std::shared_ptr<tools::ChildProcess> child,
                                    std::shared_ptr<protocol::Channel> channel) {
  try {
    for (;;) {
      auto data = co_await channel->read();
      if (!data) break;
      if (!co_await child->write_stdin(*data)) co_return;
    }
    if (!channel->closed()) co_await child->write_stdin("\x04");
  } catch (const boost::system::system_error&) {
    // The terminal is gone; the output side sees it too and ends the channel.
  }
}

// The channel ended before the shell: hang the terminal up like a closed terminal window
// (SIGHUP to the whole session), then SIGKILL what is still there.
asio::awaitable<void> hang_up_when_closed(std::shared_ptr<tools::ChildProcess> child,
                                          std::shared_ptr<protocol::Channel> channel) {
  co_await channel->wait_closed();
  if (child->status()) co_return;
  child->signal_session(SIGHUP);
  child->signal_session(SIGCONT);  // A stopped job must run to see the hang-up.
  asio::steady_timer grace(child->get_executor(), kHangupGrace);
  co_await grace.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!child->status()) child->signal_session(SIGKILL);
}

}  // namespace

asio::awaitable<void> run_shell_tool(protocol::ChannelOpen open, ToolContext context) {
  auto params = parse_shell_params(open.params);
  if (!params) {
    context.mux->refuse(open, Error::bad_request, params.error());
    co_return;
  }
  tools::PtyOptions options;
  options.cols = params->cols;
  options.rows = params->rows;
  options.term = params->term;
  auto spawned = tools::ChildProcess::spawn_pty(context.executor, options);
  if (!spawned) {
    context.mux->refuse(open, Error::internal,
                        "cannot start a shell on this PC: " + spawned.error().message());
    co_return;
  }
  auto child = *spawned;  // Destroyed on every way out: whatever runs in the terminal stops.
  const auto user = user_name();
  auto accepted = context.mux->accept(open, protocol::kInteractiveChannelWindow,
                                      {{"user", user}, {"host", host_name()}});
  if (!accepted) co_return;
  auto channel = *accepted;
  context.notify("The technician opened a terminal as " + user + ".");

  channel->on_control = [weak = std::weak_ptr<tools::ChildProcess>(child)](const json& control) {
    // Anything but a valid resize is ignored: the terminal keeps its size.
    const auto size = parse_resize(control);
    if (auto child = weak.lock(); child && size) child->resize(size->first, size->second);
  };
  asio::co_spawn(context.executor, forward_input(child, channel), asio::detached);
  asio::co_spawn(context.executor, hang_up_when_closed(child, channel), asio::detached);

  auto output = std::make_shared<OutputState>(context.executor);
  std::optional<tools::ExitStatus> status;
  std::string failure;
  try {
    status = co_await (forward_output(child, channel, output) && wait_for_exit(child, output));
  } catch (const std::exception& e) {
    failure = e.what();
  }
  channel->on_control = nullptr;
  context.notify("The terminal was closed.");
  if (channel->closed()) co_return;  // The technician left or the session ended: recorded.
  if (!status) {
    channel->close("the terminal failed: " + failure, json::object(), Error::internal);
    co_return;
  }
  json result = json::object();
  if (status->exit_code) result["exit_code"] = *status->exit_code;
  if (status->signal) result["signal"] = signal_name(*status->signal);
  channel->close("the shell exited", std::move(result));
}

}  // namespace tether::agent
