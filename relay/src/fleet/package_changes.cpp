#include "fleet/package_changes.hpp"

#include <map>
#include <string_view>

#include "fleet/debian_version.hpp"
#include "helpdesk/json_text.hpp"

namespace tether::relay::fleet {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxTag = 32;

std::string text_at(const json& item, std::string_view key) {
  const json* value = helpdesk::member(item, key);
  return value != nullptr && value->is_string() ? value->get<std::string>() : std::string();
}

std::optional<std::map<std::string, Package>> packages_by_key(const json& list,
                                                              std::size_t max_items) {
  if (!list.is_array()) return std::nullopt;
  std::map<std::string, Package> out;
  std::size_t seen = 0;
  for (const auto& item : list) {
    if (++seen > max_items) break;
    Package p{text_at(item, "name"), text_at(item, "version"), text_at(item, "architecture"),
              text_at(item, "source")};
    if (p.name.empty()) continue;
    // Keyed by name first, so every list comes out alphabetical.
    out.emplace(p.name + '\t' + p.architecture + '\t' + p.source, std::move(p));
  }
  return out;
}

void put_tags(json& out, const Package& p) {
  if (!p.architecture.empty()) out["architecture"] = helpdesk::clip_text(p.architecture, kMaxTag);
  if (!p.source.empty()) out["source"] = helpdesk::clip_text(p.source, kMaxTag);
}

}  // namespace

std::optional<PackageChanges> diff_package_lists(const json& before, const json& after,
                                                 std::size_t max_items) {
  const auto a = packages_by_key(before, max_items);
  const auto b = packages_by_key(after, max_items);
  if (!a || !b) return std::nullopt;
  PackageChanges changes;
  for (const auto& [key, old] : *a) {
    auto now = b->find(key);
    if (now == b->end()) {
      changes.removed.push_back(old);
    } else if (now->second.version != old.version) {
      (compare_debian_versions(now->second.version, old.version) >= 0 ? changes.upgraded
                                                                      : changes.downgraded)
          .emplace_back(old, now->second);
    }
  }
  for (const auto& [key, now] : *b) {
    if (a->count(key) == 0) changes.installed.push_back(now);
  }
  return changes;
}

json package_json(const Package& p) {
  json out = {{"name", helpdesk::clip_text(p.name, kMaxName)},
              {"version", helpdesk::clip_text(p.version, kMaxName)}};
  put_tags(out, p);
  return out;
}

json package_change_json(const Package& from, const Package& to) {
  json out = {{"name", helpdesk::clip_text(to.name, kMaxName)},
              {"from", helpdesk::clip_text(from.version, kMaxName)},
              {"to", helpdesk::clip_text(to.version, kMaxName)}};
  put_tags(out, to);
  return out;
}

}  // namespace tether::relay::fleet
