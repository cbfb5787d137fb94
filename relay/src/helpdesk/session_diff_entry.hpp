#pragma once
// The "diagnostics.diff" timeline entry of a session: its first snapshot (taken when the
// user's consent arrived) against its latest one (taken when the session ended, or the last
// one a technician took before the user ended it).

#include <optional>
#include <string>

#include "tether/relay/store.hpp"

namespace tether::relay::helpdesk {

/// Nullopt when the session has fewer than two snapshots.
std::optional<TimelineEntry> session_diff_entry(Store& store, const SessionRecord& session,
                                                const std::string& actor, TimePoint at);

}  // namespace tether::relay::helpdesk
