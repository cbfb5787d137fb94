#include "helpdesk/snapshot_diff.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include "fleet/package_changes.hpp"
#include "helpdesk/json_text.hpp"
#include "tether/protocol/json_access.hpp"
#include "tether/protocol/size_text.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::relay::helpdesk {

using json = nlohmann::json;

namespace {

constexpr std::size_t kMaxListed = 200;
constexpr std::size_t kMaxProcessNames = 50;
constexpr std::size_t kMaxProblems = 20;
// Agents list at most 10,000 processes or units; anything far beyond that is not a real
// snapshot, and reading it all would only cost time.
constexpr std::size_t kMaxInputItems = 100000;
constexpr std::size_t kMaxSummary = 300;
constexpr std::size_t kMaxName = 200;
constexpr std::size_t kMaxSummaryName = 40;
constexpr std::int64_t kMiB = 1024 * 1024;
// Disks and memory move all the time (logs, caches); the one-line summary names only changes
// a person would care about, the lists keep everything of 1 MiB or more.
constexpr std::int64_t kStorageSummaryMin = 100 * kMiB;
constexpr std::int64_t kMemorySummaryMin = 512 * kMiB;
// The kernel's command name (comm) is at most 15 bytes.
constexpr std::size_t kCommLength = 15;

// ---- Text from agents made safe to show

// Characters (code points) of well-formed UTF-8; a malformed byte counts as one.
std::size_t utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    i += std::max<std::size_t>(1, protocol::utf8_sequence_length(text, i));
  }
  return count;
}

// ---- Tolerant readers: every accessor answers "absent" for a missing or mistyped field.

const json* object_at(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_object() ? value : nullptr;
}

const json* array_at(const json& object, std::string_view key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_array() ? value : nullptr;
}

// A string field as it is (no clipping): for keys and comparisons.
std::optional<std::string> raw_text(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

// A string field made safe to show: one line, valid UTF-8, at most `max` characters.
std::optional<std::string> text(const json& object, std::string_view key,
                                std::size_t max = kMaxName) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return clip_text(value->get_ref<const std::string&>(), max);
}

std::optional<std::int64_t> whole_number(const json& value) {
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(n);
  }
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float()) {
    const double d = value.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 9.0e18) return std::nullopt;
    return static_cast<std::int64_t>(std::llround(d));
  }
  return std::nullopt;
}

// A byte count: a non-negative number.
std::optional<std::int64_t> bytes_at(const json& object, std::string_view key) {
  const json* value = member(object, key);
  if (value == nullptr) return std::nullopt;
  auto n = whole_number(*value);
  if (!n || *n < 0) return std::nullopt;
  return n;
}

// At most kMaxInputItems elements of an array; nothing when it is not one.
template <typename Visit>
void for_each_item(const json* array, Visit&& visit) {
  if (array == nullptr || !array->is_array()) return;
  std::size_t seen = 0;
  for (const auto& item : *array) {
    if (++seen > kMaxInputItems) break;
    visit(item);
  }
}

// The size of a change, without its sign (the words around it say which way it went).
std::string size_text(std::int64_t bytes) {
  return protocol::size_text(static_cast<std::uint64_t>(bytes < 0 ? -bytes : bytes));
}

std::string plural(std::size_t n, std::string_view one, std::string_view many) {
  return std::to_string(n) + " " + std::string(n == 1 ? one : many);
}

// Keeps the first kMaxListed entries of a sorted list; says whether any were cut.
json capped(std::vector<json> items, bool& truncated) {
  if (items.size() > kMaxListed) {
    items.resize(kMaxListed);
    truncated = true;
  }
  return json(std::move(items));
}

json capped_names(const std::vector<std::string>& names, std::size_t max, bool& truncated) {
  json out = json::array();
  for (const auto& name : names) {
    if (out.size() == max) {
      truncated = true;
      break;
    }
    out.push_back(clip_text(name, kMaxName));
  }
  return out;
}

// ---- Findings

