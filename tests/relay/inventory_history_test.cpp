#include "fleet/inventory_history.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace tether::relay::fleet {
namespace {

using nlohmann::json;

constexpr double kGiB8 = 8589934592.0;

std::size_t chars(const std::string& text) {
  std::size_t n = 0;
  for (const unsigned char c : text) n += (c & 0xc0) != 0x80 ? 1 : 0;
  return n;
}

// An inventory document as make_inventory writes it, small enough to read in one go.
json laptop() {
  return json::parse(R"j({
    "schema": 2, "collected_at": "2026-11-01T08:00:00Z", "duration_ms": 40,
    "agent": {"version": "0.2.0"}, "errors": [],
    "identity": {"device_id": "sha256:5b1d", "machine_id": "0f3a", "macs": ["a4:c3:f0:85:ab:12"]},
    "system": {"hostname": "anna-laptop", "kernel": "6.1.0-17-amd64", "architecture": "x86_64",
               "timezone": "Europe/Paris", "boot_time": "2026-11-01T07:00:00Z",
               "os": {"id": "debian", "name": "Debian GNU/Linux", "version_id": "12",
                      "version": "12 (bookworm)", "codename": "bookworm",
                      "pretty_name": "Debian GNU/Linux 12 (bookworm)"}},
    "firmware": {"bios": {"vendor": "LENOVO", "version": "N2HET70W (1.53)", "date": "2023-04-11"},
                 "system": {"manufacturer": "LENOVO", "product": "20L5", "serial": "PF1ABCDE"},
                 "board": {"manufacturer": "LENOVO", "product": "20L5", "serial": "L1HF8AB"},
                 "chassis": {"type": 10, "type_name": "laptop"},
                 "boot_mode": "uefi", "secure_boot": true},
    "cpu": {"vendor": "GenuineIntel", "model": "Core i5-8250U", "cores": 4, "threads": 8,
            "microcode": "0xf0"},
    "memory": {"total_bytes": 16426000000, "swap_total_bytes": 1000000000,
               "dimms": [{"locator": "ChannelA-DIMM0", "size_bytes": 8589934592, "type": "DDR4",
                          "serial": "1A2B"},
                         {"locator": "ChannelB-DIMM0", "size_bytes": 8589934592, "type": "DDR4",
                          "serial": "3C4D"}],
               "slots_total": 2, "slots_used": 2},
    "storage": {"disks": [{"name": "nvme0n1", "model": "SAMSUNG MZVLB512", "serial": "S4GENX0N",
                           "firmware": "4L2QEXA7", "size_bytes": 512110190592, "bus": "nvme",
                           "removable": false}],
                "filesystems": [{"mount_point": "/", "device": "/dev/nvme0n1p2", "type": "ext4",
                                 "size_bytes": 500000000000}]},
    "network": {"interfaces": [{"name": "wlp2s0", "type": "wifi", "virtual": false,
                                "mac": "a4:c3:f0:85:ab:12", "permanent_mac": "a4:c3:f0:85:ab:12",
                                "driver": "iwlwifi", "mtu": 1500,
                                "addresses": [{"family": "ipv4", "address": "192.0.2.7"}]}],
                "dns": {"servers": ["192.0.2.1"]}},
    "power": {"batteries": [{"name": "BAT0", "model": "01AV430", "serial": "1234",
                             "wear_pct": 12.5, "cycle_count": 300}]},
    "software": {"packages": [
                   {"name": "curl", "version": "7.88.1-10", "architecture": "amd64", "source": "dpkg"},
                   {"name": "openssl", "version": "3.0.11-1~deb12u2", "architecture": "amd64",
                    "source": "dpkg"},
                   {"name": "skypeforlinux", "version": "8.110.0.211", "architecture": "amd64",
                    "source": "dpkg"}],
                 "counts": {"dpkg": 3}, "pending_updates": {"total": 4, "security": 1}},
    "services": {"units": [{"name": "cups.service", "load": "loaded", "active": "active"}]},
    "users": {"local": [{"name": "anna", "uid": 1000, "human": true}]},
    "section_hashes": {"system": "sha256:aa"}
  })j");
}

