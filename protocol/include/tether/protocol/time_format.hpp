#pragma once
/// Times on the wire and in JSON output: ISO 8601 UTC with a "Z", to the second
/// ("2026-11-25T10:00:00Z"), independent of locale and time zone.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

std::string format_time(std::chrono::system_clock::time_point t);
/// Parses exactly the format format_time writes; bad_message otherwise.
Result<std::chrono::system_clock::time_point> parse_time(std::string_view text);

/// A duration as people type it on a command line: digits, then s, m, h or d ("90s", "30m",
/// "6h", "7d"); a bare number counts in `bare_unit`. At most 12 characters: no sign, fraction,
/// space or other unit. nullopt otherwise.
std::optional<std::chrono::seconds> parse_duration(std::string_view text,
                                                   std::chrono::seconds bare_unit);

}  // namespace tether::protocol
