#include "tether/agent/tools/service_tools.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>

#include "diag/collectors/services_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxUnitName = 256;  // systemd's UNIT_NAME_MAX
constexpr std::size_t kMaxUnits = 10000;
constexpr std::size_t kMaxActionOutput = 64 * 1024;
constexpr std::string_view kNotRunning = "systemd is not running on this machine";

constexpr std::array<std::string_view, 11> kUnitSuffixes{
    ".service", ".socket", ".timer", ".target", ".mount", ".automount",
    ".swap",    ".path",   ".slice", ".scope",  ".device"};

bool unit_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ':' ||
         c == '_' || c == '.' || c == '\\' || c == '@' || c == '-';
}

ProgramRun run_until(const ProgramRunner& run, const std::vector<std::string>& argv,
                     Deadline deadline, std::size_t max_output) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left <= std::chrono::milliseconds::zero()) {
    ProgramRun late;
    late.outcome = RunOutcome::timed_out;
    return late;
  }
  const RunLimits limits{.timeout = left, .max_output = max_output};
  return run ? run(argv, limits) : run_program(argv, limits);
}

// Whether systemctl's complaint (its standard error: a status's standard output quotes the
// unit's own log lines) says `text`.
bool mentions(const ProgramRun& run, std::string_view text) {
  return run.err.find(text) != std::string::npos;
}

bool systemd_absent(const ProgramRun& run) {
  return run.outcome == RunOutcome::tool_missing ||
         mentions(run, "has not been booted with systemd") ||
         mentions(run, "Failed to connect to bus");
}

std::string not_running_reason(const ProgramRun& run) {
  if (run.outcome == RunOutcome::tool_missing) {
    return std::string(kNotRunning) + " (systemctl is not installed)";
  }
  if (mentions(run, "has not been booted with systemd") || run.out.starts_with("offline")) {
    return std::string(kNotRunning) + " (it is not the init system)";
  }
  return std::string(kNotRunning) + " (systemctl cannot reach it over D-Bus)";
}

std::string no_such_unit(const std::string& unit) {
  return (unit.ends_with(".service") ? "no such service: " : "no such unit: ") + unit;
}

// One line about a systemctl run that did not do what was asked, in the technician's terms.
std::string systemctl_failure(const ProgramRun& run, std::string_view verb,
                              const std::string& unit) {
  const std::string what = "systemctl " + std::string(verb) + (unit.empty() ? "" : " " + unit);
  if (systemd_absent(run)) return not_running_reason(run);
  if (run.outcome == RunOutcome::timed_out) {
    return what + " did not finish in time" +
           (verb == "start" || verb == "stop" || verb == "restart"
                ? "; systemd may still be carrying it out"
                : "");
  }
  if (run.outcome == RunOutcome::failed_to_start) return "cannot run systemctl: " + run.error;
  if (mentions(run, "Interactive authentication required") || mentions(run, "Access denied")) {
    const std::string what_needs = verb == "stop"      ? "stopping units"
                                   : verb == "restart" ? "restarting units"
                                   : verb == "start"   ? "starting units"
                                                       : what;
    return "permission denied: " + what_needs + " needs root or polkit";
  }
  if (!unit.empty() && (mentions(run, "not found") || mentions(run, "could not be found"))) {
    return no_such_unit(unit);
  }
  return what + " failed: " + lossy_utf8(describe_failure(run));
}

// "Key=Value" lines of `systemctl show`.
std::map<std::string, std::string> show_properties(std::string_view text) {
  std::map<std::string, std::string> properties;
  for (const auto line : diag::split_lines(text)) {
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    properties.emplace(std::string(line.substr(0, equals)), lossy_utf8(line.substr(equals + 1)));
  }
  return properties;
}

std::string json_text(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? lossy_utf8(it->get_ref<const std::string&>())
                                               : std::string();
}

}  // namespace

void throw_exception_from_error(const ToolError& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

std::string quote_for_error(std::string_view text, std::size_t limit) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < limit; ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\') {
      out += static_cast<char>(byte);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    }
  }
  if (text.size() > limit) out += "...";
  return out + "\"";
}

std::string lossy_utf8(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto length = protocol::utf8_sequence_length(bytes, i);
    text.append(length != 0 ? bytes.substr(i, length) : std::string_view("\xef\xbf\xbd"));
    i += length != 0 ? length : 1;
  }
  return text;
}

void truncate_utf8(std::string& text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return;
  std::size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) --cut;
  text.resize(cut);
}

