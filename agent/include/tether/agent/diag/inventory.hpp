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

/// "sha256:<64 hex digits>" over the canonical dump of `section`: keys sorted, no white
/// space, invalid UTF-8 replaced by U+FFFD.
std::string section_hash(const nlohmann::json& section);

}  // namespace tether::agent::diag
