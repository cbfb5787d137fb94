#include "diag/collectors/smartctl_json.hpp"

#include <string>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// smartctl's exit status is a bit mask (smartctl(8), RETURN VALUES). Bits 0 and 1 mean the
// command line was bad or the device could not be opened: nothing else in the output counts.
constexpr int kCommandLineError = 1 << 0;
constexpr int kDeviceOpenFailed = 1 << 1;

const json* at_path(const json& object, std::initializer_list<const char*> path) {
  const json* node = &object;
  for (const char* key : path) {
    if (!node->is_object()) return nullptr;
    const auto it = node->find(key);
    if (it == node->end()) return nullptr;
    node = &*it;
  }
  return node;
}

void set_number(json& health, const char* field, const json* value, const char* absent_reason) {
  if (value != nullptr && value->is_number_integer()) {
    health[field] = value->get<long long>();
  } else if (value != nullptr && value->is_number_unsigned()) {
    health[field] = value->get<unsigned long long>();
  } else {
    mark_unknown(health, field, absent_reason);
  }
}

// The first message smartctl printed, which says why it gave up ("Unable to detect device
// type", "Permission denied").
std::string first_message(const json& document) {
  if (const auto* messages = at_path(document, {"smartctl", "messages"});
      messages != nullptr && messages->is_array()) {
    for (const auto& message : *messages) {
      if (message.is_object() && message.contains("string") && message["string"].is_string()) {
        return message["string"].get<std::string>();
      }
    }
  }
  return {};
}

}  // namespace

json parse_smartctl_health(std::string_view output, std::string& reason) {
  json document = json::parse(output.begin(), output.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    reason = "could not read: smartctl output is not JSON";
    return nullptr;
  }
  int exit_status = 0;
  if (const auto* status = at_path(document, {"smartctl", "exit_status"});
      status != nullptr && status->is_number_integer()) {
    exit_status = status->get<int>();
  }
  const auto* passed = at_path(document, {"smart_status", "passed"});
  if ((exit_status & (kCommandLineError | kDeviceOpenFailed)) != 0 ||
      (passed == nullptr && !document.contains("ata_smart_attributes") &&
       !document.contains("nvme_smart_health_information_log"))) {
    const auto message = first_message(document);
    reason = "could not read: " + (message.empty() ? std::string("smartctl reported no health")
                                                   : "smartctl: " + message);
    return nullptr;
  }

  json health{{"source", "smartctl"}};
  if (passed != nullptr && passed->is_boolean()) {
    health["passed"] = passed->get<bool>();
  } else {
    mark_unknown(health, "passed", "not present: no overall health assessment");
  }
  set_number(health, "temperature_celsius", at_path(document, {"temperature", "current"}),
             "not present: the drive reports no temperature");
  set_number(health, "power_on_hours", at_path(document, {"power_on_time", "hours"}),
             "not present: the drive reports no power-on time");

  const auto* nvme = at_path(document, {"nvme_smart_health_information_log"});
  if (nvme != nullptr && nvme->is_object()) {
    set_number(health, "percentage_used", at_path(*nvme, {"percentage_used"}),
               "not present: not in the NVMe health log");
    set_number(health, "media_errors", at_path(*nvme, {"media_errors"}),
               "not present: not in the NVMe health log");
    set_number(health, "critical_warning", at_path(*nvme, {"critical_warning"}),
               "not present: not in the NVMe health log");
  } else {
    for (const char* field : {"percentage_used", "media_errors", "critical_warning"}) {
      mark_unknown(health, field, "not present: reported by NVMe drives only");
    }
  }

  const json* reallocated = nullptr;
  const json* pending = nullptr;
  const auto* table = at_path(document, {"ata_smart_attributes", "table"});
  if (table != nullptr && table->is_array()) {
    for (const auto& attribute : *table) {
      if (!attribute.is_object()) continue;
      const auto* id = at_path(attribute, {"id"});
      if (id == nullptr || !id->is_number_integer()) continue;
      // Raw values of 5 (Reallocated_Sector_Ct) and 197 (Current_Pending_Sector).
      if (id->get<int>() == 5) reallocated = at_path(attribute, {"raw", "value"});
      if (id->get<int>() == 197) pending = at_path(attribute, {"raw", "value"});
    }
    set_number(health, "reallocated_sectors", reallocated,
               "not present: the drive has no attribute 5");
    set_number(health, "pending_sectors", pending, "not present: the drive has no attribute 197");
  } else {
    for (const char* field : {"reallocated_sectors", "pending_sectors"}) {
      mark_unknown(health, field, "not present: reported by ATA drives only");
    }
  }
  return health;
}

json smartctl_health_from_run(const ProgramRun& run, std::string& reason) {
  switch (run.outcome) {
    case RunOutcome::tool_missing:
      reason = "tool missing: smartctl (smartmontools)";
      return nullptr;
    case RunOutcome::timed_out:
      reason = "timed out: smartctl";
      return nullptr;
    case RunOutcome::failed_to_start:
      reason = run.error.empty() ? "could not read: smartctl did not start" : run.error;
      if (reason.rfind("not supported", 0) != 0) reason = "could not read: " + reason;
      return nullptr;
    case RunOutcome::killed:
      reason = "could not read: smartctl was killed by signal " + std::to_string(run.exit_code);
      return nullptr;
    case RunOutcome::exited:
      break;
  }
  if (run.out.empty()) {
    reason = "could not read: smartctl printed nothing (exit status " +
             std::to_string(run.exit_code) + ")";
    return nullptr;
  }
  return parse_smartctl_health(run.out, reason);
}

}  // namespace tether::agent::diag
