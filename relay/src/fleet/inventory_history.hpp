#pragma once
// A managed device's inventory history: what changed between two of its inventories, as the
// entries `tether device history D-1` lists (software installed or removed, a disk replaced,
// memory added). Pure: the caller stores the inventories and the entries.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay::fleet {

/// One change between two inventories of the same device.
struct InventoryChangeEntry {
  /// The inventory section it was found in: "software", "storage", "memory", "system",
  /// "firmware", "cpu", "network", "power", "devices", "services", "users", "identity", …;
  /// "inventory" for inventory.first.
  std::string section;
  /// What happened: software.installed, software.removed, software.upgraded,
  /// software.downgraded, storage.disk_added, storage.disk_removed, storage.disk_replaced,
  /// memory.changed, cpu.changed, os.upgraded, os.changed (downgrade or another system),
  /// os.kernel_changed, firmware.updated (BIOS or a disk's firmware), hardware.changed
  /// (system, board or chassis identity), network.interface_added,
  /// network.interface_removed, "<section>.changed" for anything else in a section (also a
  /// section that appeared, went away or could not be collected), inventory.first.
  std::string kind;
  /// One line for people: valid UTF-8 without control characters, at most 300 characters
  /// (code points); lists name at most 8 items, then "and N more".
  std::string summary;
  /// The same for programs, per kind: {"packages": [{name, version|from+to, architecture?,
  /// source?}]}, {"disks": […]}, {"fields": [{path, change, from?, to?}]}, … Every list holds
  /// at most 1000 items; "count" is the full number, "truncated": true when cut.
  nlohmann::json detail;
};

/// The changes from `before` to `after`, two inventory documents of one device as
/// make_inventory() writes them ({section name: section content}, plus top-level facts like
/// schema and collected_at, which are not compared). Snapshot-like documents work too: live
/// figures (free space, load, addresses, battery charge and wear, service states, sessions,
/// pending updates, disk health readings, boot time) are not compared, and neither are
/// findings, processes and logs. A field that could not be read (null) is not a change.
/// Removable disks and virtual network interfaces (containers, VPNs) come and go and are
/// not followed, nor are USB devices.
///
/// `before` null, empty or without sections: one inventory.first entry (none when `after`
/// has no sections either). Otherwise only sections present in `after` or removed from it
/// are compared. Entries are sorted by section, then kind; identical inventories give none.
/// Never throws on malformed input: content of the wrong type gives "<section>.changed".
std::vector<InventoryChangeEntry> inventory_changes(const nlohmann::json& before,
                                                    const nlohmann::json& after);

}  // namespace tether::relay::fleet
