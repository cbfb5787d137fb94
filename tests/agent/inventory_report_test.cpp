// build_inventory_report: which sections a delta carries, and what happens when it is too big.

#include "managed/inventory_report.hpp"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::managed {
namespace {

using json = nlohmann::json;

diag::InventorySplit laptop() {
  std::ifstream in(TETHER_SOURCE_DIR "/tests/glpi/snapshot_laptop.json");
  std::stringstream text;
  text << in.rdbuf();
  return diag::split_inventory(json::parse(text.str()));
}

protocol::SectionHashes hashes_of(const diag::InventorySplit& split) {
  protocol::SectionHashes out;
  for (const auto& [name, hash] : split.inventory["section_hashes"].items()) out[name] = hash;
  return out;
}

constexpr std::size_t kRoomy = 4 * 1024 * 1024;

TEST(InventoryReport, FirstReportCarriesEverySectionAndTheLiveFigures) {
  const auto split = laptop();
  const auto built =
      build_inventory_report(split, {}, false, "r1", "D-1", "2026-11-30T10:00:00Z", kRoomy);
  EXPECT_EQ(built.total, diag::inventory_sections().size());
  EXPECT_EQ(built.sent, built.total);
  EXPECT_EQ(built.report.hashes, hashes_of(split));
  EXPECT_EQ(built.report.sections["memory"], split.inventory["memory"]);
  EXPECT_EQ(built.report.live["overlay"], split.live["overlay"]);
  EXPECT_EQ(built.report.live["findings"], split.live["findings"]);
  EXPECT_EQ(built.report.id, "r1");
  EXPECT_EQ(built.report.device, "D-1");
  EXPECT_EQ(built.report.collected_at, "2026-11-30T10:00:00Z");
  // It is a valid message.
  auto parsed = protocol::parse_message(protocol::encode(built.report));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<protocol::InventoryReport>(*parsed), built.report);
}

TEST(InventoryReport, ADeltaCarriesOnlyTheSectionsWhoseHashDiffers) {
  const auto split = laptop();
  auto known = hashes_of(split);
  known["software"] = "sha256:" + std::string(64, '0');  // The relay holds an older list.
  known.erase("memory");                                 // And no memory section at all.
  known["gone"] = "sha256:" + std::string(64, '1');      // A section the device no longer has.
  const auto built = build_inventory_report(split, known, false, "r2", "D-1", "t", kRoomy);
  EXPECT_EQ(built.sent, 2u);
  EXPECT_TRUE(built.report.sections.contains("software"));
  EXPECT_TRUE(built.report.sections.contains("memory"));
  // Every section the device has is named, the removed one is not.
  EXPECT_EQ(built.report.hashes, hashes_of(split));
  EXPECT_FALSE(built.report.hashes.contains("gone"));

  const auto unchanged =
      build_inventory_report(split, hashes_of(split), false, "r3", "D-1", "t", kRoomy);
  EXPECT_EQ(unchanged.sent, 0u);
  EXPECT_TRUE(unchanged.report.sections.empty());
  EXPECT_EQ(unchanged.report.live["overlay"], split.live["overlay"]) << "live is always whole";

  const auto full = build_inventory_report(split, hashes_of(split), true, "r4", "D-1", "t", kRoomy);
  EXPECT_EQ(full.sent, full.total);
  EXPECT_TRUE(full.report.full);
}

TEST(InventoryReport, TooBigLeavesTheLargestSectionsOutWithoutClaimingTheirNewHashes) {
  auto split = laptop();
  // A software list of about 300 KB; a budget that fits everything else.
  auto& packages = split.inventory["software"]["packages"];
  ASSERT_TRUE(packages.is_array());
  for (int i = 0; i < 3000; ++i) {
    packages.push_back(
        {{"name", "package-" + std::to_string(i)}, {"version", std::string(60, 'v')}});
  }
  split.inventory["section_hashes"]["software"] = diag::section_hash(split.inventory["software"]);
  const auto everything = build_inventory_report(split, {}, false, "r", "D-1", "t", kRoomy);
  const auto software_bytes = split.inventory["software"].dump().size();
  const auto budget = protocol::encode(everything.report).size() - software_bytes / 2;

  auto known = hashes_of(laptop());  // The relay holds the old software list.
  known.erase("memory");
  const auto built = build_inventory_report(split, known, false, "r", "D-1", "t", budget);
  EXPECT_LE(protocol::encode(built.report).size(), budget);
  ASSERT_EQ(built.too_large.size(), 1u);
  EXPECT_EQ(built.too_large[0].first, "software");
  EXPECT_FALSE(built.report.sections.contains("software"));
  EXPECT_TRUE(built.report.sections.contains("memory"));
  EXPECT_EQ(built.report.hashes.at("software"), known.at("software")) << "the relay keeps its copy";
  const auto& errors = built.report.live["errors"];
  ASSERT_FALSE(errors.empty());
  EXPECT_EQ(errors.back()["section"], "software");
  EXPECT_NE(errors.back()["message"].get<std::string>().find("too large to send ("),
            std::string::npos);

  // A section the relay never had is not named at all when it cannot be sent.
  const auto fresh = build_inventory_report(split, {}, false, "r", "D-1", "t", budget);
  EXPECT_FALSE(fresh.report.hashes.contains("software"));
  EXPECT_FALSE(fresh.report.sections.contains("software"));
  EXPECT_TRUE(protocol::parse_message(protocol::encode(fresh.report)));
}

TEST(InventoryReport, CollectionErrorsGoWithTheLiveFigures) {
  auto split = laptop();
  split.inventory["errors"] = json::array({{{"section", "power"}, {"message", "timed out"}}});
  const auto built = build_inventory_report(split, {}, false, "r", "D-1", "t", kRoomy);
  EXPECT_EQ(built.report.live["errors"], split.inventory["errors"]);
}

}  // namespace
}  // namespace tether::agent::managed
