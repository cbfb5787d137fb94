#include "diag/collectors/probe_reason.hpp"

namespace tether::agent::diag {

std::string probe_reason(const ProgramRun& run, const std::string& program) {
  if (run.succeeded()) return {};
  switch (run.outcome) {
    case RunOutcome::tool_missing:
      return "tool missing: " + program;
    case RunOutcome::timed_out:
      return "timed out: " + program;
    case RunOutcome::failed_to_start:
      if (run.error.starts_with("not supported")) return run.error;
      break;
    default:
      break;
  }
  return "could not read: " + program + ": " + describe_failure(run);
}

}  // namespace tether::agent::diag
