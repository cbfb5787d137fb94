// The health checks over hand-built snapshots: each on both sides of its thresholds, with its
// input missing, and the whole engine over garbage.

#include "tether/agent/diag/findings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "diag/findings/checks.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

// A machine with nothing wrong: every check has its input and concludes "ok".
json healthy() {
  return json::parse(R"({
    "schema": 2, "collected_at": "2025-11-25T10:00:00Z",
    "identity": {"placeholders": []},
    "system": {"uptime_seconds": 259200, "boot_time": "2025-11-22T10:00:00Z",
               "load": {"1m": 0.5, "5m": 0.4, "15m": 0.3},
               "clock": {"synchronized": true, "offset_ms": 0.2, "max_error_ms": 12},
               "reboot_required": {"required": false, "since": null, "packages": []},
               "virtualization": {"type": "none", "role": "host"}},
    "firmware": {"boot_mode": "uefi", "secure_boot": true},
    "cpu": {"threads": 4, "logical_cores": 4},
    "memory": {"total_bytes": 8589934592, "available_bytes": 4294967296,
               "swap_total_bytes": 2147483648, "swap_free_bytes": 2147483648, "swap_used_pct": 0,
               "pressure": {"some_avg10": 0, "some_avg60": 0.5, "full_avg10": 0, "full_avg60": 0},
               "oom_kills_since_boot": 0},
    "storage": {
      "disks": [
        {"name": "nvme0n1", "model": "Samsung SSD 970 EVO", "health": {"source": "smartctl",
         "passed": true, "percentage_used": 3, "media_errors": 0, "critical_warning": 0}},
        {"name": "sda", "model": "WDC WD10EZEX", "health": {"source": "smartctl",
         "passed": true, "reallocated_sectors": 0, "pending_sectors": 0}}],
      "filesystems": [
        {"mount_point": "/", "device": "/dev/nvme0n1p2", "type": "ext4", "read_only": false,
         "size_bytes": 107374182400, "free_bytes": 59055800320, "available_bytes": 53687091200,
         "used_pct": 50, "inodes_total": 6553600, "inodes_free": 6000000, "inodes_used_pct": 8.4},
        {"mount_point": "/boot", "device": "/dev/nvme0n1p1", "type": "ext4", "read_only": false,
         "size_bytes": 1073741824, "free_bytes": 734003200, "available_bytes": 734003200,
         "used_pct": 31, "inodes_total": 65536, "inodes_free": 65000, "inodes_used_pct": 0.8},
        {"mount_point": "/var", "device": "/dev/nvme0n1p3", "type": "xfs", "read_only": false,
         "size_bytes": 21474836480, "free_bytes": 10737418240, "available_bytes": 10737418240,
         "used_pct": 50, "inodes_total": 0, "inodes_free": 0}],
      "raid": [{"name": "md0", "level": "raid1", "state": "clean", "devices_total": 2,
                "devices_active": 2, "devices_failed": 0, "degraded": false,
                "sync_action": "idle", "members": ["sdb1", "sdc1"]}]},
    "network": {
      "interfaces": [
        {"name": "lo", "type": "loopback", "virtual": true, "state": "unknown",
         "addresses": [{"family": "ipv4", "address": "127.0.0.1", "prefix": 8}],
         "stats": {"rx_packets": 500000, "tx_packets": 500000, "rx_errors": 0, "tx_errors": 0,
                   "rx_dropped": 0, "tx_dropped": 0}},
        {"name": "eth0", "type": "ethernet", "virtual": false, "state": "up",
         "addresses": [{"family": "ipv4", "address": "192.168.1.20", "prefix": 24},
                       {"family": "ipv6", "address": "fe80::1", "prefix": 64}],
         "stats": {"rx_packets": 60000, "tx_packets": 40000, "rx_errors": 0, "tx_errors": 0,
                   "rx_dropped": 0, "tx_dropped": 0}},
        {"name": "wlan0", "type": "wireless", "virtual": false, "state": "down", "addresses": [],
         "stats": {"rx_packets": 60000, "tx_packets": 40000, "rx_errors": 0, "tx_errors": 0,
                   "rx_dropped": 0, "tx_dropped": 0},
         "wifi": {"ssid": null, "signal_dbm": null, "link_quality": null}}],
      "default_routes": [{"family": "ipv4", "gateway": "192.168.1.1", "interface": "eth0",
                          "metric": 100}],
      "dns": {"servers": ["192.168.1.1"], "search": [], "source": "/etc/resolv.conf"}},
    "power": {
      "ac_online": true,
      "batteries": [{"name": "BAT0", "status": "Charging", "capacity_pct": 85,
                     "design_capacity_wh": 50, "full_capacity_wh": 45, "wear_pct": 10,
                     "cycle_count": 120}],
      "temperatures": [
        {"source": "hwmon", "chip": "coretemp", "label": "Package id 0", "celsius": 45,
         "max_celsius": 84, "critical_celsius": 100},
        {"source": "thermal_zone", "chip": "acpitz", "label": "", "celsius": 40,
         "max_celsius": null, "critical_celsius": 120}]},
    "software": {"pending_updates": {"total": 0, "security": 0, "source": "apt"}},
    "services": {"manager": "systemd", "failed": [],
                 "counts": {"total": 100, "active": 80, "failed": 0}},
    "logs": {"errors": [], "error_count": 0, "oom_kills": [], "crashes": []},
    "errors": []
  })");
}

std::vector<json> findings_of(const json& result, std::string_view id) {
  std::vector<json> out;
  for (const json& finding : result["findings"]) {
    if (finding["id"] == id) out.push_back(finding);
  }
  return out;
}

std::string skip_reason(const json& result, std::string_view id) {
  for (const json& skipped : result["skipped"]) {
    if (skipped["id"] == id) return skipped["reason"];
  }
  return "";
}

// The worst severity the check `id` reports over `snapshot`, or "skipped".
std::string severity(const json& snapshot, std::string_view id, const Thresholds& t = {}) {
  const json result = evaluate_findings(snapshot, t);
  if (!skip_reason(result, id).empty()) return "skipped";
  std::string worst = "none";
  int worst_rank = -1;
  for (const json& finding : findings_of(result, id)) {
    static const std::vector<std::string> kOrder = {"ok", "info", "warning", "critical"};
    const std::string value = finding["severity"];
    const int rank =
        static_cast<int>(std::find(kOrder.begin(), kOrder.end(), value) - kOrder.begin());
    if (rank > worst_rank) {
      worst_rank = rank;
      worst = value;
    }
  }
  return worst;
}

json only_finding(const json& snapshot, std::string_view id, const Thresholds& t = {}) {
  const auto found = findings_of(evaluate_findings(snapshot, t), id);
  EXPECT_EQ(found.size(), 1u) << id;
  return found.empty() ? json::object() : found[0];
}

