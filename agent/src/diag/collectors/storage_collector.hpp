#pragma once
// The "storage" section: physical disks with their SMART/NVMe health, mounted filesystems
// with their space and inodes, LUKS/dm-crypt volumes, LVM and md RAID.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/mountinfo.hpp"
#include "diag/collectors/source_files.hpp"

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// True for kernel pseudo filesystems no user stores files on (proc, sysfs, tmpfs,
/// cgroup, squashfs snaps, …).
bool is_pseudo_filesystem(std::string_view type);

/// Mount table entries → [{"mount_point","device","type","options","read_only"}] without
/// pseudo filesystems. A mount point mounted over keeps only its last (visible) entry.
nlohmann::json filesystems_from_mounts(const std::vector<MountEntry>& mounts);

/// /proc/mounts text → filesystems_from_mounts(parse_mounts_table(text)).
nlohmann::json parse_mounts(std::string_view text);

/// Adds the statvfs figures to one filesystem entry: size, free and available bytes,
/// used_pct (as df(1): used / (used + available), rounded to 0.1), inodes_total,
/// inodes_free, inodes_used_pct. `usage` nullopt writes nulls with `reason`.
void add_usage(nlohmann::json& filesystem, const std::optional<FilesystemUsage>& usage,
               const std::string& reason);

/// Reads the storage section under context.root: disks from /sys/block (health from
/// smartctl, run for all disks in parallel, each under context.probe_timeout), filesystems
/// from /proc/self/mountinfo (else /proc/self/mounts, /proc/mounts) with host.filesystem_usage,
/// encrypted volumes and LVM from /sys/block/dm-*, RAID from /proc/mdstat.
nlohmann::json collect_storage(const CollectContext& context);

}  // namespace tether::agent::diag
