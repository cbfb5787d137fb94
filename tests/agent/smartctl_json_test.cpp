// Disk health from smartctl's JSON, on output captured in the shape smartctl 7.x prints.

#include "diag/collectors/smartctl_json.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

std::string captured(const char* name) {
  std::ifstream in(std::filesystem::path(TETHER_TEST_DATA_DIR) / "smartctl" / name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(SmartctlJson, HealthyNvme) {
  std::string reason;
  const auto health = parse_smartctl_health(captured("nvme-samsung-980pro.json"), reason);
  ASSERT_TRUE(health.is_object()) << reason;
  EXPECT_EQ(health["source"], "smartctl");
  EXPECT_EQ(health["passed"], true);
  EXPECT_EQ(health["temperature_celsius"], 41);
  EXPECT_EQ(health["power_on_hours"], 4120);
  EXPECT_EQ(health["percentage_used"], 3);
  EXPECT_EQ(health["media_errors"], 0);
  EXPECT_EQ(health["critical_warning"], 0);
  // ATA attributes do not exist on NVMe: null, and why.
  EXPECT_TRUE(health["reallocated_sectors"].is_null());
  EXPECT_EQ(health["unknown"]["reallocated_sectors"], "not present: reported by ATA drives only");
}

TEST(SmartctlJson, FailingAtaDiskWithReallocatedAndPendingSectors) {
  std::string reason;
  const auto health = parse_smartctl_health(captured("ata-seagate-failing.json"), reason);
  ASSERT_TRUE(health.is_object()) << reason;
  EXPECT_EQ(health["passed"], false);
  EXPECT_EQ(health["reallocated_sectors"], 3912);
  EXPECT_EQ(health["pending_sectors"], 56);
  EXPECT_EQ(health["temperature_celsius"], 38);
  EXPECT_EQ(health["power_on_hours"], 51873);
  EXPECT_TRUE(health["percentage_used"].is_null());
}

TEST(SmartctlJson, UndetectableDeviceSaysWhy) {
  std::string reason;
  const auto health = parse_smartctl_health(captured("virtio-unknown-device.json"), reason);
  EXPECT_TRUE(health.is_null());
  EXPECT_EQ(reason, "could not read: smartctl: /dev/vda: Unable to detect device type");
}

TEST(SmartctlJson, JunkAndTruncatedOutput) {
  std::string reason;
  EXPECT_TRUE(parse_smartctl_health("smartctl 7.4 2023-08-01", reason).is_null());
  EXPECT_EQ(reason, "could not read: smartctl output is not JSON");
  const auto whole = captured("nvme-samsung-980pro.json");
  EXPECT_TRUE(parse_smartctl_health(whole.substr(0, whole.size() / 2), reason).is_null());
  EXPECT_TRUE(parse_smartctl_health("[1,2]", reason).is_null());
  // Wrong types in the right places: null with reasons, no throw.
  const auto odd = parse_smartctl_health(
      R"({"smart_status":{"passed":"yes"},"temperature":{"current":"hot"},
          "ata_smart_attributes":{"table":[{"id":"5"},{"id":197,"raw":{"value":-1}},7]}})",
      reason);
  ASSERT_TRUE(odd.is_object());
  EXPECT_TRUE(odd["passed"].is_null());
  EXPECT_TRUE(odd["temperature_celsius"].is_null());
  EXPECT_TRUE(odd["reallocated_sectors"].is_null());
  EXPECT_EQ(odd["pending_sectors"], -1);
}

TEST(SmartctlJson, RunOutcomes) {
  std::string reason;
  ProgramRun missing;
  missing.outcome = RunOutcome::tool_missing;
  EXPECT_TRUE(smartctl_health_from_run(missing, reason).is_null());
  EXPECT_EQ(reason.rfind("tool missing", 0), 0u) << reason;
  ProgramRun hung;
  hung.outcome = RunOutcome::timed_out;
  EXPECT_TRUE(smartctl_health_from_run(hung, reason).is_null());
  EXPECT_EQ(reason.rfind("timed out", 0), 0u) << reason;
  ProgramRun failing;  // exit status 24 (bits 3 and 4): the disk is failing, output is valid
  failing.outcome = RunOutcome::exited;
  failing.exit_code = 24;
  failing.out = captured("ata-seagate-failing.json");
  EXPECT_EQ(smartctl_health_from_run(failing, reason)["passed"], false);
  ProgramRun silent;
  silent.outcome = RunOutcome::exited;
  silent.exit_code = 2;
  EXPECT_TRUE(smartctl_health_from_run(silent, reason).is_null());
  EXPECT_EQ(reason.rfind("could not read", 0), 0u) << reason;
}

}  // namespace
}  // namespace tether::agent::diag
