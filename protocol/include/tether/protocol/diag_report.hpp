#pragma once
/// A diagnostics snapshot (docs/diagnostics-schema.md, schema 2) rendered for people: a
/// plain-text report for a terminal and one self-contained HTML file to attach to an e-mail.
/// Shared by the agent (`tether-agent diag`) and the console (`tether diag S-1`).
///
/// A snapshot may come from a broken or hostile machine, so every function here accepts any
/// JSON: a missing, null or mistyped field prints as "—" (with its reason from the "unknown"
/// map when there is one) or is left out; nothing throws. Strings from the snapshot never
/// reach a terminal with control characters in them, nor HTML unescaped.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::protocol {

/// The report a technician takes in at a glance: a header (host, OS, when and how long),
/// the findings (critical, then warning with their hints; info one line each; a count of
/// passed and skipped checks), then every section in schema order as aligned key/value lines
/// and small tables. Long lists are bounded ("… and 12 more"). Sections absent from the
/// snapshot (not asked for) are left out; unavailable ones show their reason.
std::string render_diagnostics_text(const nlohmann::json& snapshot);

/// The same report as one HTML document with inline CSS: no script, no external resource,
/// printable. Findings on top in severity colours, bars for filesystem, memory, swap and
/// battery figures. Every string from the snapshot is HTML-escaped.
std::string render_diagnostics_html(const nlohmann::json& snapshot);

/// A byte count in binary units with one decimal: "1023 B", "1.0 KiB", "7.6 GiB".
/// "?" for a negative or non-finite count.
std::string format_bytes(double bytes);

/// A duration as the largest units a person reads at a glance: "3 days 4 h 12 min",
/// "1 day 0 h 5 min", "4 h 0 min", "12 min" (under a minute: "0 min"). "?" when negative.
std::string format_uptime(double seconds);

/// `text` made safe to print on a terminal: valid UTF-8 (bad bytes become U+FFFD), C0 and
/// C1 control characters, DEL and bidirectional overrides replaced by a space.
std::string printable_text(std::string_view text);

}  // namespace tether::protocol