std::vector<std::string> kinds(const std::vector<InventoryChangeEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.section + "/" + e.kind);
  return out;
}

// The one entry expected (a copy: the list is usually a temporary).
InventoryChangeEntry only(const std::vector<InventoryChangeEntry>& entries) {
  EXPECT_EQ(entries.size(), 1u) << testing::PrintToString(kinds(entries));
  return entries.empty() ? InventoryChangeEntry{} : entries.front();
}

json& package(json& inventory, const std::string& name) {
  for (auto& p : inventory["software"]["packages"]) {
    if (p["name"] == name) return p;
  }
  ADD_FAILURE() << "no package " << name;
  return inventory["software"]["packages"][0];
}

// ---- No change, first inventory

TEST(InventoryHistory, IdenticalInventoriesGiveNoEntries) {
  EXPECT_TRUE(inventory_changes(laptop(), laptop()).empty());
}

TEST(InventoryHistory, LiveFiguresAndDocumentFactsAreNotChanges) {
  json before = laptop();
  json after = laptop();
  after["collected_at"] = "2026-11-02T08:00:00Z";
  after["section_hashes"]["system"] = "sha256:bb";
  after["system"]["boot_time"] = "2026-11-02T07:00:00Z";
  after["system"]["uptime_seconds"] = 3600;
  after["memory"]["available_bytes"] = 4000000000;
  after["memory"]["total_bytes"] = 16425000000;  // another kernel keeps a little more
  after["storage"]["filesystems"][0]["available_bytes"] = 100;
  after["network"]["interfaces"][0]["addresses"] = json::array();
  after["network"]["interfaces"][0]["state"] = "down";
  after["network"]["dns"]["servers"] = {"10.0.0.1"};
  after["power"]["batteries"][0]["wear_pct"] = 13.0;
  after["power"]["batteries"][0]["cycle_count"] = 301;
  after["software"]["pending_updates"]["total"] = 9;
  after["software"]["packages"][0]["installed_at"] = nullptr;  // could not be read this time
  after["services"]["units"][0]["active"] = "failed";
  after["findings"] = json::array({{{"id", "disk.space"}, {"severity", "critical"}}});
  after["processes"] = {{"count", 200}};
  // A field that could not be read is not a change, nor is its reason.
  after["cpu"]["microcode"] = nullptr;
  after["cpu"]["unknown"] = {{"microcode", "not root"}};
  EXPECT_TRUE(inventory_changes(before, after).empty())
      << testing::PrintToString(kinds(inventory_changes(before, after)));
}

TEST(InventoryHistory, FirstInventorySummarisesTheMachine) {
  for (const json& before : {json(nullptr), json::object(), json{{"schema", 2}}}) {
    const auto& e = only(inventory_changes(before, laptop()));
    EXPECT_EQ(e.section, "inventory");
    EXPECT_EQ(e.kind, "inventory.first");
    EXPECT_EQ(e.summary,
              "First inventory of anna-laptop: Debian GNU/Linux 12 (bookworm), Core i5-8250U "
              "(8 threads), 16.0 GiB memory, 1 disk, 3 packages");
    EXPECT_EQ(e.detail["sections"].size(), 11u);
    EXPECT_EQ(e.detail["sections"][0], "cpu");
  }
  EXPECT_TRUE(inventory_changes(nullptr, nullptr).empty());
  EXPECT_TRUE(inventory_changes(json::object(), json{{"schema", 2}}).empty());
  // A first inventory with nothing to name still says what it is.
  EXPECT_EQ(only(inventory_changes(nullptr, json{{"cpu", json::object()}})).summary,
            "First inventory");
}

// ---- Software