json& fs(json& snapshot, std::size_t index) {
  return snapshot["storage"]["filesystems"][index];
}

// ---- The engine as a whole ------------------------------------------------------------------

TEST(Findings, AHealthyMachineGetsOnlyOkFindingsFromEveryCheck) {
  const json result = evaluate_findings(healthy(), Thresholds{});
  EXPECT_TRUE(result["skipped"].empty()) << result["skipped"].dump();
  ASSERT_EQ(result["findings"].size(), findings::all_checks().size());
  for (const json& finding : result["findings"]) {
    EXPECT_EQ(finding["severity"], "ok") << finding.dump();
    EXPECT_FALSE(finding["summary"].get<std::string>().empty());
    EXPECT_FALSE(finding["hint"].get<std::string>().empty());
    EXPECT_TRUE(finding["evidence"].is_object());
  }
}

TEST(Findings, ThereAreAtLeast24ChecksWithUniqueSortedDottedIds) {
  const auto& checks = findings::all_checks();
  EXPECT_GE(checks.size(), 24u);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    EXPECT_NE(checks[i].id.find('.'), std::string_view::npos) << checks[i].id;
    if (i > 0) EXPECT_LT(checks[i - 1].id, checks[i].id);
  }
}

TEST(Findings, AnEmptySnapshotSkipsEveryCheckWithAReason) {
  for (const json& snapshot : {json::object(), json(nullptr), json::array({1, 2}), json("x")}) {
    const json result = evaluate_findings(snapshot, Thresholds{});
    EXPECT_TRUE(result["findings"].empty());
    ASSERT_EQ(result["skipped"].size(), findings::all_checks().size());
    for (const json& skipped : result["skipped"]) {
      EXPECT_FALSE(skipped["reason"].get<std::string>().empty()) << skipped["id"];
    }
  }
}

TEST(Findings, AnUnavailableSectionIsTheSkipReason) {
  json snapshot = healthy();
  snapshot["memory"] = {{"unavailable", "could not read: /proc/meminfo"}};
  const json result = evaluate_findings(snapshot, Thresholds{});
  EXPECT_EQ(skip_reason(result, "memory.available"),
            "memory unavailable: could not read: /proc/meminfo");
  EXPECT_EQ(skip_reason(result, "memory.swap"),
            "memory unavailable: could not read: /proc/meminfo");
}

TEST(Findings, SortedCriticalWarningInfoOkThenById) {
  json snapshot = healthy();
  fs(snapshot, 0)["used_pct"] = 99;  // disk.space critical
  fs(snapshot, 0)["available_bytes"] = 1 * kGiB;
  snapshot["memory"]["available_bytes"] = 0.5 * kGiB;  // memory.available warning (6.25%)
  snapshot["services"]["failed"] = {"cups.service"};   // services.failed warning
  snapshot["system"]["uptime_seconds"] = 100 * 86400;  // system.uptime info
  snapshot["storage"]["raid"][0]["degraded"] = true;   // raid.degraded critical
  const json result = evaluate_findings(snapshot, Thresholds{});
  std::vector<std::pair<int, std::string>> order;
  for (const json& finding : result["findings"]) {
    const std::string s = finding["severity"];
    const int rank = s == "critical" ? 0 : s == "warning" ? 1 : s == "info" ? 2 : 3;
    order.emplace_back(rank, finding["id"]);
  }
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
  ASSERT_GE(order.size(), 5u);
  EXPECT_EQ(order[0].second, "disk.space");
  EXPECT_EQ(order[1].second, "raid.degraded");
  EXPECT_EQ(order[2].second, "memory.available");
  EXPECT_EQ(order[3].second, "services.failed");
  EXPECT_EQ(order[4].second, "system.uptime");
}

// Every value of a realistic snapshot replaced, one at a time, by junk of every type: the
// engine must neither throw nor produce unserialisable output.
TEST(Findings, GarbageAnywhereInTheSnapshotNeverThrows) {
  const json base = healthy();
  // Containers get the junk that breaks structure; leaves also get junk numbers.
  const json structural[] = {json("96"), json(nullptr),
                             json::array({1, "x", nullptr, json::array(), json::object()}),
                             json::object({{"unavailable", 3}, {"unknown", "x"}})};
  const json numeric[] = {json(-1), json(std::numeric_limits<double>::quiet_NaN()), json(true)};
  std::set<std::string> visited;
  int evaluated = 0;
  const auto evaluate_with = [&](const json::json_pointer& pointer, const json& value) {
    json snapshot = base;
    snapshot[pointer] = value;
    json result;
    ASSERT_NO_THROW(result = evaluate_findings(snapshot, Thresholds{})) << pointer;
    ASSERT_NO_THROW((void)result.dump()) << pointer;
    ASSERT_GE(result["findings"].size() + result["skipped"].size(), findings::all_checks().size());
    ++evaluated;
  };
  const json flat = base.flatten();
  for (auto it = flat.begin(); it != flat.end(); ++it) {
    json::json_pointer pointer(it.key());
    for (const json& value : numeric) evaluate_with(pointer, value);
    for (; !pointer.empty(); pointer = pointer.parent_pointer()) {
      if (!visited.insert(pointer.to_string()).second) break;  // its parents are done too
      for (const json& value : structural) evaluate_with(pointer, value);
    }
  }
  EXPECT_GT(evaluated, 500);
}

TEST(Findings, ThresholdsChangeTheVerdict) {
  json snapshot = healthy();
  fs(snapshot, 0)["used_pct"] = 60;
  Thresholds strict;
  strict.disk_used_warning_pct = 55;
  EXPECT_EQ(severity(snapshot, "disk.space"), "ok");
  EXPECT_EQ(severity(snapshot, "disk.space", strict), "warning");
}

// ---- disk.space ---------------------------------------------------------------------------

json with_home(double used_pct, double available_bytes) {
  json snapshot = healthy();
  snapshot["storage"]["filesystems"].push_back({{"mount_point", "/home"},
                                                {"device", "/dev/sdb1"},
                                                {"type", "ext4"},
                                                {"read_only", false},
                                                {"size_bytes", 500 * kGiB},
                                                {"free_bytes", available_bytes},
                                                {"available_bytes", available_bytes},
                                                {"used_pct", used_pct}});
  return snapshot;
}

TEST(DiskSpace, WarnsAbove90PercentUsed) {
  EXPECT_EQ(severity(with_home(90, 50 * kGiB), "disk.space"), "ok");
  EXPECT_EQ(severity(with_home(90.5, 47 * kGiB), "disk.space"), "warning");
}

