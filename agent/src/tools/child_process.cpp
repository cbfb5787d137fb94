#include "tether/agent/tools/child_process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_set>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

extern char** environ;

// How children are started, and why not with uv_spawn.
//
// A remote shell needs the pseudo-terminal's slave as its controlling terminal, or job
// control, ^C and ^Z do not work and programs that open /dev/tty (sudo, ssh, less) fail.
// uv_spawn's UV_PROCESS_DETACHED calls setsid() but only dup2()s descriptors it is given, and
// dup2 never makes a terminal controlling: only open() by a session leader without one does
// (or ioctl TIOCSCTTY, which uv_spawn cannot run). The alternatives were worse: re-executing
// /proc/self/exe as a trampoline needs a hook in every binary that links this code (the test
// binaries too) and costs an extra exec per shell; /usr/bin/setsid --ctty is not everywhere;
// a hand-written fork() in a multi-threaded process may only call async-signal-safe
// functions and must report exec failures through a pipe.
//
// glibc's posix_spawn does all of it safely: it clones with CLONE_VM|CLONE_VFORK and every
// signal blocked, runs setsid (POSIX_SPAWN_SETSID) before the file actions, so opening the
// slave by path as descriptor 0 makes it the controlling terminal (Linux gives a session
// leader without one the first terminal it opens without O_NOCTTY), resets signal handling,
// changes directory, closes every other descriptor, and reports a failed exec as an error
// code to the caller. Both modes spawn this way, so both get a session of their own.
//
// The exit is watched with a pidfd on the Asio executor: no thread hop, and no race with
// libuv, whose SIGCHLD handler calls waitpid() only for the pids of its own uv_process_t
// handles. A child is reaped only by this file.

namespace tether::agent::tools {
namespace {

namespace asio = boost::asio;
using boost::system::error_code;

std::error_code last_error() {
  return {errno, std::generic_category()};
}

class OwnedFd {
 public:
  OwnedFd() = default;
  explicit OwnedFd(int fd) : fd_(fd) {}
  ~OwnedFd() { reset(); }
  OwnedFd(OwnedFd&& other) noexcept : fd_(other.release()) {}
  OwnedFd& operator=(OwnedFd&&) = delete;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;

  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The child dup2()s its sources onto 0, 1 and 2 in order; a source that is itself 0, 1 or 2
// (possible when the agent runs with a standard stream closed) could be overwritten before
// it is used. Moving every source above 2 rules that out.
std::error_code lift_above_stdio(OwnedFd& fd) {
  if (fd.get() > 2) return {};
  const int moved = ::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3);
  if (moved < 0) return last_error();
  fd.reset(moved);
  return {};
}

struct Pipe {
  OwnedFd read;
  OwnedFd write;
};

std::error_code make_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return last_error();
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
  if (auto error = lift_above_stdio(pipe.read)) return error;
  return lift_above_stdio(pipe.write);
}

std::error_code set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return last_error();
  return {};
}

// Once per process, before the first child: see "Process-wide effects" in the header.
void prepare_process_signals() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction current {};
    if (::sigaction(SIGPIPE, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) == 0 &&
        current.sa_handler == SIG_DFL) {
      struct sigaction ignore {};
      ignore.sa_handler = SIG_IGN;
      ::sigaction(SIGPIPE, &ignore, nullptr);
    }
    if (::sigaction(SIGCHLD, nullptr, &current) == 0 && (current.sa_flags & SA_SIGINFO) == 0 &&
        current.sa_handler == SIG_IGN) {
      struct sigaction standard {};
      standard.sa_handler = SIG_DFL;
      ::sigaction(SIGCHLD, &standard, nullptr);
    }
  });
}

