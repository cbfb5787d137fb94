#include "tether/console/ticket_view.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <sstream>
#include <vector>

#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"

namespace tether::console {
namespace {

using json = nlohmann::json;
using Rows = std::vector<std::vector<std::string>>;

// Control characters, bidirectional overrides and broken UTF-8 from the network must not
// drive the technician's terminal.
std::string printable(const std::string& s) {
  return protocol::printable_text(s);
}

const json& field(const json& object, const char* key) {
  return protocol::json_member(object, key);
}

// A string field made printable; `fallback` (as it is) when missing, null or not a string.
std::string text(const json& object, const char* key, const std::string& fallback = "?") {
  const json& value = field(object, key);
  if (!value.is_string()) return fallback;
  return printable(value.get<std::string>());
}

std::optional<long long> number(const json& object, const char* key) {
  const json& value = field(object, key);
  if (value.is_number_integer()) return value.get<long long>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (std::isfinite(d) && std::abs(d) < 9e15) return static_cast<long long>(d);
  }
  return std::nullopt;
}

bool flag(const json& object, const char* key) {
  const json& value = field(object, key);
  return value.is_boolean() && value.get<bool>();
}

const json& array(const json& object, const char* key) {
  static const json kEmpty = json::array();
  const json& value = field(object, key);
  return value.is_array() ? value : kEmpty;
}

// An id that may come as "T-1" or as a bare number.
std::string scalar(const json& object, const char* key, const std::string& fallback = "?") {
  const json& value = field(object, key);
  if (value.is_string()) return printable(value.get<std::string>());
  if (auto n = number(object, key)) return std::to_string(*n);
  return fallback;
}

// "L2" from "L2" or 2.
std::string level_text(const json& value) {
  if (value.is_string()) return printable(value.get<std::string>());
  if (value.is_number_integer()) return "L" + std::to_string(value.get<long long>());
  return "?";
}

std::string join(const json& values, const std::string& separator = ", ") {
  std::string out;
  if (!values.is_array()) return out;
  for (const auto& v : values) {
    if (!v.is_string()) continue;
    out += (out.empty() ? "" : separator) + printable(v.get<std::string>());
  }
  return out;
}

// Multi-line text from the network: each line made printable, "\r" dropped.
std::vector<std::string> lines_of(const std::string& raw) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(raw);
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(printable(line));
  }
  return lines;
}

// Lines of `raw`, the first after `first_prefix`, the rest indented by `indent`.
std::string indented(const std::string& raw, const std::string& first_prefix,
                     const std::string& indent) {
  std::string out;
  const auto lines = lines_of(raw);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += (i == 0 ? first_prefix : indent) + lines[i] + "\n";
  }
  return out;
}

// Columns a string takes on a terminal: one per code point (UTF-8 continuation bytes take
// none). Wide East Asian characters count as one; alignment is close enough for them.
std::size_t display_width(const std::string& s) {
  std::size_t width = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++width;
  }
  return width;
}

// `s` cut to `width` columns with a trailing "…" when it is longer.
std::string cut(const std::string& s, std::size_t width) {
  if (display_width(s) <= width) return s;
  if (width == 0) return "";
  std::string out;
  std::size_t columns = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool starts = (static_cast<unsigned char>(s[i]) & 0xc0) != 0x80;
    if (starts && ++columns > width - 1) break;
    out.push_back(s[i]);
  }
  return out + "…";
}

