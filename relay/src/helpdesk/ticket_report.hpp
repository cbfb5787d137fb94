#pragma once
// The ticket's story as one JSON document (`GET /api/v1/tickets/T-n/report`, rendered by
// `tether report` as Markdown or HTML). Pure: everything it needs is passed in, so the same
// inputs always give the same bytes (golden-file tests).

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/relay/store.hpp"

namespace tether::relay::helpdesk {

struct RecordingInfo {
  std::int64_t session_id = 0;
  std::string name;
  std::uint64_t bytes = 0;
  std::string url;  ///< "/api/v1/recordings/S-n/NAME"
};

struct ReportInput {
  Ticket ticket;
  nlohmann::json ticket_json;  ///< The API's ticket JSON (fields, priority, SLA clocks).
  std::vector<SessionRecord> sessions;
  std::vector<TimelineEntry> timeline;
  std::vector<Snapshot> snapshots;  ///< Of all sessions, oldest first.
  std::vector<RecordingInfo> recordings;
  std::vector<FaqArticle> faq;  ///< Linked articles.
  TimePoint generated_at;
};

/// {
///  "report_version": 1, "generated_at", "ticket": <ticket_json>,
///  "summary": "one paragraph: who asked for what, priority, level, assignee, how many
///              sessions by whom and for how long, escalations, resolution, SLA outcome",
///  "requester": {"name", "email"},
///  "sla": <ticket_json.sla> | null,
///  "sla_outcome": "met" | "breached" (a clock breached, or met late) | "running" | "paused"
///                 | "unknown" (no clocks in ticket_json),
///  "sessions": [<session_json without "consent"> + {"duration_seconds" | null (not ended),
///               "consent": {"granted", "scopes", "by", "at", "reason"?} | null,
///                 (the session's record, else its consent.granted/refused entry)
///               "actions": [{"at", "actor", "kind", "summary", "detail"}],  // the session's
///                            timeline entries except session.requested/joined/started/ended,
///                            consent.* and diagnostics.diff (shown as the receipt, times
///                            and "diagnostics")
///               "files": [{"at", "actor", "direction": "upload"|"download", "path",
///                          "bytes" | null, "sha256" | null}],
///               "recordings": [{"name", "bytes", "url", "available": true}, ...then the
///                              ones a shell.closed entry names that are no longer stored:
///                              {"name", "bytes": null, "url": null, "available": false}],
///               "diagnostics": {"before": {"snapshot", "at", "counts"} | null,
///                               "after": ... | null,
///                               "diff": <diagnostics.diff detail.diff> | null}}],
///                 (before/after: the snapshots the session's diagnostics.diff names, else its
///                  first and, with two or more, last snapshot)
///  "findings": [{"id", "severity", "summary"}],   // latest snapshot, critical then warning
///  "findings_at": time of that snapshot | null,
///  "escalations": [{"at", "by", "from", "to", "reason", "direction": "up"|"down"}],
///  "notes": [{"at", "actor", "text", "internal"}],
///  "resolution": {"note", "at", "by"} | null,   // latest ticket.status to resolved unless
///                                               // reopened after it
///  "faq": [{"id": "FAQ-n", "title"}],
///  "timeline": [<timeline_json of every entry>]
/// }
/// Times are protocol::format_time strings, durations whole seconds. Timeline details that
/// are missing or mistyped are left out or null, never thrown on.
nlohmann::json build_ticket_report(const ReportInput& input);

}  // namespace tether::relay::helpdesk
