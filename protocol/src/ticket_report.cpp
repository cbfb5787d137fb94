// render_ticket_report_markdown / _html: the ticket report (relay/src/helpdesk/ticket_report.hpp)
// for people. The JSON is read once, tolerantly, into a small view of printable strings; the
// two writers then only escape and lay out. A missing or mistyped field shows as "?" or is
// left out, whatever arrives over the network.
//
// The HTML is one self-contained file like the diagnostics report (diag_html.cpp, whose look
// it follows): inline CSS, no script, no link, nothing fetched, printable. Both take their
// escaping, page head and palette from html_text.hpp.

#include "tether/protocol/ticket_report.hpp"

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string_view>
#include <utility>
#include <vector>

#include "html_text.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::protocol {
namespace {

using json = nlohmann::json;

// ---- Reading any JSON without throwing ----------------------------------------------------

const json& at(const json& object, const char* key) {
  return protocol::json_member(object, key);
}

const json& list(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const auto& value = at(object, key);
  return value.is_array() ? value : kEmpty;
}

/// One line of text: strings made printable, numbers and booleans spelled out, anything else "".
std::string line(const json& value) {
  if (value.is_string()) return printable_text(value.get_ref<const std::string&>());
  if (value.is_number_integer()) return std::to_string(value.get<std::int64_t>());
  if (value.is_number_unsigned()) return std::to_string(value.get<std::uint64_t>());
  if (value.is_boolean()) return value.get<bool>() ? "yes" : "no";
  return {};
}

std::string line(const json& object, const char* key, const char* fallback = "") {
  auto text = line(at(object, key));
  return text.empty() ? fallback : text;
}

/// Each line of `text` (split at "\n"; an empty text is one empty line) through `each`, the
/// results joined by `separator`: the loop the reader and both writers share for multi-line text.
template <typename Each>
std::string map_lines(std::string_view text, std::string_view separator, Each each) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    if (start > 0) out += separator;
    out += each(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

/// Text that may have several lines (notes, descriptions): each line printable, "\n" kept.
std::string lines(const json& value) {
  if (!value.is_string()) return {};
  return map_lines(value.get_ref<const std::string&>(), "\n", [](std::string_view piece) {
    if (!piece.empty() && piece.back() == '\r') piece.remove_suffix(1);
    return printable_text(piece);
  });
}

std::optional<std::int64_t> integer(const json& value) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_unsigned() && value.get<std::uint64_t>() <= INT64_MAX) {
    return static_cast<std::int64_t>(value.get<std::uint64_t>());
  }
  return std::nullopt;
}

/// "2026-11-30T06:14:14Z" → "2026-11-30 06:14:14 UTC"; other strings as they are; "?" if none.
std::string when(const json& value) {
  auto text = line(value);
  if (text.empty() || !value.is_string()) return "?";
  if (text.size() == 20 && text[10] == 'T' && text[19] == 'Z') {
    text[10] = ' ';
    text.resize(19);
    text += " UTC";
  }
  return text;
}

/// "45 s", "12 min", "2 h 05 min", "3 days 4 h"; "?" when negative or absent.
std::string duration(const json& value) {
  const auto seconds = integer(value);
  if (!seconds || *seconds < 0) return "?";
  const auto s = *seconds;
  char text[64];
  if (s < 60) {
    std::snprintf(text, sizeof text, "%lld s", static_cast<long long>(s));
  } else if (s < 3600) {
    std::snprintf(text, sizeof text, "%lld min", static_cast<long long>(s / 60));
  } else if (s < 86400) {
    std::snprintf(text, sizeof text, "%lld h %02lld min", static_cast<long long>(s / 3600),
                  static_cast<long long>(s % 3600 / 60));
  } else {
    const auto days = s / 86400;
    std::snprintf(text, sizeof text, "%lld %s %lld h", static_cast<long long>(days),
                  days == 1 ? "day" : "days", static_cast<long long>(s % 86400 / 3600));
  }
  return text;
}

std::string bytes_text(const json& value) {
  const auto n = integer(value);
  return n ? format_bytes(static_cast<double>(*n)) : "?";
}

std::string counts_text(const json& counts) {
  std::string out;
  for (const char* severity : {"critical", "warning", "info", "ok"}) {
    const auto n = integer(at(counts, severity));
    if (!n) continue;
    if (!out.empty()) out += ", ";
    out += std::to_string(*n) + " " + severity;
    if (*severity == 'w' && *n != 1) out += "s";
  }
  return out.empty() ? "?" : out;
}

// ---- The view both writers draw -----------------------------------------------------------

struct Field {
  std::string key;
  std::string value;
};

using Row = std::vector<std::string>;

struct Consent {
  bool present = false;
  bool granted = false;
  std::string by;
  std::string at;
  std::string reason;
  std::vector<std::string> scopes;
};

struct Recording {
  std::string name;
  std::string size;
  std::string url;
  bool available = true;
};