// Aligned columns two spaces apart, no trailing blanks. When `width` is not 0 and a row would
// be wider, column `flex` is cut to what is left (at least 12 columns).
std::string table(Rows rows, std::size_t width = 0, std::size_t flex = 0,
                  const std::string& indent = "") {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  if (width != 0 && flex < widths.size()) {
    std::size_t others = indent.size();
    for (std::size_t i = 0; i < widths.size(); ++i) {
      if (i != flex) others += widths[i];
    }
    others += 2 * (widths.size() - 1);
    const std::size_t room = width > others + 12 ? width - others : 12;
    if (widths[flex] > room) {
      widths[flex] = room;
      for (auto& row : rows) {
        if (flex < row.size()) row[flex] = cut(row[flex], room);
      }
    }
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    std::string line = indent;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - display_width(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out << line << "\n";
  }
  return out.str();
}

std::string assignee_text(const json& object) {
  const json& value = field(object, "assignee");
  if (value.is_string() && !value.get<std::string>().empty()) {
    return printable(value.get<std::string>());
  }
  return "-";
}

std::string clock_name(const std::string& clock) {
  if (clock == "first_response") return "response";
  if (clock == "resolution") return "resolution";
  return printable(clock);
}

// "breached 25 min ago" / "in 25 min" for a clock that counts (running or breached).
std::string countdown(const json& clock) {
  const auto overdue = number(clock, "overdue_seconds").value_or(0);
  if (text(clock, "state", "") == "breached" || overdue > 0 || flag(clock, "breached")) {
    return "breached " + format_duration(overdue) + " ago";
  }
  const auto remaining = number(clock, "remaining_seconds");
  return remaining ? "in " + format_duration(*remaining) : "?";
}

std::string faq_line(const json& article) {
  return text(article, "id") + ": " + text(article, "title", "");
}

}  // namespace

std::string format_short_time(const json& time) {
  if (!time.is_string()) return time.is_null() ? "-" : "?";
  const auto& s = time.get<std::string>();
  // 2026-11-30T06:14:14Z (fractional seconds allowed): the minute is enough for people.
  if (s.size() >= 17 && s.size() <= 40 && s[4] == '-' && s[7] == '-' && s[10] == 'T' &&
      s[13] == ':' && s.back() == 'Z') {
    return printable(s.substr(0, 10) + " " + s.substr(11, 5) + "Z");
  }
  return s.empty() ? "-" : printable(s);
}

std::string format_duration(long long seconds) {
  if (seconds < 0) return "?";
  if (seconds < 60) return std::to_string(seconds) + " s";
  const long long minutes = seconds / 60;
  if (minutes < 60) return std::to_string(minutes) + " min";
  const long long hours = minutes / 60;
  if (hours < 24) {
    const long long rest = minutes % 60;
    if (rest == 0) return std::to_string(hours) + " h";
    return std::to_string(hours) + " h " + (rest < 10 ? "0" : "") + std::to_string(rest) + " min";
  }
  const long long days = hours / 24;
  const long long rest = hours % 24;
  return std::to_string(days) + " d" + (rest == 0 ? "" : " " + std::to_string(rest) + " h");
}

std::string describe_sla_clock(const json& clock) {
  if (!clock.is_object()) return "-";
  const auto state = text(clock, "state", "");
  const auto overdue = number(clock, "overdue_seconds").value_or(0);
  const auto remaining = number(clock, "remaining_seconds");
  const bool breached = flag(clock, "breached") || overdue > 0;
  const json& due = field(clock, "due_at");
  if (state == "running" || state == "breached") {
    auto out = countdown(clock);
    if (due.is_string()) out += (breached ? " (was due " : " (due ") + format_short_time(due) + ")";
    return out;
  }
  if (state == "paused") {
    if (breached) return "paused, breached " + format_duration(overdue) + " over target";
    return "paused, " + (remaining ? format_duration(*remaining) : std::string("?")) + " left";
  }
  if (state == "met") {
    auto out = "met at " + format_short_time(field(clock, "stopped_at"));
    if (breached) out += ", " + format_duration(overdue) + " late";
    return out;
  }
  return state.empty() ? "?" : state;
}

