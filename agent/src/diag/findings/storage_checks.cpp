// Checks over storage.filesystems, storage.disks[].health and storage.raid.

#include <algorithm>
#include <array>
#include <cstdint>

#include "diag/findings/checks.hpp"

namespace tether::agent::diag::findings {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kGiB = 1024.0 * kMiB;

// Filesystems that are full by construction (images, optical media): never "out of space".
bool full_by_design(std::string_view type) {
  static constexpr std::array<std::string_view, 6> kTypes = {"squashfs", "iso9660", "udf",
                                                             "erofs",    "cramfs",  "composefs"};
  return std::find(kTypes.begin(), kTypes.end(), type) != kTypes.end();
}

std::string fs_label(std::string_view mount_point) {
  return "storage.filesystems[" + std::string(mount_point) + "]";
}

// Used share as df(1) computes it: used / (used + available), used = size - free. The
// collector's used_pct is preferred so the finding and the report's bar show one figure.
std::optional<double> used_pct_of(const json& fs) {
  if (auto pct = number(fs, "used_pct")) return *pct;
  const auto size = number(fs, "size_bytes");
  const auto free = number(fs, "free_bytes");
  const auto available = number(fs, "available_bytes");
  if (!size || !free || !available) return std::nullopt;
  const double used = std::max(0.0, *size - *free);
  return percent(used, used + *available);
}

std::optional<double> available_of(const json& fs) {
  if (auto available = number(fs, "available_bytes")) return *available;
  return number(fs, "free_bytes");
}

json fs_evidence(const json& fs) {
  json evidence = json::object();
  for (const char* key :
       {"mount_point", "device", "type", "used_pct", "size_bytes", "available_bytes"}) {
    if (const json* value = member(fs, key)) evidence[key] = *value;
  }
  return evidence;
}

// The filesystems a space check judges: mounted, writable, with sizes. Read-only mounts
// cannot fill any further, so they are left out.
template <typename Visit>
void for_each_writable_fs(const json& filesystems, Visit&& visit) {
  for (const json& fs : filesystems) {
    const auto mount = text(fs, "mount_point");
    if (!mount) continue;
    if (boolean(fs, "read_only").value_or(false)) continue;
    if (auto type = text(fs, "type"); type && full_by_design(*type)) continue;
    visit(fs, *mount);
  }
}

std::string disk_label(const json& disk) {
  std::string label = std::string(text(disk, "name").value_or("?"));
  if (auto model = text(disk, "model"); model && !model->empty()) {
    label += " (" + std::string(*model) + ")";
  }
  return label;
}

// Walks the disks that have a health object; remembers why the others have none, so a check
// that sees no health at all can say why (smartctl missing, not root).
template <typename Visit>
void for_each_disk_health(Check& check, Visit&& visit) {
  const json* disks = check.find_array("storage.disks");
  if (disks == nullptr) return;
  if (disks->empty()) check.note_missing("no disks in storage.disks");
  for (const json& disk : *disks) {
    const auto name = text(disk, "name");
    if (!name) continue;
    const json* health = member(disk, "health");
    if (health == nullptr || !health->is_object()) {
      check.note_missing(why_missing(disk, "health", "storage.disks[" + std::string(*name) + "]"));
      continue;
    }
    visit(disk, *health, *name);
  }
}

Severity above(double value, double warning, double critical) {
  if (value > critical) return Severity::critical;
  if (value > warning) return Severity::warning;
  return Severity::ok;
}

constexpr std::string_view kFreeSpaceHint =
    "Empty the trash and Downloads, clear package caches (apt clean / dnf clean all), shrink "
    "the journal (journalctl --vacuum-size=200M); `du -xh -d2 <mount> | sort -h | tail` shows "
    "what takes the space. Otherwise move data away or grow the filesystem.";

std::string free_space_hint(std::string_view mount, bool critical) {
  std::string hint(kFreeSpaceHint);
  const auto at = hint.find("<mount>");
  hint.replace(at, 7, mount);
  if (critical)
    return "Programs can fail to save files now; free space on " + std::string(mount) +
           " right away. " + hint;
  return hint;
}

}  // namespace