struct Session {
  std::string id;
  std::string heading;  ///< "S-1 — alice, 12 min"
  std::vector<Field> fields;
  std::string end_note;  ///< May have several lines.
  Consent consent;
  std::vector<Row> actions;  ///< time, by, kind, what
  std::vector<Row> files;    ///< direction, path, size, sha256, time
  std::vector<Recording> recordings;
  std::vector<Field> diagnostics;
};

struct Finding {
  std::string severity;  ///< "critical", "warning" or "" when unknown.
  std::string id;
  std::string summary;
};

/// One session's before/after: its summary line and the lists that changed.
struct Diff {
  std::string session;
  std::string summary;
  std::vector<std::pair<std::string, std::vector<std::string>>> parts;
};

struct Note {
  std::string at;
  std::string actor;
  std::string text;
  bool internal = false;
};

struct View {
  std::string id;
  std::string title;
  std::string priority;
  std::string status;
  std::string level;
  std::string sla_outcome;
  std::vector<Field> header;
  std::string summary;
  std::string description;
  std::vector<Session> sessions;
  std::vector<Finding> findings;
  std::string findings_at;
  std::vector<Diff> diffs;
  std::vector<Row> escalations;  ///< time, by, from → to, reason
  std::vector<Note> notes;
  bool resolved = false;
  std::string resolution_note;
  std::string resolution_meta;  ///< "by bob at …"
  std::vector<Row> faq;         ///< id, title
  std::vector<Row> timeline;    ///< time, actor, kind, session, summary
  std::string generated_at;
  std::string version;
};

std::string clock_text(const json& clock) {
  if (!clock.is_object()) return "?";
  const auto state = line(clock, "state");
  const auto target = duration(at(clock, "target_seconds"));
  const bool late = at(clock, "breached") == json(true);
  std::string out;
  if (state == "met") {
    out = late ? "met late, " + duration(at(clock, "overdue_seconds")) + " over target"
               : "met in " + duration(at(clock, "elapsed_seconds"));
  } else if (state == "breached") {
    out = "breached, " + duration(at(clock, "overdue_seconds")) + " overdue";
  } else if (state == "running" || state == "paused") {
    out = state + ", " + duration(at(clock, "remaining_seconds")) + " left";
    if (state == "running" && at(clock, "due_at").is_string()) {
      out += " (due " + when(at(clock, "due_at")) + ")";
    }
  } else {
    out = state.empty() ? "?" : state;
  }
  return out + " (target " + target + ")";
}

Consent read_consent(const json& value) {
  Consent consent;
  if (!value.is_object()) return consent;
  consent.present = true;
  consent.granted = at(value, "granted") == json(true);
  consent.by = line(value, "by");
  consent.at = at(value, "at").is_string() ? when(at(value, "at")) : std::string();
  consent.reason = line(value, "reason");
  for (const auto& scope : list(value, "scopes")) {
    if (auto text = line(scope); !text.empty()) consent.scopes.push_back(std::move(text));
  }
  return consent;
}

std::string finding_text(const json& finding) {
  std::string out = line(finding, "severity");
  if (!out.empty()) out += " ";
  out += line(finding, "summary", "?");
  if (auto id = line(finding, "id"); !id.empty()) out += " [" + id + "]";
  return out;
}

Diff read_diff(const std::string& session, const json& diff) {
  Diff out;
  out.session = session;
  out.summary = line(diff, "summary");
  const auto names = [](const json& items) {
    std::vector<std::string> texts;
    for (const auto& item : items.is_array() ? items : json::array()) {
      if (auto text = line(item); !text.empty()) texts.push_back(std::move(text));
    }
    return texts;
  };
  const auto add = [&](std::string label, std::vector<std::string> items) {
    if (!items.empty()) out.parts.emplace_back(std::move(label), std::move(items));
  };
  const auto& findings = at(diff, "findings");
  for (const auto& [key, label] :
       {std::pair{"cleared", "Findings cleared"}, std::pair{"appeared", "Findings appeared"},
        std::pair{"remaining", "Findings remaining"}}) {
    std::vector<std::string> items;
    for (const auto& finding : list(findings, key)) items.push_back(finding_text(finding));
    add(label, std::move(items));
  }
  const auto& services = at(diff, "services");
  for (const auto& [key, label] :
       {std::pair{"restarted", "Services restarted"}, std::pair{"started", "Services started"},
        std::pair{"stopped", "Services stopped"}, std::pair{"failed", "Services now failed"},
        std::pair{"recovered", "Services recovered"}}) {
    add(label, names(at(services, key)));
  }
  const auto& packages = at(diff, "packages");
  for (const auto& [key, label] :
       {std::pair{"installed", "Packages installed"}, std::pair{"removed", "Packages removed"}}) {
    std::vector<std::string> items;
    for (const auto& p : list(packages, key)) {
      items.push_back(line(p, "name", "?") + " " + line(p, "version", "?"));
    }
    add(label, std::move(items));
  }
  {
    std::vector<std::string> items;
    for (const auto& p : list(packages, "upgraded")) {
      items.push_back(line(p, "name", "?") + " " + line(p, "from", "?") + " \xe2\x86\x92 " +
                      line(p, "to", "?"));
    }
    add("Packages upgraded", std::move(items));
  }
  {
    std::vector<std::string> items;
    for (const auto& s : list(diff, "storage")) {
      std::string item = line(s, "mount", "?") + ": " + bytes_text(at(s, "free_bytes_before")) +
                         " \xe2\x86\x92 " + bytes_text(at(s, "free_bytes_after")) + " free";
      if (const auto freed = integer(at(s, "freed_bytes"))) {
        item += *freed >= 0 ? " (" + format_bytes(static_cast<double>(*freed)) + " freed)"
                            : " (" + format_bytes(-static_cast<double>(*freed)) + " used)";
      }
      items.push_back(std::move(item));
    }
    add("Storage", std::move(items));
  }
  if (const auto& memory = at(diff, "memory"); memory.is_object()) {
    add("Memory available", {bytes_text(at(memory, "available_bytes_before")) + " \xe2\x86\x92 " +
                             bytes_text(at(memory, "available_bytes_after"))});
  }
  const auto& processes = at(diff, "processes");
  add("Processes started", names(at(processes, "started")));
  add("Processes ended", names(at(processes, "ended")));
  return out;
}

