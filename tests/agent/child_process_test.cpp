// ChildProcess against real programs: separate output streams, stdin, exit codes and signals,
// deadlines that reach grandchildren, a login shell on a pseudo-terminal, destruction.

#include "tether/agent/tools/child_process.hpp"

#include <fcntl.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <exception>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/agent/run_program.hpp"

namespace tether::agent::tools {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;

/// Makes this test process the adoptive parent of orphaned descendants
/// (PR_SET_CHILD_SUBREAPER) and keeps SIGCHLD blocked, so the death of a grandchild is an
/// event to wait for (sigtimedwait) rather than something to poll for.
class Adopter {
 public:
  Adopter() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    sigemptyset(&chld_);
    sigaddset(&chld_, SIGCHLD);
    ::pthread_sigmask(SIG_BLOCK, &chld_, &previous_);
  }
  ~Adopter() {
    ::pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  static constexpr int kReapedElsewhere = -1;

  /// Waits up to 30 s for `pid` (a descendant) to die and be adopted, and reaps it. Returns
  /// its wait status, kReapedElsewhere when its own parent reaped it, nullopt when it is
  /// still alive at the deadline.
  std::optional<int> reap(pid_t pid) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) return status;
      if (::kill(pid, 0) == -1 && errno == ESRCH) return kReapedElsewhere;
      const auto left = deadline - std::chrono::steady_clock::now();
      if (left <= 0s) return std::nullopt;
      const auto secs = std::chrono::duration_cast<std::chrono::seconds>(left);
      const timespec wait{
          secs.count(), std::chrono::duration_cast<std::chrono::nanoseconds>(left - secs).count()};
      ::sigtimedwait(&chld_, nullptr, &wait);
    }
  }

 private:
  sigset_t chld_{};
  sigset_t previous_{};
};

bool is_gone(pid_t pid) {
  return ::kill(pid, 0) == -1 && errno == ESRCH;
}

class ChildProcessTest : public ::testing::Test {
 protected:
  /// Runs `body` on io_ until it finishes, with a 60 s safety deadline; rethrows what it threw.
  void run(std::function<asio::awaitable<void>()> body) {
    bool finished = false;
    std::exception_ptr failure;
    io_.restart();
    asio::co_spawn(io_, body(), [&](std::exception_ptr error) {
      finished = true;
      failure = error;
      io_.stop();
    });
    io_.run_for(60s);
    ASSERT_TRUE(finished) << "the coroutine did not finish within 60 s";
    if (failure) std::rethrow_exception(failure);
  }

  /// Runs what is left on io_ (background reaping) until nothing is, at most 30 s.
  void drain() {
    io_.restart();
    io_.run_for(30s);
  }

  std::shared_ptr<ChildProcess> spawn(const std::vector<std::string>& argv,
                                      const PipeOptions& options = {}) {
    auto child = ChildProcess::spawn_pipes(io_.get_executor(), argv, options);
    if (!child) ADD_FAILURE() << "spawn failed: " << child.error().message();
    return child ? std::move(*child) : nullptr;
  }

  asio::io_context io_;  // declared first: it outlives every ChildProcess of a test
};

enum class Stream { out, err };

asio::awaitable<std::string> read_all(ChildProcess& child, Stream stream) {
  std::string text;
  std::vector<char> buffer(64 * 1024);
  for (;;) {
    const std::size_t count = stream == Stream::out
                                  ? co_await child.read_stdout(asio::buffer(buffer))
                                  : co_await child.read_stderr(asio::buffer(buffer));
    if (count == 0) co_return text;
    text.append(buffer.data(), count);
  }
}

asio::awaitable<std::size_t> count_all(ChildProcess& child) {
  std::size_t total = 0;
  std::vector<char> buffer(64 * 1024);
  while (const std::size_t count = co_await child.read_stdout(asio::buffer(buffer))) {
    total += count;
  }
  co_return total;
}

/// Reads standard output up to and including the next line; empty at the end of the stream.
asio::awaitable<std::string> read_line(ChildProcess& child) {
  std::string line;
  char byte = 0;
  while (co_await child.read_stdout(asio::buffer(&byte, 1)) == 1) {
    line += byte;
    if (byte == '\n') break;
  }
  co_return line;
}

