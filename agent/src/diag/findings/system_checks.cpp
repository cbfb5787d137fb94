// Checks over system (load, clock, pending reboot, uptime), identity and firmware.

#include <algorithm>
#include <cmath>

#include "diag/findings/checks.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag::findings {

void check_load(Check& check) {
  const json* load = check.find_object("system.load");
  if (load == nullptr) return;
  const auto load15 = number(*load, "15m");
  if (!load15) {
    check.note_missing(why_missing(*load, "15m", "system.load"));
    return;
  }
  std::optional<double> threads = check.find_number("cpu.threads");
  if (!threads) {
    const json* cpu = member(check.snapshot(), "cpu");
    if (cpu != nullptr) threads = number(*cpu, "logical_cores");
  }
  if (!threads || *threads <= 0) return;
  // Like Netdata, a single-CPU machine is judged as two: a load of 1 there is normal.
  const double judged_threads = std::max(*threads, 2.0);
  const double per_thread = *load15 / judged_threads;
  const Thresholds& t = check.limits();
  json evidence = {{"load", *load}, {"threads", *threads}, {"per_thread", per_thread}};
  json top = json::array();
  if (const json* processes = member(check.snapshot(), "processes")) {
    if (const json* list = array(*processes, "top_cpu")) {
      for (const json& process : *list) {
        if (top.size() == 3) break;
        const auto name = text(process, "name");
        const auto pct = number(process, "cpu_pct");
        if (name && pct) top.push_back({{"name", *name}, {"cpu_pct", *pct}});
      }
    }
  }
  if (!top.empty()) evidence["top_cpu"] = top;
  Severity severity = Severity::ok;
  if (per_thread > t.load_critical_per_thread) {
    severity = Severity::critical;
  } else if (per_thread > t.load_warning_per_thread) {
    severity = Severity::warning;
  }
  const std::string summary = "Load average " + format_number(*load15) + " over 15 minutes on " +
                              count_of(*threads, "CPU thread", "CPU threads") + " (" +
                              format_number(per_thread) + " per thread)";
  check.report(severity, summary,
               severity == Severity::ok
                   ? std::string("Nothing to do.")
                   : std::string("More work is queued than the CPUs can run, so everything is "
                                 "slow. See the top CPU consumers (evidence, processes.top_cpu); "
                                 "a high load with little CPU use means processes stuck waiting "
                                 "on a disk or network share."),
               std::move(evidence));
}

