#include "fleet/inventory_intake.hpp"

#include <algorithm>

#include "fleet/inventory_history.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;

bool valid_section_name(const std::string& name) {
  return !name.empty() && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Cuts `text` to at most kMaxInventoryTextBytes at a character boundary.
std::string cut_text(const std::string& text) {
  std::size_t end = 0;
  while (end < text.size()) {
    const auto length = std::max<std::size_t>(1, protocol::utf8_sequence_length(text, end));
    if (end + length > kMaxInventoryTextBytes - 3) break;
    end += length;
  }
  return text.substr(0, end) + "\u2026";
}

constexpr std::size_t kMaxNotes = 20;

void note(std::vector<std::string>& notes, std::string line) {
  if (notes.size() < kMaxNotes) notes.push_back(std::move(line));
}

// Bounds every list and text inside `value`, noting what was cut under `path`.
void bound(json& value, const std::string& path, std::vector<std::string>& notes) {
  if (value.is_string()) {
    if (value.get_ref<const std::string&>().size() > kMaxInventoryTextBytes) {
      note(notes, path + ": text of " + std::to_string(value.get_ref<const std::string&>().size()) +
                      " bytes cut to " + std::to_string(kMaxInventoryTextBytes));
      value = cut_text(value.get_ref<const std::string&>());
    }
  } else if (value.is_array()) {
    if (value.size() > kMaxInventoryListItems) {
      note(notes, path + ": " + std::to_string(value.size()) + " items, kept the first " +
                      std::to_string(kMaxInventoryListItems));
      value.erase(value.begin() + static_cast<std::ptrdiff_t>(kMaxInventoryListItems), value.end());
    }
    for (auto& item : value) bound(item, path + "[]", notes);
  } else if (value.is_object()) {
    for (auto& [key, item] : value.items()) bound(item, path + "." + key, notes);
  }
}

InventoryIntake refused(std::string why, bool request_full = false) {
  InventoryIntake intake;
  intake.refusal = std::move(why);
  intake.request_full = request_full;
  return intake;
}

}  // namespace

InventoryIntake prepare_inventory(const protocol::InventoryReport& report,
                                  const std::optional<DeviceInventory>& current,
                                  std::int64_t device_id, TimePoint now) {
  try {
    auto collected_at = protocol::parse_time(report.collected_at);
    if (!collected_at) return refused("collected_at is not an ISO 8601 UTC time");

    for (const auto& [name, hash] : report.hashes) {
      if (!valid_section_name(name)) {
        return refused("section names are 1 to 32 characters a-z, 0-9 and _");
      }
    }
    InventoryIntake intake;
    auto& update = intake.update;
    update.device_id = device_id;
    update.collected_at = *collected_at;
    update.reported_at = now;
    update.full = report.full;
    for (const auto& [name, content] : report.sections.items()) {
      if (!content.is_object() && !content.is_array()) {
        return refused("section \"" + name + "\" must be an object or a list");
      }
      const auto& claimed = report.hashes.at(name);  // The parser checked it is named.
      if (protocol::inventory_section_hash(content) != claimed) {
        return refused("section \"" + name + "\" does not match its hash");
      }
      InventorySection section{claimed, content, now};
      bound(section.content, name, intake.notes);
      update.changed.emplace(name, std::move(section));
    }
    for (const auto& [name, hash] : report.hashes) {
      if (update.changed.contains(name)) continue;
      if (report.full) return refused("a full report must carry every section it names");
      const InventorySection* held = nullptr;
      if (current) {
        if (auto it = current->sections.find(name); it != current->sections.end()) {
          held = &it->second;
        }
      }
      if (held == nullptr || held->hash != hash) {
        return refused("the relay does not hold section \"" + name +
                           "\" as the report assumes; send a full inventory",
                       true);
      }
    }
    json before = json::object();
    json after = json::object();
    if (current) {
      for (const auto& [name, section] : current->sections) {
        before[name] = section.content;
        if (!report.hashes.contains(name))
          update.removed.push_back(name);
        else if (!update.changed.contains(name))
          after[name] = section.content;
      }
    }
    for (const auto& [name, section] : update.changed) after[name] = section.content;

    update.live = report.live;
    bound(update.live, "live", intake.notes);
    if (!intake.notes.empty()) update.live["relay_notes"] = intake.notes;

    for (auto& entry : inventory_changes(current ? before : json(), after)) {
      InventoryChange change;
      change.device_id = device_id;
      change.at = now;
      change.section = std::move(entry.section);
      change.kind = std::move(entry.kind);
      change.summary = std::move(entry.summary);
      change.detail = std::move(entry.detail);
      update.changes.push_back(std::move(change));
    }
    return intake;
  } catch (const std::exception& e) {
    // Only allocation failure or a library surprise gets here; nothing is stored.
    return refused(std::string("the report could not be processed: ") + e.what());
  }
}

protocol::InventoryRequest inventory_request_for(const std::optional<DeviceInventory>& current,
                                                 std::string id) {
  protocol::InventoryRequest request;
  request.id = std::move(id);
  request.full =
      !current || current->sections.empty() || current->deltas_since_full >= kFullInventoryEvery;
  if (!request.full) {
    for (const auto& [name, section] : current->sections) request.known[name] = section.hash;
  }
  return request;
}

}  // namespace tether::relay::fleet
