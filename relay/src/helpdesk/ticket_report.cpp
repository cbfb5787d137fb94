// build_ticket_report: the ticket's story assembled from what the store holds. The timeline
// is the source of truth for what happened (consent, actions, escalations, notes, the
// resolution); the session records and snapshots fill in what the timeline only points at.
// Details on the timeline partly come from agents, so every field read from them may be
// missing or of another type: such parts are left out or null, never thrown on.

#include "helpdesk/ticket_report.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <tuple>

#include "api/rest_api.hpp"
#include "helpdesk/sla.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {

using json = nlohmann::json;

namespace {

std::string time_text(TimePoint t) {
  return protocol::format_time(t);
}

/// A string field of a JSON object, or "" when it is missing or not a string.
std::string str(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

/// An unsigned count from a JSON object, or nullopt when missing or not a non-negative number.
std::optional<std::uint64_t> count(const json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  const auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  }
  return std::nullopt;
}

/// A support level as shown everywhere: "L2" (the timeline may hold "L2" or 2).
json level_value(const json& detail, const char* key) {
  if (!detail.is_object()) return nullptr;
  const auto it = detail.find(key);
  if (it == detail.end()) return nullptr;
  if (it->is_string()) return *it;
  if (it->is_number_integer()) return "L" + std::to_string(it->get<std::int64_t>());
  return nullptr;
}

bool is_session_bookkeeping(const std::string& kind) {
  // Shown elsewhere in the session's part of the report (consent receipt, start and end,
  // before/after), so not repeated as actions.
  static const std::set<std::string> kKinds = {
      "session.requested", "session.joined",  "session.started", "session.ended",
      "consent.granted",   "consent.refused", "diagnostics.diff"};
  return kKinds.contains(kind);
}

/// The consent receipt {granted, scopes, by, at} (plus "reason" when refused), from the
/// session record or else from the session's consent entry; null when never answered.
json consent_receipt(const SessionRecord& session, const std::vector<TimelineEntry>& timeline) {
  json source = session.consent;
  if (!source.is_object()) {
    for (const auto& entry : timeline) {
      if (entry.session_id != session.id) continue;
      if (entry.kind == "consent.granted" || entry.kind == "consent.refused") {
        source = entry.detail;
        if (!source.is_object()) source = json::object();
        if (!source.contains("granted")) source["granted"] = entry.kind == "consent.granted";
        if (!source.contains("at")) source["at"] = time_text(entry.at);
      }
    }
  }
  if (!source.is_object()) return nullptr;
  json scopes = json::array();
  if (const auto it = source.find("scopes"); it != source.end() && it->is_array()) {
    for (const auto& scope : *it) {
      if (scope.is_string()) scopes.push_back(scope);
    }
  }
  json receipt = {
      {"granted",
       source.value("granted", json()).is_boolean() ? source["granted"].get<bool>() : false},
      {"scopes", scopes},
      {"by", str(source, "by").empty() ? json(nullptr) : json(str(source, "by"))},
      {"at", str(source, "at").empty() ? json(nullptr) : json(str(source, "at"))}};
  if (!str(source, "reason").empty()) receipt["reason"] = str(source, "reason");
  return receipt;
}

/// A transferred file from a file.uploaded / file.downloaded entry. The channel record keeps
/// the agent's result ({path, size, sha256}) and the technician's params ({path}); flat
/// {path, bytes, sha256} details are read too.
json file_row(const TimelineEntry& entry) {
  const json& detail = entry.detail;
  const json result =
      detail.is_object() && detail.contains("result") && detail["result"].is_object()
          ? detail["result"]
          : json::object();
  const json params =
      detail.is_object() && detail.contains("params") && detail["params"].is_object()
          ? detail["params"]
          : json::object();
  std::string path = str(result, "path");
  if (path.empty()) path = str(params, "path");
  if (path.empty()) path = str(detail, "path");
  auto bytes = count(result, "size");
  if (!bytes) bytes = count(detail, "bytes");
  std::string sha256 = str(result, "sha256");
  if (sha256.empty()) sha256 = str(detail, "sha256");
  return {{"at", time_text(entry.at)},
          {"actor", entry.actor},
          {"direction", entry.kind == "file.uploaded" ? "upload" : "download"},
          {"path", path},
          {"bytes", bytes ? json(*bytes) : json(nullptr)},
          {"sha256", sha256.empty() ? json(nullptr) : json(sha256)}};
}

/// The recording a shell.closed entry names, if any.
std::string recording_of(const TimelineEntry& entry) {
  if (entry.kind != "shell.closed" || !entry.detail.is_object()) return {};
  const auto it = entry.detail.find("result");
  if (it != entry.detail.end() && it->is_object()) return str(*it, "recording");
  return str(entry.detail, "recording");
}

/// Counts of a snapshot's findings per severity.
json severity_counts(const json& snapshot) {
  json counts = {{"critical", 0}, {"warning", 0}, {"info", 0}, {"ok", 0}};
  if (!snapshot.is_object()) return counts;
  const auto findings = snapshot.find("findings");
  if (findings == snapshot.end() || !findings->is_array()) return counts;
  for (const auto& finding : *findings) {
    const auto severity = str(finding, "severity");
    if (counts.contains(severity)) counts[severity] = counts[severity].get<int>() + 1;
  }
  return counts;
}

json snapshot_point(const Snapshot& snapshot) {
  return {{"snapshot", snapshot.id},
          {"at", time_text(snapshot.taken_at)},
          {"counts", severity_counts(snapshot.data)}};
}

const Snapshot* snapshot_by_id(const std::vector<Snapshot>& snapshots, const json& id) {
  if (!id.is_number_integer()) return nullptr;
  for (const auto& snapshot : snapshots) {
    if (snapshot.id == id.get<std::int64_t>()) return &snapshot;
  }
  return nullptr;
}

/// Before/after of one session: the snapshots a diagnostics.diff entry names, else the
/// session's first and (when there are two or more) last snapshot.
json session_diagnostics(const SessionRecord& session, const ReportInput& input) {
  const TimelineEntry* diff_entry = nullptr;
  for (const auto& entry : input.timeline) {
    if (entry.session_id == session.id && entry.kind == "diagnostics.diff") diff_entry = &entry;
  }
  std::vector<const Snapshot*> own;
  for (const auto& snapshot : input.snapshots) {
    if (snapshot.session_id == session.id) own.push_back(&snapshot);
  }
  const Snapshot* before = nullptr;
  const Snapshot* after = nullptr;
  json diff = nullptr;
  if (diff_entry != nullptr && diff_entry->detail.is_object()) {
    before = snapshot_by_id(input.snapshots, diff_entry->detail.value("before", json()));
    after = snapshot_by_id(input.snapshots, diff_entry->detail.value("after", json()));
    const auto it = diff_entry->detail.find("diff");
    if (it != diff_entry->detail.end() && it->is_object()) diff = *it;
  }
  if (before == nullptr && !own.empty()) before = own.front();
  if (after == nullptr && own.size() >= 2) after = own.back();
  return {{"before", before != nullptr ? snapshot_point(*before) : json(nullptr)},
          {"after", after != nullptr ? snapshot_point(*after) : json(nullptr)},
          {"diff", diff}};
}

json session_part(const SessionRecord& session, const ReportInput& input) {
  json out = session_json(session);
  out.erase("consent");
  if (session.ended_at) {
    out["duration_seconds"] = std::max<std::int64_t>(
        0, std::chrono::duration_cast<std::chrono::seconds>(*session.ended_at - session.started_at)
               .count());
  } else {
    out["duration_seconds"] = nullptr;
  }
  out["consent"] = consent_receipt(session, input.timeline);

  json actions = json::array();
  json files = json::array();
  std::vector<std::string> recorded;
  for (const auto& entry : input.timeline) {
    if (entry.session_id != session.id || is_session_bookkeeping(entry.kind)) continue;
    actions.push_back({{"at", time_text(entry.at)},
                       {"actor", entry.actor},
                       {"kind", entry.kind},
                       {"summary", entry.summary},
                       {"detail", entry.detail}});
    if (entry.kind == "file.uploaded" || entry.kind == "file.downloaded") {
      files.push_back(file_row(entry));
    }
    if (auto name = recording_of(entry); !name.empty()) recorded.push_back(std::move(name));
  }
  out["actions"] = std::move(actions);
  out["files"] = std::move(files);

  // The recordings the relay still has, then the ones the timeline names but that are gone
  // (deleted by retention, or never written): a reader should know they existed.
  std::vector<const RecordingInfo*> stored;
  for (const auto& recording : input.recordings) {
    if (recording.session_id == session.id) stored.push_back(&recording);
  }
  std::sort(stored.begin(), stored.end(),
            [](const auto* a, const auto* b) { return a->name < b->name; });
  json recordings = json::array();
  for (const auto* recording : stored) {
    recordings.push_back({{"name", recording->name},
                          {"bytes", recording->bytes},
                          {"url", recording->url},
                          {"available", true}});
  }
  for (const auto& name : recorded) {
    const bool listed =
        std::any_of(stored.begin(), stored.end(), [&](const auto* r) { return r->name == name; });
    const bool seen = std::any_of(recordings.begin(), recordings.end(),
                                  [&](const json& r) { return r["name"] == name; });
    if (!listed && !seen) {
      recordings.push_back(
          {{"name", name}, {"bytes", nullptr}, {"url", nullptr}, {"available", false}});
    }
  }
  out["recordings"] = std::move(recordings);
  out["diagnostics"] = session_diagnostics(session, input);
  return out;
}

/// The newest snapshot of the ticket (by time, then id: the input lists them per session).
const Snapshot* newest_snapshot(const std::vector<Snapshot>& snapshots) {
  const Snapshot* newest = nullptr;
  for (const auto& snapshot : snapshots) {
    if (newest == nullptr ||
        std::tie(snapshot.taken_at, snapshot.id) >= std::tie(newest->taken_at, newest->id)) {
      newest = &snapshot;
    }
  }
  return newest;
}

/// Critical and warning findings of a snapshot, critical first, in snapshot order.
json problem_findings(const Snapshot* snapshot) {
  json out = json::array();
  if (snapshot == nullptr) return out;
  const auto& data = snapshot->data;
  if (!data.is_object() || !data.contains("findings") || !data["findings"].is_array()) return out;
  for (const char* wanted : {"critical", "warning"}) {
    for (const auto& finding : data["findings"]) {
      if (str(finding, "severity") != wanted) continue;
      out.push_back(
          {{"id", str(finding, "id")}, {"severity", wanted}, {"summary", str(finding, "summary")}});
    }
  }
  return out;
}

/// The latest resolving status change, unless the ticket was reopened after it.
json resolution_of(const ReportInput& input) {
  const TimelineEntry* resolved = nullptr;
  for (const auto& entry : input.timeline) {
    if (entry.kind == "ticket.status" && str(entry.detail, "to") == "resolved") {
      resolved = &entry;
    } else if (entry.kind == "ticket.reopened") {
      resolved = nullptr;
    }
  }
  if (resolved != nullptr) {
    std::string note = str(resolved->detail, "note");
    if (note.empty()) note = input.ticket.resolution;
    return {{"note", note}, {"at", time_text(resolved->at)}, {"by", resolved->actor}};
  }
  // A ticket resolved before its timeline recorded status changes still has its note.
  const auto& t = input.ticket;
  if ((t.status == "resolved" || t.status == "closed") && !t.resolution.empty()) {
    return {{"note", t.resolution},
            {"at", t.resolved_at ? json(time_text(*t.resolved_at)) : json(nullptr)},
            {"by", nullptr}};
  }
  return nullptr;
}

/// "met", "breached", "running", "paused" or "unknown": the worst of the two clocks, with a
/// met-late clock counting as breached.
std::string sla_outcome(const json& sla) {
  if (!sla.is_object()) return "unknown";
  bool breached = false;
  bool running = false;
  bool paused = false;
  int known = 0;
  for (const char* clock : {"first_response", "resolution"}) {
    const auto it = sla.find(clock);
    if (it == sla.end() || !it->is_object()) continue;
    ++known;
    const auto state = str(*it, "state");
    if (state == "breached" || it->value("breached", json()) == json(true)) breached = true;
    if (state == "running") running = true;
    if (state == "paused") paused = true;
  }
  if (known == 0) return "unknown";
  if (breached) return "breached";
  if (running) return "running";
  if (paused) return "paused";
  return "met";
}

std::string clock_phrase(const json& sla, const char* clock, const char* name) {
  const json c = sla.is_object() && sla.contains(clock) ? sla[clock] : json();
  if (!c.is_object()) return {};
  const auto state = str(c, "state");
  const auto seconds = [&](const char* key) {
    return short_duration(
        std::chrono::seconds(static_cast<std::int64_t>(count(c, key).value_or(0))));
  };
  std::string out = std::string(name) + " ";
  if (state == "met") {
    out += c.value("breached", json()) == json(true)
               ? "met late (" + seconds("overdue_seconds") + " over target)"
               : "met in " + seconds("elapsed_seconds");
  } else if (state == "breached") {
    out += "breached by " + seconds("overdue_seconds");
  } else if (state == "running") {
    out += "running, " + seconds("remaining_seconds") + " left";
  } else if (state == "paused") {
    out += "paused, " + seconds("remaining_seconds") + " left";
  } else {
    return {};
  }
  return out;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string summary_of(const ReportInput& input, const json& sessions, const json& escalations,
                       const json& resolution) {
  const auto& t = input.ticket;
  std::string out = (t.requester.empty() ? std::string("Someone") : t.requester) +
                    " asked for help with \xe2\x80\x9c" + t.title + "\xe2\x80\x9d";
  if (!t.category.empty()) out += " (" + t.category + ")";
  if (!t.device.empty()) out += " on " + t.device;
  out += ". Priority " + t.priority + " (impact " + t.impact + ", urgency " + t.urgency +
         "), level L" + std::to_string(t.level);
  out += t.assignee.empty() ? ", unassigned." : ", assigned to " + t.assignee + ".";

  if (sessions.empty()) {
    out += " No remote session.";
  } else {
    std::vector<std::string> technicians;
    std::int64_t total = 0;
    for (const auto& s : sessions) {
      const auto name = s["technician"].get<std::string>();
      if (std::find(technicians.begin(), technicians.end(), name) == technicians.end()) {
        technicians.push_back(name);
      }
      if (s["duration_seconds"].is_number_integer())
        total += s["duration_seconds"].get<std::int64_t>();
    }
    std::string who;
    for (std::size_t i = 0; i < technicians.size(); ++i) {
      who += (i == 0 ? "" : i + 1 == technicians.size() ? " and " : ", ") + technicians[i];
    }
    out += " " + plural(sessions.size(), "remote session", "remote sessions") + " by " + who +
           " (" + short_duration(std::chrono::seconds(total)) + " in total).";
  }
  if (!escalations.empty()) {
    std::size_t up = 0;
    std::string path;
    for (const auto& e : escalations) {
      if (e["direction"] == "up") ++up;
      if (path.empty()) path = e["from"].is_string() ? e["from"].get<std::string>() : "?";
      path +=
          std::string(" \xe2\x86\x92 ") + (e["to"].is_string() ? e["to"].get<std::string>() : "?");
    }
    out += " Escalated " + plural(up, "time", "times");
    if (escalations.size() > up)
      out += ", de-escalated " + plural(escalations.size() - up, "time", "times");
    out += " (" + path + ").";
  }
  if (resolution.is_object()) {
    out += " Resolved";
    if (resolution["by"].is_string()) out += " by " + resolution["by"].get<std::string>();
    if (resolution["at"].is_string()) out += " at " + resolution["at"].get<std::string>();
    out += ": " + resolution["note"].get<std::string>();
    if (!out.ends_with(".")) out += ".";
    if (t.status == "closed") out += " Closed.";
  } else {
    out += " Status: " + t.status + ".";
  }
  const json sla = input.ticket_json.is_object() ? input.ticket_json.value("sla", json()) : json();
  const auto first = clock_phrase(sla, "first_response", "first response");
  const auto resolved = clock_phrase(sla, "resolution", "resolution");
  if (!first.empty() || !resolved.empty()) {
    out += " SLA: " + first + (first.empty() || resolved.empty() ? "" : ", ") + resolved + ".";
  }
  return out;
}

}  // namespace

json build_ticket_report(const ReportInput& input) {
  const auto& t = input.ticket;
  json report = json::object();
  report["report_version"] = 1;
  report["generated_at"] = time_text(input.generated_at);
  report["ticket"] = input.ticket_json;
  report["requester"] = {{"name", t.requester}, {"email", t.requester_email}};
  const json sla = input.ticket_json.is_object() ? input.ticket_json.value("sla", json()) : json();
  report["sla"] = sla;
  report["sla_outcome"] = sla_outcome(sla);

  json sessions = json::array();
  for (const auto& session : input.sessions) sessions.push_back(session_part(session, input));

  json escalations = json::array();
  json notes = json::array();
  json timeline = json::array();
  for (const auto& entry : input.timeline) {
    if (entry.kind == "ticket.escalated" || entry.kind == "ticket.deescalated") {
      escalations.push_back({{"at", time_text(entry.at)},
                             {"by", entry.actor},
                             {"from", level_value(entry.detail, "from")},
                             {"to", level_value(entry.detail, "to")},
                             {"reason", str(entry.detail, "reason")},
                             {"direction", entry.kind == "ticket.escalated" ? "up" : "down"}});
    } else if (entry.kind == "ticket.note") {
      notes.push_back({{"at", time_text(entry.at)},
                       {"actor", entry.actor},
                       {"text", str(entry.detail, "text")},
                       {"internal", entry.detail.is_object() &&
                                        entry.detail.value("internal", json()) == json(true)}});
    }
    timeline.push_back(timeline_json(entry));
  }

  const Snapshot* newest = newest_snapshot(input.snapshots);
  json findings = problem_findings(newest);
  json resolution = resolution_of(input);
  json faq = json::array();
  for (const auto& article : input.faq) {
    faq.push_back({{"id", "FAQ-" + std::to_string(article.id)}, {"title", article.title}});
  }

  report["summary"] = summary_of(input, sessions, escalations, resolution);
  report["sessions"] = std::move(sessions);
  report["findings"] = std::move(findings);
  report["findings_at"] = newest != nullptr ? json(time_text(newest->taken_at)) : json(nullptr);
  report["escalations"] = std::move(escalations);
  report["notes"] = std::move(notes);
  report["resolution"] = std::move(resolution);
  report["faq"] = std::move(faq);
  report["timeline"] = std::move(timeline);
  return report;
}

}  // namespace tether::relay::helpdesk