/// posix_spawn's attributes and file actions, owned. Every child gets a new session, an
/// empty signal mask and default dispositions for the classic signals (the agent ignores
/// SIGPIPE; a shell must not inherit that).
class SpawnPlan {
 public:
  SpawnPlan() {
    ::posix_spawnattr_init(&attributes_);
    ::posix_spawn_file_actions_init(&actions_);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal = 1; signal < 32; ++signal) {
      if (signal != SIGKILL && signal != SIGSTOP) sigaddset(&defaults, signal);
    }
    note(::posix_spawnattr_setsigmask(&attributes_, &none));
    note(::posix_spawnattr_setsigdefault(&attributes_, &defaults));
    note(::posix_spawnattr_setflags(
        &attributes_, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF));
  }
  ~SpawnPlan() {
    ::posix_spawn_file_actions_destroy(&actions_);
    ::posix_spawnattr_destroy(&attributes_);
  }
  SpawnPlan(const SpawnPlan&) = delete;
  SpawnPlan& operator=(const SpawnPlan&) = delete;

  void dup_to(int fd, int target) {
    note(::posix_spawn_file_actions_adddup2(&actions_, fd, target));
  }
  void open_as(int target, const char* path, int flags) {
    note(::posix_spawn_file_actions_addopen(&actions_, target, path, flags, 0));
  }
  void change_directory(const std::string& directory) {
    note(::posix_spawn_file_actions_addchdir_np(&actions_, directory.c_str()));
  }
  // Our descriptors are all close-on-exec, but a library may have opened one without it; the
  // technician's shell must not inherit it.
  void close_the_rest() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
    note(::posix_spawn_file_actions_addclosefrom_np(&actions_, 3));
#endif
  }

  /// The first error met while building the plan (ENOMEM), or 0.
  int error() const {
    return error_;
  }
  const posix_spawn_file_actions_t* actions() const {
    return &actions_;
  }
  const posix_spawnattr_t* attributes() const {
    return &attributes_;
  }

 private:
  void note(int rc) {
    if (error_ == 0) error_ = rc;
  }

  posix_spawnattr_t attributes_;
  posix_spawn_file_actions_t actions_;
  int error_ = 0;
};

/// A NULL-terminated char* array over strings that outlive it.
std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (auto& text : strings) pointers.push_back(text.data());
  pointers.push_back(nullptr);
  return pointers;
}

std::string_view variable_name(std::string_view entry) {
  return entry.substr(0, entry.find('='));
}

/// The agent's environment without the variables named in `drop` or set in `add`, then `add`.
std::vector<std::string> environment_with(std::initializer_list<std::string_view> drop,
                                          const std::vector<std::string>& add) {
  std::unordered_set<std::string_view> removed(drop.begin(), drop.end());
  for (const auto& entry : add) removed.insert(variable_name(entry));
  std::vector<std::string> env;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    if (!removed.contains(variable_name(*entry))) env.emplace_back(*entry);
  }
  env.insert(env.end(), add.begin(), add.end());
  return env;
}

struct Account {
  std::string name;
  std::string home;
  std::string shell;
};

Account current_account() {
  Account account;
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16 * 1024);
  while (::getpwuid_r(::geteuid(), &entry, buffer.data(), buffer.size(), &found) == ERANGE &&
         buffer.size() < 1024 * 1024) {
    buffer.resize(buffer.size() * 2);
  }
  if (found != nullptr) {
    account.name = entry.pw_name != nullptr ? entry.pw_name : "";
    account.home = entry.pw_dir != nullptr ? entry.pw_dir : "";
    account.shell = entry.pw_shell != nullptr ? entry.pw_shell : "";
  }
  if (account.name.empty()) account.name = std::to_string(::geteuid());
  if (account.home.empty()) {
    const char* home = std::getenv("HOME");
    account.home = home != nullptr ? home : "/";
  }
  return account;
}

