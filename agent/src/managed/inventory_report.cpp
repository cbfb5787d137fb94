#include "managed/inventory_report.hpp"

#include <algorithm>

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::managed {

using json = nlohmann::json;

BuiltReport build_inventory_report(const diag::InventorySplit& split,
                                   const protocol::SectionHashes& known, bool full, std::string id,
                                   std::string device, std::string collected_at,
                                   std::size_t max_bytes) {
  BuiltReport built;
  auto& report = built.report;
  report.id = std::move(id);
  report.device = std::move(device);
  report.collected_at = std::move(collected_at);
  report.full = full;
  report.sections = json::object();
  report.live = split.live.is_object() ? split.live : json::object();
  json errors = json::array();
  if (auto it = split.inventory.find("errors"); it != split.inventory.end() && it->is_array()) {
    errors = *it;
  }

  const auto& inventory = split.inventory;
  const auto hashes = inventory.find("section_hashes");
  if (hashes != inventory.end() && hashes->is_object()) {
    for (const auto& [name, hash] : hashes->items()) {
      if (!hash.is_string() || !inventory.contains(name)) continue;
      const auto value = hash.get<std::string>();
      report.hashes[name] = value;
      ++built.total;
      const auto held = known.find(name);
      if (full || held == known.end() || held->second != value) {
        report.sections[name] = inventory[name];
      }
    }
  }
  report.live["errors"] = errors;

  // Too big: the largest sections wait for a later report, the relay keeping what it has.
  auto size = protocol::encode(report).size();
  if (size > max_bytes) {
    std::vector<std::pair<std::string, std::size_t>> by_size;
    for (const auto& [name, content] : report.sections.items()) {
      by_size.emplace_back(name,
                           content.dump(-1, ' ', false, json::error_handler_t::replace).size());
    }
    std::sort(by_size.begin(), by_size.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    for (const auto& [name, bytes] : by_size) {
      if (size <= max_bytes) break;
      report.sections.erase(name);
      if (const auto held = known.find(name); held != known.end()) {
        report.hashes[name] = held->second;
      } else {
        report.hashes.erase(name);
      }
      report.live["errors"].push_back(
          {{"section", name},
           {"message", "too large to send (" + std::to_string(bytes) + " bytes)"}});
      built.too_large.emplace_back(name, bytes);
      size = protocol::encode(report).size();
    }
    if (size > max_bytes) {
      // The live figures alone are too big (a machine with thousands of findings): send the
      // sections without them.
      report.live = {{"overlay", json::object()},
                     {"findings", json::array()},
                     {"errors", report.live["errors"]}};
      report.live["errors"].push_back({{"section", "live"}, {"message", "too large to send"}});
    }
  }
  built.sent = report.sections.size();
  return built;
}

}  // namespace tether::agent::managed
