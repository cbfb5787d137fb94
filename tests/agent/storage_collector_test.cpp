// collect_storage over the server fixture: disks, smartctl health (canned and hanging),
// filesystems with inodes, LVM, dm-crypt and md RAID.

#include "diag/collectors/storage_collector.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <atomic>
#include <memory>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
  return fs::path(TETHER_TEST_DATA_DIR) / name;
}

std::string captured(const char* name) {
  std::ifstream in(fixture("smartctl") / name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const json* find_by(const json& array, const char* key, const std::string& value) {
  for (const auto& element : array) {
    if (element.contains(key) && element[key] == value) return &element;
  }
  return nullptr;
}

CollectContext server_context() {
  CollectContext context;
  context.root = fixture("server");
  context.real_root = false;
  context.host.effective_uid = [] { return 0U; };
  context.host.filesystem_usage =
      [](const std::string& mount_point) -> std::optional<FilesystemUsage> {
    if (mount_point == "/home") return std::nullopt;  // a dead NFS server
    if (mount_point == "/srv/backups") {
      return FilesystemUsage{.size_bytes = 7'000'000'000'000,
                             .free_bytes = 200'000'000'000,
                             .available_bytes = 100'000'000'000,
                             .inodes_total = 0,
                             .inodes_free = 0};
    }
    return FilesystemUsage{.size_bytes = 100'000,
                           .free_bytes = 40'000,
                           .available_bytes = 30'000,
                           .inodes_total = 1000,
                           .inodes_free = 250};
  };
  context.host.run = [](const std::vector<std::string>& argv, const RunLimits&) {
    ProgramRun run;
    run.outcome = RunOutcome::exited;
    run.exit_code = 0;
    if (argv.back() == "/dev/nvme0n1") run.out = captured("nvme-samsung-980pro.json");
    if (argv.back() == "/dev/sdc") {
      run.exit_code = 24;
      run.out = captured("ata-seagate-failing.json");
    }
    if (run.out.empty()) {
      run.exit_code = 2;
      run.out = R"({"smartctl":{"exit_status":2,"messages":[{"string":"Permission denied"}]}})";
    }
    return run;
  };
  return context;
}

TEST(StorageCollector, ServerDisksWithHealth) {
  const auto storage = collect_storage(server_context());
  const auto& disks = storage["disks"];
  ASSERT_EQ(disks.size(), 6u) << disks.dump();  // nvme0n1, sda…sde; no md, dm, loop
  EXPECT_EQ(disks[0]["name"], "nvme0n1");
  EXPECT_EQ(disks[0]["bus"], "nvme");
  EXPECT_EQ(disks[0]["media"], "ssd");
  EXPECT_EQ(disks[0]["model"], "INTEL SSDPE2KX040T8");
  EXPECT_EQ(disks[0]["serial"], "PHLJ9123004X4P0DGN");
  EXPECT_EQ(disks[0]["firmware"], "VDV10131");
  EXPECT_EQ(disks[0]["size_bytes"], 937703088ULL * 512);
  EXPECT_EQ(disks[0]["health"]["passed"], true);
  EXPECT_EQ(disks[0]["health"]["percentage_used"], 3);

  const auto* sdc = find_by(disks, "name", "sdc");
  ASSERT_NE(sdc, nullptr);
  EXPECT_EQ((*sdc)["bus"], "sata");
  EXPECT_EQ((*sdc)["media"], "hdd");
  EXPECT_EQ((*sdc)["rotational"], true);
  EXPECT_EQ((*sdc)["serial"], "ZL2ABC03");  // from the SCSI VPD page 0x80
  EXPECT_EQ((*sdc)["firmware"], "SN04");
  EXPECT_EQ((*sdc)["health"]["passed"], false);
  EXPECT_EQ((*sdc)["health"]["reallocated_sectors"], 3912);

  const auto* sda = find_by(disks, "name", "sda");
  ASSERT_NE(sda, nullptr);
  EXPECT_TRUE((*sda)["health"].is_null());
  EXPECT_EQ((*sda)["unknown"]["health"], "could not read: smartctl: Permission denied");
}

TEST(StorageCollector, NotRootMeansNoSmartctl) {
  auto context = server_context();
  context.host.effective_uid = [] { return 1000U; };
  bool ran = false;
  context.host.run = [&ran](const std::vector<std::string>&, const RunLimits&) {
    ran = true;
    return ProgramRun{};
  };
  const auto storage = collect_storage(context);
  EXPECT_FALSE(ran);
  EXPECT_EQ(storage["disks"][0]["unknown"]["health"], "not root: smartctl needs root");
}

TEST(StorageCollector, SmartctlMissing) {
  auto context = server_context();
  context.host.run = [](const std::vector<std::string>&, const RunLimits&) {
    ProgramRun run;
    run.outcome = RunOutcome::tool_missing;
    return run;
  };
  const auto storage = collect_storage(context);
  for (const auto& disk : storage["disks"]) {
    EXPECT_EQ(disk["unknown"]["health"].get<std::string>().rfind("tool missing", 0), 0u);
  }
}

TEST(StorageCollector, HangingSmartctlCostsOneProbeTimeoutNotOnePerDisk) {
  auto context = server_context();
  context.probe_timeout = std::chrono::milliseconds(300);
  // The fake records how many smartctl runs overlap: one after another, a hanging smartctl
  // would cost the section one deadline per disk.
  auto running = std::make_shared<std::atomic<int>>(0);
  auto most = std::make_shared<std::atomic<int>>(0);
  context.host.run = [running, most](const std::vector<std::string>&, const RunLimits& limits) {
    const int now = ++*running;
    int seen = most->load();
    while (now > seen && !most->compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(limits.timeout);  // what run_program does before it kills
    --*running;
    ProgramRun run;
    run.outcome = RunOutcome::timed_out;
    return run;
  };
  const auto storage = collect_storage(context);
  ASSERT_GE(storage["disks"].size(), 3u);
  EXPECT_EQ(most->load(), static_cast<int>(storage["disks"].size()));
  EXPECT_EQ(storage["disks"][2]["unknown"]["health"], "timed out: smartctl");
}

TEST(StorageCollector, ServerFilesystemsFromMountinfo) {
  const auto storage = collect_storage(server_context());
  const auto& filesystems = storage["filesystems"];
  std::vector<std::string> mount_points;
  for (const auto& f : filesystems) mount_points.push_back(f["mount_point"]);
  EXPECT_EQ(mount_points, (std::vector<std::string>{"/", "/boot", "/var", "/srv/backups",
                                                    "/srv/samba/Team Share", "/home"}));
  const auto* root = find_by(filesystems, "mount_point", "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ((*root)["device"], "/dev/mapper/vg0-root");
  EXPECT_EQ((*root)["options"], "rw,relatime,errors=remount-ro");
  EXPECT_DOUBLE_EQ((*root)["used_pct"].get<double>(), 66.7);  // 60000 / (60000 + 30000)
  EXPECT_EQ((*root)["inodes_total"], 1000);
  EXPECT_DOUBLE_EQ((*root)["inodes_used_pct"].get<double>(), 75.0);
  const auto* xfs = find_by(filesystems, "mount_point", "/srv/backups");
  ASSERT_NE(xfs, nullptr);
  EXPECT_TRUE((*xfs)["inodes_used_pct"].is_null());
  EXPECT_TRUE((*xfs)["unknown"].contains("inodes_used_pct"));
  const auto* nfs = find_by(filesystems, "mount_point", "/home");
  ASSERT_NE(nfs, nullptr);
  EXPECT_EQ((*nfs)["type"], "nfs4");
  EXPECT_TRUE((*nfs)["size_bytes"].is_null());
  EXPECT_EQ((*nfs)["unknown"]["size_bytes"], "could not read: statvfs failed");
}

TEST(StorageCollector, ServerLvmCryptAndRaid) {
  const auto storage = collect_storage(server_context());
  EXPECT_EQ(storage["lvm"]["volume_groups"], json::parse(R"([{"name":"data-vg"},{"name":"vg0"}])"));
  const auto& lvs = storage["lvm"]["logical_volumes"];
  ASSERT_EQ(lvs.size(), 3u);
  EXPECT_EQ(lvs[0], json({{"name", "backups"},
                          {"volume_group", "data-vg"},
                          {"device", "/dev/data-vg/backups"},
                          {"size_bytes", 15032385536ULL * 512}}));
  EXPECT_EQ(lvs[1]["name"], "root");
  EXPECT_EQ(storage["encrypted"], json::parse(R"([{"name":"cryptswap","type":"dm-crypt",
                                                   "backing_device":"/dev/sda2"}])"));
  const auto& raid = storage["raid"];
  ASSERT_EQ(raid.size(), 3u);
  EXPECT_EQ(raid[1]["name"], "md1");
  EXPECT_EQ(raid[1]["degraded"], true);
  EXPECT_EQ(raid[1]["sync_action"], "recovery");
}

TEST(StorageCollector, FallsBackToProcMountsWithoutMountinfo) {
  CollectContext context;
  context.root = fixture("ubuntu2204");
  context.real_root = false;
  const auto storage = collect_storage(context);
  ASSERT_EQ(storage["filesystems"].size(), 2u);
  EXPECT_EQ(storage["filesystems"][0]["unknown"]["size_bytes"],
            "not supported on this platform: not the running machine's root");
  EXPECT_EQ(storage["disks"], json::array());
  EXPECT_EQ(storage["raid"], json::array());
}

TEST(StorageCollector, RealMachineWithoutRootDoesNotRunSmartctl) {
  CollectContext context;
  context.host.effective_uid = [] { return 1000U; };
  bool ran = false;
  context.host.run = [&ran](const std::vector<std::string>&, const RunLimits&) {
    ran = true;
    return ProgramRun{};
  };
  const auto storage = collect_storage(context);
  ASSERT_TRUE(storage["filesystems"].is_array()) << storage.dump();
  EXPECT_FALSE(ran);
  for (const auto& disk : storage["disks"]) {
    EXPECT_EQ(disk["unknown"]["health"].get<std::string>().rfind("not root", 0), 0u);
  }
}

}  // namespace
}  // namespace tether::agent::diag
