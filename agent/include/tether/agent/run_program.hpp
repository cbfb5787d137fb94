#pragma once
/// Running one short-lived program to completion under a deadline, with its output captured
/// and bounded. The diagnostics use it for the few facts no file gives (smartctl, systemctl,
/// journalctl). It blocks the calling thread, so call it off any event loop.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace tether::agent {

/// How a program run ended.
enum class RunOutcome {
  exited,           ///< The program exited by itself; exit_code holds its status.
  killed,           ///< A signal ended it (not ours); exit_code holds the signal number.
  timed_out,        ///< It outlived its deadline and was killed with SIGKILL.
  tool_missing,     ///< No such program on PATH (or not executable).
  failed_to_start,  ///< The operating system refused to start it (see error).
};

/// What came back from a run.
struct ProgramRun {
  RunOutcome outcome = RunOutcome::failed_to_start;
  int exit_code = -1;
  std::string out;         ///< Standard output, at most RunLimits::max_output bytes.
  std::string err;         ///< Standard error, at most 4 KiB.
  bool truncated = false;  ///< Standard output was longer than the limit; the rest was dropped.
  std::string error;       ///< Why it could not start, for failed_to_start.

  bool succeeded() const { return outcome == RunOutcome::exited && exit_code == 0; }
};

struct RunLimits {
  std::chrono::milliseconds timeout{2000};
  std::size_t max_output = 8 * 1024 * 1024;
};

/// Runs argv[0] (looked up on PATH) with argv, standard input closed, LC_ALL=C and no pager
/// or colours, and waits until it exits or the deadline passes. Never throws for anything
/// the program does; each call owns a private libuv loop, so calls from several threads run
/// side by side.
ProgramRun run_program(const std::vector<std::string>& argv, const RunLimits& limits);

/// One line a person reads about a run that did not succeed: "tool missing",
/// "timed out", "exit status 1: <first line of stderr>". Empty when it succeeded.
std::string describe_failure(const ProgramRun& run);

}  // namespace tether::agent
