#pragma once
// The escalation summary: what the receiving technician needs to pick a ticket up without
// asking the previous one. Built from the ticket's timeline and its latest snapshot.

#include <vector>

#include <nlohmann/json.hpp>

#include "tether/relay/store.hpp"

namespace tether::relay::helpdesk {

/// {
///   "ticket": "T-1", "title", "priority", "status", "from_level": "L1", "to_level": "L2",
///   "reason", "requester", "requester_email", "category",
///   "device",                                    // the ticket's, else the snapshot's host, OS
///   "assignee": name | null,
///   "findings": [{id, severity, summary}]        // critical/warning of the latest snapshot
///   "snapshot_at": time | null,
///   "actions": [{at, actor, kind, summary, session}]  // what was tried: tool actions, service
///                                                // restarts, commands, files, diffs, session
///                                                // ends (the last 50, newest last)
///   "actions_total": n,
///   "notes": [{at, actor, text, internal}]       // ticket.note entries (the last 50)
///   "notes_total": n,
///   "escalations": [{at, by, from, to, reason}]  // earlier ticket.(de)escalated entries
///   "sessions": [{id, technician, device, status, started_at, ended_at, end_note}],
///   "text": "multi-line plain text of all of the above, for the terminal and webhooks"
///           (a screenful: the last 15 actions, 10 notes flattened to one line each, and
///            10 sessions; internal notes are marked "[internal]", not left out)
/// }
/// `latest_snapshot` may be null (no diagnostics yet).
nlohmann::json build_handover(const Ticket& ticket, const std::vector<SessionRecord>& sessions,
                              const std::vector<TimelineEntry>& timeline,
                              const nlohmann::json& latest_snapshot, int from_level, int to_level,
                              const std::string& reason);

}  // namespace tether::relay::helpdesk