TEST_F(ChildProcessTest, ReadsStdoutAndStderrSeparatelyAndTheExitCode) {
  auto child = spawn({"sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"});
  ASSERT_TRUE(child);
  EXPECT_FALSE(child->is_pty());
  EXPECT_FALSE(child->status());
  run([&]() -> asio::awaitable<void> {
    auto [out, err] = co_await (read_all(*child, Stream::out) && read_all(*child, Stream::err));
    EXPECT_EQ(out, "to-stdout\n");
    EXPECT_EQ(err, "to-stderr\n");
    const ExitStatus status = co_await child->wait();
    EXPECT_EQ(status.exit_code, 3);
    EXPECT_FALSE(status.signal);
    EXPECT_FALSE(status.timed_out);
    EXPECT_FALSE(status.succeeded());
    EXPECT_EQ(describe(status), "exit status 3");
  });
  ASSERT_TRUE(child->status());
  EXPECT_EQ(child->status()->exit_code, 3);
}

TEST_F(ChildProcessTest, ZeroExitSucceeds) {
  auto child = spawn({"true"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    const ExitStatus status = co_await child->wait();
    EXPECT_TRUE(status.succeeded());
    EXPECT_EQ(describe(status), "exit status 0");
  });
}

TEST_F(ChildProcessTest, ReportsTheSignalThatEndedTheChild) {
  // The child starts with default dispositions and an empty mask even if the agent blocks or
  // ignores a signal, so SIGUSR1 kills it.
  auto child = spawn({"sleep", "1000"});
  ASSERT_TRUE(child);
  child->signal_group(SIGUSR1);
  run([&]() -> asio::awaitable<void> {
    const ExitStatus status = co_await child->wait();
    EXPECT_EQ(status.signal, SIGUSR1);
    EXPECT_FALSE(status.exit_code);
    EXPECT_EQ(describe(status), "killed by SIGUSR1");
  });
}

TEST_F(ChildProcessTest, SeveralWaitersGetTheSameStatus) {
  auto child = spawn({"sh", "-c", "exit 42"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    auto [first, second] = co_await (child->wait() && child->wait());
    EXPECT_EQ(first.exit_code, 42);
    EXPECT_EQ(first, second);
    const ExitStatus again = co_await child->wait();  // after the exit: at once
    EXPECT_EQ(again, first);
  });
}

TEST_F(ChildProcessTest, SpawnFailuresAreErrorCodes) {
  auto missing = ChildProcess::spawn_pipes(io_.get_executor(), {"tether-no-such-program-anywhere"});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error(), std::errc::no_such_file_or_directory);

  auto empty = ChildProcess::spawn_pipes(io_.get_executor(), {});
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error(), std::errc::invalid_argument);

  auto bad_cwd = ChildProcess::spawn_pipes(io_.get_executor(), {"true"},
                                           {.cwd = "/nonexistent/tether-test-folder"});
  ASSERT_FALSE(bad_cwd);
  EXPECT_EQ(bad_cwd.error(), std::errc::no_such_file_or_directory);
}

TEST_F(ChildProcessTest, RunsInItsCwdWithExtraEnvironmentInASessionOfItsOwn) {
  auto child = spawn({"sh", "-c",
                      "echo \"$PWD|$TETHER_TEST_VALUE\"; set -- $(ps -o sid=,pgid= -p $$); "
                      "echo \"$1 $2\""},
                     {.cwd = "/tmp", .env = {"TETHER_TEST_VALUE=forty-two"}});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    const std::string out = co_await read_all(*child, Stream::out);
    // Its session and process group ids are its own pid.
    const std::string pid = std::to_string(child->pid());
    EXPECT_EQ(out, "/tmp|forty-two\n" + pid + " " + pid + "\n");
    co_await child->wait();
  });
}