TEST(InventoryHistory, SoftwareInstalledRemovedUpgradedDowngraded) {
  json before = laptop();
  json after = laptop();
  auto& packages = after["software"]["packages"];
  packages.erase(2);  // skypeforlinux
  packages.push_back({{"name", "printer-driver-gutenprint"},
                      {"version", "5.3.4-1"},
                      {"architecture", "amd64"},
                      {"source", "dpkg"}});
  package(after, "openssl")["version"] = "3.0.15-1~deb12u1";
  package(after, "curl")["version"] = "7.88.1-9";
  const auto entries = inventory_changes(before, after);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"software/software.downgraded", "software/software.installed",
                                      "software/software.removed", "software/software.upgraded"}));
  EXPECT_EQ(entries[0].summary, "Downgraded curl 7.88.1-10 → 7.88.1-9");
  EXPECT_EQ(entries[1].summary, "Installed printer-driver-gutenprint 5.3.4-1");
  EXPECT_EQ(entries[2].summary, "Removed skypeforlinux 8.110.0.211");
  EXPECT_EQ(entries[3].summary, "Upgraded openssl 3.0.11-1~deb12u2 → 3.0.15-1~deb12u1");
  EXPECT_EQ(entries[3].detail, json::parse(R"j({"count": 1, "packages": [{"name": "openssl",
              "from": "3.0.11-1~deb12u2", "to": "3.0.15-1~deb12u1", "architecture": "amd64",
              "source": "dpkg"}]})j"));
  EXPECT_EQ(entries[1].detail["packages"][0],
            json::parse(R"j({"name": "printer-driver-gutenprint", "version": "5.3.4-1",
              "architecture": "amd64", "source": "dpkg"})j"));
  EXPECT_EQ(entries[2].detail["count"], 1);
}

TEST(InventoryHistory, DebianOrderDecidesUpOrDown) {
  const auto change = [](const std::string& from, const std::string& to) {
    json before = laptop();
    json after = laptop();
    package(before, "curl")["version"] = from;
    package(after, "curl")["version"] = to;
    return only(inventory_changes(before, after)).kind;
  };
  EXPECT_EQ(change("1.0~rc1", "1.0"), "software.upgraded");
  EXPECT_EQ(change("1.0", "1.0~rc1"), "software.downgraded");
  EXPECT_EQ(change("1:1.0", "2.0"), "software.downgraded");  // the epoch wins
  EXPECT_EQ(change("1.9", "1.10"), "software.upgraded");
}

TEST(InventoryHistory, ManyPackagesAreNamedUpToEightAndCappedAtAThousand) {
  json before = laptop();
  json after = laptop();
  for (int i = 0; i < 1500; ++i) {
    char name[16];
    std::snprintf(name, sizeof name, "pkg%04d", i);
    after["software"]["packages"].push_back({{"name", name}, {"version", "1.0"}});
  }
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "software.installed");
  EXPECT_EQ(e.summary,
            "Installed 1500 packages: pkg0000, pkg0001, pkg0002, pkg0003, pkg0004, pkg0005, "
            "pkg0006, pkg0007 and 1492 more");
  EXPECT_EQ(e.detail["packages"].size(), 1000u);
  EXPECT_EQ(e.detail["count"], 1500);
  EXPECT_EQ(e.detail["truncated"], true);
  EXPECT_EQ(e.detail["packages"][999]["name"], "pkg0999");
}

TEST(InventoryHistory, LongNamesKeepTheSummaryWithin300Characters) {
  json before = laptop();
  json after = laptop();
  for (int i = 0; i < 20; ++i) {
    const std::string name = std::string(100, static_cast<char>('a' + i));
    before["software"]["packages"].push_back({{"name", name}, {"version", std::string(80, '1')}});
    after["software"]["packages"].push_back({{"name", name}, {"version", std::string(80, '2')}});
  }
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "software.upgraded");
  EXPECT_LE(chars(e.summary), 300u);
  EXPECT_TRUE(e.summary.starts_with("Upgraded 20 packages: aaaa")) << e.summary;
  EXPECT_TRUE(e.summary.ends_with(" more")) << e.summary;
  // Versions are shown, clipped to 40 characters and "…".
  EXPECT_NE(e.summary.find(" " + std::string(40, '1') + "… → " + std::string(40, '2') + "… "),
            std::string::npos);
}

TEST(InventoryHistory, TextFromTheAgentIsOneLineOfValidUtf8) {
  json before = laptop();
  json after = laptop();
  after["software"]["packages"].push_back(
      {{"name", "evil\n\x1b[31mred\xff<script>"}, {"version", "1\r\n2"}});
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.summary, "Installed evil  [31mred?<script> 1  2");
  EXPECT_NO_THROW((void)e.detail.dump());
}

