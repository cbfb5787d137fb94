#pragma once
// The "users" section (docs/diagnostics.md).

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Collects the "users" section under context.root.
nlohmann::json collect_users(const CollectContext& context);

}  // namespace tether::agent::diag
