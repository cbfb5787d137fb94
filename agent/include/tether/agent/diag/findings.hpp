#pragma once
/// Health checks over a diagnostics snapshot: each turns raw facts into a finding a
/// 1st-level technician can act on. (Placeholder: the check table is being written.)

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// Thresholds of every check, with monitoring tools' defaults.
struct Thresholds {};

/// Evaluates every check over `snapshot`: {"findings": [...], "skipped": [...]}.
nlohmann::json evaluate_findings(const nlohmann::json& snapshot, const Thresholds& thresholds);

}  // namespace tether::agent::diag
