#include "helpdesk/snapshot_diff.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace tether::relay::helpdesk {
namespace {

using nlohmann::json;

json load(const std::string& name) {
  std::ifstream in(std::string(TETHER_TEST_DATA_DIR) + "/snapshots/" + name);
  EXPECT_TRUE(in) << name;
  return json::parse(in);
}

std::size_t chars(const std::string& text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

// The two fixture snapshots: the same laptop when a session started and when it ended.
class SnapshotDiffFixture : public ::testing::Test {
 protected:
  json before = load("before.json");
  json after = load("after.json");
};

TEST_F(SnapshotDiffFixture, SummaryNamesEveryChangeInOneLine) {
  const auto diff = diff_snapshots(before, after);
  EXPECT_EQ(diff["summary"],
            "2 findings cleared, 1 appeared; cups restarted; backup-anna recovered; "
            "openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1; "
            "1 package installed (printer-driver-gutenprint); 1 package removed (skypeforlinux); "
            "pending updates 12 → 11; 3.0 GiB freed on /");
  EXPECT_LE(chars(diff["summary"].get<std::string>()), 300u);
  EXPECT_FALSE(diff.contains("truncated"));
}

TEST_F(SnapshotDiffFixture, FindingsClearedAppearedAndRemaining) {
  const auto f = diff_snapshots(before, after)["findings"];
  EXPECT_EQ(f["cleared"], json::parse(R"j([
    {"id": "disk.space", "severity": "critical", "summary": "/ is 97.4% full (2.1 GiB free)",
     "subject": "/"},
    {"id": "services.failed", "severity": "warning",
     "summary": "1 unit failed: backup-anna.service"}])j"));
  EXPECT_EQ(f["appeared"], json::parse(R"j([
    {"id": "logs.crashes", "severity": "warning",
     "summary": "1 program crashed in the last 24 hours: evince"}])j"));
  EXPECT_EQ(f["remaining"], json::parse(R"j([
    {"id": "battery.wear", "severity": "warning",
     "summary": "Battery BAT0 holds 73% of its design capacity", "subject": "BAT0"}])j"));
  EXPECT_EQ(f["not_rechecked"], json::array());
  EXPECT_FALSE(f.contains("compared"));
}

TEST_F(SnapshotDiffFixture, ServicesRestartedByTheirMainProcessAndRecovered) {
  const auto s = diff_snapshots(before, after)["services"];
  // cupsd got a new pid and start time; getty@tty1 (a template) and the unchanged services
  // with the same main process are not restarted.
  EXPECT_EQ(s["restarted"], json::array({"cups.service"}));
  EXPECT_EQ(s["recovered"], json::array({"backup-anna.service"}));
  EXPECT_EQ(s["failed"], json::array());
  // A failed unit that became inactive is recovered, not "stopped".
  EXPECT_EQ(s["stopped"], json::array());
  EXPECT_EQ(s["started"], json::array());
}

TEST_F(SnapshotDiffFixture, PackagesUpgradedInstalledRemoved) {
  const auto p = diff_snapshots(before, after)["packages"];
  EXPECT_EQ(p["upgraded"], json::parse(R"j([{"name": "openssl", "from": "3.0.11-1~deb12u2",
    "to": "3.0.15-1~deb12u1", "architecture": "amd64", "source": "dpkg"}])j"));
  EXPECT_EQ(p["installed"], json::parse(R"j([{"name": "printer-driver-gutenprint",
    "version": "5.3.4.20220624T01008808d602-1", "architecture": "amd64", "source": "dpkg"}])j"));
  EXPECT_EQ(p["removed"], json::parse(R"j([{"name": "skypeforlinux", "version": "8.110.76.107",
    "architecture": "amd64", "source": "dpkg"}])j"));
  EXPECT_EQ(p["downgraded"], json::array());
}