TEST(DiskSpace, CriticalOnlyAbove98PercentAndUnder5GiBFree) {
  EXPECT_EQ(severity(with_home(98, 1 * kGiB), "disk.space"), "warning");
  EXPECT_EQ(severity(with_home(98.5, 5.1 * kGiB), "disk.space"), "warning");
  EXPECT_EQ(severity(with_home(98.5, 4.9 * kGiB), "disk.space"), "critical");
}

TEST(DiskSpace, SummaryNamesTheMountPointPercentageAndFreeSpace) {
  const json finding = only_finding(with_home(96, 3.1 * kGiB), "disk.space");
  EXPECT_EQ(finding["summary"], "/home is 96% full (3.1 GiB free)");
  EXPECT_EQ(finding["evidence"]["mount_point"], "/home");
  EXPECT_EQ(finding["evidence"]["device"], "/dev/sdb1");
  EXPECT_NE(finding["hint"].get<std::string>().find("/home"), std::string::npos);
}

TEST(DiskSpace, OneFindingPerFullFilesystemAndNoOkBesideThem) {
  json snapshot = with_home(95, 10 * kGiB);
  fs(snapshot, 0)["used_pct"] = 93;
  const auto found = findings_of(evaluate_findings(snapshot, Thresholds{}), "disk.space");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0]["evidence"]["mount_point"], "/");
  EXPECT_EQ(found[1]["evidence"]["mount_point"], "/home");
}

TEST(DiskSpace, ReadOnlyImagesThatAreFullByDesignAreIgnored) {
  json snapshot = healthy();
  snapshot["storage"]["filesystems"].push_back({{"mount_point", "/snap/core/1"},
                                                {"type", "squashfs"},
                                                {"read_only", true},
                                                {"size_bytes", 100 * kMiB},
                                                {"available_bytes", 0},
                                                {"used_pct", 100}});
  EXPECT_EQ(severity(snapshot, "disk.space"), "ok");
}

TEST(DiskSpace, UsageIsComputedLikeDfWhenUsedPctIsMissing) {
  json snapshot = healthy();
  fs(snapshot, 0).erase("used_pct");
  fs(snapshot, 0)["size_bytes"] = 100 * kGiB;
  fs(snapshot, 0)["free_bytes"] = 5 * kGiB;       // used = 95 GiB
  fs(snapshot, 0)["available_bytes"] = 0 * kGiB;  // reserved blocks only: 100% for users
  const json finding = only_finding(snapshot, "disk.space");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "/ is 100% full, only 0 B free");
}

TEST(DiskSpace, SkippedWithTheCollectorsReasonWhenSizesAreUnknown) {
  json snapshot = healthy();
  for (json& filesystem : snapshot["storage"]["filesystems"]) {
    for (const char* key : {"size_bytes", "free_bytes", "available_bytes", "used_pct"}) {
      filesystem[key] = nullptr;
    }
    filesystem["unknown"] = {{"size_bytes", "could not read: Permission denied"}};
  }
  const json result = evaluate_findings(snapshot, Thresholds{});
  EXPECT_EQ(skip_reason(result, "disk.space"),
            "storage.filesystems[/].size_bytes: could not read: Permission denied");
}

TEST(DiskSpace, AStringWherePercentIsExpectedIsNotANumber) {
  json snapshot = healthy();
  for (json& filesystem : snapshot["storage"]["filesystems"]) {
    filesystem["used_pct"] = "96";
    filesystem["size_bytes"] = "big";
  }
  EXPECT_EQ(severity(snapshot, "disk.space"), "skipped");
}

// ---- disk.inodes --------------------------------------------------------------------------

TEST(DiskInodes, WarnsAbove90CriticalAbove98) {
  json snapshot = healthy();
  fs(snapshot, 0)["inodes_used_pct"] = 90;
  EXPECT_EQ(severity(snapshot, "disk.inodes"), "ok");
  fs(snapshot, 0)["inodes_used_pct"] = 90.5;
  EXPECT_EQ(severity(snapshot, "disk.inodes"), "warning");
  fs(snapshot, 0)["inodes_used_pct"] = 98;
  EXPECT_EQ(severity(snapshot, "disk.inodes"), "warning");
  fs(snapshot, 0)["inodes_used_pct"] = 98.5;
  fs(snapshot, 0)["inodes_free"] = 98304;
  const json finding = only_finding(snapshot, "disk.inodes");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "/ has used 98.5% of its inodes (98304 left)");
}

TEST(DiskInodes, SkippedWhenNoFilesystemHasAnInodeTable) {
  json snapshot = healthy();
  for (json& filesystem : snapshot["storage"]["filesystems"]) filesystem["inodes_total"] = 0;
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "disk.inodes"),
            "no filesystem in storage.filesystems reports inode counts");
}

// ---- disk.boot_free / disk.var_free -------------------------------------------------------

TEST(BootFree, WarnsUnder150MiBCriticalUnder50MiB) {
  json snapshot = healthy();
  fs(snapshot, 1)["available_bytes"] = 150 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.boot_free"), "ok");
  fs(snapshot, 1)["available_bytes"] = 149 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.boot_free"), "warning");
  fs(snapshot, 1)["available_bytes"] = 50 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.boot_free"), "warning");
  fs(snapshot, 1)["available_bytes"] = 40 * kMiB;
  const json finding = only_finding(snapshot, "disk.boot_free");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "/boot has only 40 MiB free (of 1 GiB)");
}

TEST(BootFree, SkippedWhenBootIsNotASeparateFilesystem) {
  json snapshot = healthy();
  snapshot["storage"]["filesystems"].erase(1);
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "disk.boot_free"),
            "/boot is not a separate filesystem");
}

TEST(VarFree, WarnsUnder1GiBCriticalUnder256MiB) {
  json snapshot = healthy();
  fs(snapshot, 2)["available_bytes"] = 1024 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.var_free"), "ok");
  fs(snapshot, 2)["available_bytes"] = 1023 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.var_free"), "warning");
  fs(snapshot, 2)["available_bytes"] = 256 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.var_free"), "warning");
  fs(snapshot, 2)["available_bytes"] = 255 * kMiB;
  EXPECT_EQ(severity(snapshot, "disk.var_free"), "critical");
  snapshot["storage"]["filesystems"].erase(2);
  EXPECT_EQ(severity(snapshot, "disk.var_free"), "skipped");
}

// ---- disk.root_read_only ------------------------------------------------------------------

TEST(RootReadOnly, CriticalWhenRootIsRemountedReadOnly) {
  json snapshot = healthy();
  fs(snapshot, 0)["read_only"] = true;
  const json finding = only_finding(snapshot, "disk.root_read_only");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "The root filesystem (/) is mounted read-only");
  fs(snapshot, 0)["read_only"] = false;
  EXPECT_EQ(severity(snapshot, "disk.root_read_only"), "ok");
}

