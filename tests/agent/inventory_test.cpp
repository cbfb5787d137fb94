// make_inventory: inventory sections only, no live figures, a stable hash per section.

#include "tether/agent/diag/inventory.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include "../fixture_json.hpp"
#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

TEST(Inventory, KeepsInventorySectionsOnlyWithAHashEach) {
  const auto inventory = make_inventory(laptop_snapshot());
  EXPECT_FALSE(inventory.contains("findings"));
  EXPECT_FALSE(inventory.contains("checks_skipped"));
  EXPECT_FALSE(inventory.contains("processes"));
  EXPECT_FALSE(inventory.contains("logs"));
  EXPECT_EQ(inventory["schema"], 2);
  EXPECT_EQ(inventory["agent"]["version"], "0.2.0");
  ASSERT_TRUE(inventory["section_hashes"].is_object());
  for (const auto& name : inventory_sections()) {
    ASSERT_TRUE(inventory.contains(name)) << name;
    const auto hash = inventory["section_hashes"][name].get<std::string>();
    EXPECT_EQ(hash.size(), 7u + 64u) << hash;
    EXPECT_EQ(hash.rfind("sha256:", 0), 0u) << hash;
    EXPECT_EQ(hash, section_hash(inventory[name])) << name;
  }
  EXPECT_EQ(inventory["section_hashes"].size(), inventory_sections().size());
}

TEST(Inventory, SectionHashIsSha256OfTheCanonicalDump) {
  // echo -n '{"a":1,"b":[true,null]}' | sha256sum
  EXPECT_EQ(section_hash(json::parse(R"({"b": [true, null], "a": 1})")),
            "sha256:1cc69c7fa23616ca2ec3ee70d24390a6225c8832db8a4c814c7e0e7f942f8668");
}

TEST(Inventory, LiveFiguresAreLeftOutSoAnUnchangedMachineHashesAlike) {
  auto first = laptop_snapshot();
  auto second = laptop_snapshot();
  second["collected_at"] = "2025-11-26T10:00:00Z";
  second["identity"]["collected_at"] = "2025-11-26T10:00:00Z";
  second["system"]["uptime_seconds"] = 360000;
  second["system"]["load"]["1m"] = 3.5;
  second["memory"]["available_bytes"] = 1000;
  second["cpu"]["mhz"] = 2900.0;
  second["storage"]["filesystems"][0]["free_bytes"] = 5;
  second["storage"]["disks"][0]["health"]["temperature_celsius"] = 55;
  second["network"]["interfaces"][2]["stats"]["rx_bytes"] = 1;
  second["power"]["batteries"][0]["capacity_pct"] = 99;
  second["users"]["sessions"] = json::array();
  const auto a = make_inventory(first);
  const auto b = make_inventory(second);
  EXPECT_EQ(a["section_hashes"], b["section_hashes"]);
  EXPECT_FALSE(a["memory"].contains("available_bytes"));
  EXPECT_TRUE(a["memory"].contains("total_bytes"));
  EXPECT_FALSE(a["storage"]["filesystems"][0].contains("free_bytes"));
  EXPECT_TRUE(a["storage"]["filesystems"][0].contains("size_bytes"));

  // A real change shows in its section's hash only.
  second["memory"]["dimms"][1]["size_bytes"] = 8589934592;
  const auto c = make_inventory(second);
  EXPECT_NE(a["section_hashes"]["memory"], c["section_hashes"]["memory"]);
  EXPECT_EQ(a["section_hashes"]["storage"], c["section_hashes"]["storage"]);
}

TEST(Inventory, UnknownReasonsOfDroppedFieldsGoWithThem) {
  auto snapshot = laptop_snapshot();
  snapshot["memory"]["available_bytes"] = nullptr;
  snapshot["memory"]["unknown"] = {{"available_bytes", "could not read: x"}};
  const auto inventory = make_inventory(snapshot);
  EXPECT_FALSE(inventory["memory"].contains("unknown")) << inventory["memory"].dump();
}

TEST(Inventory, AnyJsonIsAccepted) {
  for (const char* input :
       {"null", "[]", "{}", R"({"memory": 5, "storage": {"filesystems": 1}})",
        R"({"network": {"interfaces": [1, null]}, "cpu": {"unavailable": "x"}})"}) {
    json out;
    ASSERT_NO_THROW(out = make_inventory(json::parse(input))) << input;
  }
  const auto unavailable = make_inventory(json::parse(R"({"cpu": {"unavailable": "timed out"}})"));
  EXPECT_EQ(unavailable["cpu"]["unavailable"], "timed out");
}

}  // namespace
}  // namespace tether::agent::diag
