#pragma once
// The "devices" section: GPUs, PCI and USB devices with their ids and drivers, and the
// monitors attached (EDID).

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// Names found in a pci.ids file for a set of vendor and vendor:device ids (4 lower-case hex
/// digits each).
struct PciNames {
  std::map<std::string, std::string> vendors;  ///< "8086" → "Intel Corporation"
  std::map<std::pair<std::string, std::string>, std::string> devices;  ///< ("8086","9a49") → …
};

/// Looks up only `wanted` (vendor id → device ids) in pci.ids text, in one pass that stops
/// once past the highest wanted vendor (the file is sorted by vendor id).
PciNames lookup_pci_names(std::string_view pci_ids,
                          const std::map<std::string, std::set<std::string>>& wanted);

/// The PCI class name of a 24-bit class code (sub-class name where known, "VGA compatible
/// controller", else the base class, "Display controller"); nullopt for unknown classes.
std::optional<std::string> pci_class_name(unsigned class_code);

/// Collects the "devices" section under context.root: /sys/bus/pci/devices/*,
/// /sys/bus/usb/devices/*, /sys/class/drm/card*-*/edid, names from pci.ids when installed.
/// Unavailable only when <root>/sys is missing altogether.
nlohmann::json collect_devices(const CollectContext& context);

}  // namespace tether::agent::diag