Session read_session(const json& s, View& view) {
  Session out;
  out.id = line(s, "id", "?");
  const auto technician = line(s, "technician", "?");
  const bool ended = at(s, "ended_at").is_string();
  out.heading = out.id + " \xe2\x80\x94 " + technician + ", " +
                (ended ? duration(at(s, "duration_seconds")) : std::string("not ended"));
  out.fields = {{"Technician", technician},
                {"Device", line(s, "device", "?")},
                {"Joined by", line(s, "joined_by", "?")},
                {"Status", line(s, "status", "?")},
                {"Started", when(at(s, "started_at"))},
                {"Ended", ended ? when(at(s, "ended_at")) : "not ended"},
                {"Duration", ended ? duration(at(s, "duration_seconds")) : "\xe2\x80\x94"}};
  out.end_note = lines(at(s, "end_note"));
  out.consent = read_consent(at(s, "consent"));
  for (const auto& a : list(s, "actions")) {
    out.actions.push_back(
        {when(at(a, "at")), line(a, "actor", "?"), line(a, "kind", "?"), line(a, "summary", "?")});
  }
  for (const auto& f : list(s, "files")) {
    const auto direction = line(f, "direction");
    out.files.push_back({direction == "upload"     ? "upload (to the PC)"
                         : direction == "download" ? "download (from the PC)"
                                                   : "?",
                         line(f, "path", "?"), bytes_text(at(f, "bytes")), line(f, "sha256", "?"),
                         when(at(f, "at"))});
  }
  for (const auto& r : list(s, "recordings")) {
    out.recordings.push_back({line(r, "name", "?"), bytes_text(at(r, "bytes")), line(r, "url"),
                              at(r, "available") != json(false)});
  }
  const auto& diagnostics = at(s, "diagnostics");
  for (const auto& [key, label] : {std::pair{"before", "Before"}, std::pair{"after", "After"}}) {
    const auto& point = at(diagnostics, key);
    if (point.is_object()) {
      out.diagnostics.push_back(
          {label, when(at(point, "at")) + ": " + counts_text(at(point, "counts"))});
    }
  }
  if (const auto& diff = at(diagnostics, "diff"); diff.is_object()) {
    auto d = read_diff(out.id, diff);
    if (!d.summary.empty()) out.diagnostics.push_back({"Changes", d.summary});
    view.diffs.push_back(std::move(d));
  }
  return out;
}

