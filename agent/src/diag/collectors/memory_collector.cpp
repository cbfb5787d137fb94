#include "diag/collectors/memory_collector.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

using json = nlohmann::json;

json parse_meminfo(std::string_view text) {
  std::map<std::string, std::uint64_t, std::less<>> kib;
  for (const auto line : split_lines(text)) {
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const auto fields = split_fields(line.substr(colon + 1));
    if (fields.empty() || fields.size() > 2 || (fields.size() == 2 && fields[1] != "kB")) {
      continue;
    }
    const auto value = parse_integer(fields[0]);
    // Refuse values that would overflow once turned into bytes.
    if (!value || *value < 0 ||
        static_cast<std::uint64_t>(*value) > std::numeric_limits<std::uint64_t>::max() / 1024) {
      continue;
    }
    kib.emplace(std::string(trim(line.substr(0, colon))), static_cast<std::uint64_t>(*value));
  }
  const auto bytes = [&](std::string_view key) -> json {
    const auto it = kib.find(key);
    if (it == kib.end()) return nullptr;
    return it->second * 1024;
  };
  json total = bytes("MemTotal");
  if (total.is_null() || total.get<std::uint64_t>() == 0) {
    return unavailable("no MemTotal in /proc/meminfo");
  }
  json available = bytes("MemAvailable");
  if (available.is_null() && kib.contains("MemFree") && kib.contains("Buffers") &&
      kib.contains("Cached")) {
    available =
        (kib.find("MemFree")->second + kib.find("Buffers")->second + kib.find("Cached")->second) *
        1024;
  }
  return json{{"total_bytes", total},
              {"available_bytes", available},
              {"swap_total_bytes", bytes("SwapTotal")},
              {"swap_free_bytes", bytes("SwapFree")}};
}

json collect_memory(const CollectContext& context) {
  const auto& root = context.root;
  const auto meminfo = read_source(root, "/proc/meminfo");
  if (!meminfo.text) return unavailable(meminfo.error);
  return parse_meminfo(*meminfo.text);
}

}  // namespace tether::agent::diag