Result<std::string> normalize_unit_name(std::string_view name) {
  if (name.empty()) return ToolError{"empty unit name"};
  if (name.size() > kMaxUnitName) {
    return ToolError{"unit name too long: " + std::to_string(name.size()) + " bytes, at most " +
                     std::to_string(kMaxUnitName)};
  }
  if (name.front() == '-' || name.front() == '.' || name.front() == '@') {
    return ToolError{"unit name " + quote_for_error(name) + " must not start with '" +
                     name.front() + "'"};
  }
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!unit_name_char(name[i])) {
      return ToolError{"unit name " + quote_for_error(name) + ": character " +
                       std::to_string(i + 1) + " " + quote_for_error(name.substr(i, 1)) +
                       " is not allowed (only letters, digits and : _ . \\ @ -)"};
    }
  }
  if (std::count(name.begin(), name.end(), '@') > 1) {
    return ToolError{"unit name " + quote_for_error(name) + " has more than one '@'"};
  }
  std::string unit(name);
  const bool typed = std::any_of(kUnitSuffixes.begin(), kUnitSuffixes.end(),
                                 [&](std::string_view suffix) { return name.ends_with(suffix); });
  if (!typed) unit += ".service";
  if (unit.size() > kMaxUnitName) {
    return ToolError{"unit name too long with .service: " + std::to_string(unit.size()) +
                     " bytes, at most " + std::to_string(kMaxUnitName)};
  }
  return Result<std::string>(boost::system::in_place_value, std::move(unit));
}

Result<json> parse_list_units_json(std::string_view text) {
  const json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_array()) {
    return ToolError{"systemctl list-units did not print JSON"};
  }
  json units = json::array();
  for (const auto& entry : parsed) {
    if (units.size() == kMaxUnits) break;
    if (!entry.is_object()) continue;
    auto name = json_text(entry, "unit");
    if (name.empty()) continue;
    units.push_back(json{{"name", std::move(name)},
                         {"description", json_text(entry, "description")},
                         {"load", json_text(entry, "load")},
                         {"active", json_text(entry, "active")},
                         {"sub", json_text(entry, "sub")}});
  }
  return Result<json>(boost::system::in_place_value, std::move(units));
}

std::map<std::string, std::string> parse_unit_file_states(std::string_view text) {
  std::map<std::string, std::string> states;
  const json parsed = json::parse(text, nullptr, false);
  if (!parsed.is_discarded() && parsed.is_array()) {
    for (const auto& entry : parsed) {
      if (states.size() == kMaxUnits) break;
      if (!entry.is_object()) continue;
      auto name = json_text(entry, "unit_file");
      auto state = json_text(entry, "state");
      if (!name.empty() && !state.empty()) states.emplace(std::move(name), std::move(state));
    }
    return states;
  }
  for (const auto line : diag::split_lines(text)) {
    if (states.size() == kMaxUnits) break;
    const auto fields = diag::split_fields(line);
    if (fields.size() >= 2) states.emplace(lossy_utf8(fields[0]), lossy_utf8(fields[1]));
  }
  return states;
}

json list_services(bool failed_only, Deadline deadline, const ProgramRunner& run) {
  const auto state_run = run_until(run, {"systemctl", "is-system-running"}, deadline, 4096);
  const std::string state =
      lossy_utf8(diag::trim(state_run.out.substr(0, state_run.out.find('\n'))));
  // "offline" is systemctl's word for "systemd is not PID 1" (a container, another init).
  if (systemd_absent(state_run) || state == "offline") {
    return json{{"systemd_available", false}, {"error", not_running_reason(state_run)}};
  }
  if (state_run.outcome != RunOutcome::exited) {
    return json{{"systemd_available", true},
                {"error", systemctl_failure(state_run, "is-system-running", "")}};
  }

  std::vector<std::string> argv{"systemctl", "list-units",  "--type=service", "--all",
                                "--plain",   "--no-legend", "--no-pager",     "--output=json"};
  if (failed_only) argv.push_back("--state=failed");
  const auto units_run = run_until(run, argv, deadline, 16 * 1024 * 1024);
  if (!units_run.succeeded()) {
    return json{{"systemd_available", !systemd_absent(units_run)},
                {"error", systemctl_failure(units_run, "list-units", "")}};
  }
  // A systemctl older than 246 ignores --output=json for tables and prints the plain one.
  json units;
  if (auto parsed = parse_list_units_json(units_run.out)) {
    units = std::move(*parsed);
  } else {
    units = diag::parse_systemctl_units(lossy_utf8(units_run.out));
  }

  const auto files_run = run_until(run,
                                   {"systemctl", "list-unit-files", "--type=service", "--no-legend",
                                    "--no-pager", "--output=json"},
                                   deadline, 16 * 1024 * 1024);
  const auto states = files_run.succeeded() ? parse_unit_file_states(files_run.out)
                                            : std::map<std::string, std::string>{};

  json services = json::array();
  std::size_t active = 0;
  std::size_t failed = 0;
  for (auto& unit : units) {
    const auto& name = unit["name"].get_ref<const std::string&>();
    auto it = states.find(name);
    // An instance (getty@tty1.service) is enabled through its template (getty@.service).
    const auto at = name.find('@');
    const auto dot = name.rfind('.');
    if (it == states.end() && at != std::string::npos && dot != std::string::npos && dot > at) {
      it = states.find(name.substr(0, at + 1) + name.substr(dot));
    }
    unit["enabled"] = it != states.end() ? json(it->second) : json(nullptr);
    // --state=failed already filters; this keeps a systemctl that ignored it honest.
    if (failed_only && unit["active"] != "failed") continue;
    active += unit["active"] == "active" ? 1 : 0;
    failed += unit["active"] == "failed" ? 1 : 0;
    services.push_back(std::move(unit));
  }
  auto& list = services.get_ref<json::array_t&>();
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return a["name"].get_ref<const std::string&>() < b["name"].get_ref<const std::string&>();
  });
  json result{{"systemd_available", true},
              {"system_state", state},
              {"counts", {{"total", list.size()}, {"active", active}, {"failed", failed}}},
              {"services", std::move(services)}};
  if (!files_run.succeeded()) {
    result["enabled_error"] = systemctl_failure(files_run, "list-unit-files", "");
  }
  return result;
}

