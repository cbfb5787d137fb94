// The pure parsers behind each snapshot section, fed text directly.

#include <gtest/gtest.h>

#include "diag/collectors/network_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "diag/collectors/storage_collector.hpp"
#include "diag/collectors/system_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

TEST(OsRelease, QuotedUnquotedAndEscapedValues) {
  const auto os = parse_os_release(
      "# comment\n"
      "NAME=\"Arch Linux\"\n"
      "ID=arch\n"
      "PRETTY_NAME='Arch Linux'\n"
      "VERSION=\"say \\\"rolling\\\"\"\n"
      "  VERSION_ID = 2024.01 \n"
      "garbage line\n");
  EXPECT_EQ(os["name"], "Arch Linux");
  EXPECT_EQ(os["id"], "arch");
  EXPECT_EQ(os["pretty_name"], "Arch Linux");
  EXPECT_EQ(os["version"], "say \"rolling\"");
  EXPECT_EQ(os["version_id"], "2024.01");
}

TEST(OsRelease, MissingKeysAreNull) {
  const auto os = parse_os_release("");
  for (const char* key : {"name", "version", "version_id", "id", "pretty_name"}) {
    EXPECT_TRUE(os.contains(key)) << key;
    EXPECT_TRUE(os[key].is_null()) << key;
  }
}

TEST(Uptime, ParsesSecondsAndRejectsJunk) {
  EXPECT_EQ(parse_uptime("274350.27 1032411.65\n"), 274350);
  EXPECT_EQ(parse_uptime("12"), 12);
  EXPECT_EQ(parse_uptime(""), std::nullopt);
  EXPECT_EQ(parse_uptime("-5 3"), std::nullopt);
  EXPECT_EQ(parse_uptime("12abc 3"), std::nullopt);
}

TEST(Loadavg, ThreeFiguresOrNull) {
  EXPECT_EQ(parse_loadavg("1.00 2.50 0.05 1/100 42\n"),
            json({{"1m", 1.0}, {"5m", 2.5}, {"15m", 0.05}}));
  EXPECT_TRUE(parse_loadavg("1.00 2.50").is_null());
  EXPECT_TRUE(parse_loadavg("a b c").is_null());
  EXPECT_TRUE(parse_loadavg("").is_null());
}

TEST(BootTime, FromBtimeLine) {
  EXPECT_EQ(parse_boot_time("cpu 1 2 3\nbtime 1732522200\nprocesses 4\n"), 1732522200);
  EXPECT_EQ(parse_boot_time("cpu 1 2 3\n"), std::nullopt);
  EXPECT_EQ(parse_boot_time("btime x\n"), std::nullopt);
  EXPECT_EQ(parse_boot_time("btime 0\n"), std::nullopt);
}

TEST(Mounts, OctalEscapes) {
  EXPECT_EQ(decode_mount_path("/media/My\\040Disk"), "/media/My Disk");
  EXPECT_EQ(decode_mount_path("/a\\011b\\012c\\134d"), "/a\tb\nc\\d");
  EXPECT_EQ(decode_mount_path("/bad\\09x"), "/bad\\09x");
  EXPECT_EQ(decode_mount_path("/end\\04"), "/end\\04");
  EXPECT_EQ(decode_mount_path("/nul\\000x"), "/nul\\000x");
  EXPECT_EQ(decode_mount_path(""), "");
}

TEST(Mounts, PseudoFilesystemsAreSkippedOthersKept) {
  for (const char* type :
       {"proc",     "sysfs",    "tmpfs",    "cgroup",     "cgroup2",     "devpts",
        "mqueue",   "debugfs",  "tracefs",  "securityfs", "pstore",      "bpf",
        "autofs",   "configfs", "fusectl",  "hugetlbfs",  "binfmt_misc", "nsfs",
        "squashfs", "efivarfs", "devtmpfs", "ramfs",      "rpc_pipefs"}) {
    EXPECT_TRUE(is_pseudo_filesystem(type)) << type;
  }
  for (const char* type :
       {"ext4", "xfs", "btrfs", "vfat", "exfat", "ntfs3", "overlay", "nfs4", "fuse.sshfs", "zfs"}) {
    EXPECT_FALSE(is_pseudo_filesystem(type)) << type;
  }
}

TEST(Mounts, ReadOnlyIsTheRoOptionExactly) {
  const auto filesystems = parse_mounts(
      "/dev/sda1 /a ext4 ro,relatime 0 0\n"
      "/dev/sda2 /b ext4 rw,errors=remount-ro 0 0\n"
      "/dev/sda3 /c ext4 rw,noatime,ro 0 0\n");
  ASSERT_EQ(filesystems.size(), 3u);
  EXPECT_EQ(filesystems[0]["read_only"], true);
  EXPECT_EQ(filesystems[1]["read_only"], false);
  EXPECT_EQ(filesystems[2]["read_only"], true);
}

TEST(Network, PrefixLength) {
  const unsigned char v4[] = {255, 255, 255, 0};
  EXPECT_EQ(prefix_length(v4, 4), 24);
  const unsigned char v4_odd[] = {255, 255, 240, 0};
  EXPECT_EQ(prefix_length(v4_odd, 4), 20);
  const unsigned char zero[] = {0, 0, 0, 0};
  EXPECT_EQ(prefix_length(zero, 4), 0);
  unsigned char v6[16] = {};
  for (int i = 0; i < 8; ++i) v6[i] = 0xff;
  EXPECT_EQ(prefix_length(v6, 16), 64);
}

TEST(Network, InterfaceKind) {
  EXPECT_EQ(interface_kind("772", false, true), "loopback");
  EXPECT_EQ(interface_kind("1", true, false), "wireless");
  EXPECT_EQ(interface_kind("1", false, true), "virtual");
  EXPECT_EQ(interface_kind("1", false, false), "ethernet");
  EXPECT_EQ(interface_kind("65534", false, false), "other");
  EXPECT_EQ(interface_kind("", false, false), "other");
}

TEST(SourceFiles, Helpers) {
  EXPECT_EQ(trim("  a b \n"), "a b");
  EXPECT_EQ(split_fields(" a\t b  c "), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(split_lines("a\nb\n"), (std::vector<std::string_view>{"a", "b"}));
  EXPECT_EQ(parse_integer(" 42 "), 42);
  EXPECT_EQ(parse_integer("42x"), std::nullopt);
  EXPECT_EQ(parse_decimal("1.5"), 1.5);
  EXPECT_EQ(parse_decimal("nan"), std::nullopt);
  EXPECT_EQ(under_root("/tmp/x", "/proc/meminfo"), std::filesystem::path("/tmp/x/proc/meminfo"));
  EXPECT_TRUE(is_real_root("/"));
  EXPECT_FALSE(is_real_root("/tmp"));
}

}  // namespace
}  // namespace tether::agent::diag
