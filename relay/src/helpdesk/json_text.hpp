#pragma once
// Reading text out of JSON that agents sent (snapshots) or the relay stored (timeline details)
// for the help-desk summaries: a tolerant member lookup and the one-line clip both the
// before/after diff and the escalation handover apply to every string they pass on.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::relay::helpdesk {

/// The member `key` of `object`, or nullptr when `object` is not an object or has no such key.
const nlohmann::json* member(const nlohmann::json& object, std::string_view key);

/// One line of at most `max` characters (code points; "…" marks a cut), valid UTF-8 (each
/// malformed byte becomes "?"), control characters (newlines, terminal escapes) as spaces:
/// nlohmann::json refuses to dump invalid UTF-8, and a timeline line must not carry terminal
/// escapes.
std::string clip_text(std::string_view text, std::size_t max);

}  // namespace tether::relay::helpdesk
