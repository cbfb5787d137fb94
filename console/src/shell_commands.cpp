// `tether shell S-1`: the user's login shell on their PC, in this terminal, as ssh does it.
// Our terminal goes raw (Ctrl-C, Ctrl-Z and the rest travel to the remote shell as bytes) and
// is restored on every way out; its size follows ours; Ctrl-] leaves. With standard input not a
// terminal (a script piped in) nothing goes raw and no size is sent: the input is typed into
// the remote terminal and its end becomes Ctrl-D there.
//
// `tether session replay S-1`: lists a session's shell recordings, saves one (--out) or plays
// it here with its timing, as `asciinema play`.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "asciicast_player.hpp"
#include "tether/console/terminal.hpp"
#include "tether/console/tool_channel.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/size_text.hpp"

namespace tether::console {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

constexpr char kEscapeKey = 0x1d;  // Ctrl-]
constexpr int kMaxDimension = 1000;
constexpr int kExitSessionGone = 5;

struct ShellState {
  std::string session;
};

struct ReplayState {
  std::string session;
  std::string out;
  bool list = false;
  bool as_json = false;
  int index = 0;  // 1-based, in the order of --list; 0: the newest.
  double speed = 1.0;
  double max_idle = 2.0;
};

// How the shell ended on our side, when it was not the remote shell exiting.
struct LocalEnd {
  int signal = 0;        // SIGINT, SIGTERM or SIGHUP stopped this console.
  bool escaped = false;  // The technician pressed Ctrl-].
  std::string lost;      // Our terminal or our output went away: what happened.
};

// What the remote side left our terminal in, for when it cannot clean up itself (the agent
// died in the middle of a full-screen program, the technician left with Ctrl-]).
class RemoteScreen {
 public:
  void saw(std::string_view bytes) {
    if (bytes.empty()) return;
    line_start_ = bytes.back() == '\n';
    // The alternate screen (vim, less, top): entered and left with ?1049h / ?1049l.
    const auto entered = bytes.rfind("\x1b[?1049h");
    const auto left = bytes.rfind("\x1b[?1049l");
    if (entered != std::string_view::npos || left != std::string_view::npos) {
      alternate_ =
          left == std::string_view::npos || (entered != std::string_view::npos && entered > left);
    }
  }
  bool line_start() const { return line_start_; }
  // Back to the normal screen when needed; attributes, cursor, keypad, mouse and bracketed
  // paste modes to their defaults (all harmless when already so).
  std::string reset() const {
    std::string text = alternate_ ? "\x1b[?1049l" : "";
    text += "\x1b[0m\x1b[?25h\x1b[?1l\x1b>\x1b[?2004l\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l";
    return text;
  }

