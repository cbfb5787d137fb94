#pragma once
/// The inventory document (`tether-agent inventory --format json`): what a CMDB keeps about
/// a machine, with one hash per section so a later inventory can send only what changed.

#include <string>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// From a snapshot collected with CollectOptions{.sections = inventory_sections(),
/// .findings = false}: the top-level facts (schema, collected_at, duration_ms, agent,
/// errors) and the inventory sections only (no findings, processes or logs), each without
/// its live figures (load, uptime, free space, counters, charge, temperatures, sessions —
/// the list is in docs/diagnostics.md), plus "section_hashes": {section: section_hash(…)}.
/// Two inventories of an unchanged machine therefore hash alike. Never throws.
nlohmann::json make_inventory(const nlohmann::json& snapshot);

/// make_inventory's document and, from the same pass, what it left out:
/// `live` = {"overlay": {section: the dropped fields in the section's own shape — objects by
/// key, lists as arrays aligned by index with the section's list, {} for an item that had
/// none}, "findings": the snapshot's findings ([] when it has none)}. Deep-merging the overlay
/// back into the inventory's sections gives the snapshot's sections again (SPEC.md, inventory
/// report). A section with nothing dropped has no overlay entry. Never throws.
struct InventorySplit {
  nlohmann::json inventory;
  nlohmann::json live;
};
InventorySplit split_inventory(const nlohmann::json& snapshot);

/// "sha256:<64 hex digits>" over the canonical dump of `section`: keys sorted, no white
/// space, invalid UTF-8 replaced by U+FFFD.
std::string section_hash(const nlohmann::json& section);

}  // namespace tether::agent::diag
