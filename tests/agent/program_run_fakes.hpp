#pragma once
// Canned results of the programs the agent runs (systemctl, journalctl), for tests that hand a
// fake runner to the code under test.

#include <string>
#include <utility>

#include "tether/agent/run_program.hpp"

namespace tether::agent::fakes {

/// A run that exited by itself with `code` after writing `out` and `err`.
inline ProgramRun exited(int code, std::string out, std::string err = {}) {
  ProgramRun run;
  run.outcome = RunOutcome::exited;
  run.exit_code = code;
  run.out = std::move(out);
  run.err = std::move(err);
  return run;
}

}  // namespace tether::agent::fakes
