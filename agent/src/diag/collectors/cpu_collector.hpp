#pragma once
// The "cpu" section: what the processor is (model, family, topology, caches, flags) and how
// busy it is over a short sample window.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// /proc/cpuinfo → {"model","logical_cores","threads","mhz","vendor","family","model_id",
/// "stepping","microcode","sockets","cores","flags_summary","flag_count"}.
/// logical_cores (= threads) counts "processor" entries; model comes from "model name" (x86),
/// "cpu model" (MIPS), "Model" or "Hardware" (ARM); mhz is the first "cpu MHz" (null where
/// the kernel does not report it, e.g. most ARM). vendor is "vendor_id" or the ARM
/// implementer's name; family/model_id/stepping are "cpu family"/"model"/"stepping" on x86,
/// "CPU architecture"/"CPU part"/"CPU revision" on ARM. sockets and cores count distinct
/// "physical id" and ("physical id", "core id") pairs, null when cpuinfo has none.
/// {"unavailable": …} when the text holds no processor entry.
nlohmann::json parse_cpuinfo(std::string_view text);

/// One "cpu…" line of /proc/stat: jiffies spent in all states and idle (idle + iowait).
struct CpuTicks {
  std::string name;  ///< "cpu" for the total, "cpu0", "cpu1", …
  std::uint64_t total = 0;
  std::uint64_t idle = 0;
};

/// The "cpu" and "cpuN" lines of /proc/stat; malformed lines are skipped.
std::vector<CpuTicks> parse_cpu_ticks(std::string_view stat);

/// Busy share between two reads of /proc/stat → {"utilization_pct", "per_core_pct"}, each
/// rounded to 0.1 %. per_core_pct follows the cpuN lines in order; a core whose counters did
/// not advance is null. Either figure is null with a reason when no tick elapsed (the reads
/// were too close together, or the file did not change).
nlohmann::json cpu_utilization(const std::vector<CpuTicks>& before,
                               const std::vector<CpuTicks>& after);

/// A sysfs cache size ("32K", "1280K", "8M") in bytes; nullopt for anything else.
std::optional<std::uint64_t> parse_cache_size(std::string_view text);

/// Reads <root>/proc/cpuinfo, the topology, caches and maximum clock under
/// <root>/sys/devices/system/cpu, and /proc/stat twice, context.cpu_sample apart (through
/// host.pause; on the real root without one, a sleep; on a fixture without one, no wait).
nlohmann::json collect_cpu(const CollectContext& context);

}  // namespace tether::agent::diag
