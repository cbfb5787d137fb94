#pragma once
// The "power" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "power" section under context.root.
nlohmann::json collect_power(const CollectContext& context);

}  // namespace tether::agent::diag