bool is_directory(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

bool is_executable_file(const std::string& path) {
  struct stat info {};
  return !path.empty() && path.front() == '/' && ::stat(path.c_str(), &info) == 0 &&
         S_ISREG(info.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

ExitStatus from_siginfo(const siginfo_t& info) {
  ExitStatus status;
  if (info.si_code == CLD_EXITED) {
    status.exit_code = info.si_status;
  } else {
    status.signal = info.si_status;
  }
  return status;
}

ExitStatus from_wait_status(int raw) {
  ExitStatus status;
  if (WIFEXITED(raw)) status.exit_code = WEXITSTATUS(raw);
  if (WIFSIGNALED(raw)) status.signal = WTERMSIG(raw);
  return status;
}

/// Sends `signal` to every process whose session id is `session`, except the leader itself.
/// The leader is not yet reaped, so its id cannot have been reused for another session.
void signal_session_members(pid_t session, int signal) {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return;
  while (const dirent* item = ::readdir(proc)) {
    pid_t pid = 0;
    const std::string_view name(item->d_name);
    const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (error != std::errc{} || end != name.data() + name.size() || pid == session) continue;
    char path[32];
    std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char text[512];
    const ssize_t size = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (size <= 0) continue;
    text[size] = '\0';
    // "pid (comm) state ppid pgrp session ...": comm may hold anything, so skip to its last ')'.
    const char* fields = std::strrchr(text, ')');
    if (fields == nullptr) continue;
    char state = 0;
    long parent = 0, group = 0, its_session = 0;
    if (std::sscanf(fields + 1, " %c %ld %ld %ld", &state, &parent, &group, &its_session) == 4 &&
        its_session == session) {
      ::kill(pid, signal);
    }
  }
  ::closedir(proc);
}

bool is_end_of_stream(const error_code& error) {
  return error == asio::error::eof || error == asio::error::operation_aborted ||
         error == asio::error::bad_descriptor ||
         // A PTY master reads EIO once no process has the slave open any more (Linux).
         (error.category() == boost::system::system_category() && error.value() == EIO);
}

// Shared by read_stdout and read_stderr. Touches nothing but its arguments after resuming:
// the ChildProcess may have been destroyed meanwhile.
asio::awaitable<std::size_t> read_some(asio::posix::stream_descriptor& stream,
                                       asio::mutable_buffer buffer) {
  if (!stream.is_open() || buffer.size() == 0) co_return 0;
  auto [error, count] =
      co_await stream.async_read_some(buffer, asio::as_tuple(asio::use_awaitable));
  if (!error) co_return count;
  if (is_end_of_stream(error)) co_return 0;
  throw boost::system::system_error(error, "reading from a child process");
}

}  // namespace

struct ChildProcess::ExitWatch {
  ExitWatch(asio::any_io_executor executor, pid_t child) : pid(child), poll_timer(executor) {}
  // Last chance when the executor went away before background reaping finished.
  ~ExitWatch() {
    if (!reaped) reap();
  }

  pid_t pid;
  std::optional<asio::posix::stream_descriptor> pidfd;  // empty: kernel before 5.3, poll
  asio::steady_timer poll_timer;                        // background reaping without a pidfd
  std::optional<ExitStatus> status;
  bool timed_out = false;
  bool reaped = false;
  std::vector<std::weak_ptr<asio::steady_timer>> deadlines;  // of wait_for() calls

  /// Reads the exit status, leaving the child a zombie. True once it is known.
  bool check() {
    if (status) return true;
    siginfo_t info{};
    int rc = 0;
    do {
      rc = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    } while (rc == -1 && errno == EINTR);
    if (rc == -1) {
      // ECHILD: reaped by someone else, which only an inherited SA_NOCLDWAIT can cause.
      status = ExitStatus{};
      reaped = true;
      return true;
    }
    if (info.si_pid != pid) return false;
    status = from_siginfo(info);
    return true;
  }

  /// Reaps the child if it has exited; keeps the status it had.
  void reap() {
    int raw = 0;
    pid_t rc = 0;
    do {
      rc = ::waitpid(pid, &raw, WNOHANG);
    } while (rc == -1 && errno == EINTR);
    if (rc == 0) return;
    if (!status) status = rc == pid ? from_wait_status(raw) : ExitStatus{};
    reaped = true;
  }

  void signal_group(int signal) const {
    if (!reaped) ::kill(-pid, signal);
  }

  void signal_session(int signal) const {
    if (reaped) return;
    ::kill(-pid, signal);
    signal_session_members(pid, signal);
    // A stopped job (^Z in the shell) acts on SIGTERM or SIGHUP only once continued.
    if (signal != SIGKILL && signal != SIGCONT) {
      ::kill(-pid, SIGCONT);
      signal_session_members(pid, SIGCONT);
    }
  }

  asio::awaitable<void> until_exited() {
    auto delay = std::chrono::milliseconds(5);
    while (!check()) {
      if (pidfd) {
        auto [error] = co_await pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                                                  asio::as_tuple(asio::use_awaitable));
        if (error) throw boost::system::system_error(error, "waiting for a child process");
      } else {
        asio::steady_timer timer(co_await asio::this_coro::executor, delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(200));
        auto [error] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (error) throw boost::system::system_error(error, "waiting for a child process");
      }
    }
  }

  /// Reaps the child now if it is gone, else when it goes; `self` keeps this alive until then.
  static void reap_in_background(const std::shared_ptr<ExitWatch>& self) {
    self->reap();
    if (self->reaped) return;
    if (self->pidfd) {
      self->pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                              [self](const error_code& error) {
                                if (!error) reap_in_background(self);
                              });
    } else {
      self->poll_timer.expires_after(std::chrono::milliseconds(50));
      self->poll_timer.async_wait([self](const error_code& error) {
        if (!error) reap_in_background(self);
      });
    }
  }
};

