#include "diag/collectors/storage_collector.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>
#include <vector>

#include "diag/collectors/block_devices.hpp"
#include "diag/collectors/mdstat.hpp"
#include "diag/collectors/smartctl_json.hpp"
#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// smartctl is started for at most this many disks; a storage shelf with more gets health
// for the first ones only (each run is a process and a thread for the probe deadline).
constexpr std::size_t kMaxSmartctlDisks = 64;

std::optional<FilesystemUsage> statvfs_usage(const std::string& mount_point, std::string& error) {
  struct statvfs stats {};
  if (statvfs(mount_point.c_str(), &stats) != 0) {
    const int code = errno;
    error =
        (code == EACCES || code == EPERM ? "not root: statvfs: " : "could not read: statvfs: ") +
        std::string(std::strerror(code));
    return std::nullopt;
  }
  const std::uint64_t block = stats.f_frsize != 0 ? stats.f_frsize : stats.f_bsize;
  return FilesystemUsage{.size_bytes = stats.f_blocks * block,
                         .free_bytes = stats.f_bfree * block,
                         .available_bytes = stats.f_bavail * block,
                         .inodes_total = stats.f_files,
                         .inodes_free = stats.f_ffree};
}

double round_tenth(double value) {
  return std::round(value * 10.0) / 10.0;
}

// One smartctl run per disk, each on its own thread so that the slowest disk (or a hung
// one, killed at the probe deadline) sets the time for all of them.
class SmartctlRuns {
 public:
  SmartctlRuns(const CollectContext& context, const json& disks) : results_(disks.size()) {
    for (std::size_t i = 0; i < disks.size() && i < kMaxSmartctlDisks; ++i) {
      auto argv = std::vector<std::string>{"smartctl", "-j", "-H", "-A",
                                           "/dev/" + disks[i]["name"].get<std::string>()};
      auto work = [this, &context, i, argv = std::move(argv)] {
        results_[i] = run_probe(context, argv);
      };
      try {
        threads_.emplace_back(std::move(work));
      } catch (const std::system_error&) {
        work();
      }
    }
  }
  SmartctlRuns(const SmartctlRuns&) = delete;
  SmartctlRuns& operator=(const SmartctlRuns&) = delete;
  ~SmartctlRuns() { join(); }

  void join() {
    for (auto& thread : threads_) {
      if (thread.joinable()) thread.join();
    }
  }
  const std::optional<ProgramRun>& result(std::size_t i) const { return results_[i]; }

 private:
  std::vector<std::optional<ProgramRun>> results_;
  std::vector<std::thread> threads_;
};

}  // namespace

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

json filesystems_from_mounts(const std::vector<MountEntry>& mounts) {
  json filesystems = json::array();
  for (const auto& mount : mounts) {
    if (is_pseudo_filesystem(mount.type)) continue;
    // A later entry for the same mount point hides the earlier one.
    for (auto it = filesystems.begin(); it != filesystems.end(); ++it) {
      if ((*it)["mount_point"] == mount.mount_point) {
        filesystems.erase(it);
        break;
      }
    }
    filesystems.push_back(json{{"mount_point", mount.mount_point},
                               {"device", mount.device},
                               {"type", mount.type},
                               {"options", mount.options},
                               {"read_only", mount.read_only}});
  }
  return filesystems;
}

json parse_mounts(std::string_view text) {
  return filesystems_from_mounts(parse_mounts_table(text));
}

