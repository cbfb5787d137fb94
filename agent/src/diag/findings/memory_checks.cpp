// Checks over the memory section (and the OOM kills the logs section saw).

#include <algorithm>

#include "diag/findings/checks.hpp"

namespace tether::agent::diag::findings {
namespace {

// The few biggest memory users, so the finding names the likely culprit.
json top_memory(const Check& check) {
  json top = json::array();
  const json* processes = member(check.snapshot(), "processes");
  const json* list = processes ? array(*processes, "top_memory") : nullptr;
  if (list == nullptr) return top;
  for (const json& process : *list) {
    if (top.size() == 3) break;
    const auto name = text(process, "name");
    const auto rss = number(process, "rss_bytes");
    if (name && rss) top.push_back({{"name", *name}, {"rss_bytes", *rss}});
  }
  return top;
}

std::string biggest_user(const json& top) {
  if (top.empty()) return "";
  return "; the biggest user is " + top[0]["name"].get<std::string>() + " (" +
         format_bytes(top[0]["rss_bytes"].get<double>()) + ")";
}

}  // namespace

void check_memory_available(Check& check) {
  const auto total = check.find_number("memory.total_bytes");
  const auto available = check.find_number("memory.available_bytes");
  if (!total || !available) return;
  const auto pct = percent(*available, *total);
  if (!pct) {
    check.note_missing("memory.total_bytes is 0");
    return;
  }
  const Thresholds& t = check.limits();
  json evidence = {
      {"total_bytes", *total}, {"available_bytes", *available}, {"available_pct", *pct}};
  const json top = top_memory(check);
  if (!top.empty()) evidence["top_memory"] = top;
  const std::string amounts = format_bytes(*available) + " of " + format_bytes(*total);
  if (*pct < t.memory_available_warning_pct) {
    const Severity severity =
        *pct < t.memory_available_critical_pct ? Severity::critical : Severity::warning;
    check.report(severity, "Only " + format_pct(*pct) + " of memory is available (" + amounts + ")",
                 "Programs will slow down from swapping or be killed by the kernel. Close the "
                 "biggest memory users" +
                     biggest_user(top) + ". If memory is short every day, the PC needs more RAM.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::ok, format_pct(*pct) + " of memory is available (" + amounts + ")",
               "Nothing to do.", std::move(evidence));
}

void check_swap(Check& check) {
  const auto total = check.find_number("memory.swap_total_bytes");
  if (!total) return;
  if (*total <= 0) {
    check.note_missing("no swap configured");
    return;
  }
  std::optional<double> pct = number(*member(check.snapshot(), "memory"), "swap_used_pct");
  const auto free = number(*member(check.snapshot(), "memory"), "swap_free_bytes");
  if (!pct && free) pct = percent(*total - *free, *total);
  if (!pct) {
    check.find_number("memory.swap_free_bytes");  // notes why
    return;
  }
  const Thresholds& t = check.limits();
  json evidence = {{"swap_total_bytes", *total}, {"swap_used_pct", *pct}};
  if (free) evidence["swap_free_bytes"] = *free;
  const std::string amounts =
      free ? " (" + format_bytes(*total - *free) + " of " + format_bytes(*total) + ")" : "";
  Severity severity = Severity::ok;
  if (*pct > t.swap_used_critical_pct) {
    severity = Severity::critical;
  } else if (*pct > t.swap_used_warning_pct) {
    severity = Severity::warning;
  }
  check.report(severity, "Swap is " + format_pct(*pct) + " used" + amounts,
               severity == Severity::ok
                   ? std::string("Nothing to do.")
                   : std::string("When swap is full too, the kernel kills programs. Close the "
                                 "biggest memory users; if this is usual, add RAM or a larger "
                                 "swap file."),
               std::move(evidence));
}

void check_oom_kills(Check& check) {
  std::optional<double> kills = check.find_number("memory.oom_kills_since_boot");
  const json* logs = member(check.snapshot(), "logs");
  const json* logged = logs ? array(*logs, "oom_kills") : nullptr;
  if (!kills && logged != nullptr) kills = static_cast<double>(logged->size());
  if (!kills) return;
  json evidence = {{"oom_kills_since_boot", *kills}};
  std::string last;
  if (logged != nullptr) {
    json recent = json::array();
    const std::size_t first = logged->size() > 5 ? logged->size() - 5 : 0;
    for (std::size_t i = first; i < logged->size(); ++i) {
      const json& kill = (*logged)[i];
      if (!kill.is_object()) continue;
      recent.push_back(kill);
      if (auto process = text(kill, "process")) last = std::string(*process);
    }
    evidence["recent"] = std::move(recent);
  }
  if (*kills > check.limits().oom_kills_warning) {
    std::string summary = "The kernel killed " + count_of(*kills, "program", "programs") +
                          " for lack of memory since boot";
    if (!last.empty()) summary += " (last: " + last + ")";
    check.report(Severity::warning, std::move(summary),
                 "Memory ran out. See which programs were killed (evidence) and which use the "
                 "most memory now; add RAM or swap, or limit the program that grows.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::ok, "No program was killed for lack of memory since boot",
               "Nothing to do.", std::move(evidence));
}

void check_memory_pressure(Check& check) {
  const json* pressure = check.find_object("memory.pressure");
  if (pressure == nullptr) return;
  const auto some = number(*pressure, "some_avg60");
  const auto full = number(*pressure, "full_avg60");
  if (!some && !full) {
    check.note_missing(why_missing(*pressure, "some_avg60", "memory.pressure"));
    return;
  }
  const Thresholds& t = check.limits();
  json evidence = json::object();
  for (const char* key : {"some_avg10", "some_avg60", "full_avg10", "full_avg60"}) {
    if (auto value = number(*pressure, key)) evidence[key] = *value;
  }
  if (full && *full > t.memory_pressure_full_critical_pct) {
    check.report(Severity::critical,
                 "All programs were stalled waiting for memory " + format_pct(*full) +
                     " of the last minute (thrashing)",
                 "The PC is thrashing: it spends its time moving memory to and from swap. Close "
                 "the biggest memory users now; the PC needs more RAM for this workload.",
                 std::move(evidence));
  } else if (some && *some > t.memory_pressure_some_warning_pct) {
    check.report(
        Severity::warning,
        "Programs were stalled waiting for memory " + format_pct(*some) + " of the last minute",
        "Memory is short enough to slow programs down. Close the biggest memory users; "
        "if it persists, add RAM.",
        std::move(evidence));
  } else {
    check.report(
        Severity::ok,
        "Memory pressure is low (" + format_pct(some.value_or(0)) + " of the last minute stalled)",
        "Nothing to do.", std::move(evidence));
  }
}

}  // namespace tether::agent::diag::findings