// ---- Storage

json second_disk() {
  return {{"name", "sda"},         {"model", "WDC WD10EZEX"},
          {"serial", "WD-WCC6Y0"}, {"size_bytes", 1000204886016},
          {"bus", "sata"},         {"removable", false}};
}

TEST(InventoryHistory, DiskAddedAndRemoved) {
  json before = laptop();
  json after = laptop();
  after["storage"]["disks"].push_back(second_disk());
  const auto& added = only(inventory_changes(before, after));
  EXPECT_EQ(added.section, "storage");
  EXPECT_EQ(added.kind, "storage.disk_added");
  EXPECT_EQ(added.summary, "Disk added: sda WDC WD10EZEX 1.0 TB (serial WD-WCC6Y0)");
  EXPECT_EQ(added.detail["disks"][0],
            json::parse(R"j({"name": "sda", "model": "WDC WD10EZEX", "serial": "WD-WCC6Y0",
              "bus": "sata", "size_bytes": 1000204886016})j"));
  const auto& removed = only(inventory_changes(after, before));
  EXPECT_EQ(removed.kind, "storage.disk_removed");
  EXPECT_EQ(removed.summary, "Disk removed: sda WDC WD10EZEX 1.0 TB (serial WD-WCC6Y0)");

  json three = before;
  three["storage"]["disks"].push_back(second_disk());
  three["storage"]["disks"].push_back(second_disk());
  three["storage"]["disks"][2]["name"] = "sdb";
  three["storage"]["disks"][2]["serial"] = "WD-2";
  EXPECT_EQ(only(inventory_changes(before, three)).summary,
            "2 disks added: sda WDC WD10EZEX 1.0 TB (serial WD-WCC6Y0), sdb WDC WD10EZEX 1.0 TB "
            "(serial WD-2)");
}

TEST(InventoryHistory, DiskInTheSamePlaceWithAnotherSerialWasReplaced) {
  json before = laptop();
  json after = laptop();
  auto& disk = after["storage"]["disks"][0];
  disk["model"] = "Samsung SSD 980 PRO 1TB";
  disk["serial"] = "S5P2NG0R";
  disk["size_bytes"] = 1000204886016;
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "storage.disk_replaced");
  EXPECT_EQ(e.summary,
            "Disk nvme0n1 replaced: SAMSUNG MZVLB512 512 GB (serial S4GENX0N) → Samsung SSD 980 "
            "PRO 1TB 1.0 TB (serial S5P2NG0R)");
  EXPECT_EQ(e.detail["disks"][0]["from"]["serial"], "S4GENX0N");
  EXPECT_EQ(e.detail["disks"][0]["to"]["serial"], "S5P2NG0R");
}

TEST(InventoryHistory, DisksWithoutSerialAreKnownByModelAndSize) {
  json before = laptop();
  before["storage"]["disks"][0].erase("serial");
  json after = before;
  after["storage"]["disks"][0]["name"] = "nvme1n1";  // renumbered at boot: the same disk
  EXPECT_TRUE(inventory_changes(before, after).empty())
      << only(inventory_changes(before, after)).summary;
  after["storage"]["disks"][0]["size_bytes"] = 256060514304;
  after["storage"]["disks"][0]["name"] = "nvme0n1";
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "storage.disk_replaced");
  EXPECT_EQ(e.summary, "Disk nvme0n1 replaced: SAMSUNG MZVLB512 512 GB → SAMSUNG MZVLB512 256 GB");
}

TEST(InventoryHistory, RemovableDisksAreNotFollowed) {
  json before = laptop();
  json after = laptop();
  json stick = second_disk();
  stick["removable"] = true;
  after["storage"]["disks"].push_back(stick);
  EXPECT_TRUE(inventory_changes(before, after).empty());
}