int severity_rank(std::string_view severity) {
  if (severity == "critical") return 3;
  if (severity == "warning") return 2;
  if (severity == "info") return 1;
  if (severity == "ok") return 0;
  return -1;
}

// Some checks report once per filesystem, disk, battery, interface, array or sensor under
// the same id (docs/diagnostics.md); the evidence names which one.
std::string finding_subject(const json& finding) {
  const json* evidence = object_at(finding, "evidence");
  if (evidence == nullptr) return {};
  for (const char* key : {"mount_point", "disk", "battery", "interface", "name"}) {
    if (auto value = raw_text(*evidence, key)) return *value;
  }
  auto chip = raw_text(*evidence, "chip");
  auto label = raw_text(*evidence, "label");
  if (chip || label) return chip.value_or("") + (chip && label ? " " : "") + label.value_or("");
  return {};
}

struct Problem {
  std::string id;
  std::string subject;
  std::string severity;
  std::string summary;
};

struct FindingsView {
  bool present = false;                     // `findings` is a list
  std::map<std::string, Problem> problems;  // critical/warning, by id + subject
  std::set<std::string> ids;                // every finding id reported, any severity
  std::set<std::string> skipped;            // checks_skipped ids
};

std::string finding_key(const std::string& id, const std::string& subject) {
  return id + '\n' + subject;
}

FindingsView findings_view(const json& snapshot) {
  FindingsView view;
  const json* findings = array_at(snapshot, "findings");
  if (findings == nullptr) return view;
  view.present = true;
  for_each_item(findings, [&](const json& finding) {
    auto id = raw_text(finding, "id");
    auto severity = raw_text(finding, "severity");
    if (!id || !severity || severity_rank(*severity) < 0) return;
    view.ids.insert(*id);
    if (severity_rank(*severity) < 2) return;
    Problem problem{*id, finding_subject(finding), *severity,
                    text(finding, "summary").value_or("")};
    auto key = finding_key(problem.id, problem.subject);
    auto [it, inserted] = view.problems.try_emplace(key, problem);
    if (!inserted && severity_rank(problem.severity) > severity_rank(it->second.severity)) {
      it->second = std::move(problem);
    }
  });
  for_each_item(array_at(snapshot, "checks_skipped"), [&](const json& skipped) {
    if (auto id = raw_text(skipped, "id")) view.skipped.insert(*id);
  });
  return view;
}

json problem_json(const Problem& problem) {
  json out = {{"id", clip_text(problem.id, kMaxName)},
              {"severity", problem.severity},
              {"summary", problem.summary}};
  if (!problem.subject.empty()) out["subject"] = clip_text(problem.subject, kMaxName);
  return out;
}

struct FindingsDiff {
  json section;
  std::size_t cleared = 0, appeared = 0, worse = 0, better = 0, unchecked = 0;
};

FindingsDiff diff_findings(const json& before, const json& after, bool& truncated) {
  const auto a = findings_view(before);
  const auto b = findings_view(after);
  FindingsDiff diff;
  std::vector<json> cleared, appeared, remaining, unchecked;
  if (a.present && b.present) {
    for (const auto& [key, problem] : a.problems) {
      auto now = b.problems.find(key);
      if (now != b.problems.end()) {
        json entry = problem_json(now->second);
        const int was = severity_rank(problem.severity);
        const int is = severity_rank(now->second.severity);
        if (was != is) {
          entry["severity_before"] = problem.severity;
          (is > was ? diff.worse : diff.better) += 1;
        }
        remaining.push_back(std::move(entry));
      } else if (b.ids.count(problem.id) == 0 && b.skipped.count(problem.id) != 0) {
        // The check could not run the second time: that is not a fix.
        unchecked.push_back(problem_json(problem));
      } else {
        cleared.push_back(problem_json(problem));
      }
    }
    for (const auto& [key, problem] : b.problems) {
      if (a.problems.count(key) == 0) appeared.push_back(problem_json(problem));
    }
  }
  diff.cleared = cleared.size();
  diff.appeared = appeared.size();
  diff.unchecked = unchecked.size();
  bool cut = false;
  diff.section = {{"cleared", capped(std::move(cleared), cut)},
                  {"appeared", capped(std::move(appeared), cut)},
                  {"remaining", capped(std::move(remaining), cut)},
                  {"not_rechecked", capped(std::move(unchecked), cut)}};
  if (!(a.present && b.present)) diff.section["compared"] = false;
  if (cut) diff.section["truncated"] = truncated = true;
  return diff;
}