TEST_F(SnapshotDiffFixture, StorageMemoryUpdatesProcessesAndSystem) {
  const auto diff = diff_snapshots(before, after);
  EXPECT_EQ(diff["storage"], json::parse(R"j([{"mount": "/", "free_bytes_before": 2254857830,
    "free_bytes_after": 5476083302, "freed_bytes": 3221225472}])j"));
  EXPECT_EQ(diff["filesystems"], json::parse(R"j({"mounted": [], "unmounted": []})j"));
  EXPECT_EQ(diff["memory"], json::parse(R"j({"available_bytes_before": 5475721216,
    "available_bytes_after": 5610012672, "total_bytes": 8181999616})j"));
  EXPECT_EQ(diff["updates"], json::parse(R"j({"pending_before": 12, "pending_after": 11,
    "security_before": 3, "security_after": 2})j"));
  // Kernel threads (kworker/…) come and go and are not listed.
  EXPECT_EQ(diff["processes"], json::parse(R"j({"started": ["system-config-p"],
    "ended": ["evince"]})j"));
  EXPECT_EQ(diff["system"], json::parse(R"j({"rebooted": false,
    "boot_time_before": "2025-11-22T05:47:30Z", "boot_time_after": "2025-11-22T05:47:30Z"})j"));
}

TEST_F(SnapshotDiffFixture, TheSameSnapshotTwiceHasNoChanges) {
  const auto diff = diff_snapshots(before, before);
  EXPECT_EQ(diff["summary"], "no changes found");
  EXPECT_EQ(diff["findings"]["cleared"], json::array());
  EXPECT_EQ(diff["findings"]["remaining"].size(), 3u);
  EXPECT_EQ(diff["services"]["restarted"], json::array());
  EXPECT_EQ(diff["storage"], json::array());
  EXPECT_EQ(diff["updates"], nullptr);
}

TEST_F(SnapshotDiffFixture, BackwardsItReadsAsTheOppositeChange) {
  const auto diff = diff_snapshots(after, before);
  EXPECT_EQ(diff["packages"]["downgraded"][0]["name"], "openssl");
  EXPECT_EQ(diff["services"]["failed"], json::array({"backup-anna.service"}));
  EXPECT_EQ(diff["storage"][0]["freed_bytes"], -3221225472LL);
  const auto summary = diff["summary"].get<std::string>();
  EXPECT_NE(summary.find("1 finding cleared, 2 appeared"), std::string::npos) << summary;
  EXPECT_NE(summary.find("backup-anna failed"), std::string::npos) << summary;
  EXPECT_NE(summary.find("openssl 3.0.15-1~deb12u1 → 3.0.11-1~deb12u2 (downgraded)"),
            std::string::npos)
      << summary;
  EXPECT_NE(summary.find("3.0 GiB used on /"), std::string::npos) << summary;
}

TEST_F(SnapshotDiffFixture, AfterARebootServicesAreNotEachCalledRestarted) {
  after["system"]["boot_time"] = "2025-11-25T10:35:00Z";
  after["system"]["kernel"] = "6.1.0-27-amd64";
  const auto diff = diff_snapshots(before, after);
  EXPECT_EQ(diff["system"]["rebooted"], true);
  EXPECT_EQ(diff["system"]["kernel"], json::parse(R"j({"from": "6.1.0-18-amd64",
    "to": "6.1.0-27-amd64"})j"));
  EXPECT_EQ(diff["services"]["restarted"], json::array());
  EXPECT_EQ(diff["summary"].get<std::string>().rfind(
                "PC restarted; kernel 6.1.0-18-amd64 → 6.1.0-27-amd64; 2 findings cleared", 0),
            0u)
      << diff["summary"];
}

TEST_F(SnapshotDiffFixture, ACheckThatCouldNotRunAgainIsNotCleared) {
  // The second time smartctl was gone: the disk finding is not re-checked, not fixed.
  before["findings"].push_back({{"id", "disk.smart"},
                                {"severity", "critical"},
                                {"summary", "nvme0n1 fails its SMART self-assessment"},
                                {"evidence", {{"disk", "nvme0n1"}}}});
  after["checks_skipped"].push_back({{"id", "disk.smart"}, {"reason", "tool missing: smartctl"}});
  const auto f = diff_snapshots(before, after)["findings"];
  ASSERT_EQ(f["not_rechecked"].size(), 1u);
  EXPECT_EQ(f["not_rechecked"][0]["id"], "disk.smart");
  EXPECT_EQ(f["cleared"].size(), 2u);
  EXPECT_EQ(diff_snapshots(before, after)["summary"].get<std::string>().rfind(
                "2 findings cleared, 1 appeared, 1 not re-checked;", 0),
            0u);
}