TEST(InventoryHistory, DiskFirmwareUpdateAndOtherDiskFields) {
  json before = laptop();
  json after = laptop();
  after["storage"]["disks"][0]["firmware"] = "5L2QEXA7";
  after["storage"]["disks"][0]["health"] = {{"temperature_celsius", 50}};  // a reading
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.section, "storage");
  EXPECT_EQ(e.kind, "firmware.updated");
  EXPECT_EQ(e.summary, "Disk firmware updated: nvme0n1 4L2QEXA7 → 5L2QEXA7");
  EXPECT_EQ(e.detail["disks"][0]["from"], "4L2QEXA7");

  after = laptop();
  after["storage"]["disks"][0]["bus"] = "pcie";
  after["storage"]["filesystems"].push_back({{"mount_point", "/data"}, {"type", "xfs"}});
  const auto& rest = only(inventory_changes(before, after));
  EXPECT_EQ(rest.kind, "storage.changed");
  EXPECT_EQ(rest.summary, "Storage: disks[nvme0n1].bus nvme → pcie, filesystems[/data] added");
  EXPECT_EQ(rest.detail["fields"][0],
            json::parse(R"j({"path": "disks[nvme0n1].bus", "change": "changed", "from": "nvme",
              "to": "pcie"})j"));
}

// ---- Memory, CPU

TEST(InventoryHistory, MemoryModuleAddedAndRemoved) {
  json before = laptop();
  before["memory"]["dimms"].erase(1);
  before["memory"]["slots_used"] = 1;
  before["memory"]["total_bytes"] = 8200000000;
  json after = laptop();
  const auto& added = only(inventory_changes(before, after));
  EXPECT_EQ(added.section, "memory");
  EXPECT_EQ(added.kind, "memory.changed");
  EXPECT_EQ(added.summary, "Memory: 8.0 GiB → 16.0 GiB, 8.0 GiB DDR4 in ChannelB-DIMM0 added");
  EXPECT_EQ(added.detail["installed_bytes"], json({{"from", kGiB8}, {"to", 2 * kGiB8}}));
  EXPECT_EQ(added.detail["dimms_added"][0]["locator"], "ChannelB-DIMM0");
  EXPECT_EQ(only(inventory_changes(after, before)).summary,
            "Memory: 16.0 GiB → 8.0 GiB, 8.0 GiB DDR4 in ChannelB-DIMM0 removed");

  // Two modules of one size swapped for two of another: same slots, new sizes.
  json bigger = laptop();
  for (auto& dimm : bigger["memory"]["dimms"]) dimm["size_bytes"] = 2 * kGiB8;
  EXPECT_EQ(only(inventory_changes(after, bigger)).summary,
            "Memory: 16.0 GiB → 32.0 GiB, 16.0 GiB DDR4 in ChannelA-DIMM0 added, 16.0 GiB DDR4 in "
            "ChannelB-DIMM0 added, 8.0 GiB DDR4 in ChannelA-DIMM0 removed, 8.0 GiB DDR4 in "
            "ChannelB-DIMM0 removed");
}

TEST(InventoryHistory, MemoryWithoutModuleListComparesTheKernelsTotal) {
  json before = laptop();
  before["memory"]["dimms"] = nullptr;  // not root: no SMBIOS
  before["memory"]["unknown"] = {{"dimms", "not root"}};
  json after = before;
  after["memory"]["total_bytes"] = 33000000000;
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.summary, "Memory: 15.3 GiB → 30.7 GiB");
  EXPECT_EQ(e.detail["total_bytes"]["to"], 33000000000.0);
  // The module list appearing (run as root this time) is no change of memory.
  EXPECT_TRUE(inventory_changes(before, laptop()).empty());
  after = before;
  after["memory"]["swap_total_bytes"] = 2000000000;
  EXPECT_EQ(only(inventory_changes(before, after)).summary,
            "Memory: swap_total_bytes 1000000000 → 2000000000");
}

TEST(InventoryHistory, MemoryModuleReplacedBySameSizeShowsItsSerial) {
  json before = laptop();
  json after = laptop();
  after["memory"]["dimms"][1]["serial"] = "9Z9Z";
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "memory.changed");
  EXPECT_EQ(e.summary, "Memory: dimms[ChannelB-DIMM0].serial 3C4D → 9Z9Z");
}