View read_view(const json& report) {
  View view;
  const auto& ticket = at(report, "ticket");
  view.id = line(ticket, "id", "T-?");
  view.title = line(ticket, "title", "(no title)");
  view.priority = line(ticket, "priority", "?");
  view.status = line(ticket, "status", "?");
  view.level = line(ticket, "level", "?");
  view.sla_outcome = line(report, "sla_outcome", "unknown");

  const auto& requester = at(report, "requester");
  std::string who = line(requester, "name");
  if (who.empty()) who = line(ticket, "requester");
  std::string email = line(requester, "email");
  if (email.empty()) email = line(ticket, "requester_email");
  if (!email.empty()) who += (who.empty() ? "" : " ") + ("<" + email + ">");
  view.header.push_back({"Requester", who.empty() ? "?" : who});
  if (auto category = line(ticket, "category"); !category.empty())
    view.header.push_back({"Category", category});
  if (auto device = line(ticket, "device"); !device.empty())
    view.header.push_back({"Device", device});
  view.header.push_back(
      {"Impact / urgency", line(ticket, "impact", "?") + " / " + line(ticket, "urgency", "?")});
  view.header.push_back({"Assignee", line(ticket, "assignee", "(unassigned)")});
  if (const auto& external = at(ticket, "external"); external.is_object()) {
    view.header.push_back(
        {"External reference", line(external, "system", "?") + ":" + line(external, "key", "?")});
  }
  view.header.push_back(
      {"Created", when(at(ticket, "created_at")) + " by " + line(ticket, "created_by", "?")});
  for (const auto& [key, label] :
       {std::pair{"first_response_at", "First response"}, std::pair{"resolved_at", "Resolved"},
        std::pair{"closed_at", "Closed"}}) {
    if (at(ticket, key).is_string()) view.header.push_back({label, when(at(ticket, key))});
  }
  const auto& sla = at(report, "sla");
  if (sla.is_object()) {
    view.header.push_back({"SLA first response", clock_text(at(sla, "first_response"))});
    view.header.push_back({"SLA resolution", clock_text(at(sla, "resolution"))});
    if (at(sla, "business_hours") == json(true))
      view.header.push_back({"SLA counted in", "business hours"});
  }

  view.summary = lines(at(report, "summary"));
  view.description = lines(at(ticket, "description"));
  for (const auto& s : list(report, "sessions")) view.sessions.push_back(read_session(s, view));
  for (const auto& f : list(report, "findings")) {
    auto severity = line(f, "severity");
    if (severity != "critical" && severity != "warning") severity.clear();
    view.findings.push_back({std::move(severity), line(f, "id"), line(f, "summary", "?")});
  }
  if (at(report, "findings_at").is_string()) view.findings_at = when(at(report, "findings_at"));
  for (const auto& e : list(report, "escalations")) {
    const auto direction = line(e, "direction");
    view.escalations.push_back({when(at(e, "at")), line(e, "by", "?"),
                                (direction == "down" ? "down: " : "up: ") + line(e, "from", "?") +
                                    " \xe2\x86\x92 " + line(e, "to", "?"),
                                line(e, "reason")});
  }
  for (const auto& n : list(report, "notes")) {
    view.notes.push_back({when(at(n, "at")), line(n, "actor", "?"), lines(at(n, "text")),
                          at(n, "internal") == json(true)});
  }
  if (const auto& resolution = at(report, "resolution"); resolution.is_object()) {
    view.resolved = true;
    view.resolution_note = lines(at(resolution, "note"));
    std::string meta;
    if (auto by = line(resolution, "by"); !by.empty()) meta += "by " + by;
    if (at(resolution, "at").is_string())
      meta += (meta.empty() ? "at " : " at ") + when(at(resolution, "at"));
    view.resolution_meta = meta;
  }
  for (const auto& a : list(report, "faq")) {
    view.faq.push_back({line(a, "id", "?"), line(a, "title", "?")});
  }
  for (const auto& e : list(report, "timeline")) {
    view.timeline.push_back({when(at(e, "at")), line(e, "actor", "?"), line(e, "kind", "?"),
                             line(e, "session"), line(e, "summary")});
  }
  view.generated_at = when(at(report, "generated_at"));
  view.version = line(report, "report_version", "?");
  return view;
}

// ---- Markdown -----------------------------------------------------------------------------