TEST_F(SnapshotDiffFixture, PerSubjectFindingsAndSeverityChanges) {
  // disk.space reports per filesystem: /home filling up is new even though / cleared.
  after["findings"].push_back({{"id", "disk.space"},
                               {"severity", "warning"},
                               {"summary", "/home is 91% full"},
                               {"evidence", {{"mount_point", "/home"}}}});
  after["findings"][0]["severity"] = "critical";  // battery.wear got worse
  const auto diff = diff_snapshots(before, after);
  const auto& f = diff["findings"];
  EXPECT_EQ(f["appeared"].size(), 2u);
  EXPECT_EQ(f["appeared"][0]["subject"], "/home");
  EXPECT_EQ(f["remaining"][0]["severity_before"], "warning");
  EXPECT_EQ(f["remaining"][0]["severity"], "critical");
  EXPECT_EQ(
      diff["summary"].get<std::string>().rfind("2 findings cleared, 2 appeared, 1 got worse;", 0),
      0u)
      << diff["summary"];
}

TEST_F(SnapshotDiffFixture, ServicesStartedStoppedAndFailed) {
  auto& units = after["services"]["units"];
  for (auto& unit : units) {
    if (unit["name"] == "bluetooth.service") unit["active"] = "inactive";
    if (unit["name"] == "ssh.service") unit["active"] = "failed";
  }
  units.push_back({{"name", "nginx.service"}, {"active", "active"}, {"sub", "running"}});
  after["services"]["failed"] = {"ssh.service"};
  const auto s = diff_snapshots(before, after)["services"];
  EXPECT_EQ(s["started"], json::array({"nginx.service"}));
  EXPECT_EQ(s["stopped"], json::array({"bluetooth.service"}));
  EXPECT_EQ(s["failed"], json::array({"ssh.service"}));
}

TEST(SnapshotDiff, DiskChangesUnderOneMebibyteAreNotChanges) {
  const auto fs = [](std::int64_t available) {
    return json{
        {"storage",
         {{"filesystems", json::array({{{"mount_point", "/"}, {"available_bytes", available}}})}}}};
  };
  EXPECT_EQ(diff_snapshots(fs(10'000'000'000), fs(10'000'500'000))["summary"], "no changes found");
  // A small change is named when nothing else changed.
  EXPECT_EQ(diff_snapshots(fs(10'000'000'000), fs(9'980'000'000))["summary"], "19.1 MiB used on /");
}

TEST(SnapshotDiff, MountedAndUnmountedFilesystems) {
  const json before = json::parse(R"j({"storage": {"filesystems": [
      {"mount_point": "/", "available_bytes": 5000000000},
      {"mount_point": "/media/anna/USB", "available_bytes": 100}]}})j");
  const json after = json::parse(R"j({"storage": {"filesystems": [
      {"mount_point": "/", "available_bytes": 5000000000},
      {"mount_point": "/mnt/share", "free_bytes": 7}]}})j");
  const auto diff = diff_snapshots(before, after);
  EXPECT_EQ(diff["filesystems"], json::parse(R"j({"mounted": ["/mnt/share"],
    "unmounted": ["/media/anna/USB"]})j"));
  EXPECT_EQ(diff["summary"], "/mnt/share mounted; /media/anna/USB unmounted");
}

TEST(SnapshotDiff, DebianVersionOrderDecidesUpgradeOrDowngrade) {
  const auto pkgs = [](const char* version) {
    return json{{"software", {{"packages", json::array({{{"name", "p"}, {"version", version}}})}}}};
  };
  const auto kind = [&](const char* from, const char* to) {
    const auto p = diff_snapshots(pkgs(from), pkgs(to))["packages"];
    return p["upgraded"].empty() ? std::string("downgraded") : std::string("upgraded");
  };
  EXPECT_EQ(kind("1.9", "1.10"), "upgraded");      // numbers, not text
  EXPECT_EQ(kind("1.0~rc1", "1.0"), "upgraded");   // ~ sorts before the release
  EXPECT_EQ(kind("2:1.0", "10.0"), "downgraded");  // the epoch wins
  EXPECT_EQ(kind("1.0-2", "1.0-10"), "upgraded");  // revisions numerically
  EXPECT_EQ(kind("3.0.11-1~deb12u2", "3.0.11-1"), "upgraded");
  EXPECT_EQ(kind("1.0a", "1.0"), "downgraded");
}

TEST(SnapshotDiff, ManyUpgradesAreCountedNotListedInTheSummary) {
  json before = {{"software", {{"packages", json::array()}}}};
  json after = before;
  for (int i = 0; i < 5; ++i) {
    const auto name = "lib" + std::to_string(i);
    before["software"]["packages"].push_back({{"name", name}, {"version", "1.0"}});
    after["software"]["packages"].push_back({{"name", name}, {"version", "1.1"}});
  }
  EXPECT_EQ(diff_snapshots(before, after)["summary"], "5 packages upgraded (lib0 1.0 → 1.1, …)");
}