void check_clock_sync(Check& check) {
  const auto synchronized = check.find_bool("system.clock.synchronized");
  if (!synchronized) return;
  json evidence = *check.find_object("system.clock");
  if (*synchronized) {
    check.report(Severity::ok, "The clock is synchronised with a time source", "Nothing to do.",
                 std::move(evidence));
    return;
  }
  const json* system = member(check.snapshot(), "system");
  const auto uptime = number(*system, "uptime_seconds");
  const double grace = check.limits().clock_sync_grace_minutes * 60;
  if (uptime) evidence["uptime_seconds"] = *uptime;
  // NTP clients need a few minutes after boot to select a server; Netdata waits 17.
  if (uptime && *uptime <= grace) {
    check.report(Severity::info,
                 "The clock is not synchronised yet (booted " + format_duration(*uptime) + " ago)",
                 "Usually resolves itself within minutes of boot; check again later.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::warning, "The clock is not synchronised with a time source",
               "A wrong clock breaks HTTPS certificates, Kerberos/AD logins and log times. Turn "
               "on time sync (`timedatectl set-ntp true`) and check it "
               "(`timedatectl timesync-status` or `chronyc tracking`); a firewall may block UDP "
               "port 123.",
               std::move(evidence));
}

void check_clock_offset(Check& check) {
  const auto synchronized = check.find_bool("system.clock.synchronized");
  if (!synchronized) return;
  if (!*synchronized) {
    check.note_missing("the clock is not synchronised, so its offset is not measured");
    return;
  }
  const auto offset = check.find_number("system.clock.offset_ms");
  if (!offset) return;
  const double magnitude = std::fabs(*offset);
  const Thresholds& t = check.limits();
  Severity severity = Severity::ok;
  if (magnitude > t.clock_offset_critical_ms) {
    severity = Severity::critical;
  } else if (magnitude > t.clock_offset_warning_ms) {
    severity = Severity::warning;
  }
  const std::string amount = magnitude >= 1000 ? format_number(magnitude / 1000, 1) + " s"
                                               : format_number(magnitude, 1) + " ms";
  json evidence = {{"offset_ms", *offset}};
  if (auto max_error = check.find_number("system.clock.max_error_ms")) {
    evidence["max_error_ms"] = *max_error;
  }
  if (severity == Severity::ok) {
    check.report(Severity::ok, "The clock is within " + amount + " of its time source",
                 "Nothing to do.", std::move(evidence));
    return;
  }
  check.report(severity, "The clock is " + amount + " off its time source",
               "The time client is still catching up or its server is wrong. Check "
               "`timedatectl timesync-status` or `chronyc tracking`; force a step with "
               "`chronyc makestep` or by restarting the time service.",
               std::move(evidence));
}

void check_reboot_required(Check& check) {
  const auto required = check.find_bool("system.reboot_required.required");
  if (!required) return;
  const json& reboot = *check.find_object("system.reboot_required");
  json evidence = reboot;
  if (!*required) {
    check.report(Severity::ok, "No restart is pending", "Nothing to do.", std::move(evidence));
    return;
  }
  std::optional<double> age_seconds;
  if (auto since = text(reboot, "since"); since && check.now()) {
    if (auto at = protocol::parse_time(*since)) {
      age_seconds = std::chrono::duration<double>(*check.now() - *at).count();
      if (*age_seconds < 0) age_seconds = 0;
      evidence["pending_seconds"] = *age_seconds;
    }
  }
  std::vector<std::string> packages;
  if (const json* list = array(reboot, "packages")) {
    for (const json& package : *list) {
      if (package.is_string()) packages.push_back(package.get<std::string>());
    }
  }
  std::string summary = "A restart is pending";
  if (age_seconds) summary += " for " + format_duration(*age_seconds);
  if (!packages.empty()) summary += ", to finish updating " + join_names(packages);
  const bool long_pending =
      age_seconds && *age_seconds > check.limits().reboot_pending_warning_days * 86400;
  check.report(long_pending ? Severity::warning : Severity::info, std::move(summary),
               "Updated kernel or libraries take effect only after a restart; until then the "
               "old, possibly vulnerable, versions keep running. Restart the PC at a convenient "
               "time.",
               std::move(evidence));
}

void check_uptime(Check& check) {
  const auto uptime = check.find_number("system.uptime_seconds");
  if (!uptime) return;
  json evidence = {{"uptime_seconds", *uptime}};
  if (auto boot = check.find_text("system.boot_time")) evidence["boot_time"] = *boot;
  if (*uptime > check.limits().uptime_info_days * 86400) {
    check.report(Severity::info, "Up for " + format_duration(*uptime) + " without a restart",
                 "Kernel and library updates installed since then are not in effect, and slow "
                 "leaks build up. Schedule a restart.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::ok, "Up for " + format_duration(*uptime), "Nothing to do.",
               std::move(evidence));
}

void check_placeholders(Check& check) {
  const json* placeholders = check.find_array("identity.placeholders");
  if (placeholders == nullptr) return;
  std::vector<std::string> names;
  for (const json& name : *placeholders) {
    if (name.is_string()) names.push_back(name.get<std::string>());
  }
  if (names.empty()) {
    check.report(Severity::ok, "The firmware's identifiers are genuine (no placeholder values)",
                 "Nothing to do.", json::object());
    return;
  }
  check.report(Severity::info,
               "The firmware reports placeholder values for " + join_names(names, 6),
               "The maker left these identifiers unset (\"To Be Filled By O.E.M.\", all-zero "
               "UUID). Tether identifies the PC from its other identifiers, but inventories "
               "keyed on the serial number will confuse it with other PCs; set them with the "
               "maker's DMI tool if PCs are tracked by serial.",
               {{"placeholders", names}});
}

void check_secure_boot(Check& check) {
  const auto mode = check.find_text("firmware.boot_mode");
  if (!mode) return;
  if (*mode != "uefi") {
    check.note_missing("the PC boots in " + std::string(*mode) +
                       " mode, where secure boot does not exist");
    return;
  }
  const auto enabled = check.find_bool("firmware.secure_boot");
  if (!enabled) return;
  json evidence = {{"boot_mode", *mode}, {"secure_boot", *enabled}};
  if (*enabled) {
    check.report(Severity::ok, "Secure Boot is on", "Nothing to do.", std::move(evidence));
    return;
  }
  check.report(Severity::info, "Secure Boot is off on this UEFI PC",
               "Boot-level malware is not blocked. Turn Secure Boot on in the firmware setup if "
               "the company requires it, after checking that unsigned drivers (some NVIDIA or "
               "VirtualBox modules) are signed or not needed.",
               std::move(evidence));
}

}  // namespace tether::agent::diag::findings