// ---- System: reboot and kernel

struct SystemDiff {
  json section;  // null when the boot times are unknown
  bool rebooted = false;
  std::optional<std::pair<std::string, std::string>> kernel;
};

SystemDiff diff_system(const json& before, const json& after) {
  SystemDiff diff;
  const json* a = object_at(before, "system");
  const json* b = object_at(after, "system");
  if (a == nullptr || b == nullptr) return diff;
  auto boot_a = text(*a, "boot_time", 64);
  auto boot_b = text(*b, "boot_time", 64);
  auto kernel_a = text(*a, "kernel", 100);
  auto kernel_b = text(*b, "kernel", 100);
  if (kernel_a && kernel_b && *kernel_a != *kernel_b) diff.kernel = {{*kernel_a, *kernel_b}};
  if (!boot_a || !boot_b) {
    if (diff.kernel) diff.section = {{"kernel", {{"from", *kernel_a}, {"to", *kernel_b}}}};
    return diff;
  }
  diff.rebooted = *boot_a != *boot_b;
  diff.section = {
      {"rebooted", diff.rebooted}, {"boot_time_before", *boot_a}, {"boot_time_after", *boot_b}};
  if (diff.kernel) diff.section["kernel"] = {{"from", *kernel_a}, {"to", *kernel_b}};
  return diff;
}

// ---- Services

struct ProcessId {
  std::int64_t pid = 0;
  std::string start_time;
  bool child_of_init = false;
  bool operator==(const ProcessId& other) const {
    return pid == other.pid && start_time == other.start_time;
  }
};

// Per kernel command name, the process that most likely is a service's main process: a
// child of PID 1 (systemd) first, then the oldest, then the lowest pid.
std::optional<std::map<std::string, ProcessId>> main_processes(const json& snapshot) {
  const json* processes = object_at(snapshot, "processes");
  const json* list = processes != nullptr ? array_at(*processes, "list") : nullptr;
  if (list == nullptr || list->empty()) return std::nullopt;
  std::map<std::string, ProcessId> out;
  for_each_item(list, [&](const json& process) {
    auto name = raw_text(process, "name");
    const json* pid_value = member(process, "pid");
    auto pid = pid_value != nullptr ? whole_number(*pid_value) : std::nullopt;
    if (!name || !pid) return;
    const json* ppid_value = member(process, "ppid");
    auto ppid = ppid_value != nullptr ? whole_number(*ppid_value) : std::nullopt;
    ProcessId id{*pid, raw_text(process, "start_time").value_or(""), ppid == 1};
    auto [it, inserted] = out.try_emplace(*name, id);
    if (inserted) return;
    const auto& old = it->second;
    const bool better =
        id.child_of_init != old.child_of_init
            ? id.child_of_init
            : (id.start_time != old.start_time ? id.start_time < old.start_time : id.pid < old.pid);
    if (better) it->second = id;
  });
  return out;
}

// The service's main process by name: "nginx.service" runs "nginx", "ssh.service" "sshd",
// "cups.service" "cupsd"; names are cut to the kernel's 15 bytes.
std::optional<std::pair<ProcessId, ProcessId>> service_processes(
    const std::string& unit, const std::map<std::string, ProcessId>& before,
    const std::map<std::string, ProcessId>& after) {
  std::string base = unit;
  if (base.size() > 8 && base.ends_with(".service")) base.resize(base.size() - 8);
  if (auto at = base.find('@'); at != std::string::npos) return std::nullopt;  // templates
  for (std::string candidate : {base, base + "d"}) {
    if (candidate.size() > kCommLength) candidate.resize(kCommLength);
    auto a = before.find(candidate);
    auto b = after.find(candidate);
    if (a != before.end() && b != after.end()) return std::pair{a->second, b->second};
  }
  return std::nullopt;
}

