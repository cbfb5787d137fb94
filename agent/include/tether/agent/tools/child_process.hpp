#pragma once
/// A child process driven from Asio coroutines on the agent's main io_context, with streaming
/// I/O: the building block of the remote shell (a login shell on a pseudo-terminal) and of
/// remote commands (argv with stdin/stdout/stderr pipes).
///
/// Every child starts in a session of its own (setsid), so it is the leader of its process
/// group and of its session, has no access to the agent's terminal, and can be stopped with
/// everything it started: signal_group() reaches its process group, signal_session() every
/// process still in its session (grandchildren that moved to another group, background jobs
/// of a shell). Children start with default signal dispositions, an empty signal mask and
/// only descriptors 0, 1 and 2 open.
///
/// The child's exit is watched through a pidfd on the same executor; its status is read with
/// WNOWAIT, so the exited child stays a zombie until this object is destroyed. That keeps its
/// pid (which is also its group and session id) from being reused, so signalling the group or
/// the session is always safe while the object lives. (A kernel before 5.3 has no pidfd: the
/// exit is then polled for, every 5 to 200 ms.) libuv's SIGCHLD handler (UvThread,
/// run_program) only ever waits for the pids libuv spawned, so the two never reap each
/// other's children.
///
/// Destroying the object (the last shared_ptr) while anything of the child's session still
/// runs sends SIGKILL to the whole session, then reaps the child (at once when it is already
/// gone, otherwise in the background on the executor): nothing is left behind, no zombie.
///
/// Process-wide effects of the first spawn: SIGPIPE becomes ignored in the agent (a write to
/// a child that closed its stdin then fails with EPIPE instead of killing the agent), and an
/// inherited "ignore SIGCHLD" is reset to the default (it would make the kernel discard exit
/// statuses).
///
/// Thread safety: none. Spawn, call every member and destroy the object on the thread that
/// runs the executor given at spawn. At most one read per stream and one write_stdin() may be
/// in flight at a time (the usual Asio rule); a read and a write may run together.
///
/// Lifetime: destroy the object before its io_context (as any Asio I/O object). The
/// coroutines returned by the members do not keep the object alive. Destroying
/// it ends pending reads with 0 (end of stream), pending writes with false and lets pending
/// waits complete with the status of the killed child.

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/system/result.hpp>

namespace tether::agent::tools {

/// How a child process ended. Exactly one of exit_code and signal is set, except in the rare
/// case where the status could not be read (someone else reaped the child): then neither.
struct ExitStatus {
  std::optional<int> exit_code;  ///< The child exited by itself with this status (0..255).
  std::optional<int> signal;     ///< A signal ended the child (ours after a timeout, or any).
  bool timed_out = false;        ///< wait_for() stopped it at its deadline.

  bool succeeded() const { return !timed_out && exit_code == 0; }
  friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

/// One line for a person: "exit status 0", "exit status 3", "killed by SIGKILL",
/// "timed out (killed by SIGTERM)", "exit status unknown".
std::string describe(const ExitStatus& status);

/// Options for a command run with pipes.
struct PipeOptions {
  /// Working directory; empty keeps the agent's. A missing directory fails the spawn (ENOENT).
  std::string cwd;
  /// "NAME=value" entries added to the agent's environment (replacing a variable of that
  /// name). The program (argv[0], when it has no '/') is looked up on the agent's PATH.
  std::vector<std::string> env;
};

/// Options for a login shell on a pseudo-terminal.
struct PtyOptions {
  unsigned short cols = 80;
  unsigned short rows = 24;
  std::string term = "xterm-256color";  ///< The shell's TERM.
  /// Absolute path of the shell; empty: the user's login shell from the password database
  /// (getpwuid(geteuid())), or /bin/sh when that is unset or not executable.
  std::string shell;
  /// "NAME=value" entries added after TERM, HOME, USER, LOGNAME and SHELL are set.
  std::vector<std::string> env;
};

/// How long wait_for() waits between SIGTERM and SIGKILL.
inline constexpr std::chrono::milliseconds kTerminateGrace{2000};

class ChildProcess {
 public:
  using SpawnResult = boost::system::result<std::shared_ptr<ChildProcess>, std::error_code>;

  /// Runs `argv` with three pipes: what write_stdin() sends is its standard input,
  /// read_stdout() and read_stderr() return its two outputs separately. Errors (an errno in
  /// std::generic_category): invalid_argument for an empty argv; no_such_file_or_directory
  /// or permission_denied when the program cannot be found or run; others for the pipes.
  static SpawnResult spawn_pipes(boost::asio::any_io_executor executor,
                                 const std::vector<std::string>& argv,
                                 const PipeOptions& options = {});