std::vector<std::string> enclosing_service_units(std::string_view proc_self_cgroup) {
  std::string_view path;
  for (const auto line : diag::split_lines(proc_self_cgroup)) {
    if (line.starts_with("0::")) {
      path = line.substr(3);
      break;
    }
    if (const auto at = line.find(":name=systemd:"); at != std::string_view::npos) {
      path = line.substr(at + 14);
    }
  }
  std::vector<std::string> units;
  while (!path.empty()) {
    const auto slash = path.find('/');
    const auto component = path.substr(0, slash);
    if (component.size() > 8 && component.ends_with(".service")) units.emplace_back(component);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return units;
}

json service_action(std::string_view action, std::string_view name, Deadline deadline,
                    const ProgramRunner& run) {
  std::string shown_name = lossy_utf8(name.substr(0, kMaxUnitName));
  json result{{"ok", false},        {"action", lossy_utf8(action.substr(0, 16))},
              {"name", shown_name}, {"exit_code", nullptr},
              {"active", nullptr},  {"sub", nullptr},
              {"output", ""}};
  if (action != "start" && action != "stop" && action != "restart" && action != "status") {
    result["error"] =
        "unknown action " + quote_for_error(action) + ": use start, stop, restart or status";
    return result;
  }
  const auto unit = normalize_unit_name(name);
  if (!unit) {
    result["error"] = unit.error().message;
    return result;
  }
  result["name"] = *unit;
  if (action == "stop" || action == "restart") {
    const auto cgroup = diag::read_source("/", "/proc/self/cgroup");
    const auto own = enclosing_service_units(cgroup.text.value_or(""));
    if (std::find(own.begin(), own.end(), *unit) != own.end()) {
      result["error"] = "refused: " + *unit + " runs the Tether agent; " +
                        (action == "stop" ? "stopping" : "restarting") +
                        " it would end this session";
      return result;
    }
  }

  std::vector<std::string> argv{"systemctl", "--no-ask-password", "--no-pager"};
  if (action == "status") {
    // The unit's state and its last log lines, unshortened, as `systemctl status` shows them.
    argv.insert(argv.end(), {"--full", "--lines=20"});
  }
  argv.insert(argv.end(), {std::string(action), "--", *unit});
  const auto action_run = run_until(run, argv, deadline, kMaxActionOutput);
  std::string output = action_run.out;
  if (!action_run.err.empty()) output += (output.empty() ? "" : "\n") + action_run.err;
  output = lossy_utf8(output);
  truncate_utf8(output, kMaxActionOutput);
  result["output"] = std::move(output);
  if (action_run.outcome == RunOutcome::exited) result["exit_code"] = action_run.exit_code;

  // status exits 3 for a unit that exists but does not run, 4 for one that does not exist.
  const bool ok = action == "status" ? action_run.outcome == RunOutcome::exited &&
                                           (action_run.exit_code == 0 || action_run.exit_code == 3)
                                     : action_run.succeeded();
  if (!ok) result["error"] = systemctl_failure(action_run, action, *unit);
  if (systemd_absent(action_run) || action_run.outcome == RunOutcome::timed_out ||
      action_run.outcome == RunOutcome::failed_to_start) {
    return result;
  }

  const auto show_run = run_until(
      run,
      {"systemctl", "--no-pager", "show", "--property=LoadState,ActiveState,SubState", "--", *unit},
      deadline, 4096);
  if (show_run.succeeded()) {
    const auto properties = show_properties(show_run.out);
    const auto value = [&](const char* key) -> json {
      const auto it = properties.find(key);
      return it != properties.end() && !it->second.empty() ? json(it->second) : json(nullptr);
    };
    result["active"] = value("ActiveState");
    result["sub"] = value("SubState");
    if (ok && value("LoadState") == "not-found") {
      result["error"] = no_such_unit(*unit);
      result["ok"] = false;
      return result;
    }
  }
  result["ok"] = ok;
  return result;
}

}  // namespace tether::agent::tools