TEST_F(ChildProcessTest, ChildInheritsNoStrayDescriptor) {
  // A descriptor the agent opened without close-on-exec must not reach the child.
  const int stray = ::dup(STDERR_FILENO);
  ASSERT_GE(stray, 3);
  ASSERT_EQ(::fcntl(stray, F_SETFD, 0), 0);
  auto child = spawn({"sh", "-c", "ls /proc/self/fd"});
  ::close(stray);
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    const std::string out = co_await read_all(*child, Stream::out);
    // ls itself opens one descriptor for the directory (3); only 0, 1, 2 and that one.
    EXPECT_EQ(out, "0\n1\n2\n3\n");
    co_await child->wait();
  });
}

TEST_F(ChildProcessTest, StdinIsPipedThroughCat) {
  auto child = spawn({"cat"});
  ASSERT_TRUE(child);
  // More than a pipe holds, so writing and reading must really overlap.
  std::string input = "first line\nsecond line\n";
  for (int i = 0; input.size() < 3 * 1024 * 1024; ++i) input += "line " + std::to_string(i) + "\n";
  run([&]() -> asio::awaitable<void> {
    auto writer = [&]() -> asio::awaitable<bool> {
      const bool written = co_await child->write_stdin(input);
      child->close_stdin();
      co_return written;
    };
    auto [written, out] = co_await (writer() && read_all(*child, Stream::out));
    EXPECT_TRUE(written);
    EXPECT_EQ(out.size(), input.size());
    EXPECT_TRUE(out == input);
    const ExitStatus status = co_await child->wait();
    EXPECT_EQ(status.exit_code, 0);
    // Once stdin is closed, writing says so instead of failing loudly.
    EXPECT_FALSE(co_await child->write_stdin("late"));
  });
}

TEST_F(ChildProcessTest, WritingToAChildThatStoppedReadingReturnsFalse) {
  // Without SIGPIPE ignored this would kill the test process.
  auto child = spawn({"true"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    co_await child->wait();
    EXPECT_FALSE(co_await child->write_stdin(std::string(1024 * 1024, 'x')));
  });
}

TEST_F(ChildProcessTest, LargeOutputIsReadCompletely) {
  auto child = spawn({"head", "-c", "50000000", "/dev/zero"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    auto [total, err] = co_await (count_all(*child) && read_all(*child, Stream::err));
    EXPECT_EQ(total, 50'000'000U);
    EXPECT_EQ(err, "");
    EXPECT_EQ((co_await child->wait()).exit_code, 0);
  });
}

TEST_F(ChildProcessTest, DeadlineStopsACommandThatNeverEnds) {
  auto child = spawn({"sleep", "1000"});
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  run([&]() -> asio::awaitable<void> {
    const ExitStatus status = co_await child->wait_for(200ms);
    EXPECT_TRUE(status.timed_out);
    EXPECT_EQ(status.signal, SIGTERM);
    EXPECT_FALSE(status.succeeded());
    EXPECT_EQ(describe(status), "timed out (killed by SIGTERM)");
  });
  ASSERT_TRUE(child->status());
  EXPECT_TRUE(child->status()->timed_out);
  child.reset();
  drain();
  EXPECT_TRUE(is_gone(pid));
}

TEST_F(ChildProcessTest, DeadlineStopsGrandchildrenToo) {
  Adopter adopter;
  auto child = spawn({"sh", "-c", "sleep 1000 & echo $!; sleep 1000"});
  ASSERT_TRUE(child);
  pid_t grandchild = 0;
  run([&]() -> asio::awaitable<void> {
    grandchild = std::stoi(co_await read_line(*child));
    const ExitStatus status = co_await child->wait_for(200ms);
    EXPECT_TRUE(status.timed_out);
    EXPECT_EQ(status.signal, SIGTERM);
    // Every holder of the pipe died: the output ends.
    EXPECT_EQ(co_await read_all(*child, Stream::out), "");
  });
  ASSERT_GT(grandchild, 0);
  const auto reaped = adopter.reap(grandchild);
  ASSERT_TRUE(reaped) << "grandchild " << grandchild << " still runs";
  if (*reaped != Adopter::kReapedElsewhere) {
    EXPECT_TRUE(WIFSIGNALED(*reaped));
    EXPECT_EQ(WTERMSIG(*reaped), SIGTERM);
  }
  EXPECT_TRUE(is_gone(grandchild));
}

