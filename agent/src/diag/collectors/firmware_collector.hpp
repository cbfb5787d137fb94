#pragma once
// The "firmware" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "firmware" section under context.root.
nlohmann::json collect_firmware(const CollectContext& context);

}  // namespace tether::agent::diag
