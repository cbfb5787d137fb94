// Runs every health check over a snapshot and orders what they found. Each check is isolated:
// whatever one does wrong (a snapshot shaped in a way nobody foresaw) becomes a "skipped"
// entry for that check, never an exception at the caller.

#include "tether/agent/diag/findings.hpp"

#include <algorithm>

#include "diag/findings/checks.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace findings {

const std::vector<CheckDefinition>& all_checks() {
  static const std::vector<CheckDefinition> kChecks = {
      {"battery.charge", check_battery_charge},
      {"battery.wear", check_battery_wear},
      {"clock.offset", check_clock_offset},
      {"clock.synchronized", check_clock_sync},
      {"cpu.load", check_load},
      {"cpu.temperature", check_cpu_temperature},
      {"disk.bad_sectors", check_disk_bad_sectors},
      {"disk.boot_free", check_boot_free},
      {"disk.inodes", check_disk_inodes},
      {"disk.root_read_only", check_root_read_only},
      {"disk.smart", check_disk_smart},
      {"disk.space", check_disk_space},
      {"disk.var_free", check_var_free},
      {"disk.wear", check_disk_wear},
      {"firmware.secure_boot", check_secure_boot},
      {"identity.placeholders", check_placeholders},
      {"logs.crashes", check_crashes},
      {"logs.errors", check_journal_errors},
      {"memory.available", check_memory_available},
      {"memory.oom_kills", check_oom_kills},
      {"memory.pressure", check_memory_pressure},
      {"memory.swap", check_swap},
      {"network.dns", check_dns},
      {"network.drops", check_interface_drops},
      {"network.errors", check_interface_errors},
      {"network.gateway", check_gateway},
      {"raid.degraded", check_raid},
      {"sensors.temperature", check_temperature_limits},
      {"services.failed", check_failed_units},
      {"software.security_updates", check_security_updates},
      {"system.reboot_required", check_reboot_required},
      {"system.uptime", check_uptime},
  };
  return kChecks;
}

namespace {

int rank(const json& finding) {
  const auto& severity = finding["severity"].get_ref<const std::string&>();
  if (severity == "critical") return 0;
  if (severity == "warning") return 1;
  if (severity == "info") return 2;
  return 3;
}

std::optional<std::chrono::system_clock::time_point> collected_at(const json& snapshot) {
  const json* value = member(snapshot, "collected_at");
  if (value == nullptr || !value->is_string()) return std::nullopt;
  auto parsed = protocol::parse_time(value->get_ref<const std::string&>());
  if (!parsed) return std::nullopt;
  return *parsed;
}

}  // namespace
}  // namespace findings

nlohmann::json evaluate_findings(const nlohmann::json& snapshot, const Thresholds& thresholds) {
  using findings::json;
  json found = json::array();
  json skipped = json::array();
  try {
    const auto now = findings::collected_at(snapshot);
    std::vector<json> all;
    for (const auto& definition : findings::all_checks()) {
      findings::Check check(snapshot, thresholds, now);
      std::string failure;
      try {
        definition.run(check);
      } catch (const std::exception& error) {
        failure = std::string("internal error: ") + error.what();
      } catch (...) {
        failure = "internal error";
      }
      if (!failure.empty() || check.findings().empty()) {
        skipped.push_back(
            json{{"id", definition.id}, {"reason", failure.empty() ? check.reason() : failure}});
        continue;
      }
      for (auto& finding : check.findings()) {
        finding["id"] = definition.id;
        all.push_back(std::move(finding));
      }
    }
    // Checks run in id order and each keeps its objects' order, so a stable sort by severity
    // alone gives severity, then id, then object.
    std::stable_sort(all.begin(), all.end(), [](const json& a, const json& b) {
      return findings::rank(a) < findings::rank(b);
    });
    for (auto& finding : all) found.push_back(std::move(finding));
  } catch (...) {
    // Only allocation failure gets here: return what there is rather than throw.
  }
  return json{{"findings", std::move(found)}, {"skipped", std::move(skipped)}};
}

}  // namespace tether::agent::diag
