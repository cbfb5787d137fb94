#include "helpdesk/session_diff_entry.hpp"

#include "helpdesk/snapshot_diff.hpp"

namespace tether::relay::helpdesk {

std::optional<TimelineEntry> session_diff_entry(Store& store, const SessionRecord& session,
                                                const std::string& actor, TimePoint at) {
  const auto snapshots = store.snapshots_for_session(session.id);
  if (snapshots.size() < 2) return std::nullopt;
  const auto& before = snapshots.front();
  const auto& after = snapshots.back();
  auto diff = diff_snapshots(before.data, after.data);
  TimelineEntry entry;
  entry.ticket_id = session.ticket_id;
  entry.session_id = session.id;
  entry.at = at;
  entry.actor = actor;
  entry.kind = "diagnostics.diff";
  entry.summary = "Before/after S-" + std::to_string(session.id) + ": " +
                  diff.value("summary", std::string("no changes found"));
  entry.detail = {{"before", before.id}, {"after", after.id}, {"diff", std::move(diff)}};
  return entry;
}

}  // namespace tether::relay::helpdesk