TEST_F(ChildProcessTest, SigkillFollowsTheGraceForWhatIgnoresSigterm) {
  Adopter adopter;
  // The shell dies of SIGTERM; its background job ignores it and holds stdout open.
  auto child = spawn({"sh", "-c", "(trap '' TERM; exec sleep 1000) & echo $!; sleep 1000"});
  ASSERT_TRUE(child);
  pid_t stubborn = 0;
  run([&]() -> asio::awaitable<void> {
    stubborn = std::stoi(co_await read_line(*child));
    const ExitStatus status = co_await child->wait_for(200ms, 300ms);
    EXPECT_TRUE(status.timed_out);
    EXPECT_EQ(status.signal, SIGTERM);
    // The output ends only when the SIGKILL after the grace took the job too.
    EXPECT_EQ(co_await read_all(*child, Stream::out), "");
  });
  ASSERT_GT(stubborn, 0);
  const auto reaped = adopter.reap(stubborn);
  ASSERT_TRUE(reaped) << "process " << stubborn << " still runs";
  if (*reaped != Adopter::kReapedElsewhere) {
    EXPECT_TRUE(WIFSIGNALED(*reaped));
    EXPECT_EQ(WTERMSIG(*reaped), SIGKILL);
  }
  EXPECT_TRUE(is_gone(stubborn));
}

TEST_F(ChildProcessTest, SigkillWhenTheChildItselfIgnoresSigterm) {
  auto child = spawn({"sh", "-c", "trap '' TERM; echo ready; sleep 1000"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    EXPECT_EQ(co_await read_line(*child), "ready\n");
    const ExitStatus status = co_await child->wait_for(100ms, 100ms);
    EXPECT_TRUE(status.timed_out);
    EXPECT_EQ(status.signal, SIGKILL);
  });
}

TEST_F(ChildProcessTest, ExitBeforeTheDeadlineIsNotATimeout) {
  auto child = spawn({"sh", "-c", "exit 5"});
  ASSERT_TRUE(child);
  run([&]() -> asio::awaitable<void> {
    const ExitStatus status = co_await child->wait_for(60s);
    EXPECT_FALSE(status.timed_out);
    EXPECT_EQ(status.exit_code, 5);
  });
  drain();  // the called-off deadline leaves nothing behind
  EXPECT_FALSE(child->status()->timed_out);
}

TEST_F(ChildProcessTest, DestructionKillsTheChildAndItsSession) {
  Adopter adopter;
  auto child = spawn({"sh", "-c", "sleep 1000 & echo $!; sleep 1000"});
  ASSERT_TRUE(child);
  const pid_t pid = child->pid();
  pid_t grandchild = 0;
  run([&]() -> asio::awaitable<void> { grandchild = std::stoi(co_await read_line(*child)); });
  ASSERT_GT(grandchild, 0);
  child.reset();
  drain();  // the background reaping, if the kill had not landed yet
  EXPECT_TRUE(is_gone(pid)) << "the child was not killed or not reaped";
  const auto reaped = adopter.reap(grandchild);
  ASSERT_TRUE(reaped) << "grandchild " << grandchild << " still runs";
  if (*reaped != Adopter::kReapedElsewhere) EXPECT_EQ(WTERMSIG(*reaped), SIGKILL);
}

TEST_F(ChildProcessTest, DestructionEndsPendingReadsAndWaits) {
  auto child = spawn({"sleep", "1000"});
  ASSERT_TRUE(child);
  std::size_t read = 99;
  std::optional<ExitStatus> status;
  run([&]() -> asio::awaitable<void> {
    auto reader = [](ChildProcess& process) -> asio::awaitable<std::size_t> {
      char buffer[16];
      co_return co_await process.read_stdout(asio::buffer(buffer));
    };
    auto waiter = [](ChildProcess& process) -> asio::awaitable<ExitStatus> {
      co_return co_await process.wait();
    };
    auto destroy = [&]() -> asio::awaitable<bool> {
      child.reset();
      co_return true;
    };
    auto [count, exit, destroyed] = co_await (reader(*child) && waiter(*child) && destroy());
    EXPECT_TRUE(destroyed);
    read = count;
    status = exit;
  });
  EXPECT_EQ(read, 0U);
  ASSERT_TRUE(status);
  EXPECT_EQ(status->signal, SIGKILL);
}

