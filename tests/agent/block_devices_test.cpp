// Disks and device-mapper devices from /sys/block.

#include "diag/collectors/block_devices.hpp"

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

TEST(BlockDevices, WhichNamesAreDisks) {
  for (const char* name : {"nvme0n1", "nvme1n2", "sda", "sdaa", "vda", "xvdb", "hda", "mmcblk0"}) {
    EXPECT_TRUE(is_disk_name(name)) << name;
  }
  for (const char* name : {"loop0", "ram0", "zram0", "dm-0", "md0", "md127", "sr0", "nvme0c0n1",
                           "mmcblk0boot0", "mmcblk0rpmb", "sda1", "nbd0", ""}) {
    EXPECT_FALSE(is_disk_name(name)) << name;
  }
}

TEST(BlockDevices, BusFromDevicePath) {
  EXPECT_EQ(disk_bus("../devices/pci0000:00/0000:00:1d.0/0000:04:00.0/nvme/nvme0/nvme0n1"), "nvme");
  EXPECT_EQ(disk_bus("../devices/pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda"),
            "sata");
  EXPECT_EQ(disk_bus("../devices/pci0000:00/0000:00:14.0/usb2/2-1/2-1:1.0/host0/target0:0:0/"
                     "0:0:0:0/block/sda"),
            "usb");
  EXPECT_EQ(disk_bus("../devices/pci0000:00/0000:00:04.0/virtio2/block/vda"), "virtio");
  EXPECT_EQ(disk_bus("../devices/platform/soc/fe340000.mmc/mmc_host/mmc0/mmc0:aaaa/block/mmcblk0"),
            "mmc");
  EXPECT_EQ(disk_bus("../devices/pci0000:00/0000:00:10.0/host2/target2:0:0/2:0:0:0/block/sdb"),
            "scsi");
  EXPECT_EQ(disk_bus("../devices/vbd-51712/block/xvda"), "xen");
  EXPECT_EQ(disk_bus(""), "unknown");
}

TEST(BlockDevices, VpdSerial) {
  EXPECT_EQ(parse_vpd_serial(std::string("\x00\x80\x00\x0b   ZL2ABC01", 15)), "ZL2ABC01");
  EXPECT_EQ(parse_vpd_serial(std::string("\x00\x80\xff\xffshort", 9)), std::nullopt);
  EXPECT_EQ(parse_vpd_serial(std::string("\x00\x83\x00\x02"
                                         "ab",
                                         6)),
            std::nullopt);
  EXPECT_EQ(parse_vpd_serial(std::string("\x00\x80\x00\x02\x01\x02", 6)), std::nullopt);
}

TEST(BlockDevices, LvmNamesWithDashes) {
  EXPECT_EQ(split_lvm_name("vg0-root"), (std::pair<std::string, std::string>{"vg0", "root"}));
  EXPECT_EQ(split_lvm_name("data--vg-backups"),
            (std::pair<std::string, std::string>{"data-vg", "backups"}));
  EXPECT_EQ(split_lvm_name("a--b-c--d--e"), (std::pair<std::string, std::string>{"a-b", "c-d-e"}));
  EXPECT_EQ(split_lvm_name("nodash"), std::nullopt);
  EXPECT_EQ(split_lvm_name("-"), std::nullopt);
  EXPECT_EQ(split_lvm_name("vg-"), std::nullopt);
}

TEST(BlockDevices, DeviceMapperKinds) {
  EXPECT_EQ(device_mapper_kind("CRYPT-LUKS2-3f6a2b1c8d4e4c2a9b7f1e5d6c8a9b0f-luks-3f6a"), "luks");
  EXPECT_EQ(device_mapper_kind("CRYPT-LUKS1-abc-sda2_crypt"), "luks");
  EXPECT_EQ(device_mapper_kind("CRYPT-PLAIN-cryptswap"), "dm-crypt");
  EXPECT_EQ(device_mapper_kind("CRYPT-VERITY-abc-root"), "");
  EXPECT_EQ(device_mapper_kind("LVM-Xc8h2TtQ9j3lP0aK4mN7bV1cZ5xY6wR2e3Jd8Fq0"), "lvm");
  EXPECT_EQ(device_mapper_kind("mpath-3600508b400105e210000900000490000"), "");
}

}  // namespace
}  // namespace tether::agent::diag
