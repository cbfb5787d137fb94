#pragma once
// The "logs" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "logs" section under context.root.
nlohmann::json collect_logs(const CollectContext& context);

}  // namespace tether::agent::diag