 private:
  bool line_start_ = true;
  bool alternate_ = false;
};

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Text from the relay or the agent, safe on one line of our terminal.
std::string printable(std::string text, std::size_t max = 200) {
  if (text.size() > max) text = text.substr(0, max) + "...";
  for (auto& c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return text;
}

std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return {};
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string signal_text(int signal) {
  const char* name = ::sigabbrev_np(signal);
  return name != nullptr ? std::string("SIG") + name : "signal " + std::to_string(signal);
}

// "HUP" → SIGHUP's number; 0 when unknown.
int signal_number(const std::string& name) {
  for (int n = 1; n < NSIG; ++n) {
    const char* abbrev = ::sigabbrev_np(n);
    if (abbrev != nullptr && name == abbrev) return n;
  }
  return 0;
}

int clamp_dimension(int n) {
  return std::clamp(n, 1, kMaxDimension);
}

// Standard input for the event loop, as a descriptor of its own. Asio makes the descriptors it
// polls non-blocking, and O_NONBLOCK belongs to the open file, shared with our parent shell:
// left on a terminal, the shell's next read would fail. So a terminal or a pipe is opened
// again (a new open file, same device), and only when that is impossible is it duplicated, with
// the old flags put back at the end.
class LocalInput {
 public:
  explicit LocalInput(const asio::any_io_executor& executor) : stream_(executor) {
    // O_NONBLOCK: opening a pipe whose writer already left must not wait for a new one.
    int fd = ::open("/proc/self/fd/0", O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      saved_flags_ = ::fcntl(STDIN_FILENO, F_GETFL);
      fd = ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    }
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot read the input");
    stream_.assign(fd);
  }
  ~LocalInput() { close(); }
  LocalInput(const LocalInput&) = delete;
  LocalInput& operator=(const LocalInput&) = delete;

  asio::posix::stream_descriptor& stream() { return stream_; }
  void close() {
    boost::system::error_code ignored;
    stream_.close(ignored);
    if (saved_flags_ >= 0) ::fcntl(STDIN_FILENO, F_SETFL, saved_flags_);
    saved_flags_ = -1;
  }

 private:
  asio::posix::stream_descriptor stream_;
  int saved_flags_ = -1;
};

// Our typing → the remote terminal. In a terminal Ctrl-] leaves and the end of input means the
// terminal is gone; from a pipe or a file the end of input is passed on (eof).
asio::awaitable<void> send_input(std::shared_ptr<LocalInput> input,
                                 std::shared_ptr<protocol::Channel> channel, bool terminal,
                                 LocalEnd& end) {
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    auto [ec, n] = co_await input->stream().async_read_some(asio::buffer(buffer),
                                                            asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted || channel->closed()) co_return;
    if (ec || n == 0) break;
    std::string_view bytes(buffer.data(), n);
    if (terminal) {
      if (const auto escape = bytes.find(kEscapeKey); escape != std::string_view::npos) {
        if (escape > 0) co_await channel->write(bytes.substr(0, escape));
        end.escaped = true;
        channel->close("the technician left (Ctrl-])");
        co_return;
      }
    }
    if (!co_await channel->write(bytes)) co_return;
  }
  if (terminal) {
    end.lost = "the local terminal closed";
    channel->close("the technician's terminal closed");
  } else {
    channel->send_eof();
  }
}

// A regular file cannot be polled and never blocks for long: read it directly.
asio::awaitable<void> send_file_input(std::shared_ptr<protocol::Channel> channel) {
  std::string buffer(64 * 1024, '\0');
  for (;;) {
    const auto n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (!co_await channel->write(std::string_view(buffer.data(), static_cast<std::size_t>(n)))) {
      co_return;
    }
  }
  channel->send_eof();
}

// Our window's size → the remote terminal, after each SIGWINCH.
asio::awaitable<void> follow_window_size(std::shared_ptr<WindowSizeWatcher> watcher,
                                         std::shared_ptr<protocol::Channel> channel) {
  for (;;) {
    std::optional<std::pair<int, int>> size;
    try {
      size = co_await watcher->next();
    } catch (const boost::system::system_error&) {
      co_return;  // cancelled: the shell ended
    }
    if (channel->closed()) co_return;
    if (!size) continue;
    channel->send_control(
        {{"resize",
          {{"cols", clamp_dimension(size->first)}, {"rows", clamp_dimension(size->second)}}}});
  }
}

struct TerminalPlan {
  std::string session;
  bool raw = false;  // stdin is a terminal: raw mode, resizes, Ctrl-]
  int size_fd = -1;  // the terminal whose size the remote one follows
};

// The body of the shell channel: from "Connected" until the channel ends.
asio::awaitable<void> run_terminal(ToolSession& tool, const TerminalPlan& plan,
                                   std::optional<RawTerminal>& raw, LocalEnd& end,
                                   RemoteScreen& screen) {
  auto channel = tool.channel;
  // Installed before the terminal goes raw, so RawTerminal leaves these signals to us: the
  // remote shell is ended cleanly and the terminal restored by the normal way out.
  auto signals = std::make_shared<asio::signal_set>(tool.executor, SIGINT, SIGTERM, SIGHUP);
  signals->async_wait([&end, channel](boost::system::error_code ec, int signal) {
    if (ec) return;
    end.signal = signal;
    channel->close("the technician's console was stopped (" + signal_text(signal) + ")");
  });

  const auto& accepted = channel->accept_params();
  auto host = printable(string_field(accepted, "host"));
  auto user = printable(string_field(accepted, "user"));
  std::string where = host.empty() ? "the user's PC" : host;
  if (!user.empty()) where = user + "@" + where;
  std::cerr << "Connected to " << plan.session << " (" << where << "); the session is recorded."
            << (plan.raw ? " Type exit or press Ctrl-] to leave." : "") << std::endl;

  if (plan.raw) raw.emplace(STDIN_FILENO);
  std::shared_ptr<WindowSizeWatcher> watcher;
  if (plan.raw && plan.size_fd >= 0) {
    watcher = std::make_shared<WindowSizeWatcher>(tool.executor, plan.size_fd);
    asio::co_spawn(tool.executor, follow_window_size(watcher, channel), asio::detached);
  }
  std::shared_ptr<LocalInput> input;
  struct stat info {};
  if (!plan.raw && ::fstat(STDIN_FILENO, &info) == 0 && S_ISREG(info.st_mode)) {
    asio::co_spawn(tool.executor, send_file_input(channel), asio::detached);
  } else {
    input = std::make_shared<LocalInput>(tool.executor);
    asio::co_spawn(tool.executor, send_input(input, channel, plan.raw, end), asio::detached);
  }

  for (;;) {
    auto data = co_await channel->read();
    if (!data) break;
    if (!write_all(STDOUT_FILENO, *data)) {
      end.lost = "the local output closed";
      channel->close("the technician's output closed");
      break;
    }
    screen.saw(*data);
  }
  signals->cancel();
  if (watcher) watcher->cancel();
  if (input) input->close();
  if (raw) raw->restore();  // Before the wait for the relay's last word.
}

void run_shell(const ShellState& state) {
  auto client = ApiClient::from_saved_credentials();
  TerminalPlan plan;
  plan.session = session_id_argument(state.session);
  plan.raw = ::isatty(STDIN_FILENO) == 1;
  std::pair<int, int> size{80, 24};
  for (const int fd : {STDOUT_FILENO, STDIN_FILENO}) {
    if (auto found = RawTerminal::window_size(fd)) {
      size = *found;
      plan.size_fd = fd;
      break;
    }
  }
  const char* term = std::getenv("TERM");
  ToolRequest request;
  request.session = plan.session;
  request.kind = "shell";
  request.params = {{"cols", clamp_dimension(size.first)},
                    {"rows", clamp_dimension(size.second)},
                    {"term", term != nullptr && *term != '\0' ? term
                             : plan.raw                       ? "xterm-256color"
                                                              : "dumb"}};
  request.window = protocol::kInteractiveChannelWindow;
  // A closed output must fail our write, not kill us with the terminal still raw.
  std::signal(SIGPIPE, SIG_IGN);

  std::optional<RawTerminal> raw;  // Its destructor restores on an exception, too.
  LocalEnd end;
  RemoteScreen screen;
  auto close = run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
    co_await run_terminal(tool, plan, raw, end, screen);
  });
  if (raw) raw->restore();  // First: what follows is for a normal terminal.
  const bool shell_exited = !close.code && end.signal == 0 && !end.escaped && end.lost.empty();
  if (::isatty(STDOUT_FILENO) == 1) {
    // The remote side had no chance to tidy up after itself: do it, and start a fresh line.
    if (raw && !shell_exited) write_all(STDOUT_FILENO, screen.reset());
    if (!screen.line_start()) write_all(STDOUT_FILENO, "\n");
  }

  if (end.signal != 0) {
    std::cerr << "tether: stopped by " << signal_text(end.signal) << "; the remote shell was ended."
              << std::endl;
    throw CommandExit{128 + end.signal};
  }
  if (end.escaped) {
    std::cerr << "Connection to " << plan.session << " closed (Ctrl-]); the remote shell was ended."
              << std::endl;
    return;
  }
  if (!end.lost.empty()) {
    std::cerr << "tether: " << end.lost << "; the remote shell was ended." << std::endl;
    throw CommandExit{1};
  }
  if (close.code) {
    const auto code = protocol::error_from_string(*close.code);
    if (code == protocol::Error::agent_offline || code == protocol::Error::session_ended ||
        code == protocol::Error::shutting_down) {
      std::string reason =
          close.reason.empty() ? std::string(protocol::describe(code)) : close.reason;
      // "the session ended: the user ended it" reads better without saying it twice.
      constexpr std::string_view kSaid = "the session ended";
      if (reason.starts_with(kSaid)) reason = reason.substr(kSaid.size());
      if (reason.starts_with(":") || reason.starts_with(" ")) reason = reason.substr(1);
      while (reason.starts_with(" ")) reason = reason.substr(1);
      std::cerr << "The session ended" << (reason.empty() ? "" : ": " + printable(reason))
                << std::endl;
      throw CommandExit{kExitSessionGone};
    }
    if (code == protocol::Error::bad_request) {
      throw CommandError("the PC refused the terminal: " + printable(close.reason), 1);
    }
    throw_if_failed(close);
  }

  const auto& result = close.result;
  const auto recording = printable(string_field(result, "recording"));
  const auto recorded =
      recording.empty() ? std::string("; it was not recorded") : "; recording " + recording;
  if (result.contains("exit_code") && result["exit_code"].is_number_integer()) {
    const int status = result["exit_code"].get<int>();
    std::cerr << "Shell closed (exit status " << status << ")" << recorded << "." << std::endl;
    if (status != 0) throw CommandExit{status & 0xff};
    return;
  }
  if (result.contains("signal") && result["signal"].is_string()) {
    const auto name = result["signal"].get<std::string>();
    std::cerr << "Shell closed (killed by SIG" << printable(name, 16) << ")" << recorded << "."
              << std::endl;
    const int number = signal_number(name);
    throw CommandExit{number > 0 ? 128 + number : 1};
  }
  std::cerr << "Shell closed (exit status unknown)" << recorded << "." << std::endl;
  throw CommandExit{1};
}

