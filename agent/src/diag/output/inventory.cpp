#include "tether/agent/diag/inventory.hpp"

#include <array>
#include <initializer_list>

#include "tether/agent/diag/snapshot.hpp"

#include "tether/agent/diag/sha256.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// Live figures: they change from one minute to the next, so they would make every section
// hash differ between two inventories of an unchanged machine. Each entry: a section, the
// list inside it ("" for the section itself), and the fields dropped from it (or from each
// of its items).
struct LiveFields {
  const char* section;
  const char* list;
  std::initializer_list<const char*> fields;
};

const LiveFields kLiveFields[] = {
    {"identity", "", {"collected_at"}},
    {"system", "", {"uptime_seconds", "load", "clock", "pressure"}},
    {"cpu", "", {"mhz", "utilization_pct", "per_core_pct", "sample_ms"}},
    {"memory",
     "",
     {"available_bytes", "free_bytes", "buffers_bytes", "cached_bytes", "swap_free_bytes",
      "used_pct", "swap_used_pct", "pressure", "oom_kills_since_boot"}},
    {"storage",
     "filesystems",
     {"free_bytes", "available_bytes", "used_pct", "inodes_free", "inodes_used_pct"}},
    {"storage", "raid", {"sync_action", "sync_pct"}},
    {"network", "", {"listening"}},
    {"network", "interfaces", {"stats", "state", "speed_mbps", "duplex", "wifi"}},
    {"power", "", {"ac_online", "temperatures"}},
    {"power", "batteries", {"status", "capacity_pct", "now_wh"}},
    {"services", "", {"counts"}},
    {"services", "units", {"active", "sub"}},
    {"users", "", {"sessions", "logged_in"}},
};

// Moves `fields` (and their reasons under "unknown") from `object` into `moved`, which gets
// the same shape: what make_inventory drops is what the live overlay holds.
void drop_fields(json& object, std::initializer_list<const char*> fields, json& moved) {
  if (!object.is_object()) return;
  auto unknown = object.find("unknown");
  for (const char* field : fields) {
    if (auto it = object.find(field); it != object.end()) {
      moved[field] = std::move(*it);
      object.erase(it);
    }
    if (unknown != object.end() && unknown->is_object()) {
      if (auto it = unknown->find(field); it != unknown->end()) {
        moved["unknown"][field] = std::move(*it);
        unknown->erase(it);
      }
    }
  }
  if (unknown != object.end() && unknown->is_object() && unknown->empty()) object.erase(unknown);
}

// Every item of `list` stripped of `fields`; the overlay list is aligned with it by index,
// {} for an item that had none of them. Returns an empty array when nothing moved.
json drop_list_fields(json& list, std::initializer_list<const char*> fields) {
  json moved = json::array();
  bool any = false;
  for (auto& item : list) {
    json from_item = json::object();
    drop_fields(item, fields, from_item);
    any = any || !from_item.empty();
    moved.push_back(std::move(from_item));
  }
  return any ? moved : json::array();
}

// Disk health holds both facts (passed, wear) and readings (temperature, hours powered on).
void drop_disk_readings(json& storage, json& overlay) {
  auto disks = storage.find("disks");
  if (disks == storage.end() || !disks->is_array()) return;
  json moved = json::array();
  bool any = false;
  for (auto& disk : *disks) {
    json from_disk = json::object();
    if (disk.is_object()) {
      auto health = disk.find("health");
      if (health != disk.end()) {
        json from_health = json::object();
        drop_fields(*health, {"temperature_celsius", "power_on_hours"}, from_health);
        if (!from_health.empty()) from_disk["health"] = std::move(from_health);
      }
    }
    any = any || !from_disk.empty();
    moved.push_back(std::move(from_disk));
  }
  if (any) overlay["disks"] = std::move(moved);
}

// One section without its live figures; they go to `overlay` in the section's shape.
void split_section(const std::string& name, json& section, json& overlay) {
  if (!section.is_object() || section.contains("unavailable")) return;
  for (const auto& live : kLiveFields) {
    if (name != live.section) continue;
    if (*live.list == '\0') {
      drop_fields(section, live.fields, overlay);
    } else if (auto list = section.find(live.list); list != section.end() && list->is_array()) {
      auto moved = drop_list_fields(*list, live.fields);
      if (!moved.empty()) overlay[live.list] = std::move(moved);
    }
  }
  if (name == "storage") drop_disk_readings(section, overlay);
}

}  // namespace

std::string section_hash(const json& section) {
  const auto text = section.dump(-1, ' ', false, json::error_handler_t::replace);
  return sha256_tagged_hex(text);
}

InventorySplit split_inventory(const json& snapshot) {
  InventorySplit out;
  out.inventory = json::object();
  out.live = {{"overlay", json::object()}, {"findings", json::array()}};
  if (!snapshot.is_object()) return out;
  try {
    for (const char* key :
         {"schema", "collected_at", "duration_ms", "agent", "errors", "redacted"}) {
      if (auto it = snapshot.find(key); it != snapshot.end()) out.inventory[key] = *it;
    }
    if (auto it = snapshot.find("findings"); it != snapshot.end() && it->is_array()) {
      out.live["findings"] = *it;
    }
    json hashes = json::object();
    for (const auto& name : inventory_sections()) {
      auto it = snapshot.find(name);
      if (it == snapshot.end()) continue;
      json section = *it;
      json overlay = json::object();
      split_section(name, section, overlay);
      if (!overlay.empty()) out.live["overlay"][name] = std::move(overlay);
      hashes[name] = section_hash(section);
      out.inventory[name] = std::move(section);
    }
    out.inventory["section_hashes"] = std::move(hashes);
  } catch (const std::exception&) {
    // Only allocation failure gets here.
    out.inventory["errors"] =
        json::array({json{{"section", "inventory"}, {"message", "out of memory"}}});
  }
  return out;
}

json make_inventory(const json& snapshot) {
  return split_inventory(snapshot).inventory;
}

}  // namespace tether::agent::diag