namespace {

std::shared_ptr<ChildProcess::ExitWatch> watch_exit(const asio::any_io_executor& executor,
                                                    pid_t pid) {
  auto watch = std::make_shared<ChildProcess::ExitWatch>(executor, pid);
#ifdef SYS_pidfd_open
  OwnedFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  if (pidfd.get() >= 0) {
    error_code error;
    watch->pidfd.emplace(executor);
    watch->pidfd->assign(pidfd.get(), error);
    if (error) {
      watch->pidfd.reset();
    } else {
      pidfd.release();
    }
  }
#endif
  return watch;
}

std::error_code adopt(asio::posix::stream_descriptor& stream, OwnedFd& fd) {
  if (auto error = set_nonblocking(fd.get())) return error;
  error_code error;
  stream.assign(fd.get(), error);
  if (error) return std::error_code(error.value(), std::generic_category());
  fd.release();
  return {};
}

}  // namespace

ChildProcess::ChildProcess(asio::any_io_executor executor, bool pty)
    : executor_(std::move(executor)),
      pty_(pty),
      stdin_(executor_),
      stdout_(executor_),
      stderr_(executor_) {}

ChildProcess::~ChildProcess() {
  if (!exit_) return;
  exit_->signal_session(SIGKILL);
  // Their SIGTERM and SIGKILL stages have nothing left to do.
  for (const auto& weak : exit_->deadlines) {
    if (auto deadline = weak.lock()) deadline->cancel();
  }
  ExitWatch::reap_in_background(exit_);
}

ChildProcess::SpawnResult ChildProcess::spawn_pipes(asio::any_io_executor executor,
                                                    const std::vector<std::string>& argv,
                                                    const PipeOptions& options) {
  if (argv.empty() || argv.front().empty()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  prepare_process_signals();
  Pipe input, output, errors;
  for (Pipe* pipe : {&input, &output, &errors}) {
    if (auto error = make_pipe(*pipe)) return error;
  }

  SpawnPlan plan;
  plan.dup_to(input.read.get(), STDIN_FILENO);
  plan.dup_to(output.write.get(), STDOUT_FILENO);
  plan.dup_to(errors.write.get(), STDERR_FILENO);
  if (!options.cwd.empty()) plan.change_directory(options.cwd);
  plan.close_the_rest();
  if (plan.error() != 0) return std::error_code(plan.error(), std::generic_category());

  auto args = argv;
  auto arg_pointers = c_strings(args);
  auto env = environment_with({}, options.env);
  auto env_pointers = c_strings(env);
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, args.front().c_str(), plan.actions(), plan.attributes(),
                                arg_pointers.data(), env_pointers.data());
  if (rc != 0) return std::error_code(rc, std::generic_category());

  std::shared_ptr<ChildProcess> child(new ChildProcess(executor, false));
  child->pid_ = pid;
  child->exit_ = watch_exit(executor, pid);
  // From here a failure destroys `child`, which kills and reaps the process.
  if (auto error = adopt(child->stdin_, input.write)) return error;
  if (auto error = adopt(child->stdout_, output.read)) return error;
  if (auto error = adopt(child->stderr_, errors.read)) return error;
  return child;
}

