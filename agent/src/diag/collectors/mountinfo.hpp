#pragma once
// Parsing the kernel's mount tables: /proc/self/mountinfo (proc(5)), and the older
// /proc/self/mounts format as a fallback.

#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::diag {

/// One mounted filesystem, with every path decoded.
struct MountEntry {
  std::string mount_point;  ///< "/media/anna/My Disk"
  std::string device;       ///< Mount source: "/dev/sda1", "server:/export", "overlay".
  std::string type;         ///< "ext4", "fuse.sshfs"
  std::string options;      ///< Per-mount options, then the superblock's (as /proc/mounts).
  bool read_only = false;   ///< "ro" in the per-mount or the superblock options.
  std::string root;         ///< Path inside the filesystem mounted here ("/" unless a bind).
  std::string dev;          ///< "major:minor"; empty from /proc/mounts.
};

/// A path from a mount table with its octal escapes decoded: the kernel writes space, tab,
/// newline and backslash as \040, \011, \012, \134. A malformed escape is kept as written.
std::string decode_mount_path(std::string_view escaped);

/// True when comma-separated `options` holds exactly `wanted` ("ro" but not "errors=remount-ro").
bool has_mount_option(std::string_view options, std::string_view wanted);

/// /proc/self/mountinfo text → entries in mount order. Lines are
/// "id parent major:minor root mount-point options [optional fields…] - type source super-options";
/// a line without the "-" separator or with too few fields is skipped.
std::vector<MountEntry> parse_mountinfo(std::string_view text);

/// /proc/self/mounts (fstab layout: "source mount-point type options dump pass") → entries.
std::vector<MountEntry> parse_mounts_table(std::string_view text);

}  // namespace tether::agent::diag