void add_usage(json& filesystem, const std::optional<FilesystemUsage>& usage,
               const std::string& reason) {
  if (!usage) {
    for (const char* field : {"size_bytes", "free_bytes", "available_bytes", "used_pct",
                              "inodes_total", "inodes_free", "inodes_used_pct"}) {
      mark_unknown(filesystem, field, reason);
    }
    return;
  }
  filesystem["size_bytes"] = usage->size_bytes;
  filesystem["free_bytes"] = usage->free_bytes;
  filesystem["available_bytes"] = usage->available_bytes;
  const auto used = usage->size_bytes >= usage->free_bytes ? usage->size_bytes - usage->free_bytes
                                                           : std::uint64_t{0};
  const auto usable = used + usage->available_bytes;
  if (usable > 0) {
    filesystem["used_pct"] =
        round_tenth(100.0 * static_cast<double>(used) / static_cast<double>(usable));
  } else {
    mark_unknown(filesystem, "used_pct", "not present: the filesystem reports no blocks");
  }
  filesystem["inodes_total"] = usage->inodes_total;
  filesystem["inodes_free"] = usage->inodes_free;
  if (usage->inodes_total > 0 && usage->inodes_free <= usage->inodes_total) {
    filesystem["inodes_used_pct"] =
        round_tenth(100.0 * static_cast<double>(usage->inodes_total - usage->inodes_free) /
                    static_cast<double>(usage->inodes_total));
  } else {
    mark_unknown(filesystem, "inodes_used_pct",
                 "not present: the filesystem has no fixed inode table");
  }
}

json collect_storage(const CollectContext& context) {
  const auto& root = context.root;
  const auto& host = context.host;

  json disks = read_disks(root);
  // smartctl needs root to send ATA/NVMe commands; without it, it is not even started.
  const bool root_user = effective_uid(context) == 0;
  std::unique_ptr<SmartctlRuns> smartctl;
  if (root_user && !disks.empty()) smartctl = std::make_unique<SmartctlRuns>(context, disks);

  // Filesystems, read while smartctl runs.
  auto mountinfo = read_source(root, "/proc/self/mountinfo");
  json filesystems;
  std::string mounts_error;
  if (mountinfo.text) {
    filesystems = filesystems_from_mounts(parse_mountinfo(*mountinfo.text));
  } else {
    auto mounts = read_source(root, "/proc/self/mounts");
    if (!mounts.text) mounts = read_source(root, "/proc/mounts");
    if (mounts.text) {
      filesystems = parse_mounts(*mounts.text);
    } else {
      mounts_error = mountinfo.error;
    }
  }
  for (auto& filesystem : filesystems) {
    const auto mount_point = filesystem["mount_point"].get<std::string>();
    std::string reason = "could not read: statvfs failed";
    std::optional<FilesystemUsage> usage;
    if (host.filesystem_usage) {
      usage = host.filesystem_usage(mount_point);
    } else if (context.real_root) {
      usage = statvfs_usage(mount_point, reason);
    } else {
      reason = "not supported on this platform: not the running machine's root";
    }
    add_usage(filesystem, usage, reason);
  }

  json mapper = read_device_mapper(root);
  json raid = json::array();
  std::string raid_error;
  if (const auto mdstat = read_source(root, "/proc/mdstat"); mdstat.text) {
    raid = parse_mdstat(*mdstat.text);
  } else if (mdstat.error.find("No such file") == std::string::npos) {
    raid_error = "could not read: " + mdstat.error;
  }  // no /proc/mdstat: the md driver is not loaded, so there is no RAID

  if (smartctl) smartctl->join();
  for (std::size_t i = 0; i < disks.size(); ++i) {
    auto& disk = disks[i];
    if (!root_user) {
      mark_unknown(disk, "health", "not root: smartctl needs root");
      continue;
    }
    const auto& run = smartctl->result(i);
    if (!run) {
      mark_unknown(disk, "health", "not present: more disks than smartctl is run for");
      continue;
    }
    std::string reason;
    auto health = smartctl_health_from_run(*run, reason);
    if (health.is_null()) {
      mark_unknown(disk, "health", reason);
    } else {
      disk["health"] = std::move(health);
    }
  }

  if (filesystems.is_null() && disks.empty() && mapper["encrypted"].empty() &&
      mapper["lvm"]["logical_volumes"].empty() && raid.empty()) {
    return unavailable(mounts_error);
  }
  json storage{{"disks", std::move(disks)},
               {"encrypted", std::move(mapper["encrypted"])},
               {"lvm", std::move(mapper["lvm"])},
               {"raid", std::move(raid)}};
  if (filesystems.is_null()) {
    mark_unknown(storage, "filesystems", "could not read: " + mounts_error);
  } else {
    storage["filesystems"] = std::move(filesystems);
  }
  if (!raid_error.empty()) mark_unknown(storage, "raid", raid_error);
  return storage;
}

}  // namespace tether::agent::diag
