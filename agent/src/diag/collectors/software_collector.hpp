#pragma once
// The "software" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "software" section under context.root.
nlohmann::json collect_software(const CollectContext& context);

}  // namespace tether::agent::diag