TEST(RootReadOnly, ReadOnlyByDesignIsOnlyInfo) {
  json snapshot = healthy();
  fs(snapshot, 0)["read_only"] = true;
  fs(snapshot, 0)["type"] = "squashfs";
  EXPECT_EQ(severity(snapshot, "disk.root_read_only"), "info");
  fs(snapshot, 0)["type"] = "overlay";
  snapshot["system"]["virtualization"] = {{"type", "docker"}, {"role", "container"}};
  EXPECT_EQ(severity(snapshot, "disk.root_read_only"), "info");
}

TEST(RootReadOnly, SkippedWithoutRootOrFlag) {
  json snapshot = healthy();
  fs(snapshot, 0)["read_only"] = "yes";
  EXPECT_EQ(severity(snapshot, "disk.root_read_only"), "skipped");
  snapshot["storage"]["filesystems"].erase(0);
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "disk.root_read_only"),
            "no / in storage.filesystems");
}

// ---- disk.smart, disk.wear, disk.bad_sectors ----------------------------------------------

json& health(json& snapshot, std::size_t disk) {
  return snapshot["storage"]["disks"][disk]["health"];
}

TEST(DiskSmart, FailedSelfAssessmentIsCritical) {
  json snapshot = healthy();
  health(snapshot, 1)["passed"] = false;
  const json finding = only_finding(snapshot, "disk.smart");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "Disk sda (WDC WD10EZEX) fails its SMART health self-assessment");
  EXPECT_EQ(finding["evidence"]["disk"], "sda");
}

TEST(DiskSmart, NvmeCriticalWarningBitsAreSpelledOut) {
  json snapshot = healthy();
  health(snapshot, 0)["critical_warning"] = 0;
  EXPECT_EQ(severity(snapshot, "disk.smart"), "ok");
  health(snapshot, 0)["critical_warning"] = 4;
  const json finding = only_finding(snapshot, "disk.smart");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_NE(finding["summary"].get<std::string>().find("reliability degraded by media errors"),
            std::string::npos);
}

TEST(DiskSmart, SkippedWithTheReasonHealthIsUnknown) {
  json snapshot = healthy();
  for (json& disk : snapshot["storage"]["disks"]) {
    disk["health"] = nullptr;
    disk["unknown"] = {{"health", "tool missing: smartctl"}};
  }
  const json result = evaluate_findings(snapshot, Thresholds{});
  EXPECT_EQ(skip_reason(result, "disk.smart"),
            "storage.disks[nvme0n1].health: tool missing: smartctl");
  EXPECT_EQ(skip_reason(result, "disk.wear"),
            "storage.disks[nvme0n1].health: tool missing: smartctl");
  EXPECT_EQ(skip_reason(result, "disk.bad_sectors"),
            "storage.disks[nvme0n1].health: tool missing: smartctl");
}

TEST(DiskWear, WarnsAbove80CriticalAbove95PercentUsed) {
  json snapshot = healthy();
  health(snapshot, 0)["percentage_used"] = 80;
  EXPECT_EQ(severity(snapshot, "disk.wear"), "ok");
  health(snapshot, 0)["percentage_used"] = 81;
  EXPECT_EQ(severity(snapshot, "disk.wear"), "warning");
  health(snapshot, 0)["percentage_used"] = 95;
  EXPECT_EQ(severity(snapshot, "disk.wear"), "warning");
  health(snapshot, 0)["percentage_used"] = 96;
  const json finding = only_finding(snapshot, "disk.wear");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"],
            "Disk nvme0n1 (Samsung SSD 970 EVO) has used 96% of its rated write endurance");
}

TEST(DiskWear, SkippedWhenOnlySataDisksWithoutWearFigures) {
  json snapshot = healthy();
  snapshot["storage"]["disks"].erase(0);
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "disk.wear"),
            "no disk reports percentage_used (NVMe drives do)");
}

TEST(DiskBadSectors, ReallocatedPendingAndMediaErrorsOnBothSides) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "ok");
  health(snapshot, 1)["reallocated_sectors"] = 1;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "warning");
  health(snapshot, 1)["reallocated_sectors"] = 100;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "warning");
  health(snapshot, 1)["reallocated_sectors"] = 101;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "critical");

  snapshot = healthy();
  health(snapshot, 1)["pending_sectors"] = 10;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "warning");
  health(snapshot, 1)["pending_sectors"] = 11;
  health(snapshot, 1)["reallocated_sectors"] = 12;
  const json finding = only_finding(snapshot, "disk.bad_sectors");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"],
            "Disk sda (WDC WD10EZEX) reports 12 reallocated sectors, 11 pending (unreadable) "
            "sectors");

  snapshot = healthy();
  health(snapshot, 0)["media_errors"] = 1;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "warning");
  health(snapshot, 0)["media_errors"] = 101;
  EXPECT_EQ(severity(snapshot, "disk.bad_sectors"), "critical");
}

// ---- raid.degraded ------------------------------------------------------------------------

TEST(Raid, DegradedArrayIsCritical) {
  json snapshot = healthy();
  json& md = snapshot["storage"]["raid"][0];
  md["devices_active"] = 1;
  md["devices_failed"] = 1;
  md["degraded"] = true;
  const json finding = only_finding(snapshot, "raid.degraded");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "RAID md0 (raid1) is degraded: 1 of 2 devices active, 1 failed");
}

TEST(Raid, MissingMemberCountsAsDegradedEvenWithoutTheFlag) {
  json snapshot = healthy();
  snapshot["storage"]["raid"][0]["devices_active"] = 1;
  EXPECT_EQ(severity(snapshot, "raid.degraded"), "critical");
}

TEST(Raid, RebuildIsInfoWithProgress) {
  json snapshot = healthy();
  snapshot["storage"]["raid"][0]["sync_action"] = "resync";
  snapshot["storage"]["raid"][0]["sync_pct"] = 45.5;
  const json finding = only_finding(snapshot, "raid.degraded");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"], "RAID md0 (raid1) is synchronising (resync, 45.5% done)");
}

TEST(Raid, RecoveryOfADegradedArrayIsShownInTheCriticalFinding) {
  json snapshot = healthy();
  json& md = snapshot["storage"]["raid"][0];
  md = {{"name", "md1"},      {"level", "raid5"},          {"state", "active"},
        {"devices_total", 3}, {"devices_active", 2},       {"devices_failed", 0},
        {"degraded", true},   {"sync_action", "recovery"}, {"sync_pct", 12.6}};
  const json finding = only_finding(snapshot, "raid.degraded");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"],
            "RAID md1 (raid5) is degraded: 2 of 3 devices active (rebuilding: recovery, 12.6% "
            "done)");
}