/// Inline Markdown text: characters with a meaning escaped, HTML impossible.
std::string md(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
      case '<':
      case '>':
        out += html_entity(c);  // so that no HTML reaches the Markdown renderer
        break;
      case '\n':
        out += ' ';
        break;
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
      case '|':
      case '~':
      case '#':
      case '!':
        out += '\\';
        out += c;
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A paragraph (several lines kept as hard breaks) that cannot turn into a list or heading.
std::string md_block(const std::string& text) {
  return map_lines(text, "  \n", [](std::string_view raw) {
    auto piece = md(raw);
    std::size_t digits = 0;
    while (digits < piece.size() && piece[digits] >= '0' && piece[digits] <= '9') ++digits;
    if (!piece.empty() && (piece[0] == '-' || piece[0] == '+' || piece[0] == '=')) {
      piece.insert(0, "\\");
    } else if (digits > 0 && digits < piece.size() &&
               (piece[digits] == '.' || piece[digits] == ')')) {
      piece.insert(digits, "\\");
    }
    return piece;
  });
}

void md_table(const std::vector<std::string>& header, const std::vector<Row>& rows,
              std::ostream& out) {
  out << "|";
  for (const auto& h : header) out << " " << h << " |";
  out << "\n|";
  for (std::size_t i = 0; i < header.size(); ++i) out << "---|";
  out << "\n";
  for (const auto& row : rows) {
    out << "|";
    for (std::size_t i = 0; i < header.size(); ++i) {
      out << " " << (i < row.size() ? md(row[i]) : std::string()) << " |";
    }
    out << "\n";
  }
  out << "\n";
}

/// "- **Key:** value" lines.
void md_fields(const std::vector<Field>& fields, std::ostream& out) {
  for (const auto& f : fields) out << "- **" << md(f.key) << ":** " << md(f.value) << "\n";
}

/// md_table, or the sentence `none` when there are no rows.
void md_table_or(const char* none, const std::vector<std::string>& header,
                 const std::vector<Row>& rows, std::ostream& out) {
  if (rows.empty()) {
    out << none << "\n\n";
  } else {
    md_table(header, rows, out);
  }
}

std::string md_code(const std::string& text) {
  // Hashes, ids and names in backticks when nothing in them ends a code span or a table cell
  // (GFM splits cells at "|" even inside backticks), else escaped text.
  if (!text.empty() && text.find_first_of("`|\n") == std::string::npos) return "`" + text + "`";
  return md(text);
}

std::string render_markdown(const View& v) {
  std::ostringstream out;
  out << "# " << md(v.id) << ": " << md(v.title) << "\n\n"
      << "**Priority** " << md(v.priority) << " \xc2\xb7 **Status** " << md(v.status)
      << " \xc2\xb7 **Level** " << md(v.level) << " \xc2\xb7 **SLA** " << md(v.sla_outcome)
      << "\n\n";
  std::vector<Row> header;
  for (const auto& f : v.header) header.push_back({f.key, f.value});
  md_table({"Field", "Value"}, header, out);

  out << "## Summary\n\n" << (v.summary.empty() ? "?" : md_block(v.summary)) << "\n\n";
  if (!v.description.empty()) out << "## Description\n\n" << md_block(v.description) << "\n\n";

  out << "## Sessions\n\n";
  if (v.sessions.empty()) out << "No remote session.\n\n";
  for (const auto& s : v.sessions) {
    out << "### " << md(s.heading) << "\n\n";
    md_fields(s.fields, out);
    if (!s.end_note.empty()) out << "- **End note:** " << md(s.end_note) << "\n";
    out << "\n**Consent:** ";
    if (!s.consent.present) {
      out << "no answer recorded.\n\n";
    } else {
      out << (s.consent.granted ? "granted" : "refused");
      if (!s.consent.by.empty()) out << " by " << md(s.consent.by);
      if (!s.consent.at.empty()) out << " at " << md(s.consent.at);
      if (!s.consent.reason.empty()) out << " (" << md(s.consent.reason) << ")";
      out << "; scopes: ";
      if (s.consent.scopes.empty()) out << "none";
      for (std::size_t i = 0; i < s.consent.scopes.size(); ++i) {
        out << (i ? ", " : "") << md(s.consent.scopes[i]);
      }
      out << "\n\n";
    }
    out << "#### Actions\n\n";
    md_table_or("No actions.", {"Time", "By", "Action", "What"}, s.actions, out);
    if (!s.files.empty()) {
      out << "#### Files\n\n| Direction | Path | Size | SHA-256 | Time |\n|---|---|---|---|---|\n";
      for (const auto& f : s.files) {
        out << "| " << md(f[0]) << " | " << md(f[1]) << " | " << md(f[2]) << " | " << md_code(f[3])
            << " | " << md(f[4]) << " |\n";
      }
      out << "\n";
    }
    if (!s.recordings.empty()) {
      out << "#### Recordings\n\n";
      for (const auto& r : s.recordings) {
        out << "- " << md_code(r.name);
        if (r.available) {
          out << " (" << md(r.size) << ")";
          if (!r.url.empty()) out << " \xe2\x80\x94 " << md_code(r.url);
        } else {
          out << " (no longer stored)";
        }
        out << "\n";
      }
      out << "\n";
    }
    if (!s.diagnostics.empty()) {
      out << "#### Diagnostics\n\n";
      md_fields(s.diagnostics, out);
      out << "\n";
    }
  }

  out << "## Findings\n\n";
  if (v.findings.empty()) out << "No critical or warning findings in the latest diagnostics.\n";
  if (!v.findings_at.empty() && !v.findings.empty())
    out << "From the diagnostics of " << md(v.findings_at) << ":\n\n";
  for (const auto& f : v.findings) {
    out << "- **" << (f.severity.empty() ? "?" : f.severity) << "** " << md(f.summary);
    if (!f.id.empty()) out << " (" << md_code(f.id) << ")";
    out << "\n";
  }
  out << "\n";

  if (!v.diffs.empty()) {
    out << "## Before and after\n\n";
    for (const auto& d : v.diffs) {
      out << "### " << md(d.session) << "\n\n"
          << (d.summary.empty() ? "?" : md(d.summary)) << "\n\n";
      for (const auto& [label, items] : d.parts) {
        out << "- **" << md(label) << ":** ";
        for (std::size_t i = 0; i < items.size(); ++i) out << (i ? "; " : "") << md(items[i]);
        out << "\n";
      }
      if (!d.parts.empty()) out << "\n";
    }
  }

  out << "## Escalations\n\n";
  md_table_or("None.", {"Time", "By", "Level", "Reason"}, v.escalations, out);

  out << "## Notes\n\n";
  if (v.notes.empty()) out << "None.\n";
  for (const auto& n : v.notes) {
    out << "- " << md(n.at) << ", " << md(n.actor) << (n.internal ? " **(internal)**" : "") << ": "
        << md(n.text) << "\n";
  }
  out << "\n## Resolution\n\n";
  if (!v.resolved) {
    out << "Not resolved (status " << md(v.status) << ").\n\n";
  } else {
    out << (v.resolution_note.empty() ? "?" : md_block(v.resolution_note)) << "\n\n";
    if (!v.resolution_meta.empty()) out << "Resolved " << md(v.resolution_meta) << ".\n\n";
  }
  if (!v.faq.empty()) {
    out << "## Knowledge articles\n\n";
    for (const auto& a : v.faq) out << "- " << md(a[0]) << ": " << md(a[1]) << "\n";
    out << "\n";
  }
  out << "## Timeline\n\n";
  md_table_or("Empty.", {"Time", "Actor", "Kind", "Session", "Summary"}, v.timeline, out);
  out << "---\n\nGenerated by Tether at " << md(v.generated_at) << " (report version "
      << md(v.version) << ").\n";
  return out.str();
}

// ---- HTML ---------------------------------------------------------------------------------

/// Element content and attribute values (the view's text is already printable).
std::string h(const std::string& text) {
  return html_escape(text);
}

/// Several lines: escaped, joined by <br>.
std::string h_lines(const std::string& text) {
  return map_lines(text, "<br>", html_escape);
}

/// A CSS class from a value only when it is one of the known ones (values come from the
/// network; a class name is no place for them).
std::string known(const std::string& value, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed) {
    if (value == a) return value;
  }
  return "unknown";
}

