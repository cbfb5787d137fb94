#pragma once
/// The agent's diagnostics snapshot (docs/diagnostics.md) as a plain-text report for the
/// help-desk technician. The snapshot comes from the network, so rendering tolerates any
/// JSON (missing, null or mistyped fields print as "?" or are left out) and never throws.

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace tether::console {

/// The whole report: a header (host, OS, kernel, architecture, uptime, load), CPU and
/// memory lines, a storage table (mount, type, size, free, use%), a network table
/// (interface, type, state, MAC, addresses), then one "Not collected: <section> (<reason>)"
/// line per unavailable section or snapshot error. Sections absent from the snapshot (not
/// asked for) are left out silently.
std::string render_diagnostics_text(const nlohmann::json& snapshot);

/// A byte count in binary units with one decimal: "1023 B", "1.0 KiB", "7.6 GiB".
/// "?" for a negative or non-finite count.
std::string format_bytes(double bytes);

/// A duration as the largest units a person reads at a glance: "3 days 4 h 12 min",
/// "1 day 0 h 5 min", "4 h 0 min", "12 min" (under a minute: "0 min"). "?" when negative.
std::string format_uptime(double seconds);

}  // namespace tether::console
