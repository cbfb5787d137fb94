// The "services" section: systemctl's output parsed, and the collector with a fake runner.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "diag/collectors/services_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// Captured from `systemctl list-units --all --type=service --plain --no-legend --no-pager`
// on an Ubuntu 24.04 desktop (shortened).
constexpr const char* kServices =
    "  accounts-daemon.service                  loaded    active   running Accounts Service\n"
    "\xe2\x97\x8f apport-autoreport.service                loaded    failed   failed  Process "
    "error reports when automatic reporting is enabled\n"
    "  avahi-daemon.service                     loaded    active   running Avahi mDNS/DNS-SD "
    "Stack\n"
    "  auditd.service                           not-found inactive dead    auditd.service\n"
    "  cups.service                             loaded    inactive dead    CUPS Scheduler\n";

// `systemctl list-units --state=failed --plain --no-legend --no-pager`: any unit type.
constexpr const char* kFailed =
    "apport-autoreport.service loaded failed failed Process error reports when automatic "
    "reporting is enabled\n"
    "snap-firefox-4336.mount   loaded failed failed Mount unit for firefox, revision 4336\n";

ProgramRun exited(std::string out) {
  ProgramRun run;
  run.outcome = RunOutcome::exited;
  run.exit_code = 0;
  run.out = std::move(out);
  return run;
}

class ServicesRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ =
        std::filesystem::temp_directory_path() /
        ("tether-services-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_ / "run/systemd/system");
    context_.root = root_;
    context_.real_root = false;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  std::filesystem::path root_;
  CollectContext context_;
};

TEST(Services, UnitColumnsWithMarkerAndSpacedDescriptions) {
  const auto units = parse_systemctl_units(kServices);
  ASSERT_EQ(units.size(), 5U);
  // Sorted by name.
  EXPECT_EQ(units[0]["name"], "accounts-daemon.service");
  EXPECT_EQ(units[1]["name"], "apport-autoreport.service");
  EXPECT_EQ(units[1]["load"], "loaded");
  EXPECT_EQ(units[1]["active"], "failed");
  EXPECT_EQ(units[1]["sub"], "failed");
  EXPECT_EQ(units[1]["description"], "Process error reports when automatic reporting is enabled");
  EXPECT_EQ(units[2]["name"], "auditd.service");
  EXPECT_EQ(units[2]["load"], "not-found");
  EXPECT_EQ(units[3]["description"], "Avahi mDNS/DNS-SD Stack");
}

TEST(Services, ShortOrEmptyLinesAreSkipped) {
  EXPECT_TRUE(parse_systemctl_units("").empty());
  EXPECT_TRUE(parse_systemctl_units("\n   \nfoo.service loaded\n\xe2\x97\x8f\n").empty());
  EXPECT_EQ(parse_systemctl_units("a.service loaded active running").at(0)["description"], "");
}

TEST_F(ServicesRoot, UnitsFailedAndCounts) {
  std::atomic<int> runs{0};
  context_.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    ++runs;
    const bool failed = std::find(argv.begin(), argv.end(), "--state=failed") != argv.end();
    return exited(failed ? kFailed : kServices);
  };
  const auto section = collect_services(context_);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(section["manager"], "systemd");
  EXPECT_EQ(section["units"].size(), 5U);
  EXPECT_EQ(section["failed"], (json{"apport-autoreport.service", "snap-firefox-4336.mount"}));
  EXPECT_EQ(section["counts"], (json{{"total", 5}, {"active", 2}, {"failed", 2}}));
}

TEST_F(ServicesRoot, OneProbeTimingOutLeavesTheOther) {
  context_.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    if (std::find(argv.begin(), argv.end(), "--state=failed") != argv.end()) {
      ProgramRun run;
      run.outcome = RunOutcome::timed_out;
      return run;
    }
    return exited(kServices);
  };
  const auto section = collect_services(context_);
  EXPECT_EQ(section["units"].size(), 5U);
  EXPECT_TRUE(section["failed"].is_null());
  EXPECT_TRUE(section["unknown"]["failed"].get<std::string>().starts_with("timed out"));
  EXPECT_TRUE(section["counts"]["failed"].is_null());
  EXPECT_EQ(section["counts"]["total"], 5);
}

TEST_F(ServicesRoot, SystemctlMissing) {
  context_.host.run = [](const std::vector<std::string>&, const RunLimits&) {
    ProgramRun run;
    run.outcome = RunOutcome::tool_missing;
    return run;
  };
  const auto section = collect_services(context_);
  EXPECT_EQ(section["manager"], "systemd");
  EXPECT_TRUE(section["unknown"]["units"].get<std::string>().starts_with("tool missing"));
  EXPECT_TRUE(section["unknown"]["failed"].get<std::string>().starts_with("tool missing"));
}

TEST(Services, WithoutSystemdAsInitNothingRuns) {
  std::atomic<int> runs{0};
  CollectContext context;
  context.root = std::filesystem::path(TETHER_TEST_DATA_DIR) / "container";
  context.real_root = false;
  context.host.run = [&](const std::vector<std::string>&, const RunLimits&) {
    ++runs;
    return exited(kServices);
  };
  const auto section = collect_services(context);
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(section["manager"].is_null());
  EXPECT_TRUE(section["unknown"]["manager"].get<std::string>().starts_with("not present"));
  EXPECT_TRUE(section["counts"].is_null());
}

}  // namespace
}  // namespace tether::agent::diag
