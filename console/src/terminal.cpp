#include "tether/console/terminal.hpp"

#include <sys/ioctl.h>
#include <termios.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include <boost/asio/use_awaitable.hpp>

namespace tether::console {
namespace {

// What the handlers restore. g_saved and g_previous are written only while none of our
// handlers is installed (before installing, after removing them); the handlers read them.
// g_fd says whether there is anything to restore: -1 when not.
termios g_saved{};
volatile std::sig_atomic_t g_fd = -1;
std::atomic<bool> g_claimed{false};

struct GuardedSignal {
  int signal;
  bool fatal;  ///< A crash: passed on to any previous handler, not only to the default.
};
constexpr std::array<GuardedSignal, 9> kGuarded{{{SIGINT, false},
                                                 {SIGTERM, false},
                                                 {SIGHUP, false},
                                                 {SIGQUIT, false},
                                                 {SIGSEGV, true},
                                                 {SIGBUS, true},
                                                 {SIGFPE, true},
                                                 {SIGILL, true},
                                                 {SIGABRT, true}}};
std::array<struct sigaction, kGuarded.size()> g_previous{};
std::array<bool, kGuarded.size()> g_installed{};

void restore_saved_modes(int when) noexcept {
  const int fd = g_fd;
  if (fd >= 0) ::tcsetattr(fd, when, &g_saved);
}

// Async-signal-safe throughout: tcsetattr, sigaction and raise are.
void on_deadly_signal(int signal) {
  const int saved_errno = errno;
  restore_saved_modes(TCSANOW);  // not TCSADRAIN: output stuck behind ^S must not hang us
  for (std::size_t i = 0; i < kGuarded.size(); ++i) {
    if (kGuarded[i].signal == signal) ::sigaction(signal, &g_previous[i], nullptr);
  }
  // Blocked while this handler runs, then delivered under the previous disposition: the
  // default action ends the process with this very signal; a previous handler gets its turn.
  // A real fault (SIGSEGV) also recurs when the instruction runs again.
  ::raise(signal);
  errno = saved_errno;
}

void restore_at_exit() {
  restore_saved_modes(TCSADRAIN);
}

bool is_ours(const struct sigaction& action) {
  return (action.sa_flags & SA_SIGINFO) == 0 && action.sa_handler == &on_deadly_signal;
}

void install_handlers() {
  struct sigaction ours {};
  ours.sa_handler = &on_deadly_signal;
  sigemptyset(&ours.sa_mask);
  for (const auto& guarded : kGuarded) sigaddset(&ours.sa_mask, guarded.signal);
  for (std::size_t i = 0; i < kGuarded.size(); ++i) {
    g_installed[i] = false;
    struct sigaction& previous = g_previous[i];
    if (::sigaction(kGuarded[i].signal, nullptr, &previous) != 0) continue;
    const bool handled = (previous.sa_flags & SA_SIGINFO) != 0 || previous.sa_handler != SIG_DFL;
    if ((previous.sa_flags & SA_SIGINFO) == 0 && previous.sa_handler == SIG_IGN) continue;
    // The program shuts down its own way on this signal; its RawTerminal's destructor restores.
    if (handled && !kGuarded[i].fatal) continue;
    g_installed[i] = ::sigaction(kGuarded[i].signal, &ours, nullptr) == 0;
  }
}

void remove_handlers() {
  for (std::size_t i = 0; i < kGuarded.size(); ++i) {
    if (!g_installed[i]) continue;
    g_installed[i] = false;
    struct sigaction current {};
    // Someone who replaced ours since keeps their handler.
    if (::sigaction(kGuarded[i].signal, nullptr, &current) == 0 && is_ours(current)) {
      ::sigaction(kGuarded[i].signal, &g_previous[i], nullptr);
    }
  }
}

termios raw_modes(termios modes) {
  modes.c_iflag |= IGNPAR;
  modes.c_iflag &= ~(ISTRIP | INLCR | IGNCR | ICRNL | IXON | IXANY | IXOFF | IUCLC);
  modes.c_lflag &= ~(ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHONL | IEXTEN);
  modes.c_oflag &= ~OPOST;
  modes.c_cc[VMIN] = 1;
  modes.c_cc[VTIME] = 0;
  return modes;
}

}  // namespace

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  if (::isatty(fd) != 1) return;
  if (g_claimed.exchange(true)) {
    throw std::logic_error("a RawTerminal is already active in this process");
  }
  termios saved{};
  if (::tcgetattr(fd, &saved) != 0) {
    const int error = errno;
    g_claimed = false;
    throw std::system_error(error, std::generic_category(), "cannot read the terminal's modes");
  }
  g_saved = saved;
  // The way back is in place before the terminal goes raw.
  g_fd = fd;
  install_handlers();
  static std::once_flag at_exit;
  std::call_once(at_exit, [] { std::atexit(&restore_at_exit); });

  const termios raw = raw_modes(saved);
  if (::tcsetattr(fd, TCSADRAIN, &raw) != 0) {
    const int error = errno;
    g_fd = -1;
    remove_handlers();
    g_claimed = false;
    throw std::system_error(error, std::generic_category(),
                            "cannot put the terminal into raw mode");
  }
  active_ = true;
}

RawTerminal::~RawTerminal() {
  restore();
}

void RawTerminal::restore() noexcept {
  if (!active_) return;
  active_ = false;
  // Restored before the handlers go: a signal in between restores once more, harmlessly.
  ::tcsetattr(fd_, TCSADRAIN, &g_saved);
  g_fd = -1;
  remove_handlers();
  g_claimed = false;
}

std::optional<std::pair<int, int>> RawTerminal::window_size(int fd) {
  winsize size{};
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_col == 0 || size.ws_row == 0) {
    return std::nullopt;
  }
  return std::pair<int, int>{size.ws_col, size.ws_row};
}

WindowSizeWatcher::WindowSizeWatcher(boost::asio::any_io_executor executor, int fd)
    : signals_(std::move(executor), SIGWINCH), fd_(fd) {}

boost::asio::awaitable<std::optional<std::pair<int, int>>> WindowSizeWatcher::next() {
  co_await signals_.async_wait(boost::asio::use_awaitable);
  co_return RawTerminal::window_size(fd_);
}

void WindowSizeWatcher::cancel() {
  signals_.cancel();
}

}  // namespace tether::console