struct UnitsView {
  std::optional<std::map<std::string, std::string>> active;  // unit name → ACTIVE column
  std::optional<std::set<std::string>> failed;               // failed units of any type
};

UnitsView units_view(const json& snapshot) {
  UnitsView view;
  const json* services = object_at(snapshot, "services");
  if (services == nullptr) return view;
  if (const json* units = array_at(*services, "units")) {
    view.active.emplace();
    for_each_item(units, [&](const json& unit) {
      auto name = raw_text(unit, "name");
      if (!name) return;
      auto active = raw_text(unit, "active").value_or("");
      (*view.active)[*name] = active;
    });
  }
  if (const json* failed = array_at(*services, "failed")) {
    view.failed.emplace();
    for_each_item(failed, [&](const json& name) {
      if (name.is_string()) view.failed->insert(name.get<std::string>());
    });
  }
  if (view.failed && view.active) {
    for (const auto& [name, active] : *view.active) {
      if (active == "failed") view.failed->insert(name);
    }
  }
  return view;
}

struct ServicesDiff {
  json section;
  std::vector<std::string> restarted, started, stopped, failed, recovered;
};

ServicesDiff diff_services(const json& before, const json& after, bool rebooted, bool& truncated) {
  ServicesDiff diff;
  const auto a = units_view(before);
  const auto b = units_view(after);
  if (a.failed && b.failed) {
    std::set_difference(b.failed->begin(), b.failed->end(), a.failed->begin(), a.failed->end(),
                        std::back_inserter(diff.failed));
    std::set_difference(a.failed->begin(), a.failed->end(), b.failed->begin(), b.failed->end(),
                        std::back_inserter(diff.recovered));
  }
  const auto is_in = [](const std::vector<std::string>& sorted, const std::string& name) {
    return std::binary_search(sorted.begin(), sorted.end(), name);
  };
  if (a.active && b.active) {
    std::set<std::string> names;
    for (const auto& [name, state] : *a.active) names.insert(name);
    for (const auto& [name, state] : *b.active) names.insert(name);
    const auto active_in = [](const std::map<std::string, std::string>& units,
                              const std::string& name) {
      auto it = units.find(name);
      return it != units.end() && it->second == "active";
    };
    // After a reboot every service started anew: naming them all as restarted says nothing.
    std::optional<std::map<std::string, ProcessId>> procs_a, procs_b;
    if (!rebooted) {
      procs_a = main_processes(before);
      procs_b = main_processes(after);
    }
    for (const auto& name : names) {
      const bool was = active_in(*a.active, name);
      const bool is = active_in(*b.active, name);
      if (!was && is && !is_in(diff.recovered, name)) {
        diff.started.push_back(name);
      } else if (was && !is && !is_in(diff.failed, name)) {
        diff.stopped.push_back(name);
      } else if (was && is && procs_a && procs_b) {
        auto pair = service_processes(name, *procs_a, *procs_b);
        if (pair && !(pair->first == pair->second)) diff.restarted.push_back(name);
      }
    }
  }
  bool cut = false;
  diff.section = {{"restarted", capped_names(diff.restarted, kMaxListed, cut)},
                  {"started", capped_names(diff.started, kMaxListed, cut)},
                  {"stopped", capped_names(diff.stopped, kMaxListed, cut)},
                  {"failed", capped_names(diff.failed, kMaxListed, cut)},
                  {"recovered", capped_names(diff.recovered, kMaxListed, cut)}};
  if (cut) diff.section["truncated"] = truncated = true;
  return diff;
}

// ---- Packages

using fleet::Package;

struct PackagesDiff {
  json section;
  std::vector<std::pair<Package, Package>> upgraded, downgraded;
  std::vector<Package> installed, removed;
};