TEST(InventoryHistory, CpuChanged) {
  json before = laptop();
  json after = laptop();
  after["cpu"]["model"] = "Core i7-8650U";
  after["cpu"]["microcode"] = "0xf4";
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.section, "cpu");
  EXPECT_EQ(e.kind, "cpu.changed");
  EXPECT_EQ(e.summary, "CPU: microcode 0xf0 → 0xf4, model Core i5-8250U → Core i7-8650U");
  EXPECT_EQ(e.detail["count"], 2);
  EXPECT_EQ(e.detail["fields"][1],
            json::parse(R"j({"path": "model", "change": "changed", "from": "Core i5-8250U",
              "to": "Core i7-8650U"})j"));
}

// ---- System and firmware

TEST(InventoryHistory, OsUpgradedChangedAndKernel) {
  json before = laptop();
  before["system"]["os"] = {
      {"id", "debian"},         {"name", "Debian GNU/Linux"},
      {"version_id", "11"},     {"version", "11 (bullseye)"},
      {"codename", "bullseye"}, {"pretty_name", "Debian GNU/Linux 11 (bullseye)"}};
  before["system"]["kernel"] = "5.10.0-26-amd64";
  json after = laptop();
  auto entries = inventory_changes(before, after);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"system/os.kernel_changed", "system/os.upgraded"}));
  EXPECT_EQ(entries[0].summary, "Kernel 5.10.0-26-amd64 → 6.1.0-17-amd64");
  EXPECT_EQ(entries[0].detail, json({{"from", "5.10.0-26-amd64"}, {"to", "6.1.0-17-amd64"}}));
  EXPECT_EQ(entries[1].summary,
            "OS upgraded: Debian GNU/Linux 11 (bullseye) → Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(entries[1].detail["from"]["version_id"], "11");
  EXPECT_EQ(entries[1].detail["to"]["codename"], "bookworm");

  entries = inventory_changes(after, before);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"system/os.changed", "system/os.kernel_changed"}));
  EXPECT_EQ(entries[0].summary,
            "OS changed: Debian GNU/Linux 12 (bookworm) → Debian GNU/Linux 11 (bullseye)");

  json ubuntu = laptop();
  ubuntu["system"]["os"] = {
      {"id", "ubuntu"}, {"version_id", "24.04"}, {"pretty_name", "Ubuntu 24.04.1 LTS"}};
  EXPECT_EQ(only(inventory_changes(laptop(), ubuntu)).kind, "os.changed");
}

TEST(InventoryHistory, OtherSystemFieldsFallBackToSystemChanged) {
  json before = laptop();
  json after = laptop();
  after["system"]["hostname"] = "anna-pc";
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "system.changed");
  EXPECT_EQ(e.summary, "System: hostname anna-laptop → anna-pc");
}

TEST(InventoryHistory, BiosUpdateAndNewMainboard) {
  json before = laptop();
  json after = laptop();
  after["firmware"]["bios"]["version"] = "N2HET77W (1.60)";
  after["firmware"]["bios"]["date"] = "2024-02-01";
  after["firmware"]["board"]["serial"] = "L1HF9ZZ";
  after["firmware"]["secure_boot"] = false;
  const auto entries = inventory_changes(before, after);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"firmware/firmware.changed", "firmware/firmware.updated",
                                      "firmware/hardware.changed"}));
  EXPECT_EQ(entries[0].summary, "Firmware: secure_boot true → false");
  EXPECT_EQ(entries[1].summary,
            "BIOS updated: N2HET70W (1.53) (2023-04-11) → N2HET77W (1.60) (2024-02-01)");
  EXPECT_EQ(entries[1].detail["from"],
            json({{"vendor", "LENOVO"}, {"version", "N2HET70W (1.53)"}, {"date", "2023-04-11"}}));
  EXPECT_EQ(entries[2].summary, "Hardware changed: board.serial L1HF8AB → L1HF9ZZ");
  EXPECT_EQ(entries[2].detail["fields"][0]["path"], "board.serial");
}

// ---- Network