ChildProcess::SpawnResult ChildProcess::spawn_pty(asio::any_io_executor executor,
                                                  const PtyOptions& options) {
  prepare_process_signals();
  const Account account = current_account();
  std::string shell = options.shell;
  if (shell.empty()) shell = is_executable_file(account.shell) ? account.shell : "/bin/sh";
  const std::string home = is_directory(account.home) ? account.home : "/";

  OwnedFd master(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (master.get() < 0) return last_error();
  if (auto error = lift_above_stdio(master)) return error;
  if (::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0) return last_error();
  char slave_path[128];
  if (const int rc = ::ptsname_r(master.get(), slave_path, sizeof slave_path); rc != 0) {
    return std::error_code(rc, std::generic_category());
  }
  winsize size{};
  size.ws_col = options.cols;
  size.ws_row = options.rows;
  if (::ioctl(master.get(), TIOCSWINSZ, &size) != 0) return last_error();

  // Held open until the shell has opened its own, so the terminal never looks hung up to
  // the master in between. O_NOCTTY: it must not become the agent's controlling terminal.
  OwnedFd slave(::open(slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (slave.get() < 0) return last_error();
  termios modes{};
  if (::tcgetattr(slave.get(), &modes) == 0) {
    modes.c_iflag |= IUTF8;  // line editing erases whole UTF-8 characters
    ::tcsetattr(slave.get(), TCSANOW, &modes);
  }

  SpawnPlan plan;
  // No O_NOCTTY: opened after setsid(), this makes the slave the controlling terminal.
  plan.open_as(STDIN_FILENO, slave_path, O_RDWR);
  plan.dup_to(STDIN_FILENO, STDOUT_FILENO);
  plan.dup_to(STDIN_FILENO, STDERR_FILENO);
  plan.change_directory(home);
  plan.close_the_rest();
  if (plan.error() != 0) return std::error_code(plan.error(), std::generic_category());

  // A login shell is told so by a '-' in front of its name ("-bash").
  const auto slash = shell.rfind('/');
  std::vector<std::string> args{"-" + shell.substr(slash == std::string::npos ? 0 : slash + 1)};
  auto arg_pointers = c_strings(args);
  std::vector<std::string> identity{"TERM=" + options.term, "HOME=" + account.home,
                                    "USER=" + account.name, "LOGNAME=" + account.name,
                                    "SHELL=" + shell};
  identity.insert(identity.end(), options.env.begin(), options.env.end());
  auto env = environment_with({"COLUMNS", "LINES"}, identity);
  auto env_pointers = c_strings(env);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, shell.c_str(), plan.actions(), plan.attributes(),
                               arg_pointers.data(), env_pointers.data());
  if (rc != 0) return std::error_code(rc, std::generic_category());
  slave.reset();

  std::shared_ptr<ChildProcess> child(new ChildProcess(executor, true));
  child->pid_ = pid;
  child->exit_ = watch_exit(executor, pid);
  if (auto error = adopt(child->stdout_, master)) return error;
  return child;
}

std::optional<ExitStatus> ChildProcess::status() const {
  if (!exit_ || !exit_->status) return std::nullopt;
  ExitStatus status = *exit_->status;
  status.timed_out = exit_->timed_out;
  return status;
}

asio::awaitable<std::size_t> ChildProcess::read_stdout(asio::mutable_buffer buffer) {
  return read_some(stdout_, buffer);
}

asio::awaitable<std::size_t> ChildProcess::read_stderr(asio::mutable_buffer buffer) {
  return read_some(stderr_, buffer);
}

asio::awaitable<bool> ChildProcess::write_stdin(std::string_view bytes) {
  auto& stream = pty_ ? stdout_ : stdin_;
  if (!stream.is_open()) co_return false;
  if (bytes.empty()) co_return true;
  // Nothing of `this` is touched after resuming: the object may be gone.
  auto [error, written] =
      co_await asio::async_write(stream, asio::buffer(bytes), asio::as_tuple(asio::use_awaitable));
  (void)written;
  if (!error) co_return true;
  if (error == asio::error::broken_pipe || is_end_of_stream(error)) co_return false;
  throw boost::system::system_error(error, "writing to a child process");
}

void ChildProcess::close_stdin() {
  if (pty_) return;
  error_code ignored;
  stdin_.close(ignored);
}

void ChildProcess::close_streams() {
  error_code ignored;
  stdin_.close(ignored);
  stdout_.close(ignored);
  stderr_.close(ignored);
}

bool ChildProcess::resize(unsigned short cols, unsigned short rows) {
  if (!pty_ || !stdout_.is_open()) return false;
  winsize size{};
  size.ws_col = cols;
  size.ws_row = rows;
  return ::ioctl(stdout_.native_handle(), TIOCSWINSZ, &size) == 0;
}

void ChildProcess::signal_group(int signal) {
  exit_->signal_group(signal);
}

void ChildProcess::signal_session(int signal) {
  exit_->signal_session(signal);
}

asio::awaitable<ExitStatus> ChildProcess::wait() {
  auto watch = exit_;
  co_await watch->until_exited();
  ExitStatus status = *watch->status;
  status.timed_out = watch->timed_out;
  co_return status;
}

asio::awaitable<ExitStatus> ChildProcess::wait_for(std::chrono::milliseconds timeout,
                                                   std::chrono::milliseconds grace) {
  auto watch = exit_;
  auto deadline = std::make_shared<asio::steady_timer>(executor_, timeout);
  std::erase_if(watch->deadlines, [](const auto& weak) { return weak.expired(); });
  watch->deadlines.push_back(deadline);
  // The deadline runs as plain handlers, not in this coroutine: the SIGKILL stage must still
  // happen when the child itself died of SIGTERM but a descendant ignored it.
  deadline->async_wait([watch, deadline, grace](const error_code& error) {
    if (error || watch->check()) return;
    watch->timed_out = true;
    watch->signal_session(SIGTERM);
    deadline->expires_after(grace);
    deadline->async_wait([watch, deadline](const error_code& late) {
      if (!late) watch->signal_session(SIGKILL);
    });
  });
  // Whether this returns or is cancelled, a deadline that has not struck is called off.
  struct CallOff {
    std::shared_ptr<ExitWatch> watch;
    std::shared_ptr<asio::steady_timer> deadline;
    ~CallOff() {
      if (!watch->timed_out) deadline->cancel();
    }
  } call_off{watch, deadline};
  co_await watch->until_exited();
  ExitStatus status = *watch->status;
  status.timed_out = watch->timed_out;
  co_return status;
}

std::string describe(const ExitStatus& status) {
  std::string text;
  if (status.exit_code) {
    text = "exit status " + std::to_string(*status.exit_code);
  } else if (status.signal) {
    const char* name = ::sigabbrev_np(*status.signal);
    text = name != nullptr ? std::string("killed by SIG") + name
                           : "killed by signal " + std::to_string(*status.signal);
  } else {
    text = "exit status unknown";
  }
  return status.timed_out ? "timed out (" + text + ")" : text;
}

}  // namespace tether::agent::tools
