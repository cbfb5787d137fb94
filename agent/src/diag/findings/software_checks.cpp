// Checks over services, software updates and logs.

#include <algorithm>

#include "diag/findings/checks.hpp"

namespace tether::agent::diag::findings {
namespace {

// "2025-11-25T10:00:00Z cups.service: message", the form a technician greps for.
std::string log_line(const json& entry) {
  std::string line;
  if (auto time = text(entry, "time")) line += std::string(*time) + " ";
  if (auto unit = text(entry, "unit"); unit && !unit->empty()) line += std::string(*unit) + ": ";
  line += std::string(text(entry, "message").value_or(""));
  // Multi-line messages (stack traces) would break the one-line summary.
  for (char& c : line) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return line;
}

}  // namespace

void check_failed_units(Check& check) {
  const json* failed = check.find_array("services.failed");
  if (failed == nullptr) return;
  std::vector<std::string> names;
  for (const json& unit : *failed) {
    if (unit.is_string()) names.push_back(unit.get<std::string>());
  }
  json evidence = {{"failed", names}};
  if (static_cast<double>(names.size()) <= check.limits().failed_units_warning) {
    check.report(Severity::ok, "No systemd unit has failed", "Nothing to do.", std::move(evidence));
    return;
  }
  // The journal's errors from the failed units, newest last: usually the reason itself.
  json lines = json::array();
  if (const json* logs = member(check.snapshot(), "logs")) {
    if (const json* errors = array(*logs, "errors")) {
      for (const json& entry : *errors) {
        const auto unit = text(entry, "unit");
        if (unit && std::find(names.begin(), names.end(), *unit) != names.end()) {
          lines.push_back(log_line(entry));
        }
      }
    }
  }
  if (lines.size() > 5) lines.erase(lines.begin(), lines.end() - 5);
  if (!lines.empty()) evidence["log_lines"] = std::move(lines);
  const std::string first = names.front();
  check.report(Severity::warning,
               count_of(static_cast<double>(names.size()), "systemd unit", "systemd units") +
                   " failed: " + join_names(names, 4),
               "`systemctl status " + first + "` and `journalctl -b -u " + first +
                   "` say why. Fix the cause and `systemctl restart` the unit, or "
                   "`systemctl reset-failed` it if it is no longer needed.",
               std::move(evidence));
}

void check_security_updates(Check& check) {
  const json* pending = check.find_object("software.pending_updates");
  if (pending == nullptr) return;
  const auto security = number(*pending, "security");
  const auto total = number(*pending, "total");
  if (!security && !total) {
    check.note_missing(why_missing(*pending, "security", "software.pending_updates"));
    return;
  }
  json evidence = *pending;
  const std::string in_all =
      total ? " (" + count_of(*total, "update", "updates") + " in all)" : std::string();
  const std::string hint =
      "Install them: `sudo apt update && sudo apt upgrade` (Debian, Ubuntu) or "
      "`sudo dnf upgrade --refresh` (Fedora), then restart if asked.";
  if (security && *security > check.limits().security_updates_warning) {
    check.report(
        Severity::warning,
        count_of(*security, "security update is", "security updates are") + " pending" + in_all,
        hint, std::move(evidence));
  } else if (total && *total > 0) {
    check.report(Severity::info,
                 count_of(*total, "update is", "updates are") + " pending" +
                     (security ? ", none for security" : ""),
                 hint, std::move(evidence));
  } else {
    check.report(Severity::ok, "The installed packages are up to date", "Nothing to do.",
                 std::move(evidence));
  }
}

void check_crashes(Check& check) {
  const json* crashes = check.find_array("logs.crashes");
  if (crashes == nullptr) return;
  std::vector<std::string> programs;
  json recent = json::array();
  double count = 0;
  for (const json& crash : *crashes) {
    if (!crash.is_object()) continue;
    ++count;
    if (recent.size() < 10) recent.push_back(crash);
    const auto executable = text(crash, "executable");
    if (!executable) continue;
    // The program's base name, once each: "gnome-shell", not its full path.
    std::string name(*executable);
    if (const auto slash = name.rfind('/'); slash != std::string::npos) name.erase(0, slash + 1);
    if (std::find(programs.begin(), programs.end(), name) == programs.end()) {
      programs.push_back(std::move(name));
    }
  }
  json evidence = {{"count", count}, {"crashes", std::move(recent)}};
  if (count > check.limits().crashes_warning) {
    std::string summary = count_of(count, "crash", "crashes") + " in the last 24 hours";
    if (!programs.empty()) summary += ": " + join_names(programs, 3);
    check.report(Severity::warning, std::move(summary),
                 "`coredumpctl list` and `coredumpctl info <pid>` (or the files in /var/crash) "
                 "show what crashed and where. One program crashing again and again needs an "
                 "update or a reset of its settings; many different programs crashing points "
                 "to bad RAM (run memtest86+).",
                 std::move(evidence));
    return;
  }
  check.report(Severity::ok, "No crash in the last 24 hours", "Nothing to do.",
               std::move(evidence));
}

void check_journal_errors(Check& check) {
  const auto count = check.find_number("logs.error_count");
  if (!count) return;
  json evidence = {{"error_count", *count}};
  std::string latest;
  if (const json* errors = array(*member(check.snapshot(), "logs"), "errors")) {
    json lines = json::array();
    const std::size_t first = errors->size() > 5 ? errors->size() - 5 : 0;
    for (std::size_t i = first; i < errors->size(); ++i) {
      if ((*errors)[i].is_object()) lines.push_back(log_line((*errors)[i]));
    }
    if (!lines.empty()) {
      latest = lines.back().get<std::string>();
      evidence["log_lines"] = std::move(lines);
    }
  }
  const Thresholds& t = check.limits();
  Severity severity = Severity::ok;
  if (*count > t.journal_errors_warning) {
    severity = Severity::warning;
  } else if (*count > t.journal_errors_info) {
    severity = Severity::info;
  }
  if (severity == Severity::ok) {
    check.report(Severity::ok, "No errors logged since boot", "Nothing to do.",
                 std::move(evidence));
    return;
  }
  std::string summary = count_of(*count, "error", "errors") + " logged since boot";
  if (!latest.empty()) {
    latest = shorten(latest, 120);
    summary += " (latest: " + latest + ")";
  }
  check.report(severity, std::move(summary),
               "Read them with `journalctl -b -p err`; repeated messages from one unit usually "
               "name the problem. A few errors at boot are common and harmless.",
               std::move(evidence));
}

}  // namespace tether::agent::diag::findings
