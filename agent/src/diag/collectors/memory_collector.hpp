#pragma once
// The "memory" section: RAM and swap, in bytes.

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// /proc/meminfo → {"total_bytes","available_bytes","swap_total_bytes","swap_free_bytes"}
/// (the file counts kB = 1024 bytes). A missing line is null, except that a kernel older
/// than 3.14 without MemAvailable gets MemFree + Buffers + Cached as an estimate.
/// {"unavailable": …} when MemTotal is missing or malformed.
nlohmann::json parse_meminfo(std::string_view text);

/// Reads <root>/proc/meminfo.
nlohmann::json collect_memory(const CollectContext& context);

}  // namespace tether::agent::diag
