#include "fleet/fleet_view.hpp"

#include <algorithm>

#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {

using nlohmann::json;

namespace {

// An overlay nested deeper than any snapshot (a handful of levels) is malformed; the bound keeps
// the recursion off the stack's limits whatever the stored `live` holds.
constexpr int kMaxMergeDepth = 64;

bool is_container(const json& value) {
  return value.is_object() || value.is_array();
}

void merge_into(json& target, const json& patch, int depth) {
  if (depth > kMaxMergeDepth || patch.is_null() || patch.is_discarded()) return;
  if (target.is_null()) {
    target = patch;
    return;
  }
  if (target.is_object() && patch.is_object()) {
    for (const auto& [key, value] : patch.items()) {
      auto it = target.find(key);
      if (it == target.end()) {
        if (!value.is_null()) target[key] = value;
      } else {
        merge_into(*it, value, depth + 1);
      }
    }
  } else if (target.is_array() && patch.is_array()) {
    const auto n = std::min(target.size(), patch.size());
    for (std::size_t i = 0; i < n; ++i) merge_into(target[i], patch[i], depth + 1);
  } else if (!is_container(target) && !is_container(patch)) {
    target = patch;
  }
  // Otherwise the shapes disagree: the stored section wins.
}

}  // namespace

json compose_inventory(const DeviceInventory& inventory) {
  json doc = json::object();
  for (const auto& [name, section] : inventory.sections) doc[name] = section.content;
  const auto& live = inventory.live;
  if (live.is_object()) {
    if (auto overlay = live.find("overlay"); overlay != live.end() && overlay->is_object()) {
      merge_into(doc, *overlay, 0);
    }
    if (auto findings = live.find("findings"); findings != live.end() && findings->is_array()) {
      doc["findings"] = *findings;
    }
  }
  doc["collected_at"] = protocol::format_time(inventory.collected_at);
  return doc;
}

FleetDevice fleet_device(const Device& device, const DeviceInventory* inventory, bool online) {
  FleetDevice out;
  out.id = "D-" + std::to_string(device.id);
  out.group = device.group_name;
  out.hostname = device.hostname;
  out.online = online;
  out.last_seen = device.last_seen_at;
  if (inventory != nullptr) {
    if (!out.last_seen || *out.last_seen < inventory->reported_at) {
      out.last_seen = inventory->reported_at;
    }
    out.inventory = compose_inventory(*inventory);
  }
  return out;
}

}  // namespace tether::relay::fleet