void check_disk_space(Check& check) {
  const json* filesystems = check.find_array("storage.filesystems");
  if (filesystems == nullptr) return;
  const Thresholds& t = check.limits();
  int checked = 0;
  const json* fullest = nullptr;
  double fullest_pct = -1;
  for_each_writable_fs(*filesystems, [&](const json& fs, std::string_view mount) {
    const auto pct = used_pct_of(fs);
    const auto available = available_of(fs);
    if (!pct || !available) {
      check.note_missing(why_missing(fs, "size_bytes", fs_label(mount)));
      return;
    }
    if (number(fs, "size_bytes").value_or(1) <= 0) return;  // nothing to fill
    ++checked;
    if (*pct > fullest_pct) {
      fullest_pct = *pct;
      fullest = &fs;
    }
    const bool critical =
        *pct > t.disk_used_critical_pct && *available < t.disk_free_critical_gib * kGiB;
    if (critical) {
      check.report(Severity::critical,
                   std::string(mount) + " is " + format_pct(*pct) + " full, only " +
                       format_bytes(*available) + " free",
                   free_space_hint(mount, true), fs_evidence(fs));
    } else if (*pct > t.disk_used_warning_pct) {
      check.report(Severity::warning,
                   std::string(mount) + " is " + format_pct(*pct) + " full (" +
                       format_bytes(*available) + " free)",
                   free_space_hint(mount, false), fs_evidence(fs));
    }
  });
  if (checked == 0) {
    check.note_missing("no writable filesystem with sizes in storage.filesystems");
    return;
  }
  if (check.findings().empty()) {
    const std::string mount(text(*fullest, "mount_point").value_or("?"));
    check.report(Severity::ok,
                 count_of(checked, "filesystem has", "filesystems have") +
                     " enough space (fullest: " + mount + " at " + format_pct(fullest_pct) + ", " +
                     format_bytes(available_of(*fullest).value_or(0)) + " free)",
                 "Nothing to do.", fs_evidence(*fullest));
  }
}

void check_disk_inodes(Check& check) {
  const json* filesystems = check.find_array("storage.filesystems");
  if (filesystems == nullptr) return;
  const Thresholds& t = check.limits();
  int checked = 0;
  double fullest_pct = -1;
  std::string fullest_mount;
  for_each_writable_fs(*filesystems, [&](const json& fs, std::string_view mount) {
    const auto total = number(fs, "inodes_total");
    const auto free = number(fs, "inodes_free");
    if (!total) {
      check.note_missing(why_missing(fs, "inodes_total", fs_label(mount)));
      return;
    }
    // btrfs and network filesystems have no fixed inode table: 0.
    if (*total <= 0) return;
    std::optional<double> pct = number(fs, "inodes_used_pct");
    if (!pct && free) pct = percent(*total - *free, *total);
    if (!pct) return;
    ++checked;
    if (*pct > fullest_pct) {
      fullest_pct = *pct;
      fullest_mount = mount;
    }
    const Severity severity = above(*pct, t.inodes_used_warning_pct, t.inodes_used_critical_pct);
    if (severity == Severity::ok) return;
    json evidence = {{"mount_point", mount}, {"inodes_total", *total}, {"inodes_used_pct", *pct}};
    if (free) evidence["inodes_free"] = *free;
    check.report(severity,
                 std::string(mount) + " has used " + format_pct(*pct) + " of its inodes" +
                     (free ? " (" + format_number(*free, 0) + " left)" : std::string()),
                 "New files cannot be created once inodes run out, even with free space. Find "
                 "the directory holding millions of small files (`du --inodes -x " +
                     std::string(mount) +
                     " | sort -n | tail`), usually a cache, mail queue or session directory, "
                     "and clean it.",
                 std::move(evidence));
  });
  if (checked == 0) {
    check.note_missing("no filesystem in storage.filesystems reports inode counts");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok,
                 "Inodes are plentiful on " + count_of(checked, "filesystem", "filesystems") +
                     " (most used: " + fullest_mount + " at " + format_pct(fullest_pct) + ")",
                 "Nothing to do.",
                 {{"mount_point", fullest_mount}, {"inodes_used_pct", fullest_pct}});
  }
}