std::string sla_cell(const json& sla) {
  const json& first = field(sla, "first_response");
  const json& resolution = field(sla, "resolution");
  const json* worst_breach = nullptr;
  const json* soonest = nullptr;
  bool paused = false;
  for (const json* clock : {&first, &resolution}) {
    if (!clock->is_object()) continue;
    const auto state = text(*clock, "state", "");
    const auto overdue = number(*clock, "overdue_seconds").value_or(0);
    if (state == "breached" || (state == "running" && (overdue > 0 || flag(*clock, "breached")))) {
      if (worst_breach == nullptr ||
          overdue > number(*worst_breach, "overdue_seconds").value_or(0)) {
        worst_breach = clock;
      }
    } else if (state == "running") {
      const auto remaining = number(*clock, "remaining_seconds");
      if (remaining &&
          (soonest == nullptr || *remaining < number(*soonest, "remaining_seconds").value_or(0))) {
        soonest = clock;
      }
    } else if (state == "paused") {
      paused = true;
    }
  }
  if (worst_breach != nullptr) return countdown(*worst_breach);
  if (soonest != nullptr) return countdown(*soonest);
  if (paused) return "paused";
  if (text(resolution, "state", "") == "met")
    return flag(resolution, "breached") ? "missed" : "met";
  return "-";
}

std::string render_ticket_list(const json& tickets, std::size_t width) {
  if (!tickets.is_array() || tickets.empty()) return "No tickets.\n";
  Rows rows{{"ID", "PRIO", "LVL", "STATUS", "ASSIGNEE", "SLA", "TITLE"}};
  for (const auto& t : tickets) {
    rows.push_back({text(t, "id"), text(t, "priority"), level_text(field(t, "level")),
                    text(t, "status"), cut(assignee_text(t), 12), sla_cell(field(t, "sla")),
                    text(t, "title")});
  }
  return table(std::move(rows), width, 6);
}

std::string render_session(const json& s) {
  std::ostringstream out;
  out << text(s, "id") << "  " << text(s, "status") << "  " << text(s, "device") << "  technician "
      << text(s, "technician");
  const json& consent = field(s, "consent");
  if (consent.is_object()) {
    const json& granted = field(consent, "granted");
    if (granted.is_boolean()) {
      out << "  consent " << (granted.get<bool>() ? "granted" : "refused");
      if (field(consent, "by").is_string()) out << " by " << text(consent, "by");
    }
  }
  if (field(s, "ended_at").is_string())
    out << "  ended " << format_short_time(field(s, "ended_at"));
  return out.str() + "\n";
}

std::string render_ticket_line(const json& t) {
  return text(t, "id") + "  " + text(t, "priority") + "  " + level_text(field(t, "level")) + "  " +
         text(t, "status") + "  " + assignee_text(t) + "  " + text(t, "title", "") + "\n";
}

