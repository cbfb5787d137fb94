// /proc/self/mountinfo and /proc/self/mounts parsing.

#include "diag/collectors/mountinfo.hpp"

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

TEST(Mountinfo, FieldsOptionalFieldsAndSuperOptions) {
  const auto mounts = parse_mountinfo(
      "29 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro\n"
      "36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 propagate_from:2 - ext3 /dev/root "
      "rw,errors=continue\n"
      "40 29 0:45 / /mnt/nfs ro,relatime - nfs4 server:/export rw,vers=4.2\n"
      "41 29 8:3 / /mnt/ro-super rw,relatime - ext4 /dev/sda3 ro\n");
  ASSERT_EQ(mounts.size(), 4u);
  EXPECT_EQ(mounts[0].mount_point, "/");
  EXPECT_EQ(mounts[0].device, "/dev/nvme0n1p2");
  EXPECT_EQ(mounts[0].type, "ext4");
  EXPECT_EQ(mounts[0].options, "rw,relatime,errors=remount-ro");
  EXPECT_FALSE(mounts[0].read_only);
  EXPECT_EQ(mounts[0].dev, "259:2");
  // Several optional fields before the "-".
  EXPECT_EQ(mounts[1].root, "/mnt1");
  EXPECT_EQ(mounts[1].mount_point, "/mnt2");
  EXPECT_EQ(mounts[1].type, "ext3");
  EXPECT_EQ(mounts[1].device, "/dev/root");
  // Read-only per mount, or read-only superblock under a rw bind.
  EXPECT_TRUE(mounts[2].read_only);
  EXPECT_EQ(mounts[2].device, "server:/export");
  EXPECT_TRUE(mounts[3].read_only);
}

TEST(Mountinfo, EscapedMountPointsRoundTrip) {
  // A USB stick labelled "My Disk" and a directory whose name holds a tab, a newline and a
  // backslash: the kernel escapes them so the line stays one line.
  const auto mounts = parse_mountinfo(
      "540 29 8:1 / /media/anna/My\\040Disk rw,nosuid - exfat /dev/sda1 rw\n"
      "541 29 8:2 / /srv/a\\011b\\012c\\134d rw - ext4 /dev/sda2 rw\n");
  ASSERT_EQ(mounts.size(), 2u);
  EXPECT_EQ(mounts[0].mount_point, "/media/anna/My Disk");
  EXPECT_EQ(mounts[1].mount_point, "/srv/a\tb\nc\\d");
}

TEST(Mountinfo, MalformedLinesAreSkipped) {
  const auto mounts = parse_mountinfo(
      "37 35 98:1 / /trunc\n"
      "38 35 0:1 / relative rw - ext4 x rw\n"
      "39 35 0:1 / /no-separator rw shared:1 ext4 /dev/x rw x\n"
      "\xff\xfe\n"
      "40 35 8:1 / /ok rw - ext4 /dev/sda1 rw\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/ok");
}

TEST(Mountinfo, MountsTableFallback) {
  const auto mounts = parse_mounts_table(
      "/dev/sda1 /media/My\\040Disk exfat ro,relatime 0 0\n"
      "short line\n");
  ASSERT_EQ(mounts.size(), 1u);
  EXPECT_EQ(mounts[0].mount_point, "/media/My Disk");
  EXPECT_TRUE(mounts[0].read_only);
  EXPECT_TRUE(has_mount_option("rw,ro", "ro"));
  EXPECT_FALSE(has_mount_option("rw,errors=remount-ro", "ro"));
}

}  // namespace
}  // namespace tether::agent::diag