TEST_F(ChildProcessTest, CoexistsWithLibuvChildren) {
  // libuv's SIGCHLD handler (run_program's loop) and our pidfd never reap each other's
  // children: both sides get the right statuses while they exit side by side.
  std::thread uv_side([] {
    for (int i = 0; i < 20; ++i) {
      const auto run = run_program({"sh", "-c", "exit 4"}, {});
      EXPECT_EQ(run.outcome, RunOutcome::exited);
      EXPECT_EQ(run.exit_code, 4);
    }
  });
  run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 20; ++i) {
      auto child = ChildProcess::spawn_pipes(io_.get_executor(), {"sh", "-c", "exit 7"});
      EXPECT_TRUE(child);
      if (!child) co_return;
      EXPECT_EQ((co_await (*child)->wait()).exit_code, 7);
    }
  });
  uv_side.join();
}

/// What a PTY shell displayed so far, searched from where the last match ended.
class Transcript {
 public:
  explicit Transcript(ChildProcess& child) : child_(child) {}

  /// Reads until `needle` shows up after the previous match; false at the end of the stream.
  asio::awaitable<bool> until(std::string_view needle) {
    for (;;) {
      if (const auto at = text_.find(needle, seen_); at != std::string::npos) {
        seen_ = at + needle.size();
        co_return true;
      }
      if (!co_await more()) co_return false;
    }
  }

  /// Reads until `prefix` followed by digits and `end` shows up; returns the number (0 at the
  /// end of the stream). Typed commands are echoed, so markers are spelled to differ there.
  asio::awaitable<long> number_after(std::string_view prefix, char end) {
    for (;;) {
      for (auto at = text_.find(prefix, seen_); at != std::string::npos;
           at = text_.find(prefix, at + 1)) {
        std::size_t digits = at + prefix.size();
        while (digits < text_.size() && std::isdigit(static_cast<unsigned char>(text_[digits]))) {
          ++digits;
        }
        if (digits > at + prefix.size() && digits < text_.size() && text_[digits] == end) {
          seen_ = digits + 1;
          co_return std::stol(text_.substr(at + prefix.size(), digits - at - prefix.size()));
        }
      }
      if (!co_await more()) co_return 0;
    }
  }

  /// Reads to the end of the stream.
  asio::awaitable<void> until_end() {
    while (co_await more()) {
    }
  }

  const std::string& text() const { return text_; }

 private:
  asio::awaitable<bool> more() {
    char buffer[4096];
    const std::size_t count = co_await child_.read_stdout(asio::buffer(buffer));
    text_.append(buffer, count);
    co_return count > 0;
  }

  ChildProcess& child_;
  std::string text_;
  std::size_t seen_ = 0;
};

std::string home_folder() {
  const passwd* entry = ::getpwuid(::geteuid());
  return entry != nullptr && entry->pw_dir != nullptr ? entry->pw_dir : "/";
}