// ---------------------------------------------------------------- replay

struct Recording {
  std::string name;
  std::uint64_t bytes = 0;
  std::string url;
};

// "20261130T031500Z-12.cast" sorts by its time, then by its number (12 after 9).
bool older(const Recording& a, const Recording& b) {
  auto key = [](const std::string& name) {
    const auto dash = name.find('-');
    const auto dot = name.rfind('.');
    std::uint64_t number = 0;
    if (dash != std::string::npos && dot != std::string::npos && dot > dash + 1 &&
        dot - dash - 1 <= 18) {
      const auto digits = name.substr(dash + 1, dot - dash - 1);
      if (digits.find_first_not_of("0123456789") == std::string::npos) number = std::stoull(digits);
    }
    return std::tuple(name.substr(0, dash), number, name);
  };
  return key(a.name) < key(b.name);
}

std::vector<Recording> list_recordings(ApiClient& client, const std::string& session) {
  const auto reply = client.get("/sessions/" + session + "/recordings");
  std::vector<Recording> list;
  if (!reply.is_object() || !reply.contains("recordings") || !reply["recordings"].is_array()) {
    throw CommandError("the relay sent an unexpected list of recordings");
  }
  for (const auto& entry : reply["recordings"]) {
    Recording recording;
    recording.name = string_field(entry, "name");
    recording.url = string_field(entry, "url");
    if (entry.is_object() && entry.contains("bytes") && entry["bytes"].is_number_unsigned()) {
      recording.bytes = entry["bytes"].get<std::uint64_t>();
    }
    if (recording.name.empty() || !recording.url.starts_with("/api/v1/recordings/")) {
      throw CommandError("the relay sent an unexpected list of recordings");
    }
    list.push_back(std::move(recording));
  }
  std::sort(list.begin(), list.end(), older);
  return list;
}

