#pragma once
/// The technician's own terminal during `tether shell`: raw mode while the remote shell runs,
/// the exact previous modes afterwards, whatever way the program ends.
///
/// Raw mode here is what ssh uses for a remote PTY: no line editing, no echo, no signals
/// from ^C/^Z/^\ (they travel to the remote shell as bytes), no flow control, no CR/NL
/// translation of input, and no output processing (OPOST off). The remote PTY already turns
/// "\n" into "\r\n" where its programs want it; translating again here would break full-screen
/// programs that move the cursor with a bare "\n". So while raw, a local message must end in
/// "\r\n" (or call restore() first). Character size and parity are left as they were.
///
/// Restoring is guaranteed on every exit path a process can survive long enough to act on:
/// the destructor; std::exit() (an atexit handler); SIGINT, SIGTERM, SIGHUP and SIGQUIT when
/// they would kill the program (their handler restores the terminal, then the signal is
/// raised again with its previous disposition, so the exit status still says which signal);
/// and the fatal signals SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT (std::terminate), which
/// are passed on to whatever handled them before. A signal the program already handles (an
/// Asio signal_set installed before the RawTerminal) or ignores is left alone: that program
/// shuts down its own way and the destructor restores. SIGKILL cannot be caught: `stty sane`
/// or `reset` fixes the terminal then.

#include <unistd.h>

#include <optional>
#include <utility>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/signal_set.hpp>

namespace tether::console {

class RawTerminal {
 public:
  /// Puts `fd` into raw mode when it is a terminal and installs the restoring handlers. When
  /// it is not a terminal (input piped into `tether shell`), does nothing: active() is false.
  /// Throws std::system_error when the terminal refuses the change, std::logic_error when
  /// another RawTerminal is active in this process (the handlers hold one saved state).
  explicit RawTerminal(int fd = STDIN_FILENO);
  /// restore().
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  /// Puts the modes saved at construction back (waiting for pending output to be written)
  /// and removes the handlers. Idempotent: later calls, and the destructor, do nothing.
  void restore() noexcept;
  /// True from a successful switch to raw mode until restore().
  bool active() const noexcept { return active_; }
  int fd() const noexcept { return fd_; }

  /// The size of the terminal on `fd` as {columns, rows} (TIOCGWINSZ); nothing when `fd` is
  /// not a terminal or reports a zero size.
  static std::optional<std::pair<int, int>> window_size(int fd = STDOUT_FILENO);

 private:
  int fd_;
  bool active_ = false;
};

/// SIGWINCH for a coroutine: each next() waits for the local terminal to change size and
/// returns its new size, to send to the remote PTY. Signals that arrive between two calls
/// are not lost (several coalesce into one). Uses an Asio signal_set, so SIGWINCH is handled
/// while the watcher exists; use it on the thread that runs `executor`.
class WindowSizeWatcher {
 public:
  explicit WindowSizeWatcher(boost::asio::any_io_executor executor, int fd = STDOUT_FILENO);

  /// The size after the next SIGWINCH ({columns, rows}); nothing when the terminal does not
  /// report one. Throws boost::system::system_error(operation_aborted) after cancel().
  boost::asio::awaitable<std::optional<std::pair<int, int>>> next();
  /// Ends a pending next().
  void cancel();

 private:
  boost::asio::signal_set signals_;
  int fd_;
};

}  // namespace tether::console
