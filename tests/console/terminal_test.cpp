// RawTerminal on a real pseudo-terminal (openpty): raw while alive, the exact previous modes
// afterwards, also when the process dies of a signal, crashes or calls std::exit.

#include "tether/console/terminal.hpp"

#include <fcntl.h>
#include <pty.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

namespace tether::console {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

termios modes_of(int fd) {
  termios modes{};
  EXPECT_EQ(::tcgetattr(fd, &modes), 0) << std::strerror(errno);
  return modes;
}

/// Every field tcsetattr can set, compared exactly.
void expect_same_modes(const termios& actual, const termios& expected) {
  EXPECT_EQ(actual.c_iflag, expected.c_iflag);
  EXPECT_EQ(actual.c_oflag, expected.c_oflag);
  EXPECT_EQ(actual.c_cflag, expected.c_cflag);
  EXPECT_EQ(actual.c_lflag, expected.c_lflag);
  EXPECT_EQ(actual.c_line, expected.c_line);
  EXPECT_EQ(std::memcmp(actual.c_cc, expected.c_cc, sizeof actual.c_cc), 0);
  EXPECT_EQ(cfgetispeed(&actual), cfgetispeed(&expected));
  EXPECT_EQ(cfgetospeed(&actual), cfgetospeed(&expected));
}

void expect_raw(const termios& modes) {
  EXPECT_EQ(modes.c_lflag & (ICANON | ECHO | ISIG | IEXTEN), 0U);
  EXPECT_EQ(modes.c_iflag & (ICRNL | IXON), 0U);
  EXPECT_EQ(modes.c_oflag & OPOST, 0U);
  EXPECT_EQ(modes.c_cc[VMIN], 1);
  EXPECT_EQ(modes.c_cc[VTIME], 0);
}

/// A pseudo-terminal whose slave is duplicated onto a descriptor of its own, with
/// recognisable starting modes (a cooked terminal, as a shell leaves it).
class TerminalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int slave = -1;
    ASSERT_EQ(::openpty(&master_, &slave, nullptr, nullptr, nullptr), 0) << std::strerror(errno);
    tty_ = ::fcntl(slave, F_DUPFD_CLOEXEC, 10);
    ::close(slave);
    ASSERT_GE(tty_, 10);
    termios modes = modes_of(tty_);
    modes.c_iflag |= ICRNL | IXON | IUTF8;
    modes.c_oflag |= OPOST | ONLCR;
    modes.c_lflag |= ICANON | ECHO | ECHOE | ECHOK | ISIG | IEXTEN;
    modes.c_cc[VINTR] = 3;
    modes.c_cc[VMIN] = 1;
    ASSERT_EQ(::tcsetattr(tty_, TCSANOW, &modes), 0);
    original_ = modes_of(tty_);
  }
  void TearDown() override {
    ::close(tty_);
    ::close(master_);
  }

  /// Forks a child that runs `body` (it ends the child itself or returns to _exit(0)) after
  /// announcing on a pipe that its terminal is raw; returns the child's pid once it has.
  pid_t fork_raw_child(const std::function<void()>& body) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::close(ready[0]);
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);      // SIGQUIT, SIGSEGV, SIGABRT dump no core here
      auto* terminal = new RawTerminal(tty_);  // never deleted: only the guards may restore
      if (!terminal->active()) ::_exit(90);
      if (::write(ready[1], "r", 1) != 1) ::_exit(91);
      body();
      ::_exit(0);
    }
    ::close(ready[1]);
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1) << "the child never became raw";
    ::close(ready[0]);
    return pid;
  }

  static int wait_status(pid_t pid) {
    int status = 0;
    EXPECT_EQ(::waitpid(pid, &status, 0), pid);
    return status;
  }

  int master_ = -1;
  int tty_ = -1;
  termios original_{};
};

TEST_F(TerminalTest, RawWhileAliveAndExactlyRestoredAfter) {
  {
    RawTerminal raw(tty_);
    EXPECT_TRUE(raw.active());
    EXPECT_EQ(raw.fd(), tty_);
    const termios modes = modes_of(tty_);
    expect_raw(modes);
    // Character size and parity stay as they were.
    EXPECT_EQ(modes.c_cflag, original_.c_cflag);
  }
  expect_same_modes(modes_of(tty_), original_);
}

TEST_F(TerminalTest, RestoreIsIdempotent) {
  RawTerminal raw(tty_);
  raw.restore();
  EXPECT_FALSE(raw.active());
  expect_same_modes(modes_of(tty_), original_);
  // Whatever is set after restore() survives a second restore() and the destructor.
  termios changed = original_;
  changed.c_lflag &= ~ECHO;
  ASSERT_EQ(::tcsetattr(tty_, TCSANOW, &changed), 0);
  raw.restore();
  EXPECT_EQ(modes_of(tty_).c_lflag & ECHO, 0U);
}

