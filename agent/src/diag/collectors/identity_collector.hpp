#pragma once
// The "identity" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "identity" section under context.root.
nlohmann::json collect_identity(const CollectContext& context);

}  // namespace tether::agent::diag
