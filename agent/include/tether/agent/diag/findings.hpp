#pragma once
/// Health checks over a diagnostics snapshot: each turns raw facts into a finding a
/// 1st-level technician can act on ("/home is 96% full (3.1 GiB free)"). The checks and
/// their thresholds are listed in docs/diagnostics.md, "Findings (health checks)".

#include <nlohmann/json.hpp>

#include "tether/agent/diag/thresholds.hpp"

namespace tether::agent::diag {

/// Evaluates every check over `snapshot` (schema 2, docs/diagnostics-schema.md) and returns
/// {"findings": [{id, severity, summary, hint, evidence}], "skipped": [{id, reason}]}.
/// Findings are sorted critical → warning → info → ok, then by id. A check whose inputs are
/// missing, unavailable or of the wrong type yields a "skipped" entry instead of a finding.
/// Never throws: a check failing internally is reported as skipped. Pure and thread-safe;
/// the reference time for ages (pending reboot) is the snapshot's "collected_at".
nlohmann::json evaluate_findings(const nlohmann::json& snapshot, const Thresholds& thresholds);

}  // namespace tether::agent::diag
