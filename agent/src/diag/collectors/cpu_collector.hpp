#pragma once
// The "cpu" section: model name, logical core count, clock of the first core.

#include <filesystem>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// /proc/cpuinfo → {"model","logical_cores","mhz"}. logical_cores counts "processor" entries;
/// model comes from "model name" (x86), "cpu model" (MIPS), "Model" or "Hardware" (ARM);
/// mhz is the first "cpu MHz" (null where the kernel does not report it, e.g. most ARM).
/// {"unavailable": …} when the text holds no processor entry.
nlohmann::json parse_cpuinfo(std::string_view text);

/// Reads <root>/proc/cpuinfo.
nlohmann::json collect_cpu(const CollectContext& context);

}  // namespace tether::agent::diag
