#pragma once
// The "storage" section: mounted filesystems a user stores files on, with their sizes.

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {

/// A mount path from /proc/mounts with its octal escapes decoded ("\040" → space). A
/// malformed escape is kept as written.
std::string decode_mount_path(std::string_view escaped);

/// True for kernel pseudo filesystems no user stores files on (proc, sysfs, tmpfs,
/// cgroup, squashfs snaps, …).
bool is_pseudo_filesystem(std::string_view type);

/// /proc/mounts text → [{"mount_point","device","type","read_only"}] without pseudo
/// filesystems. A mount point mounted over keeps only its last (visible) entry; malformed
/// lines are skipped.
nlohmann::json parse_mounts(std::string_view text);

/// Reads <root>/proc/self/mounts (or <root>/proc/mounts) and adds size_bytes, free_bytes and
/// available_bytes from host.filesystem_usage (null when unknown).
nlohmann::json collect_storage(const CollectContext& context);

}  // namespace tether::agent::diag