std::string render_ticket(const json& t) {
  std::ostringstream out;
  out << text(t, "id") << "  " << text(t, "title") << "\n"
      << "  status:      " << text(t, "status") << "\n";
  if (field(t, "priority").is_string()) {
    out << "  priority:    " << text(t, "priority") << " (impact " << text(t, "impact")
        << ", urgency " << text(t, "urgency") << ")\n";
  }
  if (!field(t, "level").is_null())
    out << "  level:       " << level_text(field(t, "level")) << "\n";
  if (t.is_object() && t.contains("assignee")) out << "  assignee:    " << assignee_text(t) << "\n";
  out << "  requester:   " << text(t, "requester", "-");
  if (const auto email = text(t, "requester_email", ""); !email.empty()) {
    out << " <" << email << ">";
  }
  out << "\n";
  for (const auto* key : {"category", "device"}) {
    if (const auto value = text(t, key, ""); !value.empty()) {
      out << "  " << key << ":" << std::string(12 - std::string(key).size(), ' ') << value << "\n";
    }
  }
  if (const json& external = field(t, "external"); external.is_object()) {
    out << "  external:    " << text(external, "system") << " " << text(external, "key") << "\n";
  }
  out << "  created:     " << format_short_time(field(t, "created_at")) << " by "
      << text(t, "created_by") << "\n"
      << "  updated:     " << format_short_time(field(t, "updated_at"));
  if (auto version = number(t, "version")) out << " (version " << *version << ")";
  out << "\n";
  if (field(t, "resolved_at").is_string()) {
    out << "  resolved:    " << format_short_time(field(t, "resolved_at")) << "\n";
  }
  if (field(t, "closed_at").is_string()) {
    out << "  closed:      " << format_short_time(field(t, "closed_at")) << "\n";
  }
  if (const auto resolution = text(t, "resolution", ""); !resolution.empty()) {
    out << indented(field(t, "resolution").get<std::string>(),
                    "  resolution:  ", "               ");
  }
  if (field(t, "description").is_string() && !field(t, "description").get<std::string>().empty()) {
    out << indented(field(t, "description").get<std::string>(),
                    "  description: ", "               ");
  }

  if (const json& sla = field(t, "sla"); sla.is_object()) {
    out << "\nSLA";
    if (field(sla, "priority").is_string()) {
      out << " (" << text(sla, "priority")
          << (flag(sla, "business_hours") ? ", business hours" : ", 24x7") << ")";
    }
    out << ":\n";
    Rows rows;
    for (const auto& [key, name] :
         {std::pair{"first_response", "first response"}, std::pair{"resolution", "resolution"}}) {
      const json& clock = field(sla, key);
      std::string line = describe_sla_clock(clock);
      if (auto target = number(clock, "target_seconds")) {
        line += "  [target " + format_duration(*target) + "]";
      }
      rows.push_back({std::string(name) + ":", line});
    }
    out << table(std::move(rows), 0, 0, "  ");
  }

  out << "\nSessions:\n";
  const json& sessions = array(t, "sessions");
  if (sessions.empty()) out << "  (none)\n";
  for (const auto& s : sessions) {
    out << "  " << render_session(s);
    if (const auto note = text(s, "end_note", ""); !note.empty()) {
      out << indented(field(s, "end_note").get<std::string>(), "    note: ", "          ");
    }
  }

  out << "\nTimeline:\n";
  Rows rows;
  for (const auto& e : array(t, "timeline")) {
    std::string summary = text(e, "summary");
    if (flag(field(e, "detail"), "internal")) summary = "[internal] " + summary;
    rows.push_back({format_short_time(field(e, "at")), text(e, "actor"), text(e, "kind"), summary});
  }
  out << (rows.empty() ? "  (empty)\n" : table(std::move(rows), 0, 0, "  "));

  const json& linked = array(t, "faq");
  const json& suggested = array(t, "suggested_faq");
  if (!linked.empty() || !suggested.empty()) {
    out << "\nKnowledge base:\n";
    for (const auto& a : linked) out << "  linked:    " << faq_line(a) << "\n";
    for (const auto& a : suggested) {
      out << "  suggested: " << faq_line(a);
      if (const auto finding = text(a, "finding", ""); !finding.empty()) {
        out << " (finding " << finding << ")";
      }
      out << "\n";
    }
  }

  if (const json& handover = field(t, "handover"); handover.is_object()) {
    out << "\nLatest handover:\n";
    for (const auto& line : lines_of(render_handover(handover))) out << "  " << line << "\n";
  }
  return out.str();
}

std::string render_handover(const json& h) {
  if (!h.is_object()) return "";
  if (const json& text_value = field(h, "text");
      text_value.is_string() && !text_value.get<std::string>().empty()) {
    return indented(text_value.get<std::string>(), "", "");
  }
  std::ostringstream out;
  out << "Handover " << text(h, "ticket") << ": " << level_text(field(h, "from_level")) << " → "
      << level_text(field(h, "to_level")) << "  " << text(h, "title", "") << "\n";
  if (const auto reason = text(h, "reason", ""); !reason.empty())
    out << "Reason: " << reason << "\n";
  out << "Priority " << text(h, "priority") << ", requester " << text(h, "requester", "-")
      << ", device " << text(h, "device", "-") << "\n";
  const json& findings = array(h, "findings");
  if (!findings.empty()) {
    out << "Findings (" << format_short_time(field(h, "snapshot_at")) << "):\n";
    for (const auto& f : findings) {
      out << "  [" << text(f, "severity") << "] " << text(f, "id") << ": " << text(f, "summary", "")
          << "\n";
    }
  }
  const json& actions = array(h, "actions");
  if (!actions.empty()) {
    out << "Tried:\n";
    for (const auto& a : actions) {
      out << "  " << format_short_time(field(a, "at")) << "  " << text(a, "actor") << "  "
          << text(a, "summary", text(a, "kind")) << "\n";
    }
  }
  const json& notes = array(h, "notes");
  if (!notes.empty()) {
    out << "Notes:\n";
    for (const auto& n : notes) {
      const std::string head = "  " + format_short_time(field(n, "at")) + "  " + text(n, "actor") +
                               (flag(n, "internal") ? " (internal)" : "") + ": ";
      out << indented(field(n, "text").is_string() ? field(n, "text").get<std::string>() : "?",
                      head, "    ");
    }
  }
  const json& sessions = array(h, "sessions");
  if (!sessions.empty()) {
    out << "Sessions:\n";
    for (const auto& s : sessions) {
      out << "  " << text(s, "id") << "  " << text(s, "technician") << "  "
          << format_short_time(field(s, "started_at")) << " – "
          << format_short_time(field(s, "ended_at"));
      if (const auto note = text(s, "end_note", ""); !note.empty()) out << "  " << note;
      out << "\n";
    }
  }
  return out.str();
}