TEST_F(ChildProcessTest, PtyLoginShellRunsOnItsControllingTerminal) {
  auto spawned = ChildProcess::spawn_pty(io_.get_executor(), {.cols = 100, .rows = 30});
  ASSERT_TRUE(spawned) << spawned.error().message();
  auto child = std::move(*spawned);  // the only reference
  EXPECT_TRUE(child->is_pty());
  run([&]() -> asio::awaitable<void> {
    Transcript shell(*child);
    auto expect = [&](std::string_view command, std::string_view shown) -> asio::awaitable<void> {
      EXPECT_TRUE(co_await child->write_stdin(command));
      EXPECT_TRUE(co_await shell.until(shown))
          << "no \"" << shown << "\" after " << command << "; the terminal showed:\n"
          << shell.text();
    };
    co_await expect("echo hello-$((6*7))\n", "hello-42");
    // A login shell ("-bash"), in the home folder, with TERM from the options.
    co_await expect("echo \"zero=$0\"\n", "zero=-");
    co_await expect("echo \"term=$TERM\"\n", "term=xterm-256color\r\n");
    co_await expect("echo \"cwd=$(pwd)\"\n", "cwd=" + home_folder() + "\r\n");
    co_await expect("echo \"tty=$(tty)\"\n", "tty=/dev/pts/");
    // Only a process with a controlling terminal can open /dev/tty.
    co_await expect("(exec 3</dev/tty) && echo ctty-$((1+1))-yes\n", "ctty-2-yes");
    // The terminal's foreground process group is the shell's own: job control is on.
    co_await expect("[ \"$(ps -o tpgid= -p $$ | tr -d ' ')\" = \"$$\" ] && echo fg-$((3))-yes\n",
                    "fg-3-yes");
    co_await expect("sleep 100 &\n", "\n");
    co_await expect("jobs %1 >/dev/null && echo job-$((2*2))-listed\n", "job-4-listed");
    co_await expect("kill %1; wait\n", "\n");
    co_await expect("echo size-$(stty size | tr ' ' x)\n", "size-30x100");
    EXPECT_TRUE(child->resize(120, 40));
    co_await expect("echo size-$(stty size | tr ' ' x)\n", "size-40x120");
    EXPECT_TRUE(co_await child->write_stdin("exit\n"));
    // The shell is gone: the master reads EIO, which is the end of the stream.
    co_await shell.until_end();
    const ExitStatus status = co_await child->wait();
    EXPECT_EQ(status.exit_code, 0);
  });
}

TEST_F(ChildProcessTest, PtyGivenShellAndItsExitCode) {
  auto spawned = ChildProcess::spawn_pty(io_.get_executor(),
                                         {.term = "vt100", .shell = "/bin/sh", .env = {"X_Y=z"}});
  ASSERT_TRUE(spawned) << spawned.error().message();
  auto child = std::move(*spawned);  // the only reference
  run([&]() -> asio::awaitable<void> {
    Transcript shell(*child);
    EXPECT_TRUE(co_await child->write_stdin("echo \"$0|$TERM|$X_Y|$SHELL\"\n"));
    EXPECT_TRUE(co_await shell.until("-sh|vt100|z|/bin/sh")) << shell.text();
    // bash would claim the terminal itself (TIOCSCTTY) if the spawn had not made it the
    // controlling one; dash does not, so this is where a missing controlling terminal shows.
    EXPECT_TRUE(co_await child->write_stdin("(exec 3</dev/tty) && echo ctty-$((1+1))-yes\n"));
    EXPECT_TRUE(co_await shell.until("ctty-2-yes")) << shell.text();
    EXPECT_TRUE(co_await child->write_stdin("exit 5\n"));
    co_await shell.until_end();
    EXPECT_EQ((co_await child->wait()).exit_code, 5);
    char unused[8];
    EXPECT_EQ(co_await child->read_stderr(asio::buffer(unused)), 0U);  // stderr is the terminal
  });
}

TEST_F(ChildProcessTest, PtyDestructionKillsTheShellAndItsJobs) {
  Adopter adopter;
  auto spawned = ChildProcess::spawn_pty(io_.get_executor(), {.shell = "/bin/bash"});
  ASSERT_TRUE(spawned) << spawned.error().message();
  auto child = std::move(*spawned);  // the only reference
  const pid_t shell_pid = child->pid();
  long job = 0;
  run([&]() -> asio::awaitable<void> {
    Transcript shell(*child);
    // A job of an interactive shell runs in a process group of its own: only the session
    // reaches it.
    EXPECT_TRUE(co_await child->write_stdin("sleep 1000 &\necho \"job:$!:\"\n"));
    job = co_await shell.number_after("job:", ':');
  });
  ASSERT_GT(job, 0);
  child.reset();
  drain();
  EXPECT_TRUE(is_gone(shell_pid));
  const auto reaped = adopter.reap(static_cast<pid_t>(job));
  ASSERT_TRUE(reaped) << "job " << job << " still runs";
  if (*reaped != Adopter::kReapedElsewhere) EXPECT_EQ(WTERMSIG(*reaped), SIGKILL);
}

}  // namespace
}  // namespace tether::agent::tools
