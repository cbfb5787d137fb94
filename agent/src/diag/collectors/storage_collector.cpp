#include "diag/collectors/storage_collector.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

std::optional<FilesystemUsage> statvfs_usage(const std::string& mount_point) {
  struct statvfs stats {};
  if (statvfs(mount_point.c_str(), &stats) != 0) return std::nullopt;
  const std::uint64_t block = stats.f_frsize != 0 ? stats.f_frsize : stats.f_bsize;
  return FilesystemUsage{.size_bytes = stats.f_blocks * block,
                         .free_bytes = stats.f_bfree * block,
                         .available_bytes = stats.f_bavail * block};
}

bool has_option(std::string_view options, std::string_view wanted) {
  while (!options.empty()) {
    const auto comma = options.find(',');
    if (options.substr(0, comma) == wanted) return true;
    if (comma == std::string_view::npos) break;
    options.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

std::string decode_mount_path(std::string_view escaped) {
  std::string out;
  out.reserve(escaped.size());
  for (std::size_t i = 0; i < escaped.size(); ++i) {
    if (escaped[i] == '\\' && i + 3 < escaped.size()) {
      const auto digits = escaped.substr(i + 1, 3);
      const bool octal =
          std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '7'; });
      if (octal) {
        const int value = (digits[0] - '0') * 64 + (digits[1] - '0') * 8 + (digits[2] - '0');
        if (value > 0 && value < 256) {
          out += static_cast<char>(value);
          i += 3;
          continue;
        }
      }
    }
    out += escaped[i];
  }
  return out;
}

bool is_pseudo_filesystem(std::string_view type) {
  static constexpr std::array<std::string_view, 26> kPseudo{
      "proc",       "sysfs",     "tmpfs",       "devtmpfs",  "devpts",
      "cgroup",     "cgroup2",   "mqueue",      "debugfs",   "tracefs",
      "securityfs", "pstore",    "bpf",         "autofs",    "configfs",
      "fusectl",    "hugetlbfs", "binfmt_misc", "nsfs",      "squashfs",
      "efivarfs",   "ramfs",     "rpc_pipefs",  "selinuxfs", "fuse.gvfsd-fuse",
      "fuse.portal"};
  return std::find(kPseudo.begin(), kPseudo.end(), type) != kPseudo.end();
}

json parse_mounts(std::string_view text) {
  json filesystems = json::array();
  for (const auto line : split_lines(text)) {
    const auto fields = split_fields(line);
    if (fields.size() < 4) continue;
    const auto type = std::string(fields[2]);
    if (is_pseudo_filesystem(type)) continue;
    auto mount_point = decode_mount_path(fields[1]);
    if (mount_point.empty() || mount_point.front() != '/') continue;
    // A later entry for the same mount point hides the earlier one.
    for (auto it = filesystems.begin(); it != filesystems.end(); ++it) {
      if ((*it)["mount_point"] == mount_point) {
        filesystems.erase(it);
        break;
      }
    }
    filesystems.push_back(json{{"mount_point", std::move(mount_point)},
                               {"device", decode_mount_path(fields[0])},
                               {"type", type},
                               {"read_only", has_option(fields[3], "ro")}});
  }
  return filesystems;
}

json collect_storage(const CollectContext& context) {
  const auto& root = context.root;
  const auto& host = context.host;
  auto mounts = read_source(root, "/proc/self/mounts");
  if (!mounts.text) mounts = read_source(root, "/proc/mounts");
  if (!mounts.text) return unavailable(mounts.error);

  const bool real_root = context.real_root;
  json filesystems = parse_mounts(*mounts.text);
  for (auto& filesystem : filesystems) {
    std::optional<FilesystemUsage> usage;
    const auto mount_point = filesystem["mount_point"].get<std::string>();
    if (host.filesystem_usage) {
      usage = host.filesystem_usage(mount_point);
    } else if (real_root) {
      usage = statvfs_usage(mount_point);
    }
    filesystem["size_bytes"] = usage ? json(usage->size_bytes) : json(nullptr);
    filesystem["free_bytes"] = usage ? json(usage->free_bytes) : json(nullptr);
    filesystem["available_bytes"] = usage ? json(usage->available_bytes) : json(nullptr);
  }
  return json{{"filesystems", std::move(filesystems)}};
}

}  // namespace tether::agent::diag
