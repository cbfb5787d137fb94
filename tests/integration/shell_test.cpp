// `tether shell` and `tether session replay` through real processes: a relay, an agent with
// the user's consent, and the console, in pipe mode and under a pseudo-terminal of the test's
// own (so raw mode, resizes and the restoring of the technician's terminal are real).

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "relay_fixture.hpp"

namespace tether::testing {
namespace {

using nlohmann::json;

bool process_exists(pid_t pid) {
  if (::kill(pid, 0) != 0 && errno == ESRCH) return false;
  // A zombie is gone for our purpose: it runs nothing and its parent reaps it.
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto paren = text.rfind(')');
  return !(paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z');
}

bool gone_within(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (process_exists(pid)) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

// A child of `parent` whose command name is `name`, once there is one (nothing at the deadline).
std::optional<pid_t> child_named(pid_t parent, const std::string& name,
                                 std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const auto pid_text = entry.path().filename().string();
      if (pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
      std::ifstream stat(entry.path() / "stat");
      std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
      const auto open = text.find('(');
      const auto close = text.rfind(')');
      if (open == std::string::npos || close == std::string::npos) continue;
      std::istringstream rest(text.substr(close + 2));
      char state = 0;
      pid_t ppid = 0;
      rest >> state >> ppid;
      if (ppid == parent && text.substr(open + 1, close - open - 1) == name) {
        return static_cast<pid_t>(std::stol(pid_text));
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  return std::nullopt;
}

// A program on a pseudo-terminal of the test: it is the session leader with the terminal as its
// controlling terminal (as in a terminal emulator); the test holds the master (what the
// technician sees and types) and the slave (to read the terminal's modes at any time).
class TerminalProcess {
 public:
  TerminalProcess(const std::vector<std::string>& argv,
                  const std::map<std::string, std::string>& env, const termios& modes,
                  unsigned short cols, unsigned short rows) {
    winsize size{};
    size.ws_col = cols;
    size.ws_row = rows;
    termios initial = modes;
    if (::openpty(&master_, &slave_, nullptr, &initial, &size) != 0) {
      throw std::runtime_error(std::string("openpty: ") + std::strerror(errno));
    }
    ::fcntl(master_, F_SETFD, FD_CLOEXEC);
    ::fcntl(slave_, F_SETFD, FD_CLOEXEC);
    ::tcgetattr(slave_, &initial_modes_);  // as the kernel keeps them, before the program runs
    // Everything the child needs is built before fork.
    std::vector<std::string> env_text;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry = *e;
      if (!env.contains(entry.substr(0, entry.find('=')))) env_text.push_back(entry);
    }
    for (const auto& [k, v] : env) env_text.push_back(k + "=" + v);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (const auto& e : env_text) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
      ::setsid();
      ::ioctl(slave_, TIOCSCTTY, 0);
      ::dup2(slave_, 0);
      ::dup2(slave_, 1);
      ::dup2(slave_, 2);
      ::execve(args[0], args.data(), envp.data());
      ::_exit(127);
    }
  }
  ~TerminalProcess() {
    if (!status_) {
      ::kill(pid_, SIGKILL);
      int raw = 0;
      ::waitpid(pid_, &raw, 0);
    }
    ::close(master_);
    ::close(slave_);
  }

  pid_t pid() const { return pid_; }
  const termios& initial_modes() const { return initial_modes_; }
  termios modes() const {
    termios t{};
    ::tcgetattr(slave_, &t);
    return t;
  }
  void type(std::string_view text) {
    while (!text.empty()) {
      const auto n = ::write(master_, text.data(), text.size());
      if (n <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  // The kernel sends SIGWINCH to the terminal's foreground process group.
  void resize(unsigned short cols, unsigned short rows) {
    winsize size{};
    size.ws_col = cols;
    size.ws_row = rows;
    ::ioctl(master_, TIOCSWINSZ, &size);
  }
  void signal(int sig) { ::kill(pid_, sig); }

  // Reads until the output after `from` holds `text`; false at the deadline.
  bool read_until(const std::string& text, std::size_t from = 0,
                  std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (output_.find(text, std::min(from, output_.size())) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pump(left);
    }
    return true;
  }
  // Reads until the output after `from` matches `pattern`; its first group (or the whole
  // match), or nothing at the deadline.
  std::optional<std::string> read_until_match(const std::regex& pattern, std::size_t from = 0,
                                              std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      std::smatch match;
      const std::string searched = output_.substr(std::min(from, output_.size()));
      if (std::regex_search(searched, match, pattern)) {
        return match.size() > 1 ? match[1].str() : match[0].str();
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pump(left);
    }
  }
  const std::string& output() const { return output_; }

  // Exit status (128+signal when killed) within `timeout`, draining the terminal meanwhile.
  std::optional<int> wait(std::chrono::milliseconds timeout = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int raw = 0;
      const pid_t done = ::waitpid(pid_, &raw, WNOHANG);
      if (done == pid_) {
        status_ = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) break;
      pump(20ms);
    }
    pump(0ms);
    return status_;
  }

 private:
  void pump(std::chrono::milliseconds timeout) {
    pollfd p{master_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return;
    char buffer[4096];
    const auto n = ::read(master_, buffer, sizeof buffer);
    if (n > 0) output_.append(buffer, static_cast<std::size_t>(n));
  }

  pid_t pid_ = -1;
  int master_ = -1;
  int slave_ = -1;
  std::string output_;
  termios initial_modes_{};
  std::optional<int> status_;
};

// Cooked modes with a few unusual choices, so restoring "some sane modes" would not pass.
termios known_modes() {
  termios t{};
  t.c_iflag = ICRNL | IXON | IUTF8 | BRKINT;
  t.c_oflag = OPOST | ONLCR;
  t.c_cflag = CS8 | CREAD | CLOCAL | B38400;
  t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
  t.c_cc[VINTR] = 0x03;
  t.c_cc[VQUIT] = 0x1c;
  t.c_cc[VERASE] = 0x08;  // ^H rather than the usual DEL
  t.c_cc[VKILL] = 0x15;
  t.c_cc[VEOF] = 0x04;
  t.c_cc[VSTART] = 0x11;
  t.c_cc[VSTOP] = 0x13;
  t.c_cc[VSUSP] = 0x1a;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  return t;
}

bool same_modes(const termios& a, const termios& b) {
  return a.c_iflag == b.c_iflag && a.c_oflag == b.c_oflag && a.c_cflag == b.c_cflag &&
         a.c_lflag == b.c_lflag && std::memcmp(a.c_cc, b.c_cc, sizeof a.c_cc) == 0;
}

class Shell : public RelayFixture {
 protected:
  std::map<std::string, std::string> console_env() {
    return {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}, {"TERM", "xterm-256color"}};
  }

  std::vector<json> timeline(const std::string& kind) {
    std::vector<json> out;
    auto ticket = console_json({"ticket", "show", "T-1"});
    for (const auto& entry : ticket.at("timeline")) {
      if (entry.at("kind") == kind) out.push_back(entry);
    }
    return out;
  }

  // `tether shell S-1` on a terminal of its own, connected and in raw mode.
  std::unique_ptr<TerminalProcess> open_terminal_shell(const termios& modes) {
    auto terminal = std::make_unique<TerminalProcess>(
        std::vector<std::string>{TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env(), modes, 90, 30);
    EXPECT_TRUE(terminal->read_until("Connected to S-1")) << terminal->output();
    // The remote shell answers: from here our side is raw and follows the window.
    terminal->type("echo \"size=$(stty size)\"\n");
    EXPECT_TRUE(terminal->read_until("size=30 90")) << terminal->output();
    return terminal;
  }

  // The remote shell's pid, asked from inside it.
  pid_t remote_shell_pid(TerminalProcess& terminal) {
    const auto from = terminal.output().size();
    terminal.type("echo \"pid=$$.\"\n");
    auto pid = terminal.read_until_match(std::regex(R"(pid=(\d+)\.)"), from);
    EXPECT_TRUE(pid) << terminal.output();
    return pid ? static_cast<pid_t>(std::stol(*pid)) : -1;
  }
};

// Each event line of an asciicast v2 file: [number, "o"|"r"|"m", string].
void expect_valid_cast(const std::string& text, std::string& output) {
  std::istringstream lines(text);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  auto header = json::parse(line, nullptr, false);
  ASSERT_TRUE(header.is_object()) << line;
  EXPECT_EQ(header.value("version", 0), 2);
  EXPECT_TRUE(header.at("width").is_number_integer());
  EXPECT_TRUE(header.at("height").is_number_integer());
  EXPECT_GT(header.value("width", 0), 0);
  EXPECT_GT(header.value("height", 0), 0);
  std::size_t events = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    auto event = json::parse(line, nullptr, false);
    ASSERT_TRUE(event.is_array()) << line;
    ASSERT_EQ(event.size(), 3u) << line;
    EXPECT_TRUE(event[0].is_number()) << line;
    ASSERT_TRUE(event[1].is_string()) << line;
    const auto code = event[1].get<std::string>();
    EXPECT_TRUE(code == "o" || code == "r" || code == "m") << line;
    ASSERT_TRUE(event[2].is_string()) << line;
    if (code == "o") output += event[2].get<std::string>();
    ++events;
  }
  EXPECT_GT(events, 0u);
}

TEST_F(Shell, APipedScriptRunsInTheRemoteShellWhichIsRecorded) {
  auto agent = start_session();
  auto result = run({TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env(), 60s,
                    "echo hello-$((6*7))\nexit 7\n");
  EXPECT_EQ(result.status, 7) << result.err;
  EXPECT_NE(result.out.find("hello-42"), std::string::npos) << result.out;
  EXPECT_NE(result.err.find("Connected to S-1"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("Shell closed (exit status 7); recording "), std::string::npos)
      << result.err;
  EXPECT_TRUE(agent->wait_for_line("The technician opened a terminal as "));
  EXPECT_TRUE(agent->wait_for_line("The terminal was closed."));

  auto closed = timeline("shell.closed");
  ASSERT_EQ(closed.size(), 1u);
  const auto recording = closed[0].at("detail").at("result").value("recording", "");
  EXPECT_FALSE(recording.empty()) << closed[0];
  EXPECT_EQ(closed[0].at("detail").at("result").at("exit_code"), 7);
  EXPECT_NE(result.err.find(recording), std::string::npos) << result.err;

  // Saved as it is stored: a valid asciicast v2 file with the shell's output.
  const auto cast = dir_ / "f.cast";
  auto saved =
      run({TETHER_CONSOLE_BIN, "session", "replay", "S-1", "--out", cast.string()}, console_env());
  ASSERT_EQ(saved.status, 0) << saved.err;
  EXPECT_NE(saved.out.find(recording), std::string::npos) << saved.out;
  std::ifstream in(cast, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string output;
  expect_valid_cast(text, output);
  EXPECT_NE(output.find("hello-42"), std::string::npos) << output;

  // Played here (without pauses): the same output.
  auto played =
      run({TETHER_CONSOLE_BIN, "session", "replay", "S-1", "--max-idle", "0"}, console_env());
  ASSERT_EQ(played.status, 0) << played.err;
  EXPECT_NE(played.out.find("hello-42"), std::string::npos) << played.out;

  auto listed = console_json({"session", "replay", "S-1", "--list"});
  ASSERT_EQ(listed.at("recordings").size(), 1u) << listed;
  EXPECT_EQ(listed["recordings"][0].value("name", ""), recording);
  auto bad_index = console({"session", "replay", "S-1", "--index", "2"});
  EXPECT_EQ(bad_index.status, 2) << bad_index.err;
  EXPECT_NE(bad_index.err.find("--index takes 1 to 1"), std::string::npos) << bad_index.err;
}

TEST_F(Shell, TwoShellsInOneSessionEachSeeTheirOwnOutput) {
  auto agent = start_session();
  Process first({TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env());
  Process second({TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env());
  first.write_stdin("echo first-$((1+1))\n");
  second.write_stdin("echo second-$((2+2))\n");
  // Both answer while both are open.
  EXPECT_TRUE(first.wait_for_line("first-2")) << first.out() << first.err();
  EXPECT_TRUE(second.wait_for_line("second-4")) << second.out() << second.err();
  first.write_stdin("exit 3\n");
  first.close_stdin();
  EXPECT_EQ(first.wait(), 3) << first.err();
  second.write_stdin("echo still-here-$((3*3))\n");
  EXPECT_TRUE(second.wait_for_line("still-here-9")) << second.out() << second.err();
  second.write_stdin("exit 4\n");
  second.close_stdin();
  EXPECT_EQ(second.wait(), 4) << second.err();
  EXPECT_EQ(first.out().find("second-4"), std::string::npos) << first.out();
  EXPECT_EQ(second.out().find("first-2"), std::string::npos) << second.out();
  EXPECT_EQ(timeline("shell.closed").size(), 2u);
  auto listed = console_json({"session", "replay", "S-1", "--list"});
  EXPECT_EQ(listed.at("recordings").size(), 2u) << listed;
}

TEST_F(Shell, EndingTheSessionEndsItsShells) {
  auto agent = start_session();
  Process shell({TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env());
  shell.write_stdin("echo \"p\"\"id=$$.\"\n");  // the echo of the typed line has no "pid="
  auto line = shell.wait_for_line("pid=");
  ASSERT_TRUE(line) << shell.err();
  const auto at = line->find("pid=");
  const pid_t remote = static_cast<pid_t>(std::stol(line->substr(at + 4)));
  ASSERT_GT(remote, 1);

  auto ended = console({"session", "end", "S-1", "--note", "done"});
  ASSERT_EQ(ended.status, 0) << ended.err;
  EXPECT_EQ(shell.wait(15s), 5) << shell.err();
  EXPECT_NE(shell.err().find("The session ended"), std::string::npos) << shell.err();
  EXPECT_TRUE(gone_within(remote, 15s)) << "the remote shell " << remote << " still runs";
}

TEST_F(Shell, ARealTerminalGoesRawFollowsResizesAndIsRestoredWhenTheAgentDies) {
  auto agent = start_session();
  auto terminal = open_terminal_shell(known_modes());
  const termios before = terminal->initial_modes();
  EXPECT_NE(before.c_lflag & ECHO, 0u);
  EXPECT_EQ(before.c_cc[VERASE], 0x08);
  // Raw while the remote shell runs: no local echo, no line editing, no local signals.
  const auto raw = terminal->modes();
  EXPECT_EQ(raw.c_lflag & (ECHO | ICANON | ISIG), 0u);

  // The window grows: the remote terminal follows (the resize and the typing race, so the
  // question is asked again until the answer changes).
  terminal->resize(100, 40);
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  bool resized = false;
  while (!resized && std::chrono::steady_clock::now() < deadline) {
    const auto from = terminal->output().size();
    terminal->type("echo \"size=$(stty size)\"\n");
    resized = terminal->read_until("size=40 100", from, 1s);
  }
  EXPECT_TRUE(resized) << terminal->output();

  // The agent dies: the console says so, exits 5 and leaves the terminal as it found it.
  agent->signal(SIGKILL);
  EXPECT_EQ(terminal->wait(15s), 5) << terminal->output();
  EXPECT_NE(terminal->output().find("The session ended: the agent disconnected"), std::string::npos)
      << terminal->output();
  const auto after = terminal->modes();
  EXPECT_TRUE(same_modes(before, after));
  EXPECT_EQ(after.c_lflag & (ECHO | ICANON), static_cast<tcflag_t>(ECHO | ICANON));
}

TEST_F(Shell, ALostRelayEndsTheShellAndRestoresTheTerminal) {
  auto agent = start_session();
  auto terminal = open_terminal_shell(known_modes());
  relay_->signal(SIGKILL);
  EXPECT_TRUE(relay_->wait());
  relay_.reset();
  EXPECT_EQ(terminal->wait(15s), 5) << terminal->output();
  EXPECT_NE(terminal->output().find("The session ended: the connection was lost"),
            std::string::npos)
      << terminal->output();
  EXPECT_TRUE(same_modes(terminal->initial_modes(), terminal->modes()));
  // Modes the remote shell turned on in our terminal (bracketed paste) are turned off.
  EXPECT_NE(terminal->output().rfind("\x1b[?2004l"), std::string::npos);
}

TEST_F(Shell, SigtermToTheConsoleRestoresTheTerminalAndEndsTheRemoteShell) {
  auto agent = start_session();
  const auto modes = known_modes();
  auto terminal = open_terminal_shell(modes);
  const pid_t remote = remote_shell_pid(*terminal);
  ASSERT_GT(remote, 1);
  EXPECT_TRUE(process_exists(remote));

  terminal->signal(SIGTERM);
  EXPECT_EQ(terminal->wait(15s), 128 + SIGTERM) << terminal->output();
  EXPECT_NE(terminal->output().find("stopped by SIGTERM"), std::string::npos) << terminal->output();
  EXPECT_TRUE(same_modes(terminal->initial_modes(), terminal->modes()));
  EXPECT_TRUE(gone_within(remote, 15s)) << "the remote shell " << remote << " still runs";
  EXPECT_TRUE(agent->wait_for_line("The terminal was closed."));
}

TEST_F(Shell, CtrlRightBracketLeavesAndEndsTheRemoteShell) {
  auto agent = start_session();
  const auto modes = known_modes();
  auto terminal = open_terminal_shell(modes);
  const pid_t remote = remote_shell_pid(*terminal);
  ASSERT_GT(remote, 1);

  terminal->type("\x1d");
  EXPECT_EQ(terminal->wait(15s), 0) << terminal->output();
  EXPECT_NE(terminal->output().find("Connection to S-1 closed (Ctrl-])"), std::string::npos)
      << terminal->output();
  EXPECT_TRUE(same_modes(terminal->initial_modes(), terminal->modes()));
  EXPECT_TRUE(gone_within(remote, 15s)) << "the remote shell " << remote << " still runs";
}

TEST_F(Shell, CtrlCReachesTheRemoteForegroundJobNotTheConsole) {
  auto agent = start_session();
  auto terminal = open_terminal_shell(known_modes());
  const pid_t remote = remote_shell_pid(*terminal);
  ASSERT_GT(remote, 1);
  terminal->type("sleep 1000\n");
  const auto sleeper = child_named(remote, "sleep", 20s);
  ASSERT_TRUE(sleeper) << terminal->output();
  // ^C is a byte for the remote terminal, which interrupts its foreground job.
  terminal->type("\x03");
  EXPECT_TRUE(gone_within(*sleeper, 15s)) << terminal->output();
  const auto from = terminal->output().size();
  terminal->type("echo \"after=$((5+5))\"\n");
  EXPECT_TRUE(terminal->read_until("after=10", from)) << terminal->output();
  terminal->type("exit 9\n");
  EXPECT_EQ(terminal->wait(15s), 9) << terminal->output();
  EXPECT_NE(terminal->output().find("Shell closed (exit status 9); recording "), std::string::npos)
      << terminal->output();
}

TEST_F(Shell, RefusedWhenTheUserDidNotGrantTheShell) {
  auto agent = start_session({"--grant", "diagnostics"});
  auto result = run({TETHER_CONSOLE_BIN, "shell", "S-1"}, console_env(), 60s, "echo never\n");
  EXPECT_EQ(result.status, 4) << result.err;
  EXPECT_NE(result.err.find("not permitted by the user"), std::string::npos) << result.err;
  EXPECT_EQ(result.out.find("never"), std::string::npos) << result.out;
  EXPECT_EQ(timeline("action.refused").size(), 1u);
}

TEST_F(Shell, TheAgentRefusesATerminalTypeThatIsNotAPlainName) {
  auto agent = start_session();
  auto env = console_env();
  env["TERM"] = "xterm;touch /tmp/x";
  auto result = run({TETHER_CONSOLE_BIN, "shell", "S-1"}, env, 60s, "exit 0\n");
  EXPECT_EQ(result.status, 1) << result.err;
  EXPECT_NE(result.err.find("term must be 1 to 64 letters, digits or ._+-"), std::string::npos)
      << result.err;
}

TEST_F(Shell, ReplayWithoutRecordingsSaysSo) {
  auto agent = start_session();
  auto result = console({"session", "replay", "S-1"});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("S-1 has no shell recordings"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace tether::testing