TEST(Raid, AnInactiveArrayWarnsInsteadOfCountingMembers) {
  json snapshot = healthy();
  snapshot["storage"]["raid"].push_back({{"name", "md127"},
                                         {"level", nullptr},
                                         {"state", "inactive"},
                                         {"devices_total", 1},
                                         {"devices_active", 0},
                                         {"devices_failed", 0},
                                         {"degraded", false}});
  const auto found = findings_of(evaluate_findings(snapshot, Thresholds{}), "raid.degraded");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0]["severity"], "warning");
  EXPECT_EQ(found[0]["summary"], "RAID md127 is inactive (not assembled)");
}

TEST(Raid, SkippedWithoutArrays) {
  json snapshot = healthy();
  snapshot["storage"]["raid"] = json::array();
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "raid.degraded"),
            "no md RAID arrays");
}

// ---- memory -------------------------------------------------------------------------------

TEST(MemoryAvailable, WarnsUnder10CriticalUnder5Percent) {
  json snapshot = healthy();
  snapshot["memory"]["total_bytes"] = 1000 * kMiB;
  snapshot["memory"]["available_bytes"] = 100 * kMiB;
  EXPECT_EQ(severity(snapshot, "memory.available"), "ok");
  snapshot["memory"]["available_bytes"] = 99 * kMiB;
  EXPECT_EQ(severity(snapshot, "memory.available"), "warning");
  snapshot["memory"]["available_bytes"] = 50 * kMiB;
  EXPECT_EQ(severity(snapshot, "memory.available"), "warning");
  snapshot["memory"]["available_bytes"] = 49 * kMiB;
  snapshot["processes"] = {{"top_memory", {{{"name", "firefox-esr"}, {"rss_bytes", 600 * kMiB}}}}};
  const json finding = only_finding(snapshot, "memory.available");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "Only 4.9% of memory is available (49 MiB of 1000 MiB)");
  EXPECT_NE(finding["hint"].get<std::string>().find("firefox-esr (600 MiB)"), std::string::npos);
  EXPECT_EQ(finding["evidence"]["top_memory"][0]["name"], "firefox-esr");
}

TEST(MemoryAvailable, SkippedWhenTotalIsUnknown) {
  json snapshot = healthy();
  snapshot["memory"]["total_bytes"] = nullptr;
  snapshot["memory"]["unknown"] = {{"total_bytes", "could not read: /proc/meminfo"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "memory.available"),
            "memory.total_bytes: could not read: /proc/meminfo");
}

TEST(Swap, WarnsAbove90CriticalAbove98) {
  json snapshot = healthy();
  snapshot["memory"]["swap_used_pct"] = 90;
  EXPECT_EQ(severity(snapshot, "memory.swap"), "ok");
  snapshot["memory"]["swap_used_pct"] = 90.5;
  EXPECT_EQ(severity(snapshot, "memory.swap"), "warning");
  snapshot["memory"]["swap_used_pct"] = 98.5;
  EXPECT_EQ(severity(snapshot, "memory.swap"), "critical");
}

TEST(Swap, ComputedFromFreeAndSkippedWithoutSwap) {
  json snapshot = healthy();
  snapshot["memory"].erase("swap_used_pct");
  snapshot["memory"]["swap_free_bytes"] = 0.05 * kGiB;  // 97.5% of 2 GiB used
  const json finding = only_finding(snapshot, "memory.swap");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"].get<std::string>().rfind("Swap is 97.5% used (", 0), 0u)
      << finding["summary"];
  snapshot["memory"]["swap_total_bytes"] = 0;
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "memory.swap"),
            "no swap configured");
}

TEST(OomKills, AnyKillSinceBootWarnsAndNamesTheLastVictim) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "memory.oom_kills"), "ok");
  snapshot["memory"]["oom_kills_since_boot"] = 2;
  snapshot["logs"]["oom_kills"] = {
      {{"time", "2025-11-25T08:00:00Z"}, {"process", "java"}, {"pid", 4242}},
      {{"time", "2025-11-25T09:00:00Z"}, {"process", "firefox-esr"}, {"pid", 5151}}};
  const json finding = only_finding(snapshot, "memory.oom_kills");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"],
            "The kernel killed 2 programs for lack of memory since boot (last: firefox-esr)");
  EXPECT_EQ(finding["evidence"]["recent"].size(), 2u);
}

TEST(OomKills, FallsBackToTheLoggedKillsAndSkipsWithoutEither) {
  json snapshot = healthy();
  snapshot["memory"].erase("oom_kills_since_boot");
  snapshot["logs"]["oom_kills"] = {{{"process", "java"}}};
  EXPECT_EQ(severity(snapshot, "memory.oom_kills"), "warning");
  snapshot["logs"] = {{"unavailable", "timed out"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "memory.oom_kills"),
            "memory.oom_kills_since_boot is missing");
}

TEST(MemoryPressure, SomeWarnsAbove10FullCriticalAbove5) {
  json snapshot = healthy();
  json& pressure = snapshot["memory"]["pressure"];
  pressure["some_avg60"] = 10;
  EXPECT_EQ(severity(snapshot, "memory.pressure"), "ok");
  snapshot["memory"]["pressure"]["some_avg60"] = 23;
  const json warning = only_finding(snapshot, "memory.pressure");
  EXPECT_EQ(warning["severity"], "warning");
  EXPECT_EQ(warning["summary"], "Programs were stalled waiting for memory 23% of the last minute");
  snapshot["memory"]["pressure"]["full_avg60"] = 5;
  EXPECT_EQ(severity(snapshot, "memory.pressure"), "warning");
  snapshot["memory"]["pressure"]["full_avg60"] = 5.5;
  EXPECT_EQ(severity(snapshot, "memory.pressure"), "critical");
}

TEST(MemoryPressure, SkippedWhenTheKernelHasNoPsi) {
  json snapshot = healthy();
  snapshot["memory"]["pressure"] = nullptr;
  snapshot["memory"]["unknown"] = {{"pressure", "not present"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "memory.pressure"),
            "memory.pressure: not present");
}

// ---- cpu.load, cpu.temperature, sensors.temperature ---------------------------------------

TEST(Load, WarnsAboveTwiceCriticalAboveFourTimesTheThreads) {
  json snapshot = healthy();
  snapshot["system"]["load"]["15m"] = 8.0;
  EXPECT_EQ(severity(snapshot, "cpu.load"), "ok");
  snapshot["system"]["load"]["15m"] = 8.1;
  EXPECT_EQ(severity(snapshot, "cpu.load"), "warning");
  snapshot["system"]["load"]["15m"] = 16.0;
  EXPECT_EQ(severity(snapshot, "cpu.load"), "warning");
  snapshot["system"]["load"]["15m"] = 16.4;
  const json finding = only_finding(snapshot, "cpu.load");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"],
            "Load average 16.4 over 15 minutes on 4 CPU threads (4.1 per thread)");
}