// Plays the events on our terminal with their timing. SIGINT and SIGTERM stop it (they are
// blocked and waited for between events, so nothing is left half-done). Returns false when
// stopped.
bool play(const Cast& cast, double speed, double max_idle) {
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGINT);
  sigaddset(&stops, SIGTERM);
  sigaddset(&stops, SIGHUP);
  sigset_t previous;
  ::sigprocmask(SIG_BLOCK, &stops, &previous);
  const auto delays = playback_delays(cast.events, speed, max_idle);
  bool stopped = false;
  char last = '\n';
  for (std::size_t i = 0; i < cast.events.size() && !stopped; ++i) {
    const auto delay = delays[i];
    timespec wait{static_cast<time_t>(delay.count() / 1000000),
                  static_cast<long>(delay.count() % 1000000) * 1000};
    for (;;) {
      const int got = ::sigtimedwait(&stops, nullptr, &wait);
      if (got > 0) stopped = true;
      if (got < 0 && errno == EINTR) continue;  // another signal; the wait starts over, fine
      break;
    }
    const auto& event = cast.events[i];
    if (stopped || event.code != 'o' || event.data.empty()) continue;
    if (!write_all(STDOUT_FILENO, event.data)) {
      stopped = true;
      break;
    }
    last = event.data.back();
  }
  if (last != '\n') write_all(STDOUT_FILENO, "\r\n");
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  return !stopped;
}