TEST(SnapshotDiff, MalformedInputNeverThrows) {
  const json shapes[] = {
      nullptr,
      json::array({1, 2}),
      "text",
      42,
      json::object(),
      json::parse(R"j({"findings": {"id": "x"}, "services": [], "software": {"packages": 7},
                      "storage": {"filesystems": [null, 3, {"mount_point": 5}]},
                      "memory": {"available_bytes": "lots"}, "processes": {"list": [[], {}]},
                      "system": {"boot_time": 12, "kernel": null}})j"),
      json::parse(R"j({"findings": [null, 1, "x", {"id": 3, "severity": "critical"},
                      {"id": "a", "severity": "bogus"}, {"id": "b", "severity": "warning",
                       "summary": ["no"], "evidence": "none"}],
                      "services": {"units": [null, {"name": 1}, {"name": "a.service",
                       "active": 7}], "failed": [1, null, "x.mount"]},
                      "software": {"packages": [{"name": "p", "version": 1}, {"version": "2"}],
                                   "pending_updates": {"total": -3, "security": "many"}},
                      "storage": {"filesystems": [{"mount_point": "/", "available_bytes": -5},
                                  {"mount_point": "/x", "available_bytes": 1e300}]},
                      "memory": {"available_bytes": 1.5e9, "total_bytes": null},
                      "processes": {"list": [{"name": "a", "pid": "1"}, {"name": "b", "pid": 2,
                                    "command": "b", "start_time": 5}]}})j"),
  };
  for (const auto& a : shapes) {
    for (const auto& b : shapes) {
      json diff;
      ASSERT_NO_THROW(diff = diff_snapshots(a, b)) << a.dump() << " vs " << b.dump();
      EXPECT_TRUE(diff["summary"].is_string());
      EXPECT_NO_THROW(diff.dump());
    }
    json digest;
    ASSERT_NO_THROW(digest = findings_digest(a)) << a.dump();
    EXPECT_NO_THROW(snapshot_summary(a, digest)) << a.dump();
    EXPECT_NO_THROW(snapshot_summary(a, a)) << a.dump();
  }
}

TEST(SnapshotDiff, AFindingsListAgainstNoFindingsIsNotCompared) {
  const json before = json::parse(R"j({"findings": [{"id": "disk.space",
      "severity": "critical", "summary": "full"}]})j");
  const auto diff = diff_snapshots(before, json::object());
  EXPECT_EQ(diff["findings"]["compared"], false);
  EXPECT_EQ(diff["findings"]["cleared"], json::array());
  EXPECT_EQ(diff["summary"], "no changes found");
}

TEST(SnapshotDiff, HugeListsAreCappedAndSorted) {
  json before = {{"software", {{"packages", json::array()}}},
                 {"services", {{"units", json::array()}, {"failed", json::array()}}},
                 {"processes", {{"list", json::array()}}}};
  json after = before;
  for (int i = 999; i >= 0; --i) {  // unsorted on purpose
    char name[16];
    std::snprintf(name, sizeof name, "pkg%04d", i);
    after["software"]["packages"].push_back({{"name", name}, {"version", "1"}});
    after["services"]["failed"].push_back(std::string(name) + ".service");
    after["processes"]["list"].push_back({{"pid", i + 10}, {"name", name}, {"command", name}});
  }
  before["processes"]["list"].push_back({{"pid", 1}, {"name", "init"}, {"command", "init"}});
  const auto diff = diff_snapshots(before, after);
  EXPECT_EQ(diff["packages"]["installed"].size(), 200u);
  EXPECT_EQ(diff["packages"]["installed"][0]["name"], "pkg0000");
  EXPECT_EQ(diff["packages"]["installed"][199]["name"], "pkg0199");
  EXPECT_EQ(diff["packages"]["truncated"], true);
  EXPECT_EQ(diff["services"]["failed"].size(), 200u);
  EXPECT_EQ(diff["processes"]["started"].size(), 50u);
  EXPECT_EQ(diff["processes"]["ended"], json::array({"init"}));
  EXPECT_EQ(diff["truncated"], true);
  EXPECT_EQ(diff["summary"], "1000 services failed; 1000 packages installed");
}