TEST_F(TerminalTest, NotATerminalIsLeftAlone) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  {
    RawTerminal raw(fds[0]);
    EXPECT_FALSE(raw.active());
    // It claimed nothing: a real one can start while it lives.
    RawTerminal real(tty_);
    EXPECT_TRUE(real.active());
  }
  ::close(fds[0]);
  ::close(fds[1]);
  expect_same_modes(modes_of(tty_), original_);
}

TEST_F(TerminalTest, OnlyOneAtATime) {
  RawTerminal first(tty_);
  EXPECT_THROW(RawTerminal second(tty_), std::logic_error);
  first.restore();
  RawTerminal third(tty_);  // free again after restore()
  EXPECT_TRUE(third.active());
}

class TerminalSignalTest : public TerminalTest, public ::testing::WithParamInterface<int> {};

TEST_P(TerminalSignalTest, RestoredWhenASignalKillsTheProcess) {
  const int signal = GetParam();
  const pid_t child = fork_raw_child([] {
    for (;;) ::pause();
  });
  expect_raw(modes_of(tty_));
  ASSERT_EQ(::kill(child, signal), 0);
  const int status = wait_status(child);
  // The signal still ends the process, and says so in its exit status.
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), signal);
  expect_same_modes(modes_of(tty_), original_);
}

INSTANTIATE_TEST_SUITE_P(DeadlySignals, TerminalSignalTest,
                         ::testing::Values(SIGTERM, SIGINT, SIGHUP, SIGQUIT),
                         [](const auto& info) { return std::string(sigabbrev_np(info.param)); });

TEST_F(TerminalTest, RestoredOnACrash) {
  const pid_t child = fork_raw_child([] {
    volatile int* nowhere = nullptr;
    *nowhere = 1;
  });
  const int status = wait_status(child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGSEGV);
  expect_same_modes(modes_of(tty_), original_);
}

TEST_F(TerminalTest, RestoredOnAbort) {
  const pid_t child = fork_raw_child([] { std::abort(); });
  const int status = wait_status(child);
  ASSERT_TRUE(WIFSIGNALED(status)) << "status " << status;
  EXPECT_EQ(WTERMSIG(status), SIGABRT);
  expect_same_modes(modes_of(tty_), original_);
}

TEST_F(TerminalTest, RestoredOnExit) {
  const pid_t child = fork_raw_child([] { std::exit(7); });
  const int status = wait_status(child);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 7);
  expect_same_modes(modes_of(tty_), original_);
}

TEST_F(TerminalTest, ProgramsOwnSignalHandlerIsLeftInPlace) {
  // A program that handles SIGTERM itself (as Asio's signal_set does) shuts down its own
  // way: its handler runs, and finds the terminal as the program left it (still raw).
  static int tty = -1;
  tty = tty_;
  const pid_t child = ::fork();
  if (child == 0) {
    struct sigaction own {};
    own.sa_handler = [](int) {
      termios modes{};
      const bool raw = ::tcgetattr(tty, &modes) == 0 && (modes.c_lflag & ICANON) == 0;
      ::_exit(raw ? 42 : 43);
    };
    ::sigaction(SIGTERM, &own, nullptr);
    RawTerminal raw(tty_);
    ::kill(::getpid(), SIGTERM);
    ::_exit(44);
  }
  const int status = wait_status(child);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 42) << "43: the terminal was restored behind its back";
}

TEST_F(TerminalTest, WindowSizeOfATerminal) {
  winsize size{};
  size.ws_col = 132;
  size.ws_row = 43;
  ASSERT_EQ(::ioctl(master_, TIOCSWINSZ, &size), 0);
  EXPECT_EQ(RawTerminal::window_size(tty_), std::make_pair(132, 43));

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  EXPECT_EQ(RawTerminal::window_size(fds[0]), std::nullopt);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_F(TerminalTest, WindowSizeWatcherReportsTheNewSize) {
  asio::io_context io;
  WindowSizeWatcher watcher(io.get_executor(), tty_);
  winsize size{};
  size.ws_col = 100;
  size.ws_row = 30;
  ASSERT_EQ(::ioctl(master_, TIOCSWINSZ, &size), 0);
  // Sent before anyone waits: the watcher keeps it for the next next().
  ASSERT_EQ(::kill(::getpid(), SIGWINCH), 0);
  std::optional<std::pair<int, int>> seen;
  bool finished = false;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { seen = co_await watcher.next(); },
      [&](std::exception_ptr error) {
        finished = true;
        EXPECT_FALSE(error);
      });
  io.run_for(30s);
  ASSERT_TRUE(finished);
  EXPECT_EQ(seen, std::make_pair(100, 30));

  // cancel() ends a pending wait with operation_aborted.
  bool aborted = false;
  io.restart();
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        try {
          co_await watcher.next();
        } catch (const boost::system::system_error& error) {
          aborted = error.code() == asio::error::operation_aborted;
        }
      },
      [](std::exception_ptr) {});
  asio::post(io, [&] { watcher.cancel(); });
  io.run_for(30s);
  EXPECT_TRUE(aborted);
}

}  // namespace
}  // namespace tether::console