void run_replay(const ReplayState& state) {
  if (!(state.speed > 0) || state.speed > 1000) {
    throw CommandError("--speed must be more than 0 and at most 1000", 2);
  }
  if (!(state.max_idle >= 0) || state.max_idle > 86400) {
    throw CommandError("--max-idle must be 0 to 86400 seconds", 2);
  }
  auto client = ApiClient::from_saved_credentials();
  const auto session = session_id_argument(state.session);
  const auto recordings = list_recordings(client, session);

  if (state.list) {
    if (state.as_json) {
      json list = json::array();
      for (std::size_t i = 0; i < recordings.size(); ++i) {
        list.push_back({{"index", i + 1},
                        {"name", recordings[i].name},
                        {"bytes", recordings[i].bytes},
                        {"url", recordings[i].url}});
      }
      std::cout << json{{"session", session}, {"recordings", list}}.dump(2) << "\n";
      return;
    }
    if (recordings.empty()) {
      std::cout << session << " has no shell recordings.\n";
      return;
    }
    std::cout << session << " has " << recordings.size() << " shell recording"
              << (recordings.size() == 1 ? "" : "s") << ", oldest first:\n";
    for (std::size_t i = 0; i < recordings.size(); ++i) {
      std::cout << "  " << (i + 1) << "  " << printable(recordings[i].name) << "  "
                << protocol::size_text(recordings[i].bytes)
                << (i + 1 == recordings.size() ? "  (newest)" : "") << "\n";
    }
    return;
  }
  if (recordings.empty()) throw CommandError(session + " has no shell recordings");
  if (state.index < 0 || state.index > static_cast<int>(recordings.size())) {
    throw CommandError(session + " has " + std::to_string(recordings.size()) +
                           " recording(s); --index takes 1 to " +
                           std::to_string(recordings.size()) + " (see --list)",
                       2);
  }
  const auto& chosen = recordings[state.index == 0 ? recordings.size() - 1 : state.index - 1];
  const auto body = client.get_raw(chosen.url);
  const auto cast = parse_asciicast(body);
  const auto name = printable(chosen.name);

  if (!state.out.empty()) {
    {
      std::ofstream out(state.out, std::ios::binary | std::ios::trunc);
      out.write(body.data(), static_cast<std::streamsize>(body.size()));
      out.close();
      if (!out) {
        throw CommandError("cannot write " + state.out + ": " + std::strerror(errno));
      }
    }
    std::cout << "Saved " << name << " (" << protocol::size_text(body.size());
    if (cast) {
      std::cout << ", " << cast->header.width << "x" << cast->header.height << ", "
                << format_cast_duration(cast->duration());
    }
    std::cout << ") to " << state.out << "\n";
    if (cast && cast->cut_short) {
      std::cerr << "tether: note: " << name
                << " ends in the middle of an event (still being "
                   "written, or cut short)\n";
    }
    if (!cast) {
      std::cerr << "tether: warning: " << name
                << " is not a valid asciicast v2 recording: " << printable(cast.error()) << "\n";
    }
    return;
  }

  if (!cast) {
    throw CommandError(name + " is not a valid asciicast v2 recording: " + printable(cast.error()));
  }
  std::cerr << "Replaying " << name << " (" << cast->header.width << "x" << cast->header.height
            << ", " << format_cast_duration(cast->duration()) << "); Ctrl-C stops." << std::endl;
  if (cast->cut_short) {
    std::cerr << "tether: the recording ends in the middle of an event (still being written, "
                 "or cut short); playing what is complete."
              << std::endl;
  }
  if (auto size = RawTerminal::window_size(STDOUT_FILENO);
      size && (size->first < cast->header.width || size->second < cast->header.height)) {
    std::cerr << "tether: this terminal (" << size->first << "x" << size->second
              << ") is smaller than the recording's; the picture may be garbled." << std::endl;
  }
  if (!play(*cast, state.speed, state.max_idle)) {
    std::cerr << "Replay stopped." << std::endl;
    throw CommandExit{130};
  }
  std::cerr << "End of the recording." << std::endl;
}

}  // namespace

void add_shell_commands(CLI::App& app, CLI::App& session, std::function<void()>& action) {
  auto shell_state = std::make_shared<ShellState>();
  auto* shell = app.add_subcommand(
      "shell", "Open a terminal on the session's PC (Ctrl-] leaves; the session is recorded)");
  shell->add_option("SESSION", shell_state->session, "Session, e.g. S-1")->required();
  shell->callback([shell_state, &action] { action = [shell_state] { run_shell(*shell_state); }; });

  auto replay_state = std::make_shared<ReplayState>();
  auto* replay = session.add_subcommand(
      "replay", "Play a session's shell recording here, list them or save one (asciicast v2)");
  replay->add_option("SESSION", replay_state->session, "Session, e.g. S-1")->required();
  auto* out = replay->add_option("--out", replay_state->out,
                                 "Save the recording to this .cast file instead of playing it");
  auto* list = replay->add_flag("--list", replay_state->list, "List the session's recordings");
  list->excludes(out);
  replay->add_flag("--json", replay_state->as_json, "With --list: print JSON");
  replay
      ->add_option("--index", replay_state->index,
                   "Which recording, as numbered by --list (default: the newest)")
      ->check(CLI::PositiveNumber);
  replay->add_option("--speed", replay_state->speed, "Play this many times faster (default 1)");
  replay->add_option("--max-idle", replay_state->max_idle,
                     "Shorten pauses to at most this many seconds (default 2)");
  replay->callback(
      [replay_state, &action] { action = [replay_state] { run_replay(*replay_state); }; });
}

}  // namespace tether::console
