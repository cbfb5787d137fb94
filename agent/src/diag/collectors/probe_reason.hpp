#pragma once
// Why a probe (a program run through run_probe) gave no answer, worded as a snapshot reason.

#include <string>

#include "tether/agent/run_program.hpp"

namespace tether::agent::diag {

/// "tool missing", "timed out", "not supported on this platform…" as they are, anything else
/// as "could not read: <program>: exit status 1: <first line of stderr>". Empty on success.
std::string probe_reason(const ProgramRun& run, const std::string& program);

}  // namespace tether::agent::diag