// The rules of this report; the palette and body come first, from write_html_head().
constexpr const char* kStyle = R"css(
h1 { font-size: 22px; margin: 0 0 6px; }
h2 { font-size: 17px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
h4 { font-size: 13px; margin: 12px 0 4px; color: #444; }
table { border-collapse: collapse; margin: 4px 0 10px; width: 100%; }
th, td { text-align: left; padding: 3px 10px 3px 0; vertical-align: top; border-bottom: 1px solid #eceef1; }
th { font-size: 12px; color: #5f6670; text-transform: uppercase; letter-spacing: .03em; }
table.kv th { text-transform: none; font-size: 14px; color: #5f6670; width: 190px; font-weight: normal; }
td { overflow-wrap: anywhere; }
td.time { white-space: nowrap; color: #5f6670; }
code { font: 12px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; overflow-wrap: anywhere; }
.badges { margin: 4px 0 12px; }
.badge { display: inline-block; padding: 1px 8px; margin-right: 6px; border-radius: 10px;
         border: 1px solid var(--line); font-size: 12px; font-weight: bold; }
.badge.P1, .badge.sla-breached { color: #fff; background: var(--crit); border-color: var(--crit); }
.badge.P2 { color: var(--crit); border-color: var(--crit); }
.badge.P3 { color: var(--warn); border-color: var(--warn); }
.badge.sla-met { color: #fff; background: var(--ok); border-color: var(--ok); }
.badge.sla-running, .badge.sla-paused { color: var(--info); border-color: var(--info); }
.summary { font-size: 15px; }
.session { border: 1px solid var(--line); border-radius: 4px; padding: 4px 14px 8px; margin: 12px 0; }
.consent { padding: 6px 12px; margin: 8px 0; border-left: 6px solid var(--line); background: #f6f7f9; }
.consent.granted { border-color: var(--ok); background: #eef7ee; }
.consent.refused { border-color: var(--crit); background: #fdecec; }
.consent ul.scopes { display: inline; padding: 0; margin: 0; }
.consent ul.scopes li { display: inline-block; padding: 0 6px; margin: 0 4px 0 0;
                        border: 1px solid var(--ok); border-radius: 8px; font-size: 12px; }
.finding { border-left: 6px solid var(--info); background: #f3f7fc; padding: 6px 12px; margin: 6px 0; border-radius: 3px; }
.finding.critical { border-color: var(--crit); background: #fdecec; }
.finding.warning { border-color: var(--warn); background: #fff5e5; }
.finding .sev { font-weight: bold; text-transform: uppercase; font-size: 12px; margin-right: 8px; }
.finding.critical .sev { color: var(--crit); } .finding.warning .sev { color: var(--warn); }
.finding .id { color: #7a808a; font-size: 12px; margin-left: 8px; }
.note { padding: 6px 12px; margin: 6px 0; border-left: 4px solid var(--line); }
.note.internal { border-color: var(--warn); background: #fff8ec; }
.tag { font-size: 11px; font-weight: bold; text-transform: uppercase; color: var(--warn); margin-left: 6px; }
.resolution { padding: 8px 12px; border-left: 6px solid var(--ok); background: #eef7ee; }
.muted, .unknown { color: #7a808a; }
dl.diff dt { font-weight: bold; margin-top: 4px; } dl.diff dd { margin: 0 0 0 18px; }
footer { margin-top: 30px; color: #7a808a; font-size: 12px; }
@media print {
  body { padding: 0; max-width: none; font-size: 11px; }
  h2, h3, h4 { break-after: avoid; }
  tr, .finding, .consent, .note, .resolution { break-inside: avoid; }
  .session { border: none; padding: 0; }
  .badge, .consent, .finding, .note, .resolution { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  #timeline { break-before: page; }
}
)css";

void html_kv(const std::vector<Field>& fields, std::ostream& out) {
  out << "<table class=\"kv\">\n";
  for (const auto& f : fields) {
    out << "<tr><th>" << h(f.key) << "</th><td>" << h(f.value) << "</td></tr>\n";
  }
  out << "</table>\n";
}

/// A table whose first column is a time; each row gets `row_class`.
void html_table(const char* table_class, const char* row_class,
                const std::vector<std::string>& header, const std::vector<Row>& rows,
                std::ostream& out) {
  out << "<table class=\"" << table_class << "\">\n<tr>";
  for (const auto& heading : header) out << "<th>" << h(heading) << "</th>";
  out << "</tr>\n";
  for (const auto& row : rows) {
    out << "<tr class=\"" << row_class << "\">";
    for (std::size_t i = 0; i < header.size(); ++i) {
      out << (i == 0 ? "<td class=\"time\">" : "<td>") << (i < row.size() ? h(row[i]) : "")
          << "</td>";
    }
    out << "</tr>\n";
  }
  out << "</table>\n";
}

/// html_table, or the sentence `none` in grey when there are no rows.
void html_table_or(const char* none, const char* table_class, const char* row_class,
                   const std::vector<std::string>& header, const std::vector<Row>& rows,
                   std::ostream& out) {
  if (rows.empty()) {
    out << "<p class=\"muted\">" << none << "</p>\n";
  } else {
    html_table(table_class, row_class, header, rows, out);
  }
}

/// Opens one of the report's top-level sections; the caller closes it.
void html_section(const char* id, const char* title, std::ostream& out) {
  out << "<section id=\"" << id << "\">\n<h2>" << title << "</h2>\n";
}

void html_session(const Session& s, std::ostream& out) {
  out << "<section class=\"session\" id=\"session-" << h(s.id) << "\">\n<h3>" << h(s.heading)
      << "</h3>\n";
  html_kv(s.fields, out);
  if (!s.end_note.empty()) {
    out << "<p><strong>End note:</strong> " << h_lines(s.end_note) << "</p>\n";
  }
  if (!s.consent.present) {
    out << "<div class=\"consent none\"><strong>Consent:</strong> no answer recorded.</div>\n";
  } else {
    out << "<div class=\"consent " << (s.consent.granted ? "granted" : "refused")
        << "\"><strong>Consent " << (s.consent.granted ? "granted" : "refused") << "</strong>";
    if (!s.consent.by.empty()) out << " by " << h(s.consent.by);
    if (!s.consent.at.empty()) out << " at " << h(s.consent.at);
    if (!s.consent.reason.empty()) out << " (" << h(s.consent.reason) << ")";
    out << ". Scopes: ";
    if (s.consent.scopes.empty()) {
      out << "none";
    } else {
      out << "<ul class=\"scopes\">";
      for (const auto& scope : s.consent.scopes) out << "<li>" << h(scope) << "</li>";
      out << "</ul>";
    }
    out << "</div>\n";
  }
  out << "<h4>Actions</h4>\n";
  html_table_or("No actions.", "actions", "action", {"Time", "By", "Action", "What"}, s.actions,
                out);
  if (!s.files.empty()) {
    out << "<h4>Files</h4>\n<table class=\"files\">\n<tr><th>Time</th><th>Direction</th>"
           "<th>Path</th><th>Size</th><th>SHA-256</th></tr>\n";
    for (const auto& f : s.files) {
      out << "<tr class=\"file\"><td class=\"time\">" << h(f[4]) << "</td><td>" << h(f[0])
          << "</td><td><code>" << h(f[1]) << "</code></td><td>" << h(f[2])
          << "</td><td><code class=\"sha256\">" << h(f[3]) << "</code></td></tr>\n";
    }
    out << "</table>\n";
  }
  if (!s.recordings.empty()) {
    out << "<h4>Recordings</h4>\n<ul class=\"recordings\">\n";
    for (const auto& r : s.recordings) {
      out << "<li><code>" << h(r.name) << "</code>";
      if (r.available) {
        out << " (" << h(r.size) << ")";
        if (!r.url.empty()) out << " on the relay: <code>" << h(r.url) << "</code>";
      } else {
        out << " <span class=\"muted\">(no longer stored)</span>";
      }
      out << "</li>\n";
    }
    out << "</ul>\n";
  }
  if (!s.diagnostics.empty()) {
    out << "<h4>Diagnostics</h4>\n";
    html_kv(s.diagnostics, out);
  }
  out << "</section>\n";
}

std::string render_html(const View& v) {
  std::ostringstream out;
  const std::string title = v.id + ": " + v.title;
  write_html_head(out, h(title) + " \xe2\x80\x94 ticket report", kStyle);
  out << "<header>\n<h1>" << h(title) << "</h1>\n"
      << "<div class=\"badges\"><span class=\"badge " << known(v.priority, {"P1", "P2", "P3", "P4"})
      << "\">" << h(v.priority) << "</span><span class=\"badge status\">" << h(v.status)
      << "</span><span class=\"badge level\">" << h(v.level) << "</span><span class=\"badge sla-"
      << known(v.sla_outcome, {"met", "breached", "running", "paused"}) << "\">SLA "
      << h(v.sla_outcome) << "</span></div>\n";
  html_kv(v.header, out);
  out << "</header>\n";

  html_section("summary", "Summary", out);
  out << "<p class=\"summary\">" << (v.summary.empty() ? "?" : h_lines(v.summary)) << "</p>\n";
  if (!v.description.empty()) {
    out << "<h3>Description</h3>\n<p>" << h_lines(v.description) << "</p>\n";
  }
  out << "</section>\n";

  html_section("sessions", "Sessions", out);
  if (v.sessions.empty()) out << "<p class=\"muted\">No remote session.</p>\n";
  for (const auto& s : v.sessions) html_session(s, out);
  out << "</section>\n";

  html_section("findings", "Findings", out);
  if (v.findings.empty()) {
    out << "<p class=\"muted\">No critical or warning findings in the latest diagnostics.</p>\n";
  } else if (!v.findings_at.empty()) {
    out << "<p class=\"muted\">From the diagnostics of " << h(v.findings_at) << ".</p>\n";
  }
  for (const auto& f : v.findings) {
    const auto severity = f.severity.empty() ? std::string("unknown") : f.severity;
    out << "<div class=\"finding " << severity << "\"><span class=\"sev\">" << severity << "</span>"
        << h(f.summary);
    if (!f.id.empty()) out << "<span class=\"id\">" << h(f.id) << "</span>";
    out << "</div>\n";
  }
  out << "</section>\n";

  if (!v.diffs.empty()) {
    html_section("changes", "Before and after", out);
    for (const auto& d : v.diffs) {
      out << "<h3>" << h(d.session) << "</h3>\n<p>" << (d.summary.empty() ? "?" : h(d.summary))
          << "</p>\n";
      if (d.parts.empty()) continue;
      out << "<dl class=\"diff\">\n";
      for (const auto& [label, items] : d.parts) {
        out << "<dt>" << h(label) << "</dt>";
        for (const auto& item : items) out << "<dd>" << h(item) << "</dd>";
        out << "\n";
      }
      out << "</dl>\n";
    }
    out << "</section>\n";
  }

  html_section("escalations", "Escalations", out);
  html_table_or("None.", "escalations", "escalation", {"Time", "By", "Level", "Reason"},
                v.escalations, out);
  out << "</section>\n";

  html_section("notes", "Notes", out);
  if (v.notes.empty()) out << "<p class=\"muted\">None.</p>\n";
  for (const auto& n : v.notes) {
    out << "<div class=\"note" << (n.internal ? " internal" : "") << "\"><div class=\"muted\">"
        << h(n.at) << " \xe2\x80\x94 " << h(n.actor)
        << (n.internal ? "<span class=\"tag\">internal</span>" : "") << "</div>" << h_lines(n.text)
        << "</div>\n";
  }
  out << "</section>\n";

  html_section("resolution", "Resolution", out);
  if (!v.resolved) {
    out << "<p class=\"muted\">Not resolved (status " << h(v.status) << ").</p>\n";
  } else {
    out << "<div class=\"resolution\"><p>"
        << (v.resolution_note.empty() ? "?" : h_lines(v.resolution_note)) << "</p>";
    if (!v.resolution_meta.empty())
      out << "<div class=\"muted\">Resolved " << h(v.resolution_meta) << ".</div>";
    out << "</div>\n";
  }
  out << "</section>\n";

  if (!v.faq.empty()) {
    html_section("faq", "Knowledge articles", out);
    out << "<ul>\n";
    for (const auto& a : v.faq) out << "<li>" << h(a[0]) << ": " << h(a[1]) << "</li>\n";
    out << "</ul>\n</section>\n";
  }

  html_section("timeline", "Timeline", out);
  html_table_or("Empty.", "timeline", "entry", {"Time", "Actor", "Kind", "Session", "Summary"},
                v.timeline, out);
  out << "</section>\n<footer>Generated by Tether at " << h(v.generated_at) << " (report version "
      << h(v.version) << ").</footer>\n</body>\n</html>\n";
  return out.str();
}

}  // namespace

std::string render_ticket_report_markdown(const nlohmann::json& report) {
  try {
    return render_markdown(read_view(report));
  } catch (const std::exception&) {
    return "# Ticket report\n\nThe report could not be rendered.\n";
  }
}

std::string render_ticket_report_html(const nlohmann::json& report) {
  try {
    return render_html(read_view(report));
  } catch (const std::exception&) {
    return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Ticket report"
           "</title></head><body><p>The ticket report could not be rendered.</p></body></html>\n";
  }
}

}  // namespace tether::protocol