PackagesDiff diff_packages(const json& before, const json& after, bool& truncated) {
  PackagesDiff diff;
  const auto list = [](const json& snapshot) -> const json& {
    const json* software = object_at(snapshot, "software");
    const json* packages = software != nullptr ? array_at(*software, "packages") : nullptr;
    return packages != nullptr ? *packages : protocol::json_null();
  };
  if (auto changes = fleet::diff_package_lists(list(before), list(after), kMaxInputItems)) {
    diff.installed = std::move(changes->installed);
    diff.removed = std::move(changes->removed);
    diff.upgraded = std::move(changes->upgraded);
    diff.downgraded = std::move(changes->downgraded);
  }
  std::vector<json> installed, removed, upgraded, downgraded;
  for (const auto& p : diff.installed) installed.push_back(fleet::package_json(p));
  for (const auto& p : diff.removed) removed.push_back(fleet::package_json(p));
  for (const auto& [from, to] : diff.upgraded)
    upgraded.push_back(fleet::package_change_json(from, to));
  for (const auto& [from, to] : diff.downgraded)
    downgraded.push_back(fleet::package_change_json(from, to));
  bool cut = false;
  diff.section = {{"installed", capped(std::move(installed), cut)},
                  {"removed", capped(std::move(removed), cut)},
                  {"upgraded", capped(std::move(upgraded), cut)},
                  {"downgraded", capped(std::move(downgraded), cut)}};
  if (cut) diff.section["truncated"] = truncated = true;
  return diff;
}

// Pending updates, when the count changed.
json diff_updates(const json& before, const json& after) {
  const auto pending = [](const json& snapshot) -> const json* {
    const json* software = object_at(snapshot, "software");
    return software != nullptr ? object_at(*software, "pending_updates") : nullptr;
  };
  const json* a = pending(before);
  const json* b = pending(after);
  if (a == nullptr || b == nullptr) return nullptr;
  auto total_a = bytes_at(*a, "total"), total_b = bytes_at(*b, "total");
  auto security_a = bytes_at(*a, "security"), security_b = bytes_at(*b, "security");
  if (!total_a || !total_b || (*total_a == *total_b && security_a == security_b)) return nullptr;
  json out = {{"pending_before", *total_a}, {"pending_after", *total_b}};
  out["security_before"] = security_a ? json(*security_a) : json(nullptr);
  out["security_after"] = security_b ? json(*security_b) : json(nullptr);
  return out;
}

// ---- Storage and memory

// Free space as a user sees it (df's Avail: available_bytes), else the filesystem's free
// blocks.
std::optional<std::map<std::string, std::int64_t>> free_space(const json& snapshot) {
  const json* storage = object_at(snapshot, "storage");
  const json* list = storage != nullptr ? array_at(*storage, "filesystems") : nullptr;
  if (list == nullptr) return std::nullopt;
  std::map<std::string, std::int64_t> out;
  for_each_item(list, [&](const json& fs) {
    auto mount = raw_text(fs, "mount_point");
    if (!mount) return;
    auto free = bytes_at(fs, "available_bytes");
    if (!free) free = bytes_at(fs, "free_bytes");
    if (free) out.emplace(*mount, *free);
  });
  return out;
}

struct StorageDiff {
  json changes = json::array();
  json filesystems;                                         // {mounted, unmounted} or null
  std::vector<std::pair<std::string, std::int64_t>> freed;  // mount, bytes (negative: used)
  std::vector<std::string> mounted, unmounted;
};

StorageDiff diff_storage(const json& before, const json& after, bool& truncated) {
  StorageDiff diff;
  const auto a = free_space(before);
  const auto b = free_space(after);
  if (!a || !b) return diff;
  std::vector<json> changes;
  for (const auto& [mount, was] : *a) {
    auto now = b->find(mount);
    if (now == b->end()) {
      diff.unmounted.push_back(mount);
      continue;
    }
    const std::int64_t freed = now->second - was;
    if (freed >= kMiB || freed <= -kMiB) {
      changes.push_back({{"mount", clip_text(mount, kMaxName)},
                         {"free_bytes_before", was},
                         {"free_bytes_after", now->second},
                         {"freed_bytes", freed}});
      diff.freed.emplace_back(mount, freed);
    }
  }
  for (const auto& [mount, now] : *b) {
    if (a->count(mount) == 0) diff.mounted.push_back(mount);
  }
  bool cut = false;
  diff.changes = capped(std::move(changes), cut);
  diff.filesystems = {{"mounted", capped_names(diff.mounted, kMaxListed, cut)},
                      {"unmounted", capped_names(diff.unmounted, kMaxListed, cut)}};
  if (cut) truncated = true;
  return diff;
}