namespace {

void check_mount_free(Check& check, std::string_view mount, double warning_mib, double critical_mib,
                      std::string_view hint) {
  const json* filesystems = check.find_array("storage.filesystems");
  if (filesystems == nullptr) return;
  const json* found = nullptr;
  for (const json& fs : *filesystems) {
    if (text(fs, "mount_point") == mount) found = &fs;  // the last mount is the visible one
  }
  if (found == nullptr) {
    check.note_missing(std::string(mount) + " is not a separate filesystem");
    return;
  }
  const auto available = available_of(*found);
  if (!available) {
    check.note_missing(why_missing(*found, "available_bytes", fs_label(mount)));
    return;
  }
  Severity severity = Severity::ok;
  if (*available < critical_mib * kMiB) {
    severity = Severity::critical;
  } else if (*available < warning_mib * kMiB) {
    severity = Severity::warning;
  }
  std::string summary = std::string(mount) + " has " + (severity == Severity::ok ? "" : "only ") +
                        format_bytes(*available) + " free";
  if (auto size = number(*found, "size_bytes")) summary += " (of " + format_bytes(*size) + ")";
  check.report(severity, std::move(summary),
               severity == Severity::ok ? std::string("Nothing to do.") : std::string(hint),
               fs_evidence(*found));
}

}  // namespace

void check_boot_free(Check& check) {
  check_mount_free(check, "/boot", check.limits().boot_free_warning_mib,
                   check.limits().boot_free_critical_mib,
                   "A kernel update needs about 100 MiB on /boot and fails without it. Remove "
                   "old kernels (apt autoremove --purge, or dnf remove --oldinstallonly), then "
                   "finish the update (apt -f install / dnf upgrade).");
}

void check_var_free(Check& check) {
  check_mount_free(check, "/var", check.limits().var_free_warning_mib,
                   check.limits().var_free_critical_mib,
                   "/var holds logs, caches, package downloads and databases; when it fills, "
                   "updates and services fail. Clear caches (apt clean / dnf clean all), shrink "
                   "the journal (journalctl --vacuum-size=200M), look for big files in /var/log "
                   "(`du -xh -d2 /var | sort -h | tail`).");
}

void check_root_read_only(Check& check) {
  const json* filesystems = check.find_array("storage.filesystems");
  if (filesystems == nullptr) return;
  const json* root = nullptr;
  for (const json& fs : *filesystems) {
    if (text(fs, "mount_point") == std::string_view("/")) root = &fs;
  }
  if (root == nullptr) {
    check.note_missing("no / in storage.filesystems");
    return;
  }
  const auto read_only = boolean(*root, "read_only");
  if (!read_only) {
    check.note_missing(why_missing(*root, "read_only", fs_label("/")));
    return;
  }
  json evidence = fs_evidence(*root);
  if (const json* options = member(*root, "options")) evidence["options"] = *options;
  if (!*read_only) {
    check.report(Severity::ok, "The root filesystem (/) is writable", "Nothing to do.",
                 std::move(evidence));
    return;
  }
  const auto type = text(*root, "type").value_or("");
  const bool by_design = full_by_design(type);
  const bool container = [&] {
    const json* system = member(check.snapshot(), "system");
    const json* virtualization = system ? member(*system, "virtualization") : nullptr;
    return virtualization && text(*virtualization, "role") == std::string_view("container");
  }();
  if (by_design || container) {
    check.report(Severity::info,
                 std::string("The root filesystem (/) is read-only by design (") +
                     (by_design ? std::string(type) : std::string("container")) + ")",
                 "Nothing to do: live systems, immutable images and hardened containers run "
                 "this way; changes go to an overlay or a volume.",
                 std::move(evidence));
    return;
  }
  check.report(Severity::critical, "The root filesystem (/) is mounted read-only",
               "Nothing can be saved, installed or logged. Linux remounts / read-only after disk "
               "or filesystem errors: look for them (`journalctl -k -b | grep -iE "
               "'error|remount'`), check the disk's SMART health, then run fsck from a rescue "
               "boot before remounting read-write.",
               std::move(evidence));
}

