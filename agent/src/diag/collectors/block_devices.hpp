#pragma once
// Block devices under /sys/block: physical disks, and the device-mapper devices that make
// up LUKS/dm-crypt volumes and LVM logical volumes.

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

namespace tether::agent::diag {

/// True for the names of whole physical (or virtual-machine) disks: nvme<N>n<M>, sd*, hd*,
/// vd*, xvd*, mmcblk<N>. False for partitions' parents that are not disks (loop, ram, zram,
/// dm-*, md*, sr*), NVMe multipath paths (nvme0c0n1) and eMMC boot areas (mmcblk0boot0).
bool is_disk_name(std::string_view name);

/// The bus a disk hangs on, from its sysfs device path (the target of /sys/block/<name>):
/// "usb", "nvme", "virtio", "mmc", "sata", "xen", "scsi" or "unknown".
std::string disk_bus(std::string_view device_path);

/// The serial number in a SCSI VPD page 0x80 (unit serial number): 4-byte header, then
/// that many ASCII bytes; nullopt when malformed or blank.
std::optional<std::string> parse_vpd_serial(std::string_view page);

/// A device-mapper name of an LVM logical volume → {volume group, logical volume}: the VG
/// and LV are joined with "-" and any "-" inside them is doubled ("my--vg-root" →
/// {"my-vg", "root"}). nullopt when there is no single "-" separator.
std::optional<std::pair<std::string, std::string>> split_lvm_name(std::string_view dm_name);

/// What a device-mapper uuid says the device is: "luks", "dm-crypt", "lvm" or "" (other).
std::string device_mapper_kind(std::string_view uuid);

/// Every disk under <root>/sys/block, sorted by name, without health:
/// {name, model, serial, firmware, size_bytes, bus, media, rotational, removable}; a value
/// sysfs does not give is null with a reason.
nlohmann::json read_disks(const std::filesystem::path& root);

/// The device-mapper devices under <root>/sys/block/dm-*:
/// {"encrypted": [{name, type, backing_device}],
///  "lvm": {"volume_groups": [{name}], "logical_volumes": [{name, volume_group, device,
///  size_bytes}]}}, each list sorted.
nlohmann::json read_device_mapper(const std::filesystem::path& root);

}  // namespace tether::agent::diag