TEST(Load, ASingleCpuIsJudgedAsTwoAndLogicalCoresIsTheFallback) {
  json snapshot = healthy();
  snapshot["cpu"] = {{"logical_cores", 1}};
  snapshot["system"]["load"]["15m"] = 3.9;
  EXPECT_EQ(severity(snapshot, "cpu.load"), "ok");
  snapshot["system"]["load"]["15m"] = 4.1;
  EXPECT_EQ(severity(snapshot, "cpu.load"), "warning");
  snapshot["cpu"] = {{"unavailable", "could not read: /proc/cpuinfo"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "cpu.load"),
            "cpu unavailable: could not read: /proc/cpuinfo");
}

json with_cpu_at(double celsius) {
  json snapshot = healthy();
  snapshot["power"]["temperatures"][0]["celsius"] = celsius;
  snapshot["power"]["temperatures"][0]["max_celsius"] = 105;
  snapshot["power"]["temperatures"][0]["critical_celsius"] = 110;
  return snapshot;
}

TEST(CpuTemperature, WarnsAbove85CriticalAbove95) {
  EXPECT_EQ(severity(with_cpu_at(85), "cpu.temperature"), "ok");
  EXPECT_EQ(severity(with_cpu_at(85.5), "cpu.temperature"), "warning");
  EXPECT_EQ(severity(with_cpu_at(95), "cpu.temperature"), "warning");
  const json finding = only_finding(with_cpu_at(96), "cpu.temperature");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "The CPU is at 96 °C (coretemp Package id 0)");
}

TEST(CpuTemperature, SkippedWithoutACpuSensor) {
  json snapshot = healthy();
  snapshot["power"]["temperatures"].erase(0);
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "cpu.temperature"),
            "no CPU temperature sensor in power.temperatures");
}

TEST(SensorLimits, AtMaxWarnsAtCriticalIsCritical) {
  json snapshot = healthy();
  json& acpi = snapshot["power"]["temperatures"][1];
  acpi["max_celsius"] = 90;
  acpi["celsius"] = 89.9;
  EXPECT_EQ(severity(snapshot, "sensors.temperature"), "ok");
  snapshot["power"]["temperatures"][1]["celsius"] = 90;
  EXPECT_EQ(severity(snapshot, "sensors.temperature"), "warning");
  snapshot["power"]["temperatures"][1]["celsius"] = 119.9;
  EXPECT_EQ(severity(snapshot, "sensors.temperature"), "warning");
  snapshot["power"]["temperatures"][1]["celsius"] = 120;
  const json finding = only_finding(snapshot, "sensors.temperature");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "Sensor acpitz is at 120 °C, at its critical limit of 120 °C");
}

TEST(SensorLimits, JunkLimitsAreNotLimits) {
  json snapshot = healthy();
  for (json& sensor : snapshot["power"]["temperatures"]) {
    sensor["max_celsius"] = 0;
    sensor["critical_celsius"] = 65261.8;
  }
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "sensors.temperature"),
            "no temperature sensor in power.temperatures reports a limit");
}

// ---- clock --------------------------------------------------------------------------------

TEST(ClockSync, UnsynchronisedWarnsAfterTheGraceAfterBoot) {
  json snapshot = healthy();
  snapshot["system"]["clock"]["synchronized"] = false;
  snapshot["system"]["uptime_seconds"] = 17 * 60;
  EXPECT_EQ(severity(snapshot, "clock.synchronized"), "info");
  snapshot["system"]["uptime_seconds"] = 17 * 60 + 1;
  const json finding = only_finding(snapshot, "clock.synchronized");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "The clock is not synchronised with a time source");
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "clock.offset"),
            "the clock is not synchronised, so its offset is not measured");
}

TEST(ClockOffset, WarnsAbove500msCriticalAboveAMinute) {
  json snapshot = healthy();
  snapshot["system"]["clock"]["offset_ms"] = -500;
  EXPECT_EQ(severity(snapshot, "clock.offset"), "ok");
  snapshot["system"]["clock"]["offset_ms"] = -501;
  EXPECT_EQ(severity(snapshot, "clock.offset"), "warning");
  snapshot["system"]["clock"]["offset_ms"] = 60000;
  EXPECT_EQ(severity(snapshot, "clock.offset"), "warning");
  snapshot["system"]["clock"]["offset_ms"] = 61500;
  const json finding = only_finding(snapshot, "clock.offset");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "The clock is 61.5 s off its time source");
}

TEST(ClockSync, SkippedWhenAdjtimexFailed) {
  json snapshot = healthy();
  snapshot["system"]["clock"] = nullptr;
  snapshot["system"]["unknown"] = {{"clock", "not supported on this platform"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "clock.synchronized"),
            "system.clock: not supported on this platform");
}

// ---- power --------------------------------------------------------------------------------

json& battery(json& snapshot) {
  return snapshot["power"]["batteries"][0];
}

TEST(BatteryWear, WarnsUnder80CriticalUnder50PercentOfDesign) {
  json snapshot = healthy();
  battery(snapshot)["wear_pct"] = 20;
  EXPECT_EQ(severity(snapshot, "battery.wear"), "ok");
  battery(snapshot)["wear_pct"] = 20.5;
  EXPECT_EQ(severity(snapshot, "battery.wear"), "warning");
  battery(snapshot)["wear_pct"] = 50;
  EXPECT_EQ(severity(snapshot, "battery.wear"), "warning");
  battery(snapshot)["wear_pct"] = 50.5;
  EXPECT_EQ(severity(snapshot, "battery.wear"), "critical");
}

TEST(BatteryWear, ComputedFromCapacitiesWithTheFiguresInTheSummary) {
  json snapshot = healthy();
  battery(snapshot).erase("wear_pct");
  battery(snapshot)["full_capacity_wh"] = 36;
  battery(snapshot)["cycle_count"] = 512;
  const json finding = only_finding(snapshot, "battery.wear");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"],
            "Battery BAT0 holds 72% of its design capacity (36 of 50 Wh, 512 cycles)");
}

TEST(BatteryWear, SkippedOnAPcWithoutBattery) {
  json snapshot = healthy();
  snapshot["power"]["batteries"] = json::array();
  const json result = evaluate_findings(snapshot, Thresholds{});
  EXPECT_EQ(skip_reason(result, "battery.wear"), "no battery");
  EXPECT_EQ(skip_reason(result, "battery.charge"), "no battery");
}