void check_disk_smart(Check& check) {
  int checked = 0;
  std::vector<std::string> passed_names;
  for_each_disk_health(check, [&](const json& disk, const json& health, std::string_view name) {
    const auto passed = boolean(health, "passed");
    const auto warning_bits = number(health, "critical_warning");
    if (!passed && !warning_bits) {
      check.note_missing(
          why_missing(health, "passed", "storage.disks[" + std::string(name) + "].health"));
      return;
    }
    ++checked;
    std::vector<std::string> problems;
    if (passed == false) problems.emplace_back("fails its SMART health self-assessment");
    if (warning_bits && *warning_bits != 0) {
      static constexpr std::array<std::string_view, 6> kBits = {
          "available spare below threshold",      "temperature outside its limits",
          "reliability degraded by media errors", "media switched to read-only",
          "volatile memory backup failed",        "persistent memory region read-only"};
      const auto bits = static_cast<std::uint64_t>(std::max(0.0, *warning_bits));
      std::vector<std::string> meanings;
      for (std::size_t bit = 0; bit < kBits.size(); ++bit) {
        if (bits & (std::uint64_t{1} << bit)) meanings.emplace_back(kBits[bit]);
      }
      if (meanings.empty()) meanings.emplace_back("code " + format_number(*warning_bits, 0));
      problems.push_back("reports a critical warning: " + join_names(meanings, 6));
    }
    json evidence = {{"disk", name}, {"health", health}};
    if (auto model = text(disk, "model")) evidence["model"] = *model;
    if (problems.empty()) {
      passed_names.emplace_back(name);
      return;
    }
    std::string summary = "Disk " + disk_label(disk) + " " + problems[0];
    if (problems.size() > 1) summary += " and " + problems[1];
    check.report(Severity::critical, std::move(summary),
                 "The disk predicts its own failure: back up its data now and replace it. "
                 "`smartctl -a /dev/" +
                     std::string(name) + "` shows the details.",
                 std::move(evidence));
  });
  if (checked == 0) return;
  if (check.findings().empty()) {
    check.report(Severity::ok,
                 "SMART health passed on " + count_of(checked, "disk", "disks") + ": " +
                     join_names(passed_names, 6),
                 "Nothing to do.", {{"disks", passed_names}});
  }
}

void check_disk_wear(Check& check) {
  const Thresholds& t = check.limits();
  int checked = 0;
  json ok_disks = json::array();
  bool any_health = false;
  for_each_disk_health(check, [&](const json& disk, const json& health, std::string_view name) {
    any_health = true;
    const auto used = number(health, "percentage_used");
    if (!used) return;
    ++checked;
    const Severity severity = above(*used, t.disk_wear_warning_pct, t.disk_wear_critical_pct);
    if (severity == Severity::ok) {
      ok_disks.push_back({{"disk", name}, {"percentage_used", *used}});
      return;
    }
    check.report(severity,
                 "Disk " + disk_label(disk) + " has used " + format_pct(*used) +
                     " of its rated write endurance",
                 "Worn flash can turn read-only or lose data: back it up and plan its "
                 "replacement. `smartctl -a /dev/" +
                     std::string(name) + "` shows percentage used and spare.",
                 {{"disk", name}, {"percentage_used", *used}, {"health", health}});
  });
  if (checked == 0) {
    if (any_health) check.note_missing("no disk reports percentage_used (NVMe drives do)");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok, "Flash wear is low on " + count_of(checked, "disk", "disks"),
                 "Nothing to do.", {{"disks", ok_disks}});
  }
}