struct MemoryDiff {
  json section;
  std::int64_t change = 0;
  bool notable = false;
};

MemoryDiff diff_memory(const json& before, const json& after) {
  MemoryDiff diff;
  const json* a = object_at(before, "memory");
  const json* b = object_at(after, "memory");
  if (a == nullptr || b == nullptr) return diff;
  auto was = bytes_at(*a, "available_bytes");
  auto is = bytes_at(*b, "available_bytes");
  if (!was || !is) return diff;
  diff.change = *is - *was;
  diff.section = {{"available_bytes_before", *was}, {"available_bytes_after", *is}};
  auto total = bytes_at(*b, "total_bytes");
  if (total) diff.section["total_bytes"] = *total;
  // Notable: at least 512 MiB and a tenth of the memory.
  const std::int64_t magnitude = diff.change < 0 ? -diff.change : diff.change;
  diff.notable = magnitude >= kMemorySummaryMin && (!total || magnitude * 10 >= *total);
  return diff;
}

// ---- Processes

std::optional<std::set<std::string>> process_names(const json& snapshot) {
  const json* processes = object_at(snapshot, "processes");
  const json* list = processes != nullptr ? array_at(*processes, "list") : nullptr;
  if (list == nullptr || list->empty()) return std::nullopt;
  std::set<std::string> names;
  for_each_item(list, [&](const json& process) {
    // Kernel threads (empty command line) come and go by the second: not news.
    auto command = raw_text(process, "command");
    auto name = raw_text(process, "name");
    if (name && !name->empty() && command && !command->empty()) names.insert(*name);
  });
  return names;
}

json diff_processes(const json& before, const json& after) {
  const auto a = process_names(before);
  const auto b = process_names(after);
  std::vector<std::string> started, ended;
  if (a && b) {
    std::set_difference(b->begin(), b->end(), a->begin(), a->end(), std::back_inserter(started));
    std::set_difference(a->begin(), a->end(), b->begin(), b->end(), std::back_inserter(ended));
  }
  bool cut = false;
  json out = {{"started", capped_names(started, kMaxProcessNames, cut)},
              {"ended", capped_names(ended, kMaxProcessNames, cut)}};
  if (cut) out["truncated"] = true;
  return out;
}

// ---- The one-line summary

std::string short_name(std::string name) {
  if (name.size() > 8 && name.ends_with(".service")) name.resize(name.size() - 8);
  return clip_text(name, kMaxSummaryName);
}

// "nginx restarted", "nginx, cups restarted", "4 services restarted".
std::string names_part(const std::vector<std::string>& names, std::string_view verb) {
  if (names.size() > 3)
    return plural(names.size(), "service", "services") + " " + std::string(verb);
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + short_name(name);
  return out + " " + std::string(verb);
}

std::string findings_part(const FindingsDiff& f) {
  std::string out;
  const auto add = [&](std::size_t n, std::string_view what) {
    if (n == 0) return;
    out += out.empty() ? plural(n, "finding", "findings") + " " + std::string(what)
                       : ", " + std::to_string(n) + " " + std::string(what);
  };
  add(f.cleared, "cleared");
  add(f.appeared, "appeared");
  add(f.worse, "got worse");
  add(f.better, "improved");
  add(f.unchecked, "not re-checked");
  return out;
}

