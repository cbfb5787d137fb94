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

void drop_fields(json& object, std::initializer_list<const char*> fields) {
  if (!object.is_object()) return;
  auto unknown = object.find("unknown");
  for (const char* field : fields) {
    object.erase(field);
    if (unknown != object.end() && unknown->is_object()) unknown->erase(field);
  }
  if (unknown != object.end() && unknown->is_object() && unknown->empty()) object.erase(unknown);
}

// Disk health holds both facts (passed, wear) and readings (temperature, hours powered on).
void drop_disk_readings(json& storage) {
  auto disks = storage.find("disks");
  if (disks == storage.end() || !disks->is_array()) return;
  for (auto& disk : *disks) {
    if (!disk.is_object()) continue;
    auto health = disk.find("health");
    if (health != disk.end()) drop_fields(*health, {"temperature_celsius", "power_on_hours"});
  }
}

}  // namespace

std::string section_hash(const json& section) {
  const auto text = section.dump(-1, ' ', false, json::error_handler_t::replace);
  return sha256_tagged_hex(text);
}

json make_inventory(const json& snapshot) {
  json out = json::object();
  if (!snapshot.is_object()) return out;
  try {
    for (const char* key :
         {"schema", "collected_at", "duration_ms", "agent", "errors", "redacted"}) {
      if (auto it = snapshot.find(key); it != snapshot.end()) out[key] = *it;
    }
    json hashes = json::object();
    for (const auto& name : inventory_sections()) {
      auto it = snapshot.find(name);
      if (it == snapshot.end()) continue;
      json section = *it;
      if (section.is_object() && !section.contains("unavailable")) {
        for (const auto& live : kLiveFields) {
          if (name != live.section) continue;
          if (*live.list == '\0') {
            drop_fields(section, live.fields);
          } else if (auto list = section.find(live.list);
                     list != section.end() && list->is_array()) {
            for (auto& item : *list) drop_fields(item, live.fields);
          }
        }
        if (name == "storage") drop_disk_readings(section);
      }
      hashes[name] = section_hash(section);
      out[name] = std::move(section);
    }
    out["section_hashes"] = std::move(hashes);
  } catch (const std::exception&) {
    // Only allocation failure gets here.
    out["errors"] = json::array({json{{"section", "inventory"}, {"message", "out of memory"}}});
  }
  return out;
}

}  // namespace tether::agent::diag
