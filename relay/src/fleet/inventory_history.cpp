#include "fleet/inventory_history.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "fleet/debian_version.hpp"
#include "fleet/package_changes.hpp"
#include "helpdesk/json_text.hpp"
#include "tether/protocol/json_access.hpp"
#include "tether/protocol/size_text.hpp"

namespace tether::relay::fleet {

using json = nlohmann::json;

namespace {

using helpdesk::clip_text;
using protocol::json_member;

constexpr std::size_t kMaxDetailItems = 1000;
constexpr std::size_t kMaxSummary = 300;
constexpr std::size_t kMaxSummaryItems = 8;
constexpr std::size_t kMaxShownName = 60;    // one name in a summary
constexpr std::size_t kMaxShownValue = 40;   // one value in a summary ("a → b")
constexpr std::size_t kMaxDetailText = 200;  // one string in a detail
// Agents list at most 10,000 packages or units; reading far more would only cost time.
constexpr std::size_t kMaxInputItems = 100000;
constexpr int kMaxDepth = 16;
// The kernel's own share of memory moves by a few MiB between kernels: not a change.
constexpr double kMemoryChangeShare = 0.02;

// ---- What is compared

// Top-level members that describe the document or the moment, not the machine.
bool is_section(std::string_view key) {
  static constexpr std::string_view kNotSections[] = {
      "schema",         "collected_at", "duration_ms",    "agent",     "errors", "redacted",
      "section_hashes", "findings",     "checks_skipped", "processes", "logs"};
  return std::find(std::begin(kNotSections), std::end(kNotSections), key) == std::end(kNotSections);
}

// Fields that are not what a machine is but how it is doing or where it is: make_inventory's
// live figures, plus state that moves by itself (boot time, pending updates, addresses, a
// battery's slow wear, failed units, RAID sync, disk health readings). A history of them
// would bury the changes a person looks for. Each entry: a section, the list inside it (""
// for the section itself), the fields dropped from it or from each of its items.
struct Ignored {
  std::string_view section;
  std::string_view list;
  std::initializer_list<std::string_view> fields;
};

const Ignored kIgnored[] = {
    {"identity", "", {"collected_at"}},
    {"system", "", {"uptime_seconds", "load", "clock", "pressure", "boot_time", "reboot_required"}},
    {"cpu", "", {"mhz", "utilization_pct", "per_core_pct", "sample_ms", "logical_cores"}},
    {"memory",
     "",
     {"available_bytes", "free_bytes", "buffers_bytes", "cached_bytes", "swap_free_bytes",
      "used_pct", "swap_used_pct", "pressure", "oom_kills_since_boot"}},
    {"storage",
     "filesystems",
     {"free_bytes", "available_bytes", "used_pct", "inodes_free", "inodes_used_pct"}},
    {"storage",
     "raid",
     {"sync_action", "sync_pct", "state", "degraded", "devices_active", "devices_failed"}},
    {"storage", "disks", {"health"}},
    {"network", "", {"listening", "default_routes", "dns"}},
    {"network", "interfaces", {"stats", "state", "speed_mbps", "duplex", "wifi", "addresses"}},
    {"power", "", {"ac_online", "temperatures"}},
    {"power",
     "batteries",
     {"status", "capacity_pct", "now_wh", "full_capacity_wh", "wear_pct", "cycle_count"}},
    {"devices", "", {"usb"}},
    {"software", "", {"counts", "pending_updates"}},
    {"services", "", {"counts", "failed"}},
    {"services", "units", {"active", "sub"}},
    {"users", "", {"sessions", "logged_in"}},
};

json comparable(std::string_view section, const json& content) {
  json out = content;
  if (!out.is_object()) return out;
  for (const auto& rule : kIgnored) {
    if (rule.section != section) continue;
    if (rule.list.empty()) {
      for (auto field : rule.fields) out.erase(std::string(field));
      continue;
    }
    auto list = out.find(std::string(rule.list));
    if (list == out.end() || !list->is_array()) continue;
    for (auto& item : *list) {
      if (!item.is_object()) continue;
      for (auto field : rule.fields) item.erase(std::string(field));
    }
  }
  return out;
}

// ---- Tolerant readers

std::optional<std::string> text_of(const json& object, std::string_view key) {
  const json& value = json_member(object, key);
  if (!value.is_string() || value.get_ref<const std::string&>().empty()) return std::nullopt;
  return value.get<std::string>();
}

std::optional<double> number_of(const json& object, std::string_view key) {
  const json& value = json_member(object, key);
  if (!value.is_number()) return std::nullopt;
  const double n = value.get<double>();
  if (!std::isfinite(n)) return std::nullopt;
  return n;
}

std::string number_text(const json& value) {
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value.get<double>());
  return buffer;
}

// A scalar as people read it; nullopt for objects, arrays and null.
std::optional<std::string> scalar_text(const json& value, std::size_t max) {
  if (value.is_string()) return clip_text(value.get_ref<const std::string&>(), max);
  if (value.is_number()) return number_text(value);
  if (value.is_boolean()) return value.get<bool>() ? "true" : "false";
  return std::nullopt;
}

// A scalar for a detail: strings clipped, numbers and booleans as they are, anything else null.
json scalar_detail(const json& value) {
  if (value.is_string()) return clip_text(value.get_ref<const std::string&>(), kMaxDetailText);
  if (value.is_number() || value.is_boolean()) return value;
  return nullptr;
}

// ---- Summary text

std::size_t chars(std::string_view text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

std::string one_line(const std::string& text) {
  // clip_text adds "…" after `max` characters.
  return chars(text) <= kMaxSummary ? text : clip_text(text, kMaxSummary - 1);
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// "a, b, c and 5 more": at most kMaxSummaryItems of `names` (of `total` in all), fewer when
// the line would grow past `room` characters.
std::string name_list(const std::vector<std::string>& names, std::size_t total, std::size_t room) {
  std::string out;
  std::size_t shown = 0;
  for (const auto& name : names) {
    if (shown == kMaxSummaryItems) break;
    std::string next = out.empty() ? name : out + ", " + name;
    const std::size_t rest = total - shown - 1;
    const std::size_t tail = rest == 0 ? 0 : 10 + std::to_string(rest).size();
    if (shown > 0 && chars(next) + tail > room) break;
    out = std::move(next);
    ++shown;
  }
  if (shown < total) out += " and " + std::to_string(total - shown) + " more";
  return out;
}

// "<prefix><list>" within kMaxSummary.
std::string listed(const std::string& prefix, const std::vector<std::string>& names,
                   std::size_t total) {
  const std::size_t used = chars(prefix);
  const std::size_t room = used < kMaxSummary ? kMaxSummary - used : 0;
  return one_line(prefix + name_list(names, total, room));
}

std::string gib_text(double bytes) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
  return buffer;
}

// Disks as their label says: decimal units.
std::string disk_size_text(double bytes) {
  char buffer[32];
  if (bytes >= 1e12) {
    std::snprintf(buffer, sizeof buffer, "%.1f TB", bytes / 1e12);
  } else if (bytes >= 1e9) {
    std::snprintf(buffer, sizeof buffer, "%.0f GB", bytes / 1e9);
  } else {
    return protocol::size_text(static_cast<std::uint64_t>(bytes));
  }
  return buffer;
}

std::string title(std::string_view section) {
  static const std::map<std::string_view, std::string_view> kTitles = {
      {"identity", "Identity"}, {"system", "System"},     {"firmware", "Firmware"},
      {"cpu", "CPU"},           {"memory", "Memory"},     {"storage", "Storage"},
      {"network", "Network"},   {"power", "Power"},       {"devices", "Devices"},
      {"software", "Software"}, {"services", "Services"}, {"users", "Users"}};
  auto it = kTitles.find(section);
  return it != kTitles.end() ? std::string(it->second) : clip_text(section, kMaxShownName);
}

// Keeps the first kMaxDetailItems items under `key`, with the full count.
void put_list(json& detail, const char* key, std::vector<json> items) {
  detail["count"] = items.size();
  if (items.size() > kMaxDetailItems) {
    items.resize(kMaxDetailItems);
    detail["truncated"] = true;
  }
  detail[key] = std::move(items);
}

InventoryChangeEntry entry(std::string_view section, std::string kind, std::string summary,
                           json detail = json::object()) {
  return {std::string(section), std::move(kind), one_line(summary), std::move(detail)};
}

// ---- Field by field: what no section-specific rule covers

struct FieldChange {
  std::string path;
  std::string change;  // "added", "removed", "changed"
  json from, to;       // scalars only
};

struct FieldChanges {
  std::vector<FieldChange> list;  // the first kMaxDetailItems
  std::size_t total = 0;

  void add(FieldChange change) {
    ++total;
    if (list.size() < kMaxDetailItems) list.push_back(std::move(change));
  }
};

std::string join_path(const std::string& path, std::string_view key) {
  const auto name = clip_text(key, kMaxShownName);
  return path.empty() ? name : path + "." + name;
}

std::string item_path(const std::string& path, std::string_view key) {
  return path + "[" + clip_text(key, kMaxShownName) + "]";
}

bool all_scalars(const json& array) {
  return std::all_of(array.begin(), array.end(), [](const json& v) {
    return v.is_string() || v.is_number() || v.is_boolean();
  });
}

// The member that names each item of both lists, so items are matched by it rather than by
// position: filesystems by mount point, PCI devices by slot, users by name.
std::optional<std::string> item_key(const json& a, const json& b) {
  for (const char* key : {"name", "mount_point", "slot", "connector", "locator", "serial"}) {
    bool usable = true;
    for (const json* list : {&a, &b}) {
      std::set<std::string> seen;
      for (const auto& item : *list) {
        auto value = text_of(item, key);
        if (!value || !seen.insert(*value).second) {
          usable = false;
          break;
        }
      }
      if (!usable) break;
    }
    if (usable) return key;
  }
  return std::nullopt;
}

void diff_values(const json& a, const json& b, const std::string& path, FieldChanges& out,
                 int depth);

void diff_arrays(const json& a, const json& b, const std::string& path, FieldChanges& out,
                 int depth) {
  if (a.size() > kMaxInputItems || b.size() > kMaxInputItems) {
    out.add({path, "changed", nullptr, nullptr});
    return;
  }
  if (all_scalars(a) && all_scalars(b)) {
    std::set<std::string> in_a, in_b;
    for (const auto& v : a) in_a.insert(scalar_text(v, kMaxShownName).value_or(""));
    for (const auto& v : b) in_b.insert(scalar_text(v, kMaxShownName).value_or(""));
    for (const auto& v : in_a) {
      if (in_b.count(v) == 0) out.add({item_path(path, v), "removed", v, nullptr});
    }
    for (const auto& v : in_b) {
      if (in_a.count(v) == 0) out.add({item_path(path, v), "added", nullptr, v});
    }
    return;
  }
  const auto key = item_key(a, b);
  if (!key) {
    out.add({path, "changed", nullptr, nullptr});
    return;
  }
  std::map<std::string, const json*> by_a, by_b;
  for (const auto& item : a) by_a.emplace(*text_of(item, *key), &item);
  for (const auto& item : b) by_b.emplace(*text_of(item, *key), &item);
  for (const auto& [name, item] : by_a) {
    auto other = by_b.find(name);
    if (other == by_b.end()) {
      out.add({item_path(path, name), "removed", nullptr, nullptr});
    } else {
      diff_values(*item, *other->second, item_path(path, name), out, depth + 1);
    }
  }
  for (const auto& [name, item] : by_b) {
    if (by_a.count(name) == 0) out.add({item_path(path, name), "added", nullptr, nullptr});
  }
}

// A field that could not be read (null, with its reason under "unknown") is not a change,
// and neither is the reason.
void diff_values(const json& a, const json& b, const std::string& path, FieldChanges& out,
                 int depth) {
  if (a.is_null() || b.is_null() || a == b) return;
  if (depth > kMaxDepth) {
    out.add({path, "changed", nullptr, nullptr});
    return;
  }
  if (a.is_object() && b.is_object()) {
    for (const auto& [key, value] : a.items()) {
      if (key == "unknown") continue;
      auto other = b.find(key);
      if (other == b.end()) {
        if (!value.is_null())
          out.add({join_path(path, key), "removed", scalar_detail(value), nullptr});
      } else {
        diff_values(value, *other, join_path(path, key), out, depth + 1);
      }
    }
    for (const auto& [key, value] : b.items()) {
      if (key == "unknown" || a.contains(key) || value.is_null()) continue;
      out.add({join_path(path, key), "added", nullptr, scalar_detail(value)});
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    diff_arrays(a, b, path, out, depth);
    return;
  }
  out.add({path, "changed", scalar_detail(a), scalar_detail(b)});
}

// Compares the members of two section objects except those in `handled`.
void diff_rest(const json& a, const json& b, const std::set<std::string>& handled,
               FieldChanges& out, const std::string& prefix = "") {
  for (const auto& [key, value] : a.items()) {
    if (handled.count(key) != 0 || key == "unknown") continue;
    auto other = b.find(key);
    if (other == b.end()) {
      if (!value.is_null())
        out.add({join_path(prefix, key), "removed", scalar_detail(value), nullptr});
    } else {
      diff_values(value, *other, join_path(prefix, key), out, 1);
    }
  }
  for (const auto& [key, value] : b.items()) {
    if (handled.count(key) != 0 || key == "unknown" || a.contains(key) || value.is_null()) continue;
    out.add({join_path(prefix, key), "added", nullptr, scalar_detail(value)});
  }
}

std::string describe(const FieldChange& change) {
  const std::string name = change.path.empty() ? "content" : change.path;
  if (change.change != "changed") return name + " " + change.change;
  auto from = scalar_text(change.from, kMaxShownValue);
  auto to = scalar_text(change.to, kMaxShownValue);
  if (from && to) return name + " " + *from + " → " + *to;
  return name + " changed";
}

json fields_json(const FieldChanges& changes) {
  std::vector<json> items;
  for (const auto& c : changes.list) {
    json item = {{"path", c.path}, {"change", c.change}};
    if (!c.from.is_null()) item["from"] = c.from;
    if (!c.to.is_null()) item["to"] = c.to;
    items.push_back(std::move(item));
  }
  json detail = json::object();
  put_list(detail, "fields", std::move(items));
  detail["count"] = changes.total;
  if (changes.total > changes.list.size()) detail["truncated"] = true;
  return detail;
}

// ---- One section

// The entries of one section, and what goes into its "<section>.changed" entry: parts a rule
// wrote ("8.0 GiB → 16.0 GiB") before the field-by-field changes, and their detail.
struct SectionDiff {
  std::string section;
  std::vector<InventoryChangeEntry> entries;
  std::vector<std::string> parts;
  json detail = json::object();
  FieldChanges rest;

  void finish() {
    if (parts.empty() && rest.total == 0) return;
    std::vector<std::string> names = parts;
    for (const auto& change : rest.list) {
      if (names.size() >= kMaxSummaryItems) break;
      names.push_back(describe(change));
    }
    json out = detail;
    if (rest.total > 0) out.update(fields_json(rest));
    entries.push_back(entry(section, section + ".changed",
                            listed(title(section) + ": ", names, parts.size() + rest.total),
                            std::move(out)));
  }
};

// ---- software

void diff_software(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled;
  const auto changes =
      diff_package_lists(json_member(a, "packages"), json_member(b, "packages"), kMaxInputItems);
  if (changes) {
    handled.insert("packages");
    const auto name_version = [](const Package& p) {
      auto out = clip_text(p.name, kMaxShownName);
      return p.version.empty() ? out : out + " " + clip_text(p.version, kMaxShownValue);
    };
    const auto change_text = [](const std::pair<Package, Package>& c) {
      return clip_text(c.second.name, kMaxShownName) + " " +
             clip_text(c.first.version, kMaxShownValue) + " → " +
             clip_text(c.second.version, kMaxShownValue);
    };
    const auto added_or_removed = [&](const std::vector<Package>& list, const char* kind,
                                      const char* verb) {
      if (list.empty()) return;
      std::vector<json> items;
      std::vector<std::string> names;
      for (const auto& p : list) {
        if (items.size() < kMaxDetailItems + 1) items.push_back(package_json(p));
        if (names.size() < kMaxSummaryItems) names.push_back(clip_text(p.name, kMaxShownName));
      }
      json detail = json::object();
      put_list(detail, "packages", std::move(items));
      detail["count"] = list.size();
      std::string summary =
          list.size() == 1
              ? std::string(verb) + " " + name_version(list.front())
              : listed(std::string(verb) + " " + plural(list.size(), "package", "packages") + ": ",
                       names, list.size());
      diff.entries.push_back(entry("software", kind, summary, std::move(detail)));
    };
    const auto version_changes = [&](const std::vector<std::pair<Package, Package>>& list,
                                     const char* kind, const char* verb) {
      if (list.empty()) return;
      std::vector<json> items;
      std::vector<std::string> names;
      for (const auto& c : list) {
        if (items.size() < kMaxDetailItems + 1)
          items.push_back(package_change_json(c.first, c.second));
        if (names.size() < kMaxSummaryItems) names.push_back(change_text(c));
      }
      json detail = json::object();
      put_list(detail, "packages", std::move(items));
      detail["count"] = list.size();
      std::string summary =
          list.size() == 1
              ? std::string(verb) + " " + change_text(list.front())
              : listed(std::string(verb) + " " + plural(list.size(), "package", "packages") + ": ",
                       names, list.size());
      diff.entries.push_back(entry("software", kind, summary, std::move(detail)));
    };
    added_or_removed(changes->installed, "software.installed", "Installed");
    added_or_removed(changes->removed, "software.removed", "Removed");
    version_changes(changes->upgraded, "software.upgraded", "Upgraded");
    version_changes(changes->downgraded, "software.downgraded", "Downgraded");
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- Keyed items (disks, DIMMs, interfaces)

struct Item {
  std::string key;   // identity
  std::string name;  // what the machine calls it (sda, eth0, ChannelA-DIMM0)
  const json* value;
};

// The items of a list with their identities, in list order; a repeated identity gets "#2",
// "#3"… so two identical disks without serials stay two. nullopt when `list` is not an array.
template <typename Identify>
std::optional<std::vector<Item>> items_of(const json& list, Identify&& identify) {
  if (!list.is_array()) return std::nullopt;
  std::vector<Item> out;
  std::map<std::string, int> seen;
  for (const auto& value : list) {
    if (out.size() >= kMaxInputItems) break;
    if (!value.is_object()) continue;
    auto item = identify(value);
    if (!item) continue;
    if (const int n = ++seen[item->key]; n > 1) item->key += "#" + std::to_string(n);
    item->value = &value;
    out.push_back(std::move(*item));
  }
  return out;
}

struct Matched {
  std::vector<const Item*> removed, added;
  std::vector<std::pair<const Item*, const Item*>> same;
};

Matched match(const std::vector<Item>& a, const std::vector<Item>& b) {
  Matched out;
  std::map<std::string, const Item*> by_a, by_b;
  for (const auto& item : a) by_a.emplace(item.key, &item);
  for (const auto& item : b) by_b.emplace(item.key, &item);
  for (const auto& item : a) {
    auto other = by_b.find(item.key);
    if (other == by_b.end()) {
      out.removed.push_back(&item);
    } else {
      out.same.emplace_back(&item, other->second);
    }
  }
  for (const auto& item : b) {
    if (by_a.count(item.key) == 0) out.added.push_back(&item);
  }
  return out;
}

// ---- storage

std::optional<Item> identify_disk(const json& disk) {
  // Removable media (USB sticks, card readers) come and go.
  if (json_member(disk, "removable") == true) return std::nullopt;
  Item item{{}, text_of(disk, "name").value_or(""), nullptr};
  auto serial = text_of(disk, "serial");
  auto model = text_of(disk, "model");
  auto size = number_of(disk, "size_bytes");
  if (serial) {
    item.key = "serial:" + *serial;
  } else if (model || size) {
    item.key = "model:" + model.value_or("") + "/" + (size ? number_text(*size) : "");
  } else if (!item.name.empty()) {
    item.key = "name:" + item.name;
  } else {
    return std::nullopt;
  }
  return item;
}

// "Samsung SSD 870 EVO 1.0 TB (serial S6PX)", with the kernel's name first when asked.
std::string disk_text(const Item& disk, bool with_name) {
  std::vector<std::string> words;
  if (with_name && !disk.name.empty()) words.push_back(clip_text(disk.name, kMaxShownValue));
  if (auto model = text_of(*disk.value, "model")) words.push_back(clip_text(*model, kMaxShownName));
  if (auto size = number_of(*disk.value, "size_bytes"); size && *size > 0) {
    words.push_back(disk_size_text(*size));
  }
  if (auto serial = text_of(*disk.value, "serial")) {
    words.push_back("(serial " + clip_text(*serial, kMaxShownValue) + ")");
  }
  if (words.empty()) return "unnamed disk";
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

json disk_json(const Item& disk) {
  json out = json::object();
  for (const char* key : {"name", "model", "serial", "bus", "media"}) {
    if (auto value = text_of(*disk.value, key)) out[key] = clip_text(*value, kMaxDetailText);
  }
  if (const json& size = json_member(*disk.value, "size_bytes"); size.is_number()) {
    out["size_bytes"] = size;
  }
  return out;
}

void diff_storage(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled;
  const auto disks_a = items_of(json_member(a, "disks"), identify_disk);
  const auto disks_b = items_of(json_member(b, "disks"), identify_disk);
  if (disks_a && disks_b) {
    handled.insert("disks");
    auto m = match(*disks_a, *disks_b);
    // A disk gone and another in its place (same kernel name) was replaced.
    std::vector<std::pair<const Item*, const Item*>> replaced;
    for (auto r = m.removed.begin(); r != m.removed.end();) {
      auto same_name = std::find_if(m.added.begin(), m.added.end(), [&](const Item* added) {
        return !added->name.empty() && added->name == (*r)->name;
      });
      if (same_name == m.added.end()) {
        ++r;
        continue;
      }
      replaced.emplace_back(*r, *same_name);
      m.added.erase(same_name);
      r = m.removed.erase(r);
    }
    const auto added_or_removed = [&](const std::vector<const Item*>& list, const char* kind,
                                      const char* what) {
      if (list.empty()) return;
      std::vector<json> items;
      std::vector<std::string> names;
      for (const Item* disk : list) {
        items.push_back(disk_json(*disk));
        if (names.size() < kMaxSummaryItems) names.push_back(disk_text(*disk, true));
      }
      json detail = json::object();
      put_list(detail, "disks", std::move(items));
      std::string summary = list.size() == 1
                                ? "Disk " + std::string(what) + ": " + names.front()
                                : listed(plural(list.size(), "disk", "disks") + " " + what + ": ",
                                         names, list.size());
      diff.entries.push_back(entry("storage", kind, summary, std::move(detail)));
    };
    added_or_removed(m.added, "storage.disk_added", "added");
    added_or_removed(m.removed, "storage.disk_removed", "removed");
    if (!replaced.empty()) {
      std::vector<json> items;
      std::vector<std::string> names;
      for (const auto& [from, to] : replaced) {
        items.push_back({{"name", clip_text(to->name, kMaxDetailText)},
                         {"from", disk_json(*from)},
                         {"to", disk_json(*to)}});
        names.push_back(clip_text(to->name, kMaxShownName));
      }
      json detail = json::object();
      put_list(detail, "disks", std::move(items));
      const auto& [from, to] = replaced.front();
      std::string summary =
          replaced.size() == 1
              ? "Disk " + names.front() + " replaced: " + disk_text(*from, false) + " → " +
                    disk_text(*to, false)
              : listed(plural(replaced.size(), "disk", "disks") + " replaced: ", names,
                       replaced.size());
      diff.entries.push_back(entry("storage", "storage.disk_replaced", summary, std::move(detail)));
    }
    // The same disk: a firmware update is its own entry, anything else a field change.
    std::vector<json> updated;
    std::vector<std::string> names;
    for (const auto& [was, is] : m.same) {
      const std::string label = was->name.empty() ? was->key : is->name;
      auto fw_a = text_of(*was->value, "firmware");
      auto fw_b = text_of(*is->value, "firmware");
      if (fw_a && fw_b && *fw_a != *fw_b) {
        json item = disk_json(*is);
        item["from"] = clip_text(*fw_a, kMaxDetailText);
        item["to"] = clip_text(*fw_b, kMaxDetailText);
        updated.push_back(std::move(item));
        if (names.size() < kMaxSummaryItems) {
          names.push_back(clip_text(label, kMaxShownName) + " " + clip_text(*fw_a, kMaxShownValue) +
                          " → " + clip_text(*fw_b, kMaxShownValue));
        }
      }
      // Kernel names follow the order disks are found at boot; the disk is still the same.
      diff_rest(*was->value, *is->value, {"firmware", "name"}, diff.rest,
                item_path("disks", label));
    }
    if (!updated.empty()) {
      const std::size_t n = updated.size();
      json detail = json::object();
      put_list(detail, "disks", std::move(updated));
      diff.entries.push_back(
          entry("storage", "firmware.updated",
                listed(n == 1 ? std::string("Disk firmware updated: ")
                              : "Firmware of " + plural(n, "disk", "disks") + " updated: ",
                       names, n),
                std::move(detail)));
    }
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- memory

std::optional<Item> identify_dimm(const json& dimm) {
  auto size = number_of(dimm, "size_bytes");
  if (size && *size <= 0) return std::nullopt;  // an empty slot
  std::string slot = text_of(dimm, "locator").value_or(text_of(dimm, "bank").value_or(""));
  return Item{slot + "/" + (size ? number_text(*size) : "?"), slot, nullptr};
}

// "8.0 GiB DDR4 in ChannelB-DIMM0"
std::string dimm_text(const Item& dimm) {
  std::string out;
  if (auto size = number_of(*dimm.value, "size_bytes")) out = gib_text(*size);
  if (auto type = text_of(*dimm.value, "type")) {
    out += (out.empty() ? "" : " ") + clip_text(*type, kMaxShownValue);
  }
  if (out.empty()) out = "module";
  if (!dimm.name.empty()) out += " in " + clip_text(dimm.name, kMaxShownName);
  return out;
}

json dimm_json(const Item& dimm) {
  json out = json::object();
  for (const char* key : {"locator", "bank", "type", "manufacturer", "part_number", "serial"}) {
    if (auto value = text_of(*dimm.value, key)) out[key] = clip_text(*value, kMaxDetailText);
  }
  if (const json& size = json_member(*dimm.value, "size_bytes"); size.is_number()) {
    out["size_bytes"] = size;
  }
  return out;
}

// What is installed: the DIMMs' sum when every size is known, else what the kernel manages.
std::optional<double> installed_bytes(const json& memory, bool from_dimms) {
  if (!from_dimms) return number_of(memory, "total_bytes");
  const json& dimms = json_member(memory, "dimms");
  if (!dimms.is_array() || dimms.empty()) return std::nullopt;
  double sum = 0;
  for (const auto& dimm : dimms) {
    auto size = number_of(dimm, "size_bytes");
    if (!size) return std::nullopt;
    sum += *size;
  }
  return sum > 0 ? std::optional<double>(sum) : std::nullopt;
}

void diff_memory(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled = {"total_bytes"};
  // Compare like with like: DIMM sums when both list them, else the kernel's totals.
  const bool from_dimms = installed_bytes(a, true) && installed_bytes(b, true);
  auto total_a = installed_bytes(a, from_dimms);
  auto total_b = installed_bytes(b, from_dimms);
  if (total_a && total_b &&
      std::fabs(*total_b - *total_a) >= kMemoryChangeShare * std::max(*total_a, *total_b)) {
    diff.parts.push_back(gib_text(*total_a) + " → " + gib_text(*total_b));
    diff.detail[from_dimms ? "installed_bytes" : "total_bytes"] = {{"from", std::llround(*total_a)},
                                                                   {"to", std::llround(*total_b)}};
  } else if (!total_a || !total_b) {
    handled.erase("total_bytes");
  }
  const auto dimms_a = items_of(json_member(a, "dimms"), identify_dimm);
  const auto dimms_b = items_of(json_member(b, "dimms"), identify_dimm);
  if (dimms_a && dimms_b) {
    handled.insert("dimms");
    handled.insert("slots_used");
    const auto m = match(*dimms_a, *dimms_b);
    std::vector<json> added, removed;
    for (const Item* dimm : m.added) {
      added.push_back(dimm_json(*dimm));
      diff.parts.push_back(dimm_text(*dimm) + " added");
    }
    for (const Item* dimm : m.removed) {
      removed.push_back(dimm_json(*dimm));
      diff.parts.push_back(dimm_text(*dimm) + " removed");
    }
    if (!added.empty()) diff.detail["dimms_added"] = std::move(added);
    if (!removed.empty()) diff.detail["dimms_removed"] = std::move(removed);
    for (const auto& [was, is] : m.same) {
      diff_rest(*was->value, *is->value, {}, diff.rest,
                item_path("dimms", was->name.empty() ? was->key : was->name));
    }
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- system

std::string os_text(const json& os) {
  if (auto pretty = text_of(os, "pretty_name")) return clip_text(*pretty, kMaxShownName);
  std::string out = text_of(os, "name").value_or(text_of(os, "id").value_or("unknown system"));
  if (auto version = text_of(os, "version")) out += " " + *version;
  return clip_text(out, kMaxShownName);
}

json os_json(const json& os) {
  json out = json::object();
  for (const char* key : {"id", "name", "version_id", "version", "codename", "pretty_name"}) {
    if (auto value = text_of(os, key)) out[key] = clip_text(*value, kMaxDetailText);
  }
  return out;
}

void diff_system(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled;
  const json& os_a = json_member(a, "os");
  const json& os_b = json_member(b, "os");
  if (os_a.is_object() && os_b.is_object()) {
    handled.insert("os");
    bool changed = false;
    for (const char* key : {"id", "name", "version_id", "version", "codename", "pretty_name"}) {
      auto x = text_of(os_a, key);
      auto y = text_of(os_b, key);
      changed = changed || (x && y && *x != *y);
    }
    if (changed) {
      // Up when the same system's version (VERSION_ID, else VERSION) went up.
      int order = 0;
      for (const char* key : {"version_id", "version"}) {
        auto x = text_of(os_a, key);
        auto y = text_of(os_b, key);
        if (x && y && *x != *y) {
          order = compare_debian_versions(*y, *x);
          break;
        }
      }
      const bool same_system = text_of(os_a, "id") == text_of(os_b, "id");
      const bool upgraded = same_system && order > 0;
      diff.entries.push_back(entry("system", upgraded ? "os.upgraded" : "os.changed",
                                   std::string(upgraded ? "OS upgraded: " : "OS changed: ") +
                                       os_text(os_a) + " → " + os_text(os_b),
                                   {{"from", os_json(os_a)}, {"to", os_json(os_b)}}));
    }
  }
  auto kernel_a = text_of(a, "kernel");
  auto kernel_b = text_of(b, "kernel");
  if (kernel_a && kernel_b) {
    handled.insert("kernel");
    if (*kernel_a != *kernel_b) {
      diff.entries.push_back(entry("system", "os.kernel_changed",
                                   "Kernel " + clip_text(*kernel_a, kMaxShownName) + " → " +
                                       clip_text(*kernel_b, kMaxShownName),
                                   {{"from", clip_text(*kernel_a, kMaxDetailText)},
                                    {"to", clip_text(*kernel_b, kMaxDetailText)}}));
    }
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- firmware

std::string bios_text(const json& bios) {
  std::string out = text_of(bios, "version").value_or("unknown version");
  out = clip_text(out, kMaxShownValue);
  if (auto date = text_of(bios, "date")) out += " (" + clip_text(*date, 20) + ")";
  return out;
}

void diff_firmware(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled;
  const json& bios_a = json_member(a, "bios");
  const json& bios_b = json_member(b, "bios");
  if (bios_a.is_object() && bios_b.is_object()) {
    handled.insert("bios");
    FieldChanges bios;
    diff_values(bios_a, bios_b, "", bios, 1);
    if (bios.total > 0) {
      std::string summary = "BIOS updated: " + bios_text(bios_a) + " → " + bios_text(bios_b);
      auto vendor_a = text_of(bios_a, "vendor");
      auto vendor_b = text_of(bios_b, "vendor");
      if (vendor_a && vendor_b && *vendor_a != *vendor_b) {
        summary += " (vendor " + clip_text(*vendor_a, kMaxShownValue) + " → " +
                   clip_text(*vendor_b, kMaxShownValue) + ")";
      }
      json detail = fields_json(bios);
      detail["from"] = json::object();
      detail["to"] = json::object();
      for (const char* key : {"vendor", "version", "date"}) {
        if (auto v = text_of(bios_a, key)) detail["from"][key] = clip_text(*v, kMaxDetailText);
        if (auto v = text_of(bios_b, key)) detail["to"][key] = clip_text(*v, kMaxDetailText);
      }
      diff.entries.push_back(entry("firmware", "firmware.updated", summary, std::move(detail)));
    }
  }
  // The machine's own identity: a new mainboard, or another machine under the same device.
  FieldChanges hardware;
  for (const char* part : {"system", "board", "chassis"}) {
    const json& x = json_member(a, part);
    const json& y = json_member(b, part);
    if (!x.is_object() || !y.is_object()) continue;
    handled.insert(part);
    diff_values(x, y, part, hardware, 1);
  }
  if (hardware.total > 0) {
    std::vector<std::string> names;
    for (const auto& change : hardware.list) {
      if (names.size() == kMaxSummaryItems) break;
      names.push_back(describe(change));
    }
    diff.entries.push_back(entry("firmware", "hardware.changed",
                                 listed("Hardware changed: ", names, hardware.total),
                                 fields_json(hardware)));
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- network

std::optional<Item> identify_interface(const json& interface) {
  // Containers, bridges and VPNs make virtual interfaces by the minute.
  if (json_member(interface, "virtual") == true) return std::nullopt;
  auto name = text_of(interface, "name");
  if (!name || *name == "lo") return std::nullopt;
  auto mac = text_of(interface, "permanent_mac");
  if (!mac) mac = text_of(interface, "mac");
  return Item{*name + "/" + mac.value_or(""), *name, nullptr};
}

std::string interface_text(const Item& interface) {
  std::string out = clip_text(interface.name, kMaxShownName);
  auto mac = text_of(*interface.value, "permanent_mac");
  if (!mac) mac = text_of(*interface.value, "mac");
  if (mac) out += " (" + clip_text(*mac, kMaxShownValue) + ")";
  return out;
}

json interface_json(const Item& interface) {
  json out = json::object();
  for (const char* key : {"name", "type", "mac", "permanent_mac", "driver"}) {
    if (auto value = text_of(*interface.value, key)) out[key] = clip_text(*value, kMaxDetailText);
  }
  return out;
}

void diff_network(const json& a, const json& b, SectionDiff& diff) {
  std::set<std::string> handled;
  const auto list_a = items_of(json_member(a, "interfaces"), identify_interface);
  const auto list_b = items_of(json_member(b, "interfaces"), identify_interface);
  if (list_a && list_b) {
    handled.insert("interfaces");
    const auto m = match(*list_a, *list_b);
    const auto added_or_removed = [&](const std::vector<const Item*>& list, const char* kind,
                                      const char* what) {
      if (list.empty()) return;
      std::vector<json> items;
      std::vector<std::string> names;
      for (const Item* interface : list) {
        items.push_back(interface_json(*interface));
        if (names.size() < kMaxSummaryItems) names.push_back(interface_text(*interface));
      }
      json detail = json::object();
      put_list(detail, "interfaces", std::move(items));
      std::string summary =
          list.size() == 1 ? "Network interface " + std::string(what) + ": " + names.front()
                           : listed(plural(list.size(), "network interface", "network interfaces") +
                                        " " + what + ": ",
                                    names, list.size());
      diff.entries.push_back(entry("network", kind, summary, std::move(detail)));
    };
    added_or_removed(m.added, "network.interface_added", "added");
    added_or_removed(m.removed, "network.interface_removed", "removed");
    for (const auto& [was, is] : m.same) {
      diff_rest(*was->value, *is->value, {}, diff.rest, item_path("interfaces", was->name));
    }
  }
  diff_rest(a, b, handled, diff.rest);
}

// ---- The whole document

std::optional<std::string> unavailable(const json& section) {
  const json& reason = json_member(section, "unavailable");
  if (reason.is_null()) return std::nullopt;
  return scalar_text(reason, 120).value_or("no reason given");
}

void diff_section(const std::string& name, const json& a, const json& b,
                  std::vector<InventoryChangeEntry>& out) {
  const auto gone_a = unavailable(a);
  const auto gone_b = unavailable(b);
  if (gone_b) {
    if (!gone_a) {
      out.push_back(entry(name, name + ".changed",
                          title(name) + " could not be collected: " + *gone_b,
                          {{"unavailable", *gone_b}}));
    }
    return;
  }
  if (gone_a) {
    out.push_back(entry(name, name + ".changed",
                        title(name) +
                            " collected again; not compared, the previous inventory could not "
                            "collect it: " +
                            *gone_a,
                        {{"unavailable_before", *gone_a}}));
    return;
  }
  if (!a.is_object() || !b.is_object()) {
    if (a != b) {
      out.push_back(entry(name, name + ".changed", title(name) + " changed (malformed content)",
                          {{"malformed", true}}));
    }
    return;
  }
  const json ca = comparable(name, a);
  const json cb = comparable(name, b);
  if (ca == cb) return;
  SectionDiff diff{name};
  if (name == "software") {
    diff_software(ca, cb, diff);
  } else if (name == "storage") {
    diff_storage(ca, cb, diff);
  } else if (name == "memory") {
    diff_memory(ca, cb, diff);
  } else if (name == "system") {
    diff_system(ca, cb, diff);
  } else if (name == "firmware") {
    diff_firmware(ca, cb, diff);
  } else if (name == "network") {
    diff_network(ca, cb, diff);
  } else {
    diff_rest(ca, cb, {}, diff.rest);
  }
  diff.finish();
  for (auto& e : diff.entries) out.push_back(std::move(e));
}

std::vector<std::string> section_names(const json& document) {
  std::vector<std::string> names;
  if (!document.is_object()) return names;
  for (const auto& [key, value] : document.items()) {
    if (is_section(key)) names.push_back(key);
  }
  return names;
}

InventoryChangeEntry first_inventory(const json& after, const std::vector<std::string>& names) {
  std::string summary = "First inventory";
  if (auto host = text_of(json_member(after, "system"), "hostname")) {
    summary += " of " + clip_text(*host, kMaxShownName);
  }
  std::vector<std::string> parts;
  const json& os = json_member(json_member(after, "system"), "os");
  if (os.is_object()) parts.push_back(os_text(os));
  const json& cpu = json_member(after, "cpu");
  if (auto model = text_of(cpu, "model")) {
    std::string part = clip_text(*model, kMaxShownName);
    if (auto threads = number_of(cpu, "threads"); threads && *threads >= 1) {
      part += " (" + plural(static_cast<std::size_t>(*threads), "thread", "threads") + ")";
    }
    parts.push_back(part);
  }
  const json& memory = json_member(after, "memory");
  if (auto bytes =
          installed_bytes(memory, true).value_or(number_of(memory, "total_bytes").value_or(0));
      bytes > 0) {
    parts.push_back(gib_text(bytes) + " memory");
  }
  const auto count = [](const json& list) { return list.is_array() ? list.size() : 0; };
  if (std::size_t n = count(json_member(json_member(after, "storage"), "disks"))) {
    parts.push_back(plural(n, "disk", "disks"));
  }
  if (std::size_t n = count(json_member(json_member(after, "software"), "packages"))) {
    parts.push_back(plural(n, "package", "packages"));
  }
  for (std::size_t i = 0; i < parts.size(); ++i) summary += (i == 0 ? ": " : ", ") + parts[i];
  json sections = json::array();
  for (const auto& name : names) {
    if (sections.size() < kMaxDetailItems) sections.push_back(clip_text(name, kMaxDetailText));
  }
  return entry("inventory", "inventory.first", summary, {{"sections", std::move(sections)}});
}

}  // namespace

std::vector<InventoryChangeEntry> inventory_changes(const json& before, const json& after) {
  std::vector<InventoryChangeEntry> out;
  try {
    const auto names_a = section_names(before);
    const auto names_b = section_names(after);
    if (names_a.empty()) {
      if (!names_b.empty()) out.push_back(first_inventory(after, names_b));
      return out;
    }
    std::set<std::string> names(names_a.begin(), names_a.end());
    names.insert(names_b.begin(), names_b.end());
    for (const auto& name : names) {
      const json& a = json_member(before, name);
      const json& b = json_member(after, name);
      const bool in_a = before.contains(name);
      const bool in_b = after.is_object() && after.contains(name);
      if (!in_b) {
        out.push_back(entry(name, name + ".changed", title(name) + " no longer reported",
                            {{"removed", true}}));
      } else if (!in_a) {
        out.push_back(entry(name, name + ".changed", title(name) + " reported for the first time",
                            {{"added", true}}));
      } else {
        diff_section(name, a, b, out);
      }
    }
  } catch (const std::exception&) {
    // Only allocation failure gets here: say that the inventories could not be compared.
    out.clear();
    out.push_back(entry("inventory", "inventory.changed",
                        "Inventory changed; it could not be compared with the previous one"));
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return std::tie(x.section, x.kind) < std::tie(y.section, y.kind);
  });
  return out;
}

}  // namespace tether::relay::fleet