TEST(InventoryHistory, NetworkInterfaceAddedAndRemoved) {
  json before = laptop();
  json after = laptop();
  after["network"]["interfaces"].push_back({{"name", "enp0s31f6"},
                                            {"type", "ethernet"},
                                            {"virtual", false},
                                            {"mac", "e8:6a:64:11:22:33"},
                                            {"driver", "e1000e"}});
  after["network"]["interfaces"].push_back(
      {{"name", "veth1a2b"}, {"virtual", true}, {"mac", "02:42:ac:11:00:02"}});
  after["network"]["interfaces"].push_back({{"name", "lo"}, {"mac", "00:00:00:00:00:00"}});
  const auto& added = only(inventory_changes(before, after));
  EXPECT_EQ(added.section, "network");
  EXPECT_EQ(added.kind, "network.interface_added");
  EXPECT_EQ(added.summary, "Network interface added: enp0s31f6 (e8:6a:64:11:22:33)");
  EXPECT_EQ(added.detail["interfaces"][0], json({{"name", "enp0s31f6"},
                                                 {"type", "ethernet"},
                                                 {"mac", "e8:6a:64:11:22:33"},
                                                 {"driver", "e1000e"}}));
  const auto& removed = only(inventory_changes(after, before));
  EXPECT_EQ(removed.kind, "network.interface_removed");
  EXPECT_EQ(removed.summary, "Network interface removed: enp0s31f6 (e8:6a:64:11:22:33)");

  // The same name with another MAC is another card.
  json swapped = laptop();
  swapped["network"]["interfaces"][0]["permanent_mac"] = "a4:c3:f0:00:00:01";
  const auto entries = inventory_changes(before, swapped);
  ASSERT_EQ(kinds(entries), (std::vector<std::string>{"network/network.interface_added",
                                                      "network/network.interface_removed"}));
  EXPECT_EQ(entries[0].summary, "Network interface added: wlp2s0 (a4:c3:f0:00:00:01)");

  json mtu = laptop();
  mtu["network"]["interfaces"][0]["mtu"] = 9000;
  EXPECT_EQ(only(inventory_changes(before, mtu)).summary,
            "Network: interfaces[wlp2s0].mtu 1500 → 9000");
}

// ---- Fallback, sections coming and going, order

TEST(InventoryHistory, OtherSectionsListTheirFieldsByItemName) {
  json before = laptop();
  json after = laptop();
  after["users"]["local"].push_back({{"name", "bob"}, {"uid", 1001}});
  after["users"]["local"][0]["human"] = false;
  after["identity"]["macs"].push_back("e8:6a:64:11:22:33");
  after["power"]["batteries"][0]["serial"] = "5678";
  const auto entries = inventory_changes(before, after);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"identity/identity.changed", "power/power.changed",
                                      "users/users.changed"}));
  EXPECT_EQ(entries[0].summary, "Identity: macs[e8:6a:64:11:22:33] added");
  EXPECT_EQ(entries[1].summary, "Power: batteries[BAT0].serial 1234 → 5678");
  EXPECT_EQ(entries[2].summary, "Users: local[anna].human true → false, local[bob] added");
}

TEST(InventoryHistory, FieldListsAreCappedAndSaySo) {
  json before = laptop();
  json after = laptop();
  for (int i = 0; i < 1200; ++i) {
    after["users"]["local"].push_back({{"name", "user" + std::to_string(1000 + i)}});
  }
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.summary,
            "Users: local[user1000] added, local[user1001] added, local[user1002] added, "
            "local[user1003] added, local[user1004] added, local[user1005] added, "
            "local[user1006] added, local[user1007] added and 1192 more");
  EXPECT_EQ(e.detail["fields"].size(), 1000u);
  EXPECT_EQ(e.detail["count"], 1200);
  EXPECT_EQ(e.detail["truncated"], true);
}

TEST(InventoryHistory, SectionsThatComeGoOrFail) {
  json before = laptop();
  json after = laptop();
  after.erase("power");
  after["devices"] = {{"gpus", json::array()}};
  after["software"] = {{"unavailable", "timed out: dpkg-query"}};
  auto entries = inventory_changes(before, after);
  ASSERT_EQ(kinds(entries),
            (std::vector<std::string>{"devices/devices.changed", "power/power.changed",
                                      "software/software.changed"}));
  EXPECT_EQ(entries[0].summary, "Devices reported for the first time");
  EXPECT_EQ(entries[1].summary, "Power no longer reported");
  // A failed collection does not read as every package removed.
  EXPECT_EQ(entries[2].summary, "Software could not be collected: timed out: dpkg-query");

  entries = inventory_changes(after, laptop());
  EXPECT_EQ(entries.back().summary,
            "Software collected again; not compared, the previous inventory could not collect "
            "it: timed out: dpkg-query");
  EXPECT_TRUE(inventory_changes(after, after).empty());
}

