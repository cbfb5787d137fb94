// split_inventory: the live figures make_inventory leaves out come back as an overlay in the
// sections' own shape, so the relay can put the snapshot together again.

#include <fstream>

#include <gtest/gtest.h>

#include "../fixture_json.hpp"
#include "tether/agent/diag/inventory.hpp"
#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

// The relay's composition (fleet contract): objects by key, arrays by index.
void deep_merge(json& into, const json& overlay) {
  if (into.is_object() && overlay.is_object()) {
    for (const auto& [key, value] : overlay.items()) {
      if (into.contains(key)) {
        deep_merge(into[key], value);
      } else {
        into[key] = value;
      }
    }
  } else if (into.is_array() && overlay.is_array()) {
    for (std::size_t i = 0; i < overlay.size() && i < into.size(); ++i)
      deep_merge(into[i], overlay[i]);
  } else {
    into = overlay;
  }
}

TEST(InventoryLive, InventoryAndHashesAreExactlyMakeInventorys) {
  const auto snapshot = laptop_snapshot();
  const auto split = split_inventory(snapshot);
  EXPECT_EQ(split.inventory, make_inventory(snapshot));
  for (const auto& name : inventory_sections()) {
    EXPECT_EQ(split.inventory["section_hashes"][name], section_hash(split.inventory[name])) << name;
  }
}

TEST(InventoryLive, OverlayMergedBackGivesTheSnapshotsSectionsAgain) {
  auto snapshot = laptop_snapshot();
  // A reason for a dropped field next to one for a kept field: each goes its own way.
  snapshot["memory"]["unknown"] = {{"available_bytes", "could not read: x"},
                                   {"total_bytes", "could not read: y"}};
  const auto split = split_inventory(snapshot);
  for (const auto& name : inventory_sections()) {
    json section = split.inventory[name];
    if (split.live["overlay"].contains(name)) deep_merge(section, split.live["overlay"][name]);
    EXPECT_EQ(section, snapshot[name]) << name;
  }
  EXPECT_EQ(split.live["findings"], snapshot["findings"]);
  EXPECT_EQ(split.live["overlay"]["memory"]["unknown"],
            json({{"available_bytes", "could not read: x"}}));
  EXPECT_EQ(split.inventory["memory"]["unknown"], json({{"total_bytes", "could not read: y"}}));
}

TEST(InventoryLive, ListFiguresAreAlignedByIndexWithEmptyItemsWhereNothingWasDropped) {
  auto snapshot = laptop_snapshot();
  auto& filesystems = snapshot["storage"]["filesystems"];
  ASSERT_GE(filesystems.size(), 3u);
  filesystems[0]["free_bytes"] = 111;
  filesystems[1] = {{"mountpoint", "/boot"}, {"size_bytes", 5}};  // No live figure at all.
  filesystems[2]["free_bytes"] = 333;
  snapshot["storage"]["disks"][0]["health"]["temperature_celsius"] = 41;
  const auto split = split_inventory(snapshot);
  const auto& overlay = split.live["overlay"]["storage"];
  ASSERT_EQ(overlay["filesystems"].size(), filesystems.size()) << overlay.dump();
  EXPECT_EQ(overlay["filesystems"][0]["free_bytes"], 111);
  EXPECT_EQ(overlay["filesystems"][1], json::object());
  EXPECT_EQ(overlay["filesystems"][2]["free_bytes"], 333);
  EXPECT_EQ(overlay["disks"][0]["health"]["temperature_celsius"], 41);
  EXPECT_FALSE(overlay["disks"][0]["health"].contains("passed"));
  EXPECT_TRUE(split.inventory["storage"]["disks"][0]["health"].contains("passed"))
      << split.inventory["storage"]["disks"][0].dump();
  // Only the live fields are in the overlay.
  EXPECT_FALSE(overlay["filesystems"][0].contains("size_bytes"));
}

TEST(InventoryLive, SectionsWithoutLiveFiguresHaveNoOverlayAndMissingFindingsAreEmpty) {
  auto snapshot = laptop_snapshot();
  snapshot.erase("findings");
  snapshot["cpu"] = {{"unavailable", "timed out"}};
  const auto split = split_inventory(snapshot);
  EXPECT_FALSE(split.live["overlay"].contains("software"));
  EXPECT_FALSE(split.live["overlay"].contains("cpu"));
  EXPECT_EQ(split.live["findings"], json::array());
  EXPECT_TRUE(split.live["overlay"].contains("memory"));
}

TEST(InventoryLive, AnyJsonIsAccepted) {
  for (const char* input :
       {"null", "[]", "{}", R"({"memory": 5, "storage": {"filesystems": 1, "disks": [1, {}]}})",
        R"({"network": {"interfaces": [1, null]}, "findings": 7})"}) {
    InventorySplit out;
    ASSERT_NO_THROW(out = split_inventory(json::parse(input))) << input;
    EXPECT_TRUE(out.live["overlay"].is_object()) << input;
    EXPECT_TRUE(out.live["findings"].is_array()) << input;
  }
}

}  // namespace
}  // namespace tether::agent::diag