std::string packages_part(const std::vector<std::pair<Package, Package>>& changes,
                          std::string_view verb) {
  const auto one = [](const std::pair<Package, Package>& c) {
    return clip_text(c.second.name, kMaxSummaryName) + " " + clip_text(c.first.version, 30) +
           " → " + clip_text(c.second.version, 30);
  };
  if (changes.size() <= 2) {
    std::string out;
    for (const auto& c : changes) out += (out.empty() ? "" : ", ") + one(c);
    return out;
  }
  return plural(changes.size(), "package", "packages") + " " + std::string(verb) + " (" +
         one(changes.front()) + ", …)";
}

std::string package_names_part(const std::vector<Package>& packages, std::string_view verb) {
  std::string out = plural(packages.size(), "package", "packages") + " " + std::string(verb);
  if (packages.size() <= 3) {
    out += " (";
    for (std::size_t i = 0; i < packages.size(); ++i) {
      out += (i == 0 ? "" : ", ") + clip_text(packages[i].name, kMaxSummaryName);
    }
    out += ")";
  }
  return out;
}

std::string storage_part(const std::string& mount, std::int64_t freed) {
  return size_text(freed) + (freed >= 0 ? " freed on " : " used on ") +
         clip_text(mount, kMaxSummaryName);
}

// Joins the parts with "; ", dropping the last ones (for "…") when over kMaxSummary.
std::string join_summary(const std::vector<std::string>& parts) {
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    std::string next = out.empty() ? parts[i] : out + "; " + parts[i];
    const bool last = i + 1 == parts.size();
    // Leave room for "; …" unless this is the last part.
    if (utf8_length(next) + (last ? 0 : 3) > kMaxSummary) {
      return out.empty() ? clip_text(parts[i], kMaxSummary) : out + "; …";
    }
    out = std::move(next);
  }
  return out;
}

}  // namespace

json diff_snapshots(const json& before, const json& after) {
  bool truncated = false;
  const auto system = diff_system(before, after);
  const auto findings = diff_findings(before, after, truncated);
  const auto services = diff_services(before, after, system.rebooted, truncated);
  const auto packages = diff_packages(before, after, truncated);
  const auto updates = diff_updates(before, after);
  const auto storage = diff_storage(before, after, truncated);
  const auto memory = diff_memory(before, after);
  auto processes = diff_processes(before, after);

  std::vector<std::string> parts;
  if (system.rebooted) parts.emplace_back("PC restarted");
  if (system.kernel) {
    parts.push_back("kernel " + system.kernel->first + " → " + system.kernel->second);
  }
  if (auto f = findings_part(findings); !f.empty()) parts.push_back(std::move(f));
  if (!services.restarted.empty()) parts.push_back(names_part(services.restarted, "restarted"));
  if (!services.recovered.empty()) parts.push_back(names_part(services.recovered, "recovered"));
  if (!services.failed.empty()) parts.push_back(names_part(services.failed, "failed"));
  if (!services.started.empty()) parts.push_back(names_part(services.started, "started"));
  if (!services.stopped.empty()) parts.push_back(names_part(services.stopped, "stopped"));
  if (!packages.upgraded.empty()) parts.push_back(packages_part(packages.upgraded, "upgraded"));
  if (!packages.downgraded.empty()) {
    parts.push_back(packages_part(packages.downgraded, "downgraded") +
                    (packages.downgraded.size() <= 2 ? " (downgraded)" : ""));
  }
  if (!packages.installed.empty()) {
    parts.push_back(package_names_part(packages.installed, "installed"));
  }
  if (!packages.removed.empty()) parts.push_back(package_names_part(packages.removed, "removed"));
  if (updates.is_object()) {
    std::string part = "pending updates " +
                       std::to_string(updates["pending_before"].get<long long>()) + " → " +
                       std::to_string(updates["pending_after"].get<long long>());
    parts.push_back(std::move(part));
  }
  for (const auto& mount : storage.mounted) {
    if (parts.size() < 32) parts.push_back(clip_text(mount, kMaxSummaryName) + " mounted");
  }
  for (const auto& mount : storage.unmounted) {
    if (parts.size() < 32) parts.push_back(clip_text(mount, kMaxSummaryName) + " unmounted");
  }
  // Disk usage drifts all the time: small changes are named only when nothing else changed.
  std::vector<std::pair<std::string, std::int64_t>> big, small;
  for (const auto& change : storage.freed) {
    (std::llabs(change.second) >= kStorageSummaryMin ? big : small).push_back(change);
  }
  const auto by_size = [](const auto& x, const auto& y) {
    return std::llabs(x.second) != std::llabs(y.second)
               ? std::llabs(x.second) > std::llabs(y.second)
               : x.first < y.first;
  };
  std::sort(big.begin(), big.end(), by_size);
  std::sort(small.begin(), small.end(), by_size);
  for (const auto& [mount, freed] : big) {
    if (parts.size() < 32) parts.push_back(storage_part(mount, freed));
  }
  if (memory.notable) {
    parts.push_back(size_text(memory.change) +
                    (memory.change >= 0 ? " more memory available" : " less memory available"));
  }
  if (parts.empty()) {
    for (const auto& [mount, freed] : small) {
      if (parts.size() < 32) parts.push_back(storage_part(mount, freed));
    }
  }

  json out = {{"findings", findings.section},
              {"system", system.section},
              {"services", services.section},
              {"packages", packages.section},
              {"updates", updates},
              {"storage", storage.changes},
              {"filesystems", storage.filesystems},
              {"memory", memory.section},
              {"processes", std::move(processes)},
              {"summary", parts.empty() ? std::string("no changes found") : join_summary(parts)}};
  if (truncated || out["processes"].contains("truncated")) out["truncated"] = true;
  return out;
}

