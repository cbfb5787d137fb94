#include "diag/collectors/cpu_collector.hpp"

#include <cstdint>
#include <string>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

using json = nlohmann::json;

json parse_cpuinfo(std::string_view text) {
  std::int64_t processors = 0;
  json model = nullptr;
  json fallback_model = nullptr;
  json mhz = nullptr;
  for (const auto line : split_lines(text)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = trim(line.substr(0, colon));
    const auto value = trim(line.substr(colon + 1));
    if (key == "processor" && parse_integer(value)) {
      ++processors;
    } else if ((key == "model name" || key == "cpu model") && model.is_null() && !value.empty()) {
      model = std::string(value);
    } else if ((key == "Model" || key == "Hardware") && fallback_model.is_null() &&
               !value.empty()) {
      // ARM boards name the machine here; "model name" (when present) names the core.
      fallback_model = std::string(value);
    } else if (key == "cpu MHz" && mhz.is_null()) {
      if (const auto value_mhz = parse_decimal(value); value_mhz && *value_mhz > 0) {
        mhz = *value_mhz;
      }
    }
  }
  if (processors == 0) return unavailable("no processor entries in /proc/cpuinfo");
  return json{{"model", model.is_null() ? fallback_model : model},
              {"logical_cores", processors},
              {"mhz", mhz}};
}

json collect_cpu(const CollectContext& context) {
  const auto& root = context.root;
  const auto cpuinfo = read_source(root, "/proc/cpuinfo");
  if (!cpuinfo.text) return unavailable(cpuinfo.error);
  return parse_cpuinfo(*cpuinfo.text);
}

}  // namespace tether::agent::diag
