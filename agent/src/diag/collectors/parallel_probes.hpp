#pragma once
// Two independent probes at once, so a section that needs both waits for the slower one only.

#include <string>
#include <utility>
#include <vector>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Runs `first` on a second thread and `second` on this one (both through run_probe, each
/// under context.probe_timeout) and returns both runs. Falls back to one after the other when
/// no thread can be started. Never throws from the helper thread: a failure there becomes a
/// failed_to_start run.
std::pair<ProgramRun, ProgramRun> run_probes_together(const CollectContext& context,
                                                      const std::vector<std::string>& first,
                                                      const std::vector<std::string>& second);

}  // namespace tether::agent::diag