void check_disk_bad_sectors(Check& check) {
  const Thresholds& t = check.limits();
  int checked = 0;
  bool any_health = false;
  for_each_disk_health(check, [&](const json& disk, const json& health, std::string_view name) {
    any_health = true;
    struct Counter {
      const char* key;
      const char* words;
      double warning;
      double critical;
    };
    const Counter counters[] = {
        {"reallocated_sectors", "reallocated sectors", t.disk_reallocated_warning,
         t.disk_reallocated_critical},
        {"pending_sectors", "pending (unreadable) sectors", t.disk_pending_warning,
         t.disk_pending_critical},
        {"media_errors", "media errors", t.disk_media_errors_warning, t.disk_media_errors_critical},
    };
    bool any = false;
    Severity worst = Severity::ok;
    std::vector<std::string> parts;
    json evidence = {{"disk", name}};
    for (const Counter& counter : counters) {
      const auto value = number(health, counter.key);
      if (!value) continue;
      any = true;
      evidence[counter.key] = *value;
      const Severity severity = above(*value, counter.warning, counter.critical);
      if (severity == Severity::ok) continue;
      worst = std::max(worst, severity);
      parts.push_back(format_number(*value, 0) + " " + counter.words);
    }
    if (!any) return;
    ++checked;
    if (worst == Severity::ok) return;
    check.report(worst, "Disk " + disk_label(disk) + " reports " + join_names(parts, 3),
                 "The disk is losing sectors: back up its data now. Counts that grow mean it "
                 "is failing; run a long self-test (`smartctl -t long /dev/" +
                     std::string(name) + "`) and replace the disk if they rise.",
                 std::move(evidence));
  });
  if (checked == 0) {
    if (any_health) check.note_missing("no disk reports sector or media error counts");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok,
                 "No bad sectors or media errors on " + count_of(checked, "disk", "disks"),
                 "Nothing to do.", json::object());
  }
}

void check_raid(Check& check) {
  const json* arrays = check.find_array("storage.raid");
  if (arrays == nullptr) return;
  int checked = 0;
  std::vector<std::string> healthy;
  for (const json& md : *arrays) {
    const auto name = text(md, "name");
    if (!name) continue;
    ++checked;
    const auto level = text(md, "level");
    const auto total = number(md, "devices_total");
    const auto active = number(md, "devices_active");
    const auto failed = number(md, "devices_failed").value_or(0);
    const bool degraded = boolean(md, "degraded").value_or(false) || failed > 0 ||
                          (total && active && *active < *total);
    const auto action = text(md, "sync_action").value_or("idle");
    // sysfs says "recover", /proc/mdstat "recovery"; both mean a member is being rebuilt.
    const bool syncing = action == "resync" || action == "recover" || action == "recovery" ||
                         action == "reshape" || action == "check" || action == "repair";
    std::string progress;
    if (syncing) {
      progress = std::string(action);
      if (auto pct = number(md, "sync_pct")) progress += ", " + format_pct(*pct) + " done";
    }
    json evidence = json::object();
    for (const char* key : {"name", "level", "state", "devices_total", "devices_active",
                            "devices_failed", "degraded", "sync_action", "sync_pct", "members"}) {
      if (const json* value = member(md, key)) evidence[key] = *value;
    }
    std::string label = "RAID " + std::string(*name);
    if (level) label += " (" + std::string(*level) + ")";
    if (text(md, "state") == std::string_view("inactive")) {
      // Assembled from too few members, or a leftover superblock: nothing is served from it.
      check.report(Severity::warning, label + " is inactive (not assembled)",
                   "Its data is not available. If the array is in use, find its members and "
                   "assemble it (`mdadm --assemble --scan`, `mdadm --examine /dev/<member>`); if "
                   "it is a leftover from another machine, stop it (`mdadm --stop /dev/" +
                       std::string(*name) + "`).",
                   std::move(evidence));
      continue;
    }
    if (degraded) {
      std::string summary = label + " is degraded";
      if (total && active) {
        summary += ": " + format_number(*active, 0) + " of " + format_number(*total, 0) +
                   " devices active";
      }
      if (failed > 0) summary += ", " + format_number(failed, 0) + " failed";
      if (syncing) summary += " (rebuilding: " + progress + ")";
      check.report(Severity::critical, std::move(summary),
                   "The array runs without redundancy: one more disk failure loses data. Back "
                   "up, then replace the failed member (`mdadm --detail /dev/" +
                       std::string(*name) + "`, `cat /proc/mdstat`).",
                   std::move(evidence));
    } else if (syncing) {
      check.report(Severity::info, label + " is synchronising (" + progress + ")",
                   "Let it finish before rebooting or swapping disks; the disks are slower "
                   "meanwhile.",
                   std::move(evidence));
    } else {
      healthy.push_back(std::string(*name));
    }
  }
  if (checked == 0) {
    check.note_missing("no md RAID arrays");
    return;
  }
  if (check.findings().empty()) {
    check.report(Severity::ok, "RAID arrays are healthy: " + join_names(healthy, 6),
                 "Nothing to do.", {{"arrays", healthy}});
  }
}

}  // namespace tether::agent::diag::findings
