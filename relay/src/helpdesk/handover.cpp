#include "helpdesk/handover.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include "helpdesk/json_text.hpp"
#include "helpdesk/snapshot_diff.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxListed = 50;
// What the plain text shows of each list: a screenful, the rest is on `tether ticket show`.
constexpr std::size_t kTextFindings = 10;
constexpr std::size_t kTextActions = 15;
constexpr std::size_t kTextNotes = 10;
constexpr std::size_t kTextSessions = 10;
constexpr std::size_t kMaxNote = 2000;  // the full notes stay on the ticket
constexpr std::size_t kTextNote = 300;
constexpr std::size_t kMaxLine = 300;

// Like clip_text but keeps line breaks (notes are written in paragraphs); for JSON only.
std::string clip_multiline(std::string_view text, std::size_t max) {
  std::string out;
  std::size_t start = 0;
  std::size_t budget = max;
  while (start <= text.size()) {
    const auto end = std::min(text.find('\n', start), text.size());
    auto line = clip_text(text.substr(start, end - start), budget);
    budget -= std::min(budget, end - start);
    out += line;
    if (end == text.size() || budget == 0) {
      if (end < text.size() && !out.ends_with("…")) out += "…";
      break;
    }
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::string level_name(int level) {
  return "L" + std::to_string(level);
}

std::string ticket_number(std::int64_t id) {
  return "T-" + std::to_string(id);
}

std::string session_number(std::int64_t id) {
  return "S-" + std::to_string(id);
}

// "2025-11-25 10:05Z": to the minute, still UTC and unambiguous.
std::string short_time(TimePoint t) {
  auto text = protocol::format_time(t);  // 2025-11-25T10:05:00Z
  if (text.size() >= 16) text = text.substr(0, 10) + " " + text.substr(11, 5) + "Z";
  return text;
}

std::string duration_text(std::chrono::system_clock::duration d) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes < 120) return std::to_string(std::max<long long>(minutes, 0)) + " min";
  return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
}

std::string text_of(const json& object, std::string_view key, std::size_t max) {
  const json* value = member(object, key);
  return value != nullptr && value->is_string()
             ? clip_text(value->get_ref<const std::string&>(), max)
             : std::string();
}

// Escalation entries store levels as "L2" (or, from older code, as 2).
std::string level_of(const json& detail, std::string_view key) {
  const json* value = member(detail, key);
  if (value == nullptr) return {};
  if (value->is_string()) return clip_text(value->get_ref<const std::string&>(), 8);
  if (value->is_number_integer()) return level_name(value->get<int>());
  return {};
}

// What the receiving technician wants to know was tried on the PC.
bool is_action(std::string_view kind) {
  static constexpr std::string_view kKinds[] = {
      "command.run",      "file.uploaded", "file.downloaded", "process.killed", "shell.closed",
      "diagnostics.diff", "action.failed", "action.refused",  "logs.read",      "session.ended"};
  return kind.starts_with("service.") ||
         std::find(std::begin(kKinds), std::end(kKinds), kind) != std::end(kKinds);
}

template <typename T>
std::vector<T> last_n(const std::vector<T>& items, std::size_t n) {
  return items.size() <= n ? items : std::vector<T>(items.end() - n, items.end());
}

// "anna-laptop, Debian GNU/Linux 12 (bookworm)" from a snapshot, or empty.
std::string computer_of(const json& snapshot) {
  const json* system = member(snapshot, "system");
  if (system == nullptr) return {};
  auto host = text_of(*system, "hostname", 100);
  const json* os = member(*system, "os");
  auto pretty = os != nullptr ? text_of(*os, "pretty_name", 100) : std::string();
  if (host.empty()) return pretty;
  return pretty.empty() ? host : host + ", " + pretty;
}

}  // namespace

