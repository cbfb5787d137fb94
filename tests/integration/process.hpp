#pragma once
// A real child process for integration tests: started with fork/exec, its stdout and stderr
// captured through pipes, stdin writable, every wait bounded by a deadline.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tether::testing {

using namespace std::chrono_literals;

class Process {
 public:
  /// Starts `argv[0]` with `argv`, adding `env` to the current environment.
  Process(std::vector<std::string> argv, std::map<std::string, std::string> env = {});
  ~Process();  // Kills the process (SIGKILL) if still running.
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  /// Waits until a line of stdout contains `needle`; returns that line or nullopt on timeout
  /// or exit.
  std::optional<std::string> wait_for_line(const std::string& needle,
                                           std::chrono::milliseconds timeout = 20s);
  /// Everything read from stdout / stderr so far (reads what is pending first).
  std::string out();
  std::string err();

  void write_stdin(const std::string& text);
  void close_stdin();
  void signal(int sig);
  /// Exit status (128+signal when killed), or nullopt when still running after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout = 20s);
  pid_t pid() const { return pid_; }

 private:
  void pump(std::chrono::milliseconds timeout);

  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  int stderr_ = -1;
  std::string out_;
  std::string err_;
  std::size_t scanned_ = 0;
  std::optional<int> status_;
};

/// Runs a command to completion (bounded by `timeout`), with `input` on stdin.
struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};
RunResult run(std::vector<std::string> argv, std::map<std::string, std::string> env = {},
              std::chrono::milliseconds timeout = 60s, const std::string& input = {});

}  // namespace tether::testing
