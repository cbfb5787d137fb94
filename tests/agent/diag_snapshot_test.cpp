// collect_snapshot over fixture trees (tests/agent/data/<name>) and over the real machine.

#include "tether/agent/diag/snapshot.hpp"

#include <filesystem>
#include <regex>
#include <string>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path fixture(const std::string& name) {
  return fs::path(TETHER_TEST_DATA_DIR) / name;
}

/// Figures a test machine could never produce, so a leak of the real host shows.
Host fake_host() {
  Host host;
  host.filesystem_usage = [](const std::string& mount_point) -> std::optional<FilesystemUsage> {
    if (mount_point == "/") {
      return FilesystemUsage{.size_bytes = 250'000'000'000,
                             .free_bytes = 100'000'000'000,
                             .available_bytes = 87'500'000'000};
    }
    if (mount_point == "/home") return std::nullopt;  // statvfs failed (e.g. EACCES)
    return FilesystemUsage{
        .size_bytes = 1'000'000, .free_bytes = 500'000, .available_bytes = 400'000};
  };
  host.interface_addresses = [] {
    return std::vector<InterfaceAddress>{{"lo", "ipv4", "127.0.0.1", 8},
                                         {"eth0", "ipv4", "192.168.1.20", 24},
                                         {"eth0", "ipv6", "fe80::5054:ff:fe12:3456", 64},
                                         {"lo", "ipv6", "::1", 128},
                                         {"ghost0", "ipv4", "10.9.9.9", 8}};
  };
  host.machine = [] { return std::optional<std::string>("fake-arch"); };
  host.kernel_release = [] { return std::optional<std::string>("fake-kernel"); };
  host.now = [] { return std::chrono::system_clock::time_point(std::chrono::seconds(1764064800)); };
  return host;
}

json collect(const fs::path& root, std::vector<std::string> sections = {}) {
  return collect_snapshot({.root = root, .sections = std::move(sections), .host = fake_host()});
}

// Copies a fixture to a fresh temporary directory so a test can remove or break one file.
class FixtureCopy {
 public:
  explicit FixtureCopy(const std::string& name)
      : path_(fs::temp_directory_path() /
              ("tether-diag-" + name + "-" +
               std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
               ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    fs::remove_all(path_);
    fs::copy(fixture(name), path_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  ~FixtureCopy() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const json* find_by(const json& array, const char* key, const std::string& value) {
  for (const auto& element : array) {
    if (element.value(key, "") == value) return &element;
  }
  return nullptr;
}

TEST(DiagSnapshot, Debian12HasEverySectionWithFiguresFromTheFixture) {
  const auto s = collect(fixture("debian12"));
  EXPECT_EQ(s["schema"], 2);
  EXPECT_EQ(s["collected_at"], "2025-11-25T10:00:00Z");
  EXPECT_TRUE(s["duration_ms"].is_number_integer());
  EXPECT_GE(s["duration_ms"].get<long long>(), 0);
  EXPECT_EQ(s["agent"]["version"], TETHER_VERSION);
  EXPECT_EQ(s["errors"], json::array());

  const auto& system = s["system"];
  EXPECT_EQ(system["hostname"], "helpdesk-pc");
  EXPECT_EQ(system["os"]["pretty_name"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(system["os"]["name"], "Debian GNU/Linux");
  EXPECT_EQ(system["os"]["version"], "12 (bookworm)");
  EXPECT_EQ(system["os"]["version_id"], "12");
  EXPECT_EQ(system["os"]["id"], "debian");
  EXPECT_EQ(system["kernel"], "6.1.0-18-amd64");
  EXPECT_EQ(system["architecture"], "x86_64");  // the fixture's file wins over uname
  EXPECT_EQ(system["boot_time"], "2024-11-25T08:10:00Z");
  EXPECT_EQ(system["uptime_seconds"], 274350);
  EXPECT_DOUBLE_EQ(system["load"]["1m"].get<double>(), 0.52);
  EXPECT_DOUBLE_EQ(system["load"]["5m"].get<double>(), 0.40);
  EXPECT_DOUBLE_EQ(system["load"]["15m"].get<double>(), 0.35);

  EXPECT_EQ(s["cpu"]["model"], "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
  EXPECT_EQ(s["cpu"]["logical_cores"], 4);
  EXPECT_DOUBLE_EQ(s["cpu"]["mhz"].get<double>(), 1800.0);

  EXPECT_EQ(s["memory"]["total_bytes"], 7990236ULL * 1024);
  EXPECT_EQ(s["memory"]["available_bytes"], 5347384ULL * 1024);
  EXPECT_EQ(s["memory"]["swap_total_bytes"], 2097148ULL * 1024);
  EXPECT_EQ(s["memory"]["swap_free_bytes"], 1572860ULL * 1024);

  const auto& filesystems = s["storage"]["filesystems"];
  std::vector<std::string> mount_points;
  for (const auto& f : filesystems) mount_points.push_back(f["mount_point"]);
  EXPECT_EQ(mount_points,
            (std::vector<std::string>{"/", "/boot/efi", "/home", "/media/anna/My Backup Disk",
                                      "/var/lib/docker/overlay2/4f1c/merged"}));
  const auto* root = find_by(filesystems, "mount_point", "/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ((*root)["device"], "/dev/nvme0n1p2");
  EXPECT_EQ((*root)["type"], "ext4");
  EXPECT_EQ((*root)["read_only"], false);
  EXPECT_EQ((*root)["size_bytes"], 250'000'000'000ULL);
  EXPECT_EQ((*root)["free_bytes"], 100'000'000'000ULL);
  EXPECT_EQ((*root)["available_bytes"], 87'500'000'000ULL);
  const auto* home = find_by(filesystems, "mount_point", "/home");
  ASSERT_NE(home, nullptr);
  EXPECT_TRUE((*home)["size_bytes"].is_null());
  const auto* usb = find_by(filesystems, "mount_point", "/media/anna/My Backup Disk");
  ASSERT_NE(usb, nullptr);
  EXPECT_EQ((*usb)["type"], "exfat");
  EXPECT_EQ((*usb)["read_only"], true);

  const auto& interfaces = s["network"]["interfaces"];
  ASSERT_EQ(interfaces.size(), 3u);
  EXPECT_EQ(interfaces[0]["name"], "eth0");
  EXPECT_EQ(interfaces[0]["type"], "ethernet");
  EXPECT_EQ(interfaces[0]["mac"], "52:54:00:12:34:56");
  EXPECT_EQ(interfaces[0]["state"], "up");
  EXPECT_EQ(interfaces[0]["mtu"], 1500);
  EXPECT_EQ(interfaces[0]["addresses"],
            json::parse(R"([{"family":"ipv4","address":"192.168.1.20","prefix":24},
                            {"family":"ipv6","address":"fe80::5054:ff:fe12:3456","prefix":64}])"));
  EXPECT_EQ(interfaces[1]["name"], "lo");
  EXPECT_EQ(interfaces[1]["type"], "loopback");
  EXPECT_EQ(interfaces[1]["mtu"], 65536);
  EXPECT_EQ(interfaces[1]["addresses"].size(), 2u);
  EXPECT_EQ(interfaces[2]["name"], "wlan0");
  EXPECT_EQ(interfaces[2]["type"], "wireless");
  EXPECT_EQ(interfaces[2]["state"], "down");
  EXPECT_EQ(interfaces[2]["addresses"], json::array());
  EXPECT_FALSE(s.dump().empty());
}

TEST(DiagSnapshot, UbuntuFallsBackToUsrLibOsReleaseAndProcMounts) {
  const auto s = collect(fixture("ubuntu2204"));
  EXPECT_EQ(s["system"]["hostname"], "ubuntu-laptop");
  EXPECT_EQ(s["system"]["os"]["pretty_name"], "Ubuntu 22.04.4 LTS");
  EXPECT_EQ(s["system"]["os"]["id"], "ubuntu");
  EXPECT_EQ(s["system"]["os"]["version_id"], "22.04");
  // No osrelease or arch file in the fixture: the injected uname stands in.
  EXPECT_EQ(s["system"]["kernel"], "fake-kernel");
  EXPECT_EQ(s["system"]["architecture"], "fake-arch");
  EXPECT_TRUE(s["system"]["uptime_seconds"].is_null());
  EXPECT_TRUE(s["system"]["load"].is_null());
  EXPECT_TRUE(s["system"]["boot_time"].is_null());

  // /mnt/old was mounted twice; only the visible (last) mount counts. Snaps are skipped.
  const auto& filesystems = s["storage"]["filesystems"];
  ASSERT_EQ(filesystems.size(), 2u);
  EXPECT_EQ(filesystems[1]["mount_point"], "/mnt/old");
  EXPECT_EQ(filesystems[1]["type"], "xfs");

  // The fixture has no cpuinfo, meminfo or /sys/class/net: each says why, nothing aborts.
  EXPECT_EQ(s["cpu"]["unavailable"], "cannot read /proc/cpuinfo: No such file or directory");
  EXPECT_EQ(s["memory"]["unavailable"], "cannot read /proc/meminfo: No such file or directory");
  ASSERT_TRUE(s["network"]["unavailable"].is_string());
  EXPECT_NE(s["network"]["unavailable"].get<std::string>().find("/sys/class/net"),
            std::string::npos);
  EXPECT_EQ(s["errors"], json::array());
}

TEST(DiagSnapshot, FedoraOsReleaseWithMixedQuoting) {
  const auto s = collect(fixture("fedora40"), {"system"});
  EXPECT_EQ(s["system"]["os"]["name"], "Fedora Linux");
  EXPECT_EQ(s["system"]["os"]["id"], "fedora");
  EXPECT_EQ(s["system"]["os"]["version_id"], "40");
  EXPECT_EQ(s["system"]["os"]["pretty_name"], "Fedora Linux 40 (Workstation Edition)");
  EXPECT_TRUE(s["system"]["hostname"].is_null());
}

TEST(DiagSnapshot, MissingMeminfoMakesOnlyMemoryUnavailable) {
  FixtureCopy copy("debian12");
  fs::remove(copy.path() / "proc/meminfo");
  const auto s = collect(copy.path());
  EXPECT_EQ(s["memory"],
            json({{"unavailable", "cannot read /proc/meminfo: No such file or directory"}}));
  EXPECT_EQ(s["cpu"]["logical_cores"], 4);
  EXPECT_EQ(s["system"]["hostname"], "helpdesk-pc");
  EXPECT_EQ(s["storage"]["filesystems"].size(), 5u);
  EXPECT_EQ(s["network"]["interfaces"].size(), 3u);
}

TEST(DiagSnapshot, UnreadableSourceIsUnavailableNotFatal) {
  FixtureCopy copy("debian12");
  // A directory where a file should be: opens, then fails to read.
  fs::remove(copy.path() / "proc/cpuinfo");
  fs::create_directory(copy.path() / "proc/cpuinfo");
  const auto s = collect(copy.path());
  ASSERT_TRUE(s["cpu"].contains("unavailable"));
  EXPECT_EQ(s["memory"]["total_bytes"], 7990236ULL * 1024);
}

TEST(DiagSnapshot, EmptyRootMakesEverySectionUnavailableOrUnknown) {
  const auto empty = fs::temp_directory_path() / "tether-diag-empty-root";
  fs::create_directories(empty);
  Host host;  // no fakes: with a root other than "/", nothing of the real machine leaks in
  const auto s = collect_snapshot({.root = empty, .sections = {}, .host = host});
  fs::remove_all(empty);
  for (const auto& name : known_sections()) {
    ASSERT_TRUE(s.contains(name)) << name;
    // Either the whole section is unavailable, or every field it has says why it is empty.
    const bool unavailable = s[name].contains("unavailable") && s[name]["unavailable"].is_string();
    const bool all_unknown = s[name].contains("unknown") && !s[name]["unknown"].empty();
    EXPECT_TRUE(unavailable || all_unknown) << name << ": " << s[name].dump();
  }
  EXPECT_TRUE(std::regex_match(s["collected_at"].get<std::string>(),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
}

TEST(DiagSnapshot, GarbageFilesGiveNullsAndReasonsWithoutThrowing) {
  json s;
  ASSERT_NO_THROW(s = collect(fixture("garbage")));
  ASSERT_NO_THROW(s.dump());  // invalid UTF-8 in the sources must not break serialisation

  const auto& system = s["system"];
  EXPECT_EQ(system["hostname"], "pc-\xef\xbf\xbd(name");
  EXPECT_EQ(system["os"]["name"],
            "\xef\xbf\xbd\xef\xbf\xbd"
            "Broken");
  EXPECT_EQ(system["os"]["pretty_name"], "\"Unterminated");
  EXPECT_TRUE(system["os"]["id"].is_null());
  EXPECT_TRUE(system["uptime_seconds"].is_null());
  EXPECT_TRUE(system["load"].is_null());
  EXPECT_TRUE(system["boot_time"].is_null());

  // A truncated cpuinfo still names its one processor.
  EXPECT_EQ(s["cpu"]["logical_cores"], 1);
  EXPECT_EQ(s["cpu"]["model"], "Intel(R) Cel");
  EXPECT_TRUE(s["cpu"]["mhz"].is_null());

  EXPECT_EQ(s["memory"], json({{"unavailable", "no MemTotal in /proc/meminfo"}}));

  const auto& filesystems = s["storage"]["filesystems"];
  ASSERT_EQ(filesystems.size(), 1u);
  EXPECT_EQ(filesystems[0]["mount_point"], "/data\\04");  // malformed escape kept as written

  const auto& eth0 = s["network"]["interfaces"][0];
  EXPECT_EQ(eth0["name"], "eth0");
  EXPECT_TRUE(eth0["mtu"].is_null());
  EXPECT_TRUE(eth0["state"].is_null());
  EXPECT_TRUE(eth0["mac"].is_null());
  EXPECT_EQ(eth0["type"], "other");
}

TEST(DiagSnapshot, LaptopSystemStorageNetwork) {
  const auto s = collect(fixture("laptop"), {"system", "storage", "network"});
  const auto& system = s["system"];
  EXPECT_EQ(system["hostname"], "anna-thinkpad");
  EXPECT_EQ(system["fqdn"], "anna-thinkpad.corp.example.com");
  EXPECT_EQ(system["os"]["id"], "ubuntu");
  EXPECT_EQ(system["os"]["id_like"], "debian");
  EXPECT_EQ(system["os"]["codename"], "noble");
  EXPECT_EQ(system["kernel"], "6.8.0-48-generic");
  EXPECT_EQ(system["timezone"], "Europe/Berlin");
  EXPECT_EQ(system["virtualization"], json({{"type", "none"}, {"role", "host"}}));
  EXPECT_EQ(system["reboot_required"]["required"], true);
  EXPECT_EQ(system["reboot_required"]["packages"],
            json({"linux-image-6.8.0-49-generic", "linux-base"}));
  EXPECT_TRUE(system["reboot_required"]["since"].is_string());
  EXPECT_DOUBLE_EQ(system["pressure"]["cpu_some_avg10"].get<double>(), 2.13);
  EXPECT_DOUBLE_EQ(system["pressure"]["io_full_avg10"].get<double>(), 0.12);
  // adjtimex describes the running machine, never a fixture.
  EXPECT_TRUE(system["clock"].is_null());
  EXPECT_EQ(system["unknown"]["clock"].get<std::string>().rfind("not supported", 0), 0u);

  const auto& storage = s["storage"];
  ASSERT_EQ(storage["disks"].size(), 2u);
  EXPECT_EQ(storage["disks"][0]["name"], "nvme0n1");
  EXPECT_EQ(storage["disks"][0]["model"], "Samsung SSD 980 PRO 1TB");
  EXPECT_EQ(storage["disks"][0]["serial"], "S5GXNF0R123456A");
  EXPECT_EQ(storage["disks"][0]["firmware"], "5B2QGXA7");
  EXPECT_EQ(storage["disks"][0]["size_bytes"], 2000409264ULL * 512);
  EXPECT_EQ(storage["disks"][1]["name"], "sda");
  EXPECT_EQ(storage["disks"][1]["bus"], "usb");
  EXPECT_EQ(storage["disks"][1]["serial"], "WX12D80ABCDE");
  EXPECT_EQ(storage["encrypted"][0]["type"], "luks");
  EXPECT_EQ(storage["encrypted"][0]["backing_device"], "/dev/nvme0n1p3");
  std::vector<std::string> mount_points;
  for (const auto& f : storage["filesystems"]) mount_points.push_back(f["mount_point"]);
  EXPECT_EQ(mount_points,
            (std::vector<std::string>{"/", "/boot/efi", "/home", "/media/anna/My Passport"}));
  EXPECT_EQ(storage["raid"], json::array());

  const auto& network = s["network"];
  EXPECT_EQ(network["interfaces"].size(), 4u);
  EXPECT_EQ(network["default_routes"][0]["gateway"], "192.168.178.1");
  EXPECT_EQ(network["dns"]["source"], "/run/systemd/resolve/resolv.conf");
  EXPECT_EQ(network["listening"].size(), 6u);
}

TEST(DiagSnapshot, ServerSystemStorageNetwork) {
  const auto s = collect(fixture("server"), {"system", "storage", "network"});
  const auto& system = s["system"];
  EXPECT_EQ(system["fqdn"], "srv-files01.corp.example.net");
  // /etc/localtime is a copied file here: Debian's /etc/timezone names the zone.
  EXPECT_EQ(system["timezone"], "Europe/Berlin");
  EXPECT_EQ(system["virtualization"]["type"], "none");
  // The running kernel's modules were removed by an upgrade: a reboot is due.
  EXPECT_EQ(system["reboot_required"]["required"], true);
  EXPECT_TRUE(system["reboot_required"]["since"].is_null());
  EXPECT_EQ(system["uptime_seconds"], 8640512);

  const auto& storage = s["storage"];
  EXPECT_EQ(storage["disks"].size(), 6u);
  EXPECT_EQ(storage["raid"].size(), 3u);
  EXPECT_EQ(storage["raid"][1]["degraded"], true);
  EXPECT_EQ(storage["lvm"]["logical_volumes"].size(), 3u);
  // No host.run on a fixture: smartctl is not run, and says so.
  EXPECT_EQ(storage["disks"][0]["unknown"]["health"].get<std::string>().rfind("not supported", 0),
            0u);

  const auto& network = s["network"];
  const auto* eno1 = find_by(network["interfaces"], "name", "eno1");
  ASSERT_NE(eno1, nullptr);
  EXPECT_EQ((*eno1)["speed_mbps"], 1000);
  EXPECT_EQ((*eno1)["duplex"], "full");
  EXPECT_EQ((*eno1)["stats"]["rx_errors"], 12);
  EXPECT_EQ(
      network["default_routes"],
      json::parse(R"([{"family":"ipv4","gateway":"10.20.0.1","interface":"eno1","metric":0}])"));
  EXPECT_EQ(network["dns"], json::parse(R"({"servers":["10.20.0.2","10.20.0.3"],
      "search":["corp.example.net","example.net"],"source":"/etc/resolv.conf"})"));
  const auto* ssh = find_by(network["listening"], "protocol", "tcp");
  ASSERT_NE(ssh, nullptr);
  EXPECT_EQ((*ssh)["port"], 22);
  EXPECT_EQ((*ssh)["process"], "sshd");
  EXPECT_EQ((*ssh)["user"], "root");
}

TEST(DiagSnapshot, VmWithoutDmiIsKvmByItsClock) {
  const auto s = collect(fixture("vm"), {"system", "storage", "network"});
  const auto& system = s["system"];
  EXPECT_EQ(system["virtualization"], json({{"type", "kvm"}, {"role", "guest"}}));
  EXPECT_EQ(system["os"]["id"], "fedora");
  EXPECT_TRUE(system["os"]["codename"].is_null());
  EXPECT_EQ(system["timezone"], "UTC");
  EXPECT_TRUE(system["fqdn"].is_null());  // "(none)" is no domain
  EXPECT_EQ(system["unknown"]["fqdn"].get<std::string>().rfind("not present", 0), 0u);
  EXPECT_EQ(system["reboot_required"]["required"], false);
  EXPECT_TRUE(system["install_date"].is_string());  // /var/log/anaconda

  const auto& vda = s["storage"]["disks"][0];
  EXPECT_EQ(vda["name"], "vda");
  EXPECT_EQ(vda["bus"], "virtio");
  EXPECT_EQ(vda["media"], "unknown");
  EXPECT_EQ(vda["serial"], "vm-root-0001");
  EXPECT_TRUE(vda["model"].is_null());
  // Two btrfs subvolumes of one device are two mount points.
  EXPECT_EQ(s["storage"]["filesystems"].size(), 3u);
  const auto* enp1s0 = find_by(s["network"]["interfaces"], "name", "enp1s0");
  ASSERT_NE(enp1s0, nullptr);
  EXPECT_EQ((*enp1s0)["driver"], "virtio_net");
  EXPECT_TRUE((*enp1s0)["speed_mbps"].is_null());
}

TEST(DiagSnapshot, ContainerIsDockerWithOverlayRoot) {
  const auto s = collect(fixture("container"), {"system", "storage", "network"});
  const auto& system = s["system"];
  EXPECT_EQ(system["virtualization"], json({{"type", "docker"}, {"role", "container"}}));
  EXPECT_EQ(system["hostname"], "3f2a9c1b7d4e");
  EXPECT_TRUE(system["timezone"].is_null());
  EXPECT_EQ(system["unknown"]["timezone"], "not present: no /etc/localtime or /etc/timezone");
  EXPECT_TRUE(system["install_date"].is_null());
  EXPECT_EQ(system["reboot_required"]["required"], false);
  EXPECT_TRUE(system["pressure"]["cpu_some_avg10"].is_null());

  const auto& storage = s["storage"];
  EXPECT_EQ(storage["disks"], json::array());
  ASSERT_GE(storage["filesystems"].size(), 1u);
  EXPECT_EQ(storage["filesystems"][0]["type"], "overlay");
  EXPECT_EQ(storage["filesystems"][0]["mount_point"], "/");
  const auto* app = find_by(storage["filesystems"], "mount_point", "/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ((*app)["read_only"], true);

  const auto& eth0 = s["network"]["interfaces"][0];
  EXPECT_EQ(eth0["virtual"], true);
  EXPECT_EQ(eth0["speed_mbps"], 10000);
  EXPECT_TRUE(eth0["permanent_mac"].is_null());
  EXPECT_EQ(s["network"]["listening"][0]["process"], "python3");
  EXPECT_EQ(s["network"]["listening"][0]["user"], "app");
  EXPECT_EQ(s["network"]["listening"][0]["port"], 8000);
}

TEST(DiagSnapshot, InstallDateIsTheOldestMarkerAndPendingRebootHasItsTime) {
  FixtureCopy copy("laptop");
  const auto at = [](std::int64_t seconds) {
    return fs::file_time_type::clock::from_sys(
        std::chrono::sys_seconds(std::chrono::seconds(seconds)));
  };
  fs::last_write_time(copy.path() / "var/log/installer", at(1714000000));  // 2024-04-24T23:06:40Z
  fs::last_write_time(copy.path() / "etc/machine-id", at(1714100000));
  fs::last_write_time(copy.path() / "run/reboot-required", at(1764000000));
  const auto s = collect(copy.path(), {"system"});
  EXPECT_EQ(s["system"]["install_date"], "2024-04-24T23:06:40Z");
  EXPECT_EQ(s["system"]["reboot_required"]["since"], "2025-11-24T16:00:00Z");
}

TEST(DiagSnapshot, GarbageSystemStorageNetworkFields) {
  const auto s = collect(fixture("garbage"), {"system", "storage", "network"});
  ASSERT_NO_THROW(s.dump());
  const auto& system = s["system"];
  EXPECT_TRUE(system["timezone"].is_null());  // a link out of zoneinfo and a junk name
  EXPECT_TRUE(system["fqdn"].is_null());
  EXPECT_EQ(system["virtualization"]["type"], "none");  // DMI "AcmeCorp", no hypervisor flag
  EXPECT_EQ(system["reboot_required"]["packages"], json({"linux-image-6.1"}));
  const auto& storage = s["storage"];
  ASSERT_EQ(storage["disks"].size(), 1u);
  EXPECT_TRUE(storage["disks"][0]["size_bytes"].is_null());
  EXPECT_TRUE(storage["disks"][0]["model"].is_null());
  EXPECT_TRUE(storage["disks"][0]["rotational"].is_null());
  EXPECT_EQ(storage["encrypted"], json::array());
  EXPECT_EQ(storage["lvm"]["logical_volumes"], json::array());
  ASSERT_EQ(storage["raid"].size(), 1u);
  EXPECT_EQ(storage["raid"][0]["devices_failed"], 1);
  EXPECT_EQ(s["network"]["dns"]["servers"], json::array({"\xef\xbf\xbd\xef\xbf\xbd"}));
}

TEST(DiagSnapshot, UnknownSectionIsReportedAndTheRestCollected) {
  const auto s = collect(fixture("debian12"), {"cpu", "gpu", "cpu"});
  EXPECT_EQ(s["errors"], json::parse(R"([{"section":"gpu","message":"unknown section"}])"));
  EXPECT_EQ(s["cpu"]["logical_cores"], 4);
  EXPECT_FALSE(s.contains("gpu"));
}

TEST(DiagSnapshot, SectionFilterReturnsOnlyTheAskedSections) {
  const auto s = collect(fixture("debian12"), {"memory", "network"});
  EXPECT_TRUE(s.contains("memory"));
  EXPECT_TRUE(s.contains("network"));
  EXPECT_FALSE(s.contains("system"));
  EXPECT_FALSE(s.contains("cpu"));
  EXPECT_FALSE(s.contains("storage"));
  EXPECT_EQ(s["schema"], 2);
  EXPECT_TRUE(s.contains("collected_at"));
}

TEST(DiagSnapshot, OnlyUnknownSectionsCollectNothing) {
  const auto s = collect(fixture("debian12"), {"bogus"});
  for (const auto& name : known_sections()) EXPECT_FALSE(s.contains(name)) << name;
  EXPECT_EQ(s["errors"].size(), 1u);
}

TEST(DiagSnapshot, ThrowingHostFunctionCostsOnlyItsSection) {
  Host host = fake_host();
  host.filesystem_usage = [](const std::string&) -> std::optional<FilesystemUsage> {
    throw std::runtime_error("statvfs exploded");
  };
  const auto s = collect_snapshot({.root = fixture("debian12"), .sections = {}, .host = host});
  EXPECT_EQ(s["storage"]["unavailable"], "internal error: statvfs exploded");
  EXPECT_EQ(s["cpu"]["logical_cores"], 4);
}

TEST(DiagSnapshot, RealMachine) {
  const auto s = collect_snapshot({.root = "/", .sections = {}});
  ASSERT_NO_THROW(s.dump());
  ASSERT_TRUE(s["system"]["hostname"].is_string()) << s["system"].dump();
  EXPECT_FALSE(s["system"]["hostname"].get<std::string>().empty());
  EXPECT_TRUE(s["system"]["kernel"].is_string());
  EXPECT_TRUE(s["system"]["architecture"].is_string());
  ASSERT_TRUE(s["cpu"]["logical_cores"].is_number_integer()) << s["cpu"].dump();
  EXPECT_GE(s["cpu"]["logical_cores"].get<long long>(), 1);
  ASSERT_TRUE(s["memory"]["total_bytes"].is_number_unsigned()) << s["memory"].dump();
  EXPECT_GT(s["memory"]["total_bytes"].get<std::uint64_t>(), 0u);
  ASSERT_TRUE(s["storage"]["filesystems"].is_array()) << s["storage"].dump();
  ASSERT_GE(s["storage"]["filesystems"].size(), 1u);
  const auto* root = find_by(s["storage"]["filesystems"], "mount_point", "/");
  if (root != nullptr && !(*root)["size_bytes"].is_null()) {
    EXPECT_GT((*root)["size_bytes"].get<std::uint64_t>(), 0u);
  }
  const auto& interfaces = s["network"]["interfaces"];
  ASSERT_TRUE(interfaces.is_array()) << s["network"].dump();
  const auto* lo = find_by(interfaces, "name", "lo");
  if (lo != nullptr) {
    EXPECT_EQ((*lo)["type"], "loopback");
    EXPECT_NE(find_by((*lo)["addresses"], "address", "127.0.0.1"), nullptr);
  }
}

}  // namespace
}  // namespace tether::agent::diag
