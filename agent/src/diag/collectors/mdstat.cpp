#include "diag/collectors/mdstat.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// "sdb1[1](F)" → {"device": "sdb1", "state": "failed"}.
json parse_member(std::string_view token) {
  const auto bracket = token.find('[');
  if (bracket == std::string_view::npos || bracket == 0) return nullptr;
  std::string state = "active";
  if (token.find("(F)") != std::string_view::npos) {
    state = "failed";
  } else if (token.find("(S)") != std::string_view::npos) {
    state = "spare";
  } else if (token.find("(R)") != std::string_view::npos) {
    state = "replacement";
  }
  json member{{"device", std::string(token.substr(0, bracket))}, {"state", state}};
  if (token.find("(W)") != std::string_view::npos) member["write_mostly"] = true;
  return member;
}

struct Array {
  json raid;
  bool has_counts = false;
};

// "[3/2]" → total 3, active 2.
bool parse_counts(std::string_view token, json& raid) {
  if (token.size() < 5 || token.front() != '[' || token.back() != ']') return false;
  const auto slash = token.find('/');
  if (slash == std::string_view::npos) return false;
  const auto total = parse_integer(token.substr(1, slash - 1));
  const auto active = parse_integer(token.substr(slash + 1, token.size() - slash - 2));
  if (!total || !active || *total < 0 || *active < 0 || *active > *total) return false;
  raid["devices_total"] = *total;
  raid["devices_active"] = *active;
  return true;
}

// "[=>....]  recovery =  8.5% (83075968/976630272) finish=95.1min speed=156448K/sec"
// or "resync=DELAYED".
void parse_progress(std::string_view line, json& raid) {
  for (const char* action : {"recovery", "resync", "reshape", "check", "repair"}) {
    const auto at = line.find(action);
    if (at == std::string_view::npos) continue;
    raid["sync_action"] = action;
    auto rest = trim(line.substr(at + std::string_view(action).size()));
    if (!rest.empty() && rest.front() == '=') rest = trim(rest.substr(1));
    const auto percent = rest.find('%');
    if (percent != std::string_view::npos) {
      if (const auto value = parse_decimal(rest.substr(0, percent));
          value && *value >= 0 && *value <= 100) {
        raid["sync_pct"] = *value;
        raid["unknown"].erase("sync_pct");
        if (raid["unknown"].empty()) raid.erase("unknown");
        return;
      }
    }
    raid["sync_pct"] = nullptr;
    raid["unknown"]["sync_pct"] = starts_with(rest, "DELAYED") || starts_with(rest, "PENDING")
                                      ? "not present: waiting for another array"
                                      : "could not read: no percentage in /proc/mdstat";
    return;
  }
}

void finish(json& raid) {
  int failed = 0;
  int active = 0;
  for (const auto& member : raid["members"]) {
    if (member["state"] == "failed") ++failed;
    if (member["state"] == "active") ++active;
  }
  raid["devices_failed"] = failed;
  if (raid["devices_total"].is_null()) {
    // raid0, linear and inactive arrays print no [n/m]: count the members.
    raid["devices_total"] = static_cast<int>(raid["members"].size()) - failed;
    raid["devices_active"] = active;
  }
  const bool missing =
      raid["devices_active"].get<long long>() < raid["devices_total"].get<long long>();
  raid["degraded"] = raid["state"] != "inactive" && (missing || failed > 0);
  if (raid["state"] == "inactive") {
    raid["sync_action"] = nullptr;
    raid["unknown"]["sync_action"] = "not present: array is not running";
  }
  if (raid["sync_pct"].is_null() && !raid["unknown"].contains("sync_pct")) {
    raid["unknown"]["sync_pct"] = "not present: no resync, recovery or check running";
  }
  if (raid["level"].is_null()) raid["unknown"]["level"] = "not present: array is not running";
  if (raid["unknown"].empty()) raid.erase("unknown");
}

}  // namespace

json parse_mdstat(std::string_view text) {
  json arrays = json::array();
  json* current = nullptr;
  for (const auto raw_line : split_lines(text)) {
    const auto line = trim(raw_line);
    if (line.empty()) continue;
    const bool indented = raw_line.front() == ' ' || raw_line.front() == '\t';
    const auto fields = split_fields(line);
    if (!indented && fields.size() >= 3 && starts_with(fields[0], "md") && fields[1] == ":") {
      if (current != nullptr) finish(*current);
      json raid{{"name", std::string(fields[0])},
                {"level", nullptr},
                {"state", std::string(fields[2])},
                {"devices_total", nullptr},
                {"devices_active", nullptr},
                {"devices_failed", 0},
                {"degraded", false},
                {"sync_action", "idle"},
                {"sync_pct", nullptr},
                {"members", json::array()},
                {"unknown", json::object()}};
      std::size_t i = 3;
      if (i < fields.size() && (fields[i] == "(read-only)" || fields[i] == "(auto-read-only)")) {
        raid["state"] = std::string(fields[i].substr(1, fields[i].size() - 2));
        ++i;
      }
      if (i < fields.size() && fields[i].find('[') == std::string_view::npos) {
        raid["level"] = std::string(fields[i]);
        ++i;
      }
      for (; i < fields.size(); ++i) {
        if (auto member = parse_member(fields[i]); !member.is_null()) {
          raid["members"].push_back(std::move(member));
        }
      }
      arrays.push_back(std::move(raid));
      current = &arrays.back();
      continue;
    }
    if (!indented) {
      if (current != nullptr) finish(*current);
      current = nullptr;  // "Personalities :", "unused devices: <none>"
      continue;
    }
    if (current == nullptr) continue;
    if (line.find("blocks") != std::string_view::npos) {
      for (const auto token : fields) {
        if (parse_counts(token, *current)) continue;
      }
    } else {
      parse_progress(line, *current);
    }
  }
  if (current != nullptr) finish(*current);
  // Earlier `current` pointers stay valid: finish() ran before any later push_back moved them.
  std::sort(arrays.begin(), arrays.end(),
            [](const json& a, const json& b) { return a["name"] < b["name"]; });
  return arrays;
}

}  // namespace tether::agent::diag