  /// Runs the user's login shell (argv[0] "-bash" style, so it reads the profile files) on a
  /// new pseudo-terminal of options.cols × options.rows that is its controlling terminal
  /// (job control, ^C and ^Z work), with TERM, HOME, USER, LOGNAME and SHELL set, in the
  /// user's home folder; the rest of its environment is the agent's (as a terminal emulator
  /// passes on the desktop session's), without COLUMNS and LINES. Both directions go through the
  /// terminal: write_stdin() types into it, read_stdout() returns what the shell displays (its
  /// stdout and stderr together, echo included). Errors as spawn_pipes, plus those of opening a
  /// pseudo-terminal.
  static SpawnResult spawn_pty(boost::asio::any_io_executor executor,
                               const PtyOptions& options = {});

  /// Kills what is left of the child's session (SIGKILL) and reaps the child; see above.
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  /// The child's pid, which is also its process group and session id.
  pid_t pid() const { return pid_; }
  bool is_pty() const { return pty_; }
  const boost::asio::any_io_executor& get_executor() const { return executor_; }
  /// The exit status once a wait has seen the child exit; empty before.
  std::optional<ExitStatus> status() const;

  /// Reads some bytes of standard output (pipes) or of the terminal (PTY) into `buffer`,
  /// which must not be empty. Returns 0 at the end of the stream: the child and everything
  /// that inherited the stream closed it (for a PTY, the kernel's EIO once the last process
  /// on the terminal left), or close_streams() was called, or this object was destroyed.
  /// Throws boost::system::system_error for anything else.
  boost::asio::awaitable<std::size_t> read_stdout(boost::asio::mutable_buffer buffer);
  /// As read_stdout() for standard error. Returns 0 at once for a PTY (stderr goes to the
  /// terminal).
  boost::asio::awaitable<std::size_t> read_stderr(boost::asio::mutable_buffer buffer);

  /// Writes all of `bytes` to standard input (pipes) or to the terminal (PTY); `bytes` must
  /// stay valid until this completes. Returns false when the child no longer reads (it
  /// closed its stdin, the terminal hung up, close_stdin() or close_streams() was called, or
  /// this object was destroyed); throws boost::system::system_error for anything else.
  boost::asio::awaitable<bool> write_stdin(std::string_view bytes);
  /// Closes standard input, so the child reads end of file (pipes). For a PTY this does
  /// nothing: the terminal stays open for reading; type the EOF character (^D) or "exit".
  void close_stdin();
  /// Closes every stream to the child and ends pending reads and writes. Does not signal it.
  void close_streams();

  /// Sets the terminal size; the kernel sends SIGWINCH to the terminal's foreground job.
  /// Returns false for a pipes child or when the terminal is gone.
  bool resize(unsigned short cols, unsigned short rows);

  /// Sends `signal` to the child's process group. To interrupt the foreground job of a PTY
  /// shell, write the terminal's interrupt character ("\x03") instead: interactive shells
  /// ignore SIGINT and SIGTERM, and jobs run in process groups of their own.
  void signal_group(int signal);
  /// Sends `signal` to the child's process group and to every other process still in its
  /// session (found in /proc). A process that started a session of its own escapes.
  void signal_session(int signal);

  /// Waits until the child (the process spawned, not its descendants) exits and returns its
  /// status; at once when it already has. Several coroutines may wait at the same time.
  /// Throws boost::system::system_error(operation_aborted) when the wait is cancelled.
  boost::asio::awaitable<ExitStatus> wait();

  /// As wait(), with a deadline: `timeout` after the call, SIGTERM goes to the child's whole
  /// session; `grace` later SIGKILL goes to whatever is left of it (even when the child itself
  /// has exited, so descendants that ignore SIGTERM cannot keep the output open). The status
  /// then has timed_out set.
  boost::asio::awaitable<ExitStatus> wait_for(std::chrono::milliseconds timeout,
                                              std::chrono::milliseconds grace = kTerminateGrace);

  struct ExitWatch;  ///< The pid, its pidfd and the status; shared with background reaping.

 private:
  ChildProcess(boost::asio::any_io_executor executor, bool pty);

  boost::asio::any_io_executor executor_;
  bool pty_ = false;
  pid_t pid_ = -1;
  boost::asio::posix::stream_descriptor stdin_;   ///< Pipes only.
  boost::asio::posix::stream_descriptor stdout_;  ///< The PTY master for a PTY.
  boost::asio::posix::stream_descriptor stderr_;  ///< Pipes only.
  std::shared_ptr<ExitWatch> exit_;
};

}  // namespace tether::agent::tools