std::string render_sla_overview(const json& sla, std::size_t width) {
  std::ostringstream out;
  const auto warn = number(sla, "warn_before_seconds");
  const std::string window = warn ? format_duration(*warn) : std::string("?");
  const std::string as_of = field(sla, "generated_at").is_string()
                                ? " (as of " + format_short_time(field(sla, "generated_at")) + ")"
                                : "";
  const json& tickets = array(sla, "tickets");
  if (tickets.empty()) {
    out << "Nothing breached or due within " << window << as_of << ".\n";
  } else {
    out << "Breached or due within " << window << as_of << ", most urgent first:\n";
    Rows rows{{"ID", "PRIO", "LVL", "ASSIGNEE", "STATUS", "CLOCK", "SLA", "TITLE"}};
    for (const auto& t : tickets) {
      rows.push_back({text(t, "id"), text(t, "priority"), level_text(field(t, "level")),
                      cut(assignee_text(t), 12), text(t, "status"),
                      clock_name(text(t, "clock", "?")), countdown(t), text(t, "title")});
    }
    out << table(std::move(rows), width, 7);
  }
  const auto counts = [&](const char* key, const char* name_key, const char* header) {
    const json& groups = array(sla, key);
    if (groups.empty()) return;
    Rows rows{{header, "OPEN", "BREACHED", "DUE SOON"}};
    for (const auto& g : groups) {
      const json& name = field(g, name_key);
      rows.push_back({name.is_number_integer() ? level_text(name) : text(g, name_key),
                      scalar(g, "open"), scalar(g, "breached"), scalar(g, "due_soon")});
    }
    out << "\n" << table(std::move(rows), width, 0);
  };
  counts("by_technician", "name", "TECHNICIAN");
  counts("by_level", "level", "LEVEL");
  return out.str();
}

std::string render_faq_list(const json& articles, std::size_t width) {
  if (!articles.is_array() || articles.empty()) return "No articles.\n";
  Rows rows{{"ID", "TITLE", "CATEGORIES", "FINDINGS"}};
  for (const auto& a : articles) {
    rows.push_back({text(a, "id"), text(a, "title"), cut(join(field(a, "categories")), 24),
                    cut(join(field(a, "finding_ids")), 28)});
  }
  return table(std::move(rows), width, 1);
}

std::string render_faq_article(const json& a) {
  std::ostringstream out;
  out << text(a, "id") << "  " << text(a, "title") << "\n";
  if (const auto categories = join(field(a, "categories")); !categories.empty()) {
    out << "  categories: " << categories << "\n";
  }
  if (const auto findings = join(field(a, "finding_ids")); !findings.empty()) {
    out << "  findings:   " << findings << "\n";
  }
  out << "  created:    " << format_short_time(field(a, "created_at")) << " by "
      << text(a, "created_by") << "\n";
  out << "  updated:    " << format_short_time(field(a, "updated_at"));
  if (auto version = number(a, "version")) out << " (version " << *version << ")";
  out << "\n";
  if (const auto tickets = join(field(a, "tickets")); !tickets.empty()) {
    out << "  tickets:    " << tickets << "\n";
  }
  if (field(a, "body").is_string()) {
    out << "\n" << indented(field(a, "body").get<std::string>(), "  ", "  ");
  }
  return out.str();
}