json build_handover(const Ticket& ticket, const std::vector<SessionRecord>& sessions,
                    const std::vector<TimelineEntry>& timeline, const json& latest_snapshot,
                    int from_level, int to_level, const std::string& reason) {
  const std::string number = ticket_number(ticket.id);

  // Findings: the problems of the latest snapshot, critical first.
  json findings = json::array();
  if (!latest_snapshot.is_null()) {
    const auto digest = findings_digest(latest_snapshot);
    for (const auto& severity : {"critical", "warning"}) {
      for (const auto& problem : digest["problems"]) {
        if (problem["severity"] == severity) findings.push_back(problem);
      }
    }
  }
  json snapshot_at = nullptr;
  if (const json* at = member(latest_snapshot, "collected_at"); at != nullptr && at->is_string()) {
    snapshot_at = clip_text(at->get_ref<const std::string&>(), 40);
  }
  const std::string computer = computer_of(latest_snapshot);

  // The timeline in time order (insertion order among equal times).
  std::vector<const TimelineEntry*> ordered;
  ordered.reserve(timeline.size());
  for (const auto& entry : timeline) ordered.push_back(&entry);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const TimelineEntry* a, const TimelineEntry* b) { return a->at < b->at; });

  std::vector<json> actions, notes, escalations;
  std::optional<TimePoint> last_snapshot_entry;
  for (const TimelineEntry* entry : ordered) {
    if (is_action(entry->kind)) {
      actions.push_back({{"at", protocol::format_time(entry->at)},
                         {"actor", clip_text(entry->actor, 100)},
                         {"kind", clip_text(entry->kind, 64)},
                         {"summary", clip_text(entry->summary, kMaxLine)},
                         {"session", entry->session_id ? json(session_number(*entry->session_id))
                                                       : json(nullptr)}});
    } else if (entry->kind == "ticket.note") {
      const json* text = member(entry->detail, "text");
      const json* internal = member(entry->detail, "internal");
      notes.push_back(
          {{"at", protocol::format_time(entry->at)},
           {"actor", clip_text(entry->actor, 100)},
           {"text", text != nullptr && text->is_string()
                        ? clip_multiline(text->get_ref<const std::string&>(), kMaxNote)
                        : clip_text(entry->summary, kMaxLine)},
           {"internal", internal != nullptr && internal->is_boolean() && internal->get<bool>()}});
    } else if (entry->kind == "ticket.escalated" || entry->kind == "ticket.deescalated") {
      escalations.push_back({{"at", protocol::format_time(entry->at)},
                             {"by", clip_text(entry->actor, 100)},
                             {"from", level_of(entry->detail, "from")},
                             {"to", level_of(entry->detail, "to")},
                             {"reason", text_of(entry->detail, "reason", kMaxLine)}});
    } else if (entry->kind == "diagnostics.snapshot") {
      last_snapshot_entry = entry->at;
    }
  }
  // A snapshot without collected_at is dated by the newest snapshot entry of the timeline.
  if (snapshot_at.is_null() && !latest_snapshot.is_null() && last_snapshot_entry) {
    snapshot_at = protocol::format_time(*last_snapshot_entry);
  }
  const std::size_t actions_total = actions.size();
  const std::size_t notes_total = notes.size();
  actions = last_n(actions, kMaxListed);
  notes = last_n(notes, kMaxListed);
  escalations = last_n(escalations, kMaxListed);

  std::vector<const SessionRecord*> by_start;
  for (const auto& session : sessions) by_start.push_back(&session);
  std::stable_sort(
      by_start.begin(), by_start.end(), [](const SessionRecord* a, const SessionRecord* b) {
        return a->started_at != b->started_at ? a->started_at < b->started_at : a->id < b->id;
      });
  json session_list = json::array();
  for (const SessionRecord* s : last_n(by_start, kMaxListed)) {
    session_list.push_back(
        {{"id", session_number(s->id)},
         {"technician", clip_text(s->technician, 100)},
         {"device", clip_text(s->device, 200)},
         {"status", clip_text(s->status, 32)},
         {"started_at", protocol::format_time(s->started_at)},
         {"ended_at", s->ended_at ? json(protocol::format_time(*s->ended_at)) : json(nullptr)},
         {"end_note", clip_text(s->end_note, kMaxNote)}});
  }

  // ---- The plain text a technician reads after `tether ticket escalate`.
  // The ticket's device, else what the agent says: its snapshot, else its last session.
  std::string device = !ticket.device.empty() ? clip_text(ticket.device, 200) : computer;
  if (device.empty() && !by_start.empty()) device = clip_text(by_start.back()->device, 200);
  std::string text = number + " [" + clip_text(ticket.priority, 8) + "] " +
                     clip_text(ticket.title, 200) + ": " +
                     (to_level > from_level   ? "escalated "
                      : to_level < from_level ? "handed back "
                                              : "handed over ") +
                     level_name(from_level) + " → " + level_name(to_level) + "\n";
  {
    std::string who;
    if (!ticket.requester.empty()) who = clip_text(ticket.requester, 100);
    if (!ticket.requester_email.empty()) {
      who += (who.empty() ? "<" : " <") + clip_text(ticket.requester_email, 100) + ">";
    }
    std::vector<std::string> facts;
    if (!who.empty()) facts.push_back("Requester: " + who);
    if (!device.empty()) {
      facts.push_back("Device: " + device +
                      (!ticket.device.empty() && !computer.empty() ? " (" + computer + ")" : ""));
    }
    if (!ticket.category.empty()) facts.push_back("Category: " + clip_text(ticket.category, 60));
    facts.push_back("Status: " + clip_text(ticket.status, 16));
    std::string line;
    for (const auto& fact : facts) line += (line.empty() ? "" : " · ") + fact;
    text += line + "\n";
  }
  if (!ticket.description.empty()) {
    text += "Problem: " + clip_text(ticket.description, kMaxLine) + "\n";
  }
  text +=
      "Reason: " + (reason.empty() ? std::string("(none given)") : clip_text(reason, kMaxLine)) +
      "\n";

  if (latest_snapshot.is_null()) {
    text += "Diagnostics: none taken yet.\n";
  } else {
    std::string when;
    if (snapshot_at.is_string()) {
      auto at = protocol::parse_time(snapshot_at.get<std::string>());
      when = " (" + (at ? short_time(*at) : snapshot_at.get<std::string>()) + ")";
    }
    if (findings.empty()) {
      text += "Diagnostics" + when + ": no critical or warning findings.\n";
    } else {
      text += "Problems at the last diagnostics" + when + ":\n";
      for (std::size_t i = 0; i < findings.size() && i < kTextFindings; ++i) {
        const auto& f = findings[i];
        text += "  " + f["severity"].get<std::string>() +
                (f["severity"] == "warning" ? "  " : " ") + f["id"].get<std::string>() + ": " +
                f["summary"].get<std::string>() + "\n";
      }
      if (findings.size() > kTextFindings) {
        text += "  … and " + std::to_string(findings.size() - kTextFindings) + " more\n";
      }
    }
  }

  if (actions.empty()) {
    text += "Tried: nothing on the PC yet.\n";
  } else {
    text += "Tried (" + std::to_string(actions_total) + "):\n";
    if (actions_total > kTextActions) {
      text += "  … " + std::to_string(actions_total - kTextActions) +
              " earlier (tether ticket show " + number + ")\n";
    }
    for (const auto& a : last_n(actions, kTextActions)) {
      auto at = protocol::parse_time(a["at"].get<std::string>());
      text += "  " + (at ? short_time(*at) : a["at"].get<std::string>()) + "  " +
              a["summary"].get<std::string>() + "\n";
    }
  }

  if (notes.empty()) {
    text += "Notes: none.\n";
  } else {
    text += "Notes (" + std::to_string(notes_total) + "):\n";
    if (notes_total > kTextNotes) {
      text += "  … " + std::to_string(notes_total - kTextNotes) + " earlier (tether ticket show " +
              number + ")\n";
    }
    for (const auto& n : last_n(notes, kTextNotes)) {
      auto at = protocol::parse_time(n["at"].get<std::string>());
      text += "  " + (at ? short_time(*at) : n["at"].get<std::string>()) + "  " +
              n["actor"].get<std::string>() + (n["internal"].get<bool>() ? " [internal]" : "") +
              ": " + clip_text(n["text"].get<std::string>(), kTextNote) + "\n";
    }
  }

  if (by_start.empty()) {
    text += "Sessions: none.\n";
  } else {
    text += "Sessions (" + std::to_string(by_start.size()) + "):\n";
    for (const SessionRecord* s : last_n(by_start, kTextSessions)) {
      std::string line = "  " + session_number(s->id) + " " + clip_text(s->technician, 100) + " " +
                         short_time(s->started_at);
      if (s->ended_at) {
        const auto end = short_time(*s->ended_at);
        // Same day: only the time of the end.
        line += "–" +
                (end.compare(0, 10, short_time(s->started_at), 0, 10) == 0 ? end.substr(11) : end) +
                " (" + duration_text(*s->ended_at - s->started_at) + ")";
      }
      if (s->status != "ended" && !s->status.empty()) line += " [" + clip_text(s->status, 32) + "]";
      if (!s->end_note.empty()) line += ": \"" + clip_text(s->end_note, 200) + "\"";
      text += line + "\n";
    }
  }

  if (!escalations.empty()) {
    text += "Earlier level changes:\n";
    for (const auto& e : last_n(escalations, 5)) {
      auto at = protocol::parse_time(e["at"].get<std::string>());
      text +=
          "  " + (at ? short_time(*at) : e["at"].get<std::string>()) + "  " +
          e["from"].get<std::string>() + " → " + e["to"].get<std::string>() + " by " +
          e["by"].get<std::string>() +
          (e["reason"].get<std::string>().empty() ? "" : ": " + e["reason"].get<std::string>()) +
          "\n";
    }
  }

  json out = {
      {"ticket", number},
      {"title", clip_text(ticket.title, 512)},
      {"priority", clip_text(ticket.priority, 8)},
      {"status", clip_text(ticket.status, 16)},
      {"from_level", level_name(from_level)},
      {"to_level", level_name(to_level)},
      {"reason", clip_text(reason, kMaxNote)},
      {"requester", clip_text(ticket.requester, 200)},
      {"requester_email", clip_text(ticket.requester_email, 200)},
      {"category", clip_text(ticket.category, 200)},
      {"device", device},
      {"assignee", ticket.assignee.empty() ? json(nullptr) : json(clip_text(ticket.assignee, 100))},
      {"findings", findings},
      {"snapshot_at", snapshot_at},
      {"actions", actions},
      {"actions_total", actions_total},
      {"notes", notes},
      {"notes_total", notes_total},
      {"escalations", escalations},
      {"sessions", session_list},
      {"text", text},
  };
  return out;
}

}  // namespace tether::relay::helpdesk