TEST(SnapshotDiff, LongAndHostileTextIsClippedToValidUtf8) {
  // 150 two-byte characters, a terminal escape and 1000 more characters.
  std::string hostile;
  for (int i = 0; i < 150; ++i) hostile += "é";
  hostile += "\x1b[31m" + std::string(1000, 'x');
  json before = {{"findings", json::array()}};
  json after = {
      {"findings",
       json::array({{{"id", "disk.space"}, {"severity", "warning"}, {"summary", hostile}}})}};
  const auto diff = diff_snapshots(before, after);
  const auto summary = diff["findings"]["appeared"][0]["summary"].get<std::string>();
  EXPECT_EQ(chars(summary), 201u);  // 200 characters and "…"
  EXPECT_EQ(summary.find('\x1b'), std::string::npos);
  EXPECT_EQ(summary.substr(summary.size() - 3), "…");
  EXPECT_NO_THROW(diff.dump());

  // A summary made of many long parts stays within 300 characters and ends with "…".
  json a = {{"services", {{"units", json::array()}, {"failed", json::array()}}}};
  json b = a;
  for (int i = 0; i < 3; ++i) {
    b["services"]["failed"].push_back(std::string(100, char('a' + i)) + ".service");
  }
  for (int i = 0; i < 3; ++i) {
    b["services"]["units"].push_back(
        {{"name", std::string(100, char('k' + i)) + ".service"}, {"active", "active"}});
  }
  a["software"]["packages"] = json::array();
  b["software"]["packages"] = json::array();
  for (int i = 0; i < 2; ++i) {
    const auto name = std::string(100, char('p' + i));
    a["software"]["packages"].push_back({{"name", name}, {"version", std::string(50, '1')}});
    b["software"]["packages"].push_back({{"name", name}, {"version", std::string(50, '2')}});
  }
  const auto s = diff_snapshots(a, b)["summary"].get<std::string>();
  EXPECT_LE(chars(s), 300u) << s;
  EXPECT_EQ(s.substr(s.size() - 3), "…") << s;
}

TEST(FindingsDigest, CountsAndProblemsLikeTheTimelineShowsThem) {
  const auto snapshot = load("before.json");
  const auto digest = findings_digest(snapshot);
  EXPECT_EQ(digest["counts"],
            json::parse(R"j({"critical": 1, "warning": 2, "info": 1, "ok": 3})j"));
  ASSERT_EQ(digest["problems"].size(), 3u);
  EXPECT_EQ(digest["problems"][0], json::parse(R"j({"id": "disk.space", "severity": "critical",
    "summary": "/ is 97.4% full (2.1 GiB free)"})j"));
  EXPECT_EQ(snapshot_summary(snapshot, digest),
            "Diagnostics snapshot of anna-laptop (Debian GNU/Linux 12 (bookworm)): 1 critical, "
            "2 warnings — / is 97.4% full (2.1 GiB free); Battery BAT0 holds 73% of its design "
            "capacity; 1 unit failed: backup-anna.service");
}

TEST(FindingsDigest, NoProblemsAndNoFindings) {
  json snapshot = {{"system", {{"hostname", "pc"}}},
                   {"findings", json::array({{{"id", "a"}, {"severity", "ok"}}})}};
  EXPECT_EQ(snapshot_summary(snapshot, findings_digest(snapshot)),
            "Diagnostics snapshot of pc: no problems found (1 checks passed)");
  json sections = {{"system", {{"hostname", "pc"}}}, {"memory", json::object()}, {"x", 1}};
  EXPECT_EQ(snapshot_summary(sections, findings_digest(sections)),
            "Diagnostics snapshot of pc, 2 sections");
}

TEST(FindingsDigest, AtMostTwentyProblemsAndThreeInTheLine) {
  json snapshot = {{"findings", json::array()}};
  for (int i = 0; i < 30; ++i) {
    snapshot["findings"].push_back({{"id", "c" + std::to_string(i)},
                                    {"severity", "warning"},
                                    {"summary", "s" + std::to_string(i)}});
  }
  const auto digest = findings_digest(snapshot);
  EXPECT_EQ(digest["counts"]["warning"], 30);
  EXPECT_EQ(digest["problems"].size(), 20u);
  EXPECT_EQ(snapshot_summary(snapshot, digest),
            "Diagnostics snapshot: 0 critical, 30 warnings — s0; s1; s2; …");
}

}  // namespace
}  // namespace tether::relay::helpdesk
