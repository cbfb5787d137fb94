#pragma once
// The "system" section: host name, OS release, kernel, architecture, boot time, uptime, load.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// os-release(5) text → {"name","version","version_id","id","pretty_name"}; a key the file
/// lacks is null. Values may be quoted ("…" or '…') with backslash escapes inside.
nlohmann::json parse_os_release(std::string_view text);

/// /proc/uptime → whole seconds since boot; nullopt on malformed text.
std::optional<std::int64_t> parse_uptime(std::string_view text);

/// /proc/loadavg → {"1m","5m","15m"}; null on malformed text.
nlohmann::json parse_loadavg(std::string_view text);

/// The "btime" line of /proc/stat → seconds since the Unix epoch; nullopt when absent.
std::optional<std::int64_t> parse_boot_time(std::string_view stat_text);

/// Reads the system section's sources under `root`. A missing source leaves its field null;
/// the section is unavailable only when none of them could be read.
nlohmann::json collect_system(const CollectContext& context);

}  // namespace tether::agent::diag