TEST(BatteryCharge, LowChargeWarnsOnlyWhileDischarging) {
  json snapshot = healthy();
  battery(snapshot)["status"] = "Discharging";
  battery(snapshot)["capacity_pct"] = 10;
  EXPECT_EQ(severity(snapshot, "battery.charge"), "ok");
  battery(snapshot)["capacity_pct"] = 9;
  EXPECT_EQ(severity(snapshot, "battery.charge"), "warning");
  battery(snapshot)["capacity_pct"] = 5;
  EXPECT_EQ(severity(snapshot, "battery.charge"), "warning");
  battery(snapshot)["capacity_pct"] = 4;
  const json finding = only_finding(snapshot, "battery.charge");
  EXPECT_EQ(finding["severity"], "critical");
  EXPECT_EQ(finding["summary"], "Battery BAT0 is at 4% and discharging");
  battery(snapshot)["status"] = "Charging";
  EXPECT_EQ(severity(snapshot, "battery.charge"), "ok");
}

// ---- network ------------------------------------------------------------------------------

TEST(Gateway, MissingWhileAnInterfaceIsUpWarns) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "network.gateway"), "ok");
  snapshot["network"]["default_routes"] = json::array();
  const json finding = only_finding(snapshot, "network.gateway");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "No default gateway, although eth0 (192.168.1.20/24) is up");
}

TEST(Gateway, NoConnectedInterfaceIsInfoAndVirtualOnesDoNotCount) {
  json snapshot = healthy();
  snapshot["network"]["default_routes"] = json::array();
  snapshot["network"]["interfaces"][1]["state"] = "down";
  snapshot["network"]["interfaces"].push_back(
      {{"name", "docker0"},
       {"type", "virtual"},
       {"virtual", true},
       {"state", "up"},
       {"addresses", {{{"family", "ipv4"}, {"address", "172.17.0.1"}, {"prefix", 16}}}}});
  const json finding = only_finding(snapshot, "network.gateway");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"], "No network interface is connected");
}

TEST(Gateway, SkippedWithoutRoutes) {
  json snapshot = healthy();
  snapshot["network"].erase("default_routes");
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "network.gateway"),
            "network.default_routes is missing");
}

TEST(Dns, NoResolverWarns) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "network.dns"), "ok");
  snapshot["network"]["dns"]["servers"] = json::array();
  const json finding = only_finding(snapshot, "network.dns");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "No DNS server is configured");
  EXPECT_EQ(finding["evidence"]["source"], "/etc/resolv.conf");
}

json& eth0_stats(json& snapshot) {
  return snapshot["network"]["interfaces"][1]["stats"];
}

TEST(InterfaceErrors, WarnAbove1CriticalAbove5PercentOfPackets) {
  json snapshot = healthy();  // 100000 packets on eth0
  eth0_stats(snapshot)["rx_errors"] = 600;
  eth0_stats(snapshot)["tx_errors"] = 400;
  EXPECT_EQ(severity(snapshot, "network.errors"), "ok");
  eth0_stats(snapshot)["tx_errors"] = 401;
  EXPECT_EQ(severity(snapshot, "network.errors"), "warning");
  eth0_stats(snapshot)["rx_errors"] = 4600;
  EXPECT_EQ(severity(snapshot, "network.errors"), "critical");
  const json finding = only_finding(snapshot, "network.errors");
  EXPECT_EQ(finding["summary"], "eth0 has errors on 5% of packets (5001 in 100000 since boot)");
  EXPECT_NE(finding["hint"].get<std::string>().find("cable"), std::string::npos);
}

TEST(InterfaceErrors, TooLittleTrafficIsNotJudgedAndLoopbackIsIgnored) {
  json snapshot = healthy();
  eth0_stats(snapshot)["rx_packets"] = 5000;
  eth0_stats(snapshot)["tx_packets"] = 4999;
  eth0_stats(snapshot)["rx_errors"] = 5000;
  snapshot["network"]["interfaces"][0]["stats"]["rx_errors"] = 900000;  // lo
  EXPECT_EQ(severity(snapshot, "network.errors"), "ok");
}

TEST(InterfaceDrops, WiredWarnsAbove2WirelessAbove10Percent) {
  json snapshot = healthy();
  eth0_stats(snapshot)["rx_dropped"] = 2000;
  EXPECT_EQ(severity(snapshot, "network.drops"), "ok");
  eth0_stats(snapshot)["rx_dropped"] = 2001;
  EXPECT_EQ(severity(snapshot, "network.drops"), "warning");
  eth0_stats(snapshot)["rx_dropped"] = 90000;  // drops never go beyond a warning
  EXPECT_EQ(severity(snapshot, "network.drops"), "warning");

  snapshot = healthy();
  json& wlan = snapshot["network"]["interfaces"][2]["stats"];
  wlan["rx_dropped"] = 9000;
  EXPECT_EQ(severity(snapshot, "network.drops"), "ok");
  snapshot["network"]["interfaces"][2]["stats"]["rx_dropped"] = 10001;
  const json finding = only_finding(snapshot, "network.drops");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["evidence"]["interface"], "wlan0");
}

// ---- system -------------------------------------------------------------------------------

TEST(RebootRequired, InfoAtFirstWarningAfterAWeekWithAgeAndPackages) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "system.reboot_required"), "ok");
  snapshot["system"]["reboot_required"] = {{"required", true},
                                           {"since", "2025-11-22T10:00:00Z"},
                                           {"packages", {"linux-image-6.1.0-18-amd64", "libc6"}}};
  json finding = only_finding(snapshot, "system.reboot_required");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"],
            "A restart is pending for 3 days, to finish updating linux-image-6.1.0-18-amd64, "
            "libc6");
  snapshot["system"]["reboot_required"]["since"] = "2025-11-18T10:00:00Z";  // exactly 7 days
  EXPECT_EQ(severity(snapshot, "system.reboot_required"), "info");
  snapshot["system"]["reboot_required"]["since"] = "2025-11-18T09:59:59Z";
  EXPECT_EQ(severity(snapshot, "system.reboot_required"), "warning");
}

TEST(RebootRequired, UnknownAgeIsStillReported) {
  json snapshot = healthy();
  snapshot["system"]["reboot_required"] = {{"required", true}, {"since", "garbage"}};
  const json finding = only_finding(snapshot, "system.reboot_required");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"], "A restart is pending");
}

TEST(Uptime, InfoAfter90Days) {
  json snapshot = healthy();
  snapshot["system"]["uptime_seconds"] = 90 * 86400;
  EXPECT_EQ(severity(snapshot, "system.uptime"), "ok");
  snapshot["system"]["uptime_seconds"] = 123 * 86400 + 5;
  const json finding = only_finding(snapshot, "system.uptime");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"], "Up for 123 days without a restart");
}

