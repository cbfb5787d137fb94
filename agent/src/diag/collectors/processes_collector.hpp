#pragma once
// The "processes" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "processes" section under context.root.
nlohmann::json collect_processes(const CollectContext& context);

}  // namespace tether::agent::diag
