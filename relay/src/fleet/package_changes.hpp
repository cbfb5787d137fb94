#pragma once
// Which packages were installed, removed, upgraded or downgraded between two lists of
// installed software (a snapshot's or an inventory's software.packages): the session
// before/after diff and the device inventory history both tell them apart this way.

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay::fleet {

/// One installed package as read from software.packages[]; missing text fields are "".
struct Package {
  std::string name, version, architecture, source;
};

/// The differences, each list sorted by name, then architecture, then source. A package is
/// the same package when name, architecture and source match; its version going up or down in
/// Debian order (compare_debian_versions; an equal order with different text counts as up)
/// makes it upgraded or downgraded, with (before, after).
struct PackageChanges {
  std::vector<Package> installed, removed;
  std::vector<std::pair<Package, Package>> upgraded, downgraded;

  bool empty() const {
    return installed.empty() && removed.empty() && upgraded.empty() && downgraded.empty();
  }
};

/// Compares two software.packages arrays. nullopt when either is not an array (unknown is not
/// empty). Items without a non-empty string "name" are skipped, other fields of the wrong type
/// read as ""; only the first `max_items` items of each list are read. Never throws on
/// malformed input.
std::optional<PackageChanges> diff_package_lists(const nlohmann::json& before,
                                                 const nlohmann::json& after,
                                                 std::size_t max_items = 100000);

/// {name, version, architecture?, source?} with text clipped for display (helpdesk::clip_text:
/// names and versions 200 characters, architecture and source 32).
nlohmann::json package_json(const Package& package);

/// {name, from, to, architecture?, source?} for a version change, clipped the same way.
nlohmann::json package_change_json(const Package& from, const Package& to);

}  // namespace tether::relay::fleet