TEST(Placeholders, PlaceholderIdentifiersAreInfo) {
  json snapshot = healthy();
  snapshot["identity"]["placeholders"] = {"smbios_uuid", "serials.system"};
  const json finding = only_finding(snapshot, "identity.placeholders");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"],
            "The firmware reports placeholder values for smbios_uuid, serials.system");
}

TEST(SecureBoot, OffOnUefiIsInfoAndLegacyIsSkipped) {
  json snapshot = healthy();
  snapshot["firmware"]["secure_boot"] = false;
  EXPECT_EQ(severity(snapshot, "firmware.secure_boot"), "info");
  snapshot["firmware"]["boot_mode"] = "legacy";
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "firmware.secure_boot"),
            "the PC boots in legacy mode, where secure boot does not exist");
  snapshot["firmware"]["boot_mode"] = "uefi";
  snapshot["firmware"]["secure_boot"] = nullptr;
  snapshot["firmware"]["unknown"] = {{"secure_boot", "not root"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "firmware.secure_boot"),
            "firmware.secure_boot: not root");
}

// ---- services, software, logs -------------------------------------------------------------

TEST(FailedUnits, AnyFailedUnitWarnsWithItsLogLines) {
  json snapshot = healthy();
  snapshot["services"]["failed"] = {"cups.service", "backup.timer"};
  snapshot["logs"]["errors"] = {{{"time", "2025-11-25T09:00:00Z"},
                                 {"unit", "cups.service"},
                                 {"priority", 3},
                                 {"message", "Failed to start CUPS Scheduler."}},
                                {{"time", "2025-11-25T09:01:00Z"},
                                 {"unit", "kernel"},
                                 {"priority", 3},
                                 {"message", "ACPI Error"}}};
  const json finding = only_finding(snapshot, "services.failed");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "2 systemd units failed: cups.service, backup.timer");
  ASSERT_EQ(finding["evidence"]["log_lines"].size(), 1u);
  EXPECT_EQ(finding["evidence"]["log_lines"][0],
            "2025-11-25T09:00:00Z cups.service: Failed to start CUPS Scheduler.");
}

TEST(FailedUnits, SkippedWithoutSystemd) {
  json snapshot = healthy();
  snapshot["services"] = {{"manager", nullptr},
                          {"unknown", {{"manager", "not present"}, {"failed", "not present"}}},
                          {"failed", nullptr}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "services.failed"),
            "services.failed: not present");
}

TEST(SecurityUpdates, SecurityWarnsOtherUpdatesAreInfo) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "software.security_updates"), "ok");
  snapshot["software"]["pending_updates"] = {{"total", 23}, {"security", 0}, {"source", "apt"}};
  EXPECT_EQ(severity(snapshot, "software.security_updates"), "info");
  snapshot["software"]["pending_updates"]["security"] = 7;
  const json finding = only_finding(snapshot, "software.security_updates");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "7 security updates are pending (23 updates in all)");
}

TEST(SecurityUpdates, SkippedWhenNotCheaplyKnowable) {
  json snapshot = healthy();
  snapshot["software"]["pending_updates"] = nullptr;
  snapshot["software"]["unknown"] = {{"pending_updates", "tool missing: apt-check"}};
  EXPECT_EQ(skip_reason(evaluate_findings(snapshot, Thresholds{}), "software.security_updates"),
            "software.pending_updates: tool missing: apt-check");
}

TEST(Crashes, AnyCrashInTheLastDayWarnsWithProgramNames) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "logs.crashes"), "ok");
  snapshot["logs"]["crashes"] = {
      {{"time", "2025-11-25T08:00:00Z"},
       {"executable", "/usr/bin/gnome-shell"},
       {"path", "/var/lib/systemd/coredump/core.gnome-shell.1000.zst"}},
      {{"time", "2025-11-25T08:05:00Z"}, {"executable", "/usr/bin/gnome-shell"}, {"path", "x"}},
      "junk"};
  const json finding = only_finding(snapshot, "logs.crashes");
  EXPECT_EQ(finding["severity"], "warning");
  EXPECT_EQ(finding["summary"], "2 crashes in the last 24 hours: gnome-shell");
}

TEST(JournalErrors, InfoForAFewWarningAbove100) {
  json snapshot = healthy();
  EXPECT_EQ(severity(snapshot, "logs.errors"), "ok");
  snapshot["logs"]["error_count"] = 1;
  snapshot["logs"]["errors"] = {{{"time", "2025-11-25T09:00:00Z"},
                                 {"unit", "kernel"},
                                 {"priority", 3},
                                 {"message", "ACPI Error:\nAE_NOT_FOUND"}}};
  const json finding = only_finding(snapshot, "logs.errors");
  EXPECT_EQ(finding["severity"], "info");
  EXPECT_EQ(finding["summary"],
            "1 error logged since boot (latest: 2025-11-25T09:00:00Z kernel: ACPI Error: "
            "AE_NOT_FOUND)");
  snapshot["logs"]["error_count"] = 100;
  EXPECT_EQ(severity(snapshot, "logs.errors"), "info");
  snapshot["logs"]["error_count"] = 101;
  EXPECT_EQ(severity(snapshot, "logs.errors"), "warning");
}

TEST(JournalErrors, LongMultibyteMessagesAreCutOnACharacterBoundary) {
  json snapshot = healthy();
  snapshot["logs"]["error_count"] = 1;
  std::string message;
  for (int i = 0; i < 100; ++i) message += "é";  // two bytes each
  snapshot["logs"]["errors"] = {{{"unit", "app"}, {"message", message}}};
  const json finding = only_finding(snapshot, "logs.errors");
  EXPECT_NO_THROW((void)finding.dump());
}

// ---- formatting ---------------------------------------------------------------------------

TEST(FindingsFormat, NumbersReadTheWayAPersonWritesThem) {
  EXPECT_EQ(findings::format_bytes(3.1 * kGiB), "3.1 GiB");
  EXPECT_EQ(findings::format_bytes(512 * kMiB), "512 MiB");
  EXPECT_EQ(findings::format_bytes(12), "12 B");
  EXPECT_EQ(findings::format_pct(96.0), "96%");
  EXPECT_EQ(findings::format_pct(90.44), "90.4%");
  EXPECT_EQ(findings::format_duration(3 * 86400 + 7200), "3 days");
  EXPECT_EQ(findings::format_duration(30 * 60), "30 minutes");
  EXPECT_EQ(findings::join_names({"a", "b", "c", "d", "e"}), "a, b, c and 2 more");
  EXPECT_EQ(findings::shorten("abcdef", 5), "ab...");
}

}  // namespace
}  // namespace tether::agent::diag