std::string render_faq_suggestions(const json& reply) {
  std::ostringstream out;
  const auto considered = scalar(reply, "tickets_considered");
  const auto since = format_short_time(field(reply, "since"));
  const json& suggestions = array(reply, "suggestions");
  if (suggestions.empty()) {
    out << "Nothing recurs among the " << considered << " resolved tickets since " << since
        << ".\n";
    return out.str();
  }
  out << "Recurring among " << considered << " resolved tickets since " << since
      << ", most frequent first:\n";
  int index = 0;
  for (const auto& s : suggestions) {
    const auto kind = text(s, "kind");
    const auto key = text(s, "key");
    out << "\n" << ++index << ". " << kind << " " << key;
    if (const auto label = text(s, "label", ""); !label.empty() && label != key) {
      out << ": " << label;
    }
    out << "\n   " << scalar(s, "count") << " tickets";
    if (const auto tickets = join(field(s, "tickets")); !tickets.empty()) out << ": " << tickets;
    out << "\n";
    const json& covered = array(s, "covered_by");
    for (const auto& a : covered) out << "   covered by " << faq_line(a) << "\n";
    const json& resolutions = array(s, "resolutions");
    if (!resolutions.empty()) out << "   resolved with:\n";
    for (const auto& r : resolutions) {
      const std::string head = "     " + text(r, "ticket") + ": ";
      out << indented(field(r, "note").is_string() ? field(r, "note").get<std::string>() : "?",
                      head, std::string(display_width(head), ' '));
    }
    if (covered.empty()) {
      out << "   no article yet: tether faq new --title TITLE --body-file FILE "
          << (kind == "category" ? "--category " : "--finding ") << key << "\n";
    }
  }
  return out.str();
}

std::string render_delivery_log(const json& deliveries, std::size_t width) {
  if (!deliveries.is_array() || deliveries.empty()) return "No deliveries.\n";
  Rows rows{{"ID", "STATUS", "EVENT", "TICKET", "WEBHOOK", "TRIES", "WHEN", "LAST ERROR"}};
  for (const auto& d : deliveries) {
    const auto status = text(d, "status");
    std::string when;
    if (status == "delivered") {
      when = format_short_time(field(d, "delivered_at"));
    } else if (status == "pending" && field(d, "next_attempt_at").is_string()) {
      when = "next " + format_short_time(field(d, "next_attempt_at"));
    } else {
      when = format_short_time(field(d, "last_attempt_at"));
    }
    std::string error = status == "delivered" ? "" : text(d, "last_error", "");
    if (auto http = number(d, "last_http_status"); http && status != "delivered") {
      error = "HTTP " + std::to_string(*http) + (error.empty() ? "" : ": " + error);
    }
    rows.push_back({scalar(d, "id"), status, text(d, "event"), text(d, "ticket", "-"),
                    cut(text(d, "webhook", scalar(d, "webhook")), 14), scalar(d, "attempts"), when,
                    error.empty() ? "-" : error});
  }
  return table(std::move(rows), width, 7);
}

std::string render_diag_faq(const json& faq, const json& snapshot) {
  if (!faq.is_object()) return "";
  std::ostringstream block;
  for (const auto& [finding, articles] : faq.items()) {
    if (!articles.is_array() || articles.empty()) continue;
    std::string summary;
    for (const auto& f : array(snapshot, "findings")) {
      if (field(f, "id").is_string() && field(f, "id").get<std::string>() == finding) {
        summary = text(f, "summary", "");
        break;
      }
    }
    block << "  " << printable(finding) << (summary.empty() ? "" : "  " + summary) << "\n";
    for (const auto& a : articles) block << "    → " << faq_line(a) << "\n";
  }
  const auto text_block = block.str();
  return text_block.empty() ? "" : "\nKnowledge base:\n" + text_block;
}

}  // namespace tether::console
