#include "diag/collectors/services_collector.hpp"

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

#include "diag/collectors/parallel_probes.hpp"
#include "diag/collectors/probe_reason.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxUnits = 10000;

// The next white-space-delimited word of `text`, removed from it.
std::string_view next_word(std::string_view& text) {
  std::size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  const auto start = i;
  while (i < text.size() && text[i] != ' ' && text[i] != '\t') ++i;
  const auto word = text.substr(start, i - start);
  text.remove_prefix(i);
  return word;
}

}  // namespace

json parse_systemctl_units(std::string_view text) {
  json units = json::array();
  for (auto line : split_lines(text)) {
    if (units.size() == kMaxUnits) break;
    auto name = next_word(line);
    if (name == "\xe2\x97\x8f" || name == "*") name = next_word(line);  // "●"
    const auto load = next_word(line);
    const auto active = next_word(line);
    const auto sub = next_word(line);
    if (name.empty() || sub.empty()) continue;
    units.push_back(json{{"name", std::string(name)},
                         {"load", std::string(load)},
                         {"active", std::string(active)},
                         {"sub", std::string(sub)},
                         {"description", std::string(trim(line))}});
  }
  auto& list = units.get_ref<json::array_t&>();
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return a["name"].get_ref<const std::string&>() < b["name"].get_ref<const std::string&>();
  });
  return units;
}

json collect_services(const CollectContext& context) {
  json section = json::object();
  json counts = json::object();
  // sd_booted(3): systemd creates this directory when it runs as PID 1.
  std::error_code ec;
  if (!std::filesystem::is_directory(under_root(context.root, "/run/systemd/system"), ec)) {
    const std::string reason =
        "not present: systemd is not the init system (no /run/systemd/system)";
    mark_unknown(section, "manager", reason);
    mark_unknown(section, "units", reason);
    mark_unknown(section, "failed", reason);
    mark_unknown(section, "counts", reason);
    return section;
  }
  section["manager"] = "systemd";

  // The two runs are independent: together they take one probe's time, not two.
  const auto [failed_run, units_run] = run_probes_together(
      context,
      {"systemctl", "list-units", "--state=failed", "--plain", "--no-legend", "--no-pager"},
      {"systemctl", "list-units", "--all", "--type=service", "--plain", "--no-legend",
       "--no-pager"});

  if (units_run.succeeded()) {
    auto units = parse_systemctl_units(units_run.out);
    std::size_t active = 0;
    for (const auto& unit : units) active += unit["active"] == "active" ? 1 : 0;
    counts["total"] = units.size();
    counts["active"] = active;
    section["units"] = std::move(units);
  } else {
    const auto reason = probe_reason(units_run, "systemctl");
    mark_unknown(section, "units", reason);
    mark_unknown(counts, "total", reason);
    mark_unknown(counts, "active", reason);
  }

  if (failed_run.succeeded()) {
    json names = json::array();
    for (const auto& unit : parse_systemctl_units(failed_run.out)) names.push_back(unit["name"]);
    counts["failed"] = names.size();
    section["failed"] = std::move(names);
  } else {
    const auto reason = probe_reason(failed_run, "systemctl");
    mark_unknown(section, "failed", reason);
    mark_unknown(counts, "failed", reason);
  }
  section["counts"] = std::move(counts);
  return section;
}

}  // namespace tether::agent::diag