TEST(InventoryHistory, EntriesAreOrderedBySectionThenKind) {
  json before = laptop();
  json after = laptop();
  after["users"]["local"].push_back({{"name", "bob"}});
  after["system"]["kernel"] = "6.1.0-18-amd64";
  after["storage"]["disks"].push_back(second_disk());
  after["cpu"]["cores"] = 8;
  package(after, "curl")["version"] = "8.0";
  after["software"]["packages"].erase(1);
  after["memory"]["swap_total_bytes"] = 0;
  EXPECT_EQ(kinds(inventory_changes(before, after)),
            (std::vector<std::string>{"cpu/cpu.changed", "memory/memory.changed",
                                      "software/software.removed", "software/software.upgraded",
                                      "storage/storage.disk_added", "system/os.kernel_changed",
                                      "users/users.changed"}));
}

// ---- Malformed input

TEST(InventoryHistory, WrongTypesGiveAGenericChangeAndNeverThrow) {
  json before = laptop();
  json after = laptop();
  after["software"] = 7;
  const auto& e = only(inventory_changes(before, after));
  EXPECT_EQ(e.kind, "software.changed");
  EXPECT_EQ(e.summary, "Software changed (malformed content)");

  after = laptop();
  after["software"]["packages"] = "lots";
  EXPECT_EQ(only(inventory_changes(before, after)).summary, "Software: packages changed");

  const json odd[] = {nullptr,
                      7,
                      "text",
                      json::array({1, {{"a", 2}}}),
                      json::object(),
                      true,
                      -1.5,
                      json::array({nullptr, "x"}),
                      json::parse(R"j({"name": 5, "size_bytes": "big", "serial": []})j")};
  for (const char* section : {"identity", "system", "firmware", "cpu", "memory", "storage",
                              "network", "power", "devices", "software", "services", "users"}) {
    for (const auto& value : odd) {
      json broken = laptop();
      broken[section] = value;
      json deep = laptop();
      for (auto& [key, member] : deep[section].items()) member = value;
      for (auto& [key, member] : deep[section].items()) {
        if (member.is_array()) member = json::array({value, value});
      }
      for (const json* doc : {&broken, &deep}) {
        std::vector<InventoryChangeEntry> entries;
        ASSERT_NO_THROW(entries = inventory_changes(laptop(), *doc)) << section;
        ASSERT_NO_THROW(entries = inventory_changes(*doc, laptop())) << section;
        ASSERT_NO_THROW(entries = inventory_changes(*doc, *doc)) << section;
        EXPECT_TRUE(entries.empty()) << section << ": " << doc->dump();
        for (const auto& e : inventory_changes(laptop(), *doc)) {
          EXPECT_EQ(e.section, section);
          EXPECT_LE(chars(e.summary), 300u);
          EXPECT_NO_THROW((void)e.detail.dump());
        }
      }
    }
  }
}

TEST(InventoryHistory, AfterThatIsNotADocumentDropsEverySection) {
  for (const json& after : {json(nullptr), json(42), json::array({laptop()})}) {
    const auto entries = inventory_changes(laptop(), after);
    ASSERT_EQ(entries.size(), 11u);
    EXPECT_EQ(entries[0].summary, "CPU no longer reported");
  }
}

TEST(InventoryHistory, RealInventoryAgainstItselfAndAFixture) {
  std::ifstream in(std::string(TETHER_TEST_DATA_DIR) + "/fleet/laptop.json");
  ASSERT_TRUE(in);
  const json snapshot = json::parse(in);
  EXPECT_TRUE(inventory_changes(snapshot, snapshot).empty());
  const auto first = inventory_changes(nullptr, snapshot);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].kind, "inventory.first");
  for (const auto& e : inventory_changes(laptop(), snapshot)) {
    EXPECT_LE(chars(e.summary), 300u);
    EXPECT_FALSE(e.summary.empty());
  }
}

}  // namespace
}  // namespace tether::relay::fleet