json findings_digest(const json& snapshot) {
  json counts = {{"critical", 0}, {"warning", 0}, {"info", 0}, {"ok", 0}};
  json problems = json::array();
  for_each_item(array_at(snapshot, "findings"), [&](const json& finding) {
    auto severity = raw_text(finding, "severity");
    if (!severity || !counts.contains(*severity)) return;
    counts[*severity] = counts[*severity].get<int>() + 1;
    if ((*severity == "critical" || *severity == "warning") && problems.size() < kMaxProblems) {
      problems.push_back({{"id", text(finding, "id").value_or("")},
                          {"severity", *severity},
                          {"summary", text(finding, "summary").value_or("")}});
    }
  });
  return {{"counts", counts}, {"problems", problems}};
}

std::string snapshot_summary(const json& snapshot, const json& digest) {
  std::string summary = "Diagnostics snapshot";
  if (const json* system = object_at(snapshot, "system")) {
    if (auto host = text(*system, "hostname")) summary += " of " + *host;
    if (const json* os = object_at(*system, "os")) {
      if (auto pretty = text(*os, "pretty_name")) summary += " (" + *pretty + ")";
    }
  }
  if (member(snapshot, "findings") == nullptr) {
    std::size_t sections = 0;
    if (snapshot.is_object()) {
      for (const auto& [key, value] : snapshot.items()) sections += value.is_object() ? 1 : 0;
    }
    return summary + ", " + std::to_string(sections) + " sections";
  }
  const json* counts = object_at(digest, "counts");
  const auto count = [&](const char* key) -> long long {
    const json* value = counts != nullptr ? member(*counts, key) : nullptr;
    auto n = value != nullptr ? whole_number(*value) : std::nullopt;
    return n.value_or(0);
  };
  const long long critical = count("critical");
  const long long warning = count("warning");
  if (critical == 0 && warning == 0) {
    return summary + ": no problems found (" + std::to_string(count("ok")) + " checks passed)";
  }
  summary += ": " + std::to_string(critical) + " critical, " + std::to_string(warning) +
             (warning == 1 ? " warning" : " warnings");
  const json* problems = array_at(digest, "problems");
  const std::size_t listed = problems != nullptr ? problems->size() : 0;
  for (std::size_t i = 0; i < listed && i < 3; ++i) {
    summary += (i == 0 ? " — " : "; ") + text((*problems)[i], "summary").value_or("");
  }
  if (listed > 3) summary += "; …";
  return summary;
}

}  // namespace tether::relay::helpdesk
