#pragma once
// The "devices" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "devices" section under context.root.
nlohmann::json collect_devices(const CollectContext& context);

}  // namespace tether::agent::diag
