#pragma once
// The "memory" section: RAM and swap in bytes, memory pressure, OOM kills, and the DIMMs
// the firmware lists (SMBIOS type 17).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// /proc/meminfo → {"total_bytes","available_bytes","free_bytes","buffers_bytes",
/// "cached_bytes","swap_total_bytes","swap_free_bytes","used_pct","swap_used_pct"}
/// (the file counts kB = 1024 bytes). A missing line is null, except that a kernel older
/// than 3.14 without MemAvailable gets MemFree + Buffers + Cached as an estimate.
/// used_pct is (total − available) / total; swap_used_pct is null ("not present") without
/// swap. {"unavailable": …} when MemTotal is missing or malformed.
nlohmann::json parse_meminfo(std::string_view text);

/// /proc/pressure/<resource> → {"some_avg10","some_avg60","full_avg10","full_avg60"} in %;
/// a missing line or figure is null. nullopt-like: an empty object when nothing parsed.
nlohmann::json parse_pressure(std::string_view text);

/// The "oom_kill" counter of /proc/vmstat; nullopt when the line is missing (kernels before
/// 4.13) or malformed.
std::optional<long long> parse_oom_kills(std::string_view vmstat);

/// SMBIOS table bytes → {"dimms": [...], "slots_total", "slots_used"}: dimms lists the
/// installed modules in table order; empty slots count in slots_total only.
nlohmann::json memory_devices_from_smbios(std::span<const std::uint8_t> table);

/// Reads <root>/proc/meminfo, /proc/pressure/memory, /proc/vmstat and (as root)
/// /sys/firmware/dmi/tables/DMI. Unavailable only when /proc/meminfo cannot be used.
nlohmann::json collect_memory(const CollectContext& context);

}  // namespace tether::agent::diag
