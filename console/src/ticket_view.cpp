#include "tether/console/ticket_view.hpp"

#include <algorithm>
#include <sstream>
#include <vector>

namespace tether::console {
namespace {

using json = nlohmann::json;

std::string text(const json& object, const char* key, const std::string& fallback = "?") {
  if (!object.is_object()) return fallback;
  auto it = object.find(key);
  if (it == object.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

// Control characters from the network must not drive the technician's terminal.
std::string printable(std::string s) {
  for (auto& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return s;
}

std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::ostringstream out;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      out << row[i];
      if (i + 1 < row.size()) out << std::string(widths[i] - row[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

std::string render_ticket_list(const json& tickets) {
  if (!tickets.is_array() || tickets.empty()) return "No tickets.\n";
  std::vector<std::vector<std::string>> rows{{"ID", "STATUS", "UPDATED", "REQUESTER", "TITLE"}};
  for (const auto& t : tickets) {
    rows.push_back({printable(text(t, "id")), printable(text(t, "status")),
                    printable(text(t, "updated_at")), printable(text(t, "requester", "-")),
                    printable(text(t, "title"))});
  }
  return table(rows);
}

std::string render_session(const json& s) {
  std::ostringstream out;
  out << printable(text(s, "id")) << "  " << printable(text(s, "status")) << "  "
      << printable(text(s, "device")) << "  technician " << printable(text(s, "technician"));
  const json consent = s.is_object() ? s.value("consent", json()) : json();
  if (consent.is_object()) {
    const auto granted = consent.value("granted", json());
    if (granted.is_boolean()) {
      out << "  consent " << (granted.get<bool>() ? "granted" : "refused");
      if (consent.contains("by") && consent["by"].is_string()) {
        out << " by " << printable(consent["by"].get<std::string>());
      }
    }
  }
  if (!text(s, "ended_at", "").empty()) out << "  ended " << printable(text(s, "ended_at"));
  return out.str() + "\n";
}

std::string render_ticket(const json& t) {
  std::ostringstream out;
  out << printable(text(t, "id")) << "  " << printable(text(t, "title")) << "\n"
      << "  status:     " << printable(text(t, "status")) << "\n"
      << "  requester:  " << printable(text(t, "requester", "-")) << "\n"
      << "  created:    " << printable(text(t, "created_at")) << " by "
      << printable(text(t, "created_by")) << "\n"
      << "  updated:    " << printable(text(t, "updated_at")) << "\n";
  const auto description = text(t, "description", "");
  if (!description.empty()) out << "  description: " << printable(description) << "\n";

  const json sessions = t.is_object() ? t.value("sessions", json::array()) : json::array();
  out << "\nSessions:\n";
  if (!sessions.is_array() || sessions.empty()) out << "  (none)\n";
  if (sessions.is_array()) {
    for (const auto& s : sessions) out << "  " << render_session(s);
  }

  const json timeline = t.is_object() ? t.value("timeline", json::array()) : json::array();
  out << "\nTimeline:\n";
  std::vector<std::vector<std::string>> rows;
  if (timeline.is_array()) {
    for (const auto& e : timeline) {
      rows.push_back({"  " + printable(text(e, "at")), printable(text(e, "actor")),
                      printable(text(e, "kind")), printable(text(e, "summary"))});
    }
  }
  out << (rows.empty() ? "  (empty)\n" : table(rows));
  return out.str();
}

}  // namespace tether::console
