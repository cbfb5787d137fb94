#pragma once
// The "services" section (docs/diagnostics.md): systemd's service units and every failed
// unit, from two `systemctl list-units` runs (systemd exposes no file that lists them).

#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// `systemctl list-units --plain --no-legend` output → [{name, load, active, sub,
/// description}], sorted by name. Columns are UNIT LOAD ACTIVE SUB DESCRIPTION (the
/// description keeps its spaces); a leading "●" (or "*") marker on failed or not-found units
/// is dropped; lines with fewer than four columns are skipped. At most 10,000 units.
nlohmann::json parse_systemctl_units(std::string_view text);

/// Collects the "services" section. On a machine where systemd is not PID 1 (no
/// <root>/run/systemd/system) no program is run and "manager" is null with "not present".
nlohmann::json collect_services(const CollectContext& context);

}  // namespace tether::agent::diag
