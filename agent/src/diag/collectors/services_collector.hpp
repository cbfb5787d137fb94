#pragma once
// The "services" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "services" section under context.root.
nlohmann::json collect_services(const CollectContext& context);

}  // namespace tether::agent::diag
