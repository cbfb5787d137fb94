#include "fleet/fleet_view.hpp"

#include <gtest/gtest.h>

#include <string>

#include "fleet/inventory_export.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TimePoint at(const char* text) {
  return protocol::parse_time(text).value();
}

const TimePoint kNow = at("2026-11-30T08:00:00Z");

void add_section(DeviceInventory& inventory, const std::string& name, json content) {
  inventory.sections[name] = InventorySection{"sha256:0", std::move(content), kNow - 1h};
}

// What an agent stores for a laptop: the sections without live figures (free space, battery
// wear, addresses), which arrive in the live overlay, aligned by index.
DeviceInventory laptop() {
  DeviceInventory inventory;
  inventory.device_id = 3;
  inventory.collected_at = at("2026-11-30T07:55:00Z");
  inventory.reported_at = at("2026-11-30T07:55:02Z");
  add_section(inventory, "system",
              {{"hostname", "pc-anna"},
               {"os", {{"id", "debian"}, {"version_id", "12"}, {"name", "Debian GNU/Linux"}}}});
  add_section(
      inventory, "storage",
      {{"filesystems",
        json::array(
            {{{"mount_point", "/"}, {"type", "ext4"}, {"read_only", false}, {"size_bytes", 100}},
             {{"mount_point", "/boot/efi"},
              {"type", "vfat"},
              {"read_only", false},
              {"size_bytes", 50}}})}});
  add_section(inventory, "software",
              {{"packages", json::array({{{"name", "openssl"}, {"version", "3.0.11-1~deb12u2"}},
                                         {{"name", "zoom"}, {"version", "5.16"}}})}});
  inventory.live = {
      {"overlay",
       {{"storage",
         {{"filesystems", json::array({{{"used_pct", 95}, {"available_bytes", 5}},
                                       {{"used_pct", 20}, {"available_bytes", 40}}})}}}}},
      {"findings", json::array({{{"id", "disk.space"}, {"severity", "critical"}}})}};
  return inventory;
}

bool matches(const char* query, const FleetDevice& device) {
  return InventoryQuery::parse(query).matches(device, kNow);
}

TEST(ComposeInventory, SectionsOverlayFindingsAndCollectionTime) {
  const auto doc = compose_inventory(laptop());
  EXPECT_EQ(doc["system"]["hostname"], "pc-anna");
  const auto& root = doc["storage"]["filesystems"][0];
  EXPECT_EQ(root["mount_point"], "/");  // the section's fields stay
  EXPECT_EQ(root["used_pct"], 95);      // the overlay's join them
  EXPECT_EQ(root["available_bytes"], 5);
  EXPECT_EQ(doc["storage"]["filesystems"][1]["used_pct"], 20);
  EXPECT_EQ(doc["findings"], json::array({{{"id", "disk.space"}, {"severity", "critical"}}}));
  EXPECT_EQ(doc["collected_at"], "2026-11-30T07:55:00Z");
  EXPECT_EQ(doc["software"]["packages"].size(), 2u);
}

TEST(ComposeInventory, ObjectsMergeByKeyAndScalarsFromTheOverlayWin) {
  auto inventory = laptop();
  add_section(inventory, "power",
              {{"ac_online", true}, {"batteries", json::array({{{"model", "5B10W13975"}}})}});
  inventory.live = {{"overlay",
                     {{"system", {{"uptime_seconds", 3600}, {"os", {{"version_id", "12.8"}}}}},
                      {"power",
                       {{"ac_online", false},
                        {"batteries", json::array({{{"wear_pct", 31}, {"cycles", 120}}})}}}}}};
  const auto doc = compose_inventory(inventory);
  EXPECT_EQ(doc["system"]["uptime_seconds"], 3600);
  EXPECT_EQ(doc["system"]["os"]["id"], "debian");  // siblings of merged keys stay
  EXPECT_EQ(doc["system"]["os"]["version_id"], "12.8");
  EXPECT_EQ(doc["power"]["ac_online"], false);
  EXPECT_EQ(doc["power"]["batteries"][0],
            json({{"model", "5B10W13975"}, {"wear_pct", 31}, {"cycles", 120}}));
  EXPECT_FALSE(doc.contains("findings"));  // none reported: absent, not an empty list
}

TEST(ComposeInventory, ArraysOfDifferentLengthsMergeByIndexOnly) {
  auto longer = laptop();
  // Three overlay items for two filesystems: the third describes nothing and is dropped.
  longer.live["overlay"]["storage"]["filesystems"].push_back({{"used_pct", 1}});
  auto doc = compose_inventory(longer);
  ASSERT_EQ(doc["storage"]["filesystems"].size(), 2u);
  EXPECT_EQ(doc["storage"]["filesystems"][1]["used_pct"], 20);

  auto shorter = laptop();
  shorter.live["overlay"]["storage"]["filesystems"] = json::array({{{"used_pct", 50}}});
  doc = compose_inventory(shorter);
  ASSERT_EQ(doc["storage"]["filesystems"].size(), 2u);
  EXPECT_EQ(doc["storage"]["filesystems"][0]["used_pct"], 50);
  EXPECT_FALSE(doc["storage"]["filesystems"][1].contains("used_pct"));

  // "{}" where an entry has no live fields leaves that entry alone.
  auto gaps = laptop();
  gaps.live["overlay"]["storage"]["filesystems"] = json::array({json::object(), {{"used_pct", 7}}});
  doc = compose_inventory(gaps);
  EXPECT_FALSE(doc["storage"]["filesystems"][0].contains("used_pct"));
  EXPECT_EQ(doc["storage"]["filesystems"][1]["used_pct"], 7);
}

TEST(ComposeInventory, MalformedLiveIsIgnoredWhereItIsMalformed) {
  const auto plain = [] {
    auto inventory = laptop();
    inventory.live = json::object();
    return compose_inventory(inventory);
  }();
  for (const json& live :
       {json(nullptr), json("overlay"), json(42), json::array({1, 2}), json({{"overlay", "x"}}),
        json({{"overlay", json::array()}}), json({{"overlay", {{"storage", "full"}}}}),
        json({{"overlay", {{"storage", {{"filesystems", {{"used_pct", 9}}}}}}}}),
        json({{"overlay", {{"storage", {{"filesystems", json::array({1, "x", nullptr})}}}}}}),
        json({{"overlay", {{"system", {{"os", json::array({1})}}}}}}),
        json({{"overlay", {{"system", {{"hostname", nullptr}}}}}}), json({{"findings", "none"}}),
        json({{"findings", {{"id", "x"}}}})}) {
    auto inventory = laptop();
    inventory.live = live;
    json doc;
    ASSERT_NO_THROW(doc = compose_inventory(inventory)) << live.dump();
    EXPECT_EQ(doc, plain) << live.dump();
  }
}

// Nesting the same shape on both sides far past any snapshot's depth: the merge stops at its
// bound (the deep leaf is not applied) while the shallow parts still merge.
TEST(ComposeInventory, AnOverlayNestedTooDeepStopsAtTheBound) {
  auto inventory = laptop();
  json section = {{"top", 1}};
  json overlay = {{"top", 2}};
  json* s = &section;
  json* o = &overlay;
  for (int i = 0; i < 200; ++i) {
    s = &(*s)["x"];
    o = &(*o)["x"];
  }
  *s = json{{"leaf", "stored"}};
  *o = json{{"leaf", "live"}};
  add_section(inventory, "deep", section);
  inventory.live = {{"overlay", {{"deep", overlay}}}};
  json doc;
  ASSERT_NO_THROW(doc = compose_inventory(inventory));
  EXPECT_EQ(doc["deep"]["top"], 2);
  const json* leaf = &doc["deep"];
  for (int i = 0; i < 200; ++i) leaf = &(*leaf)["x"];
  EXPECT_EQ((*leaf)["leaf"], "stored");
}

TEST(ComposeInventory, AValueLandsWhereTheSectionsHaveNothing) {
  auto inventory = laptop();
  inventory.sections.erase("storage");
  inventory.live["overlay"]["network"] = {{"interfaces", json::array()}};
  const auto doc = compose_inventory(inventory);
  EXPECT_EQ(doc["storage"]["filesystems"][0]["used_pct"], 95);
  EXPECT_EQ(doc["network"]["interfaces"], json::array());
}

TEST(ComposeInventory, NoSectionsGivesOnlyTheCollectionTime) {
  DeviceInventory empty;
  empty.collected_at = kNow;
  EXPECT_EQ(compose_inventory(empty), json({{"collected_at", "2026-11-30T08:00:00Z"}}));
}

TEST(FleetDevice, RecordPresenceAndLastSeen) {
  Device record;
  record.id = 3;
  record.group_name = "sales";
  record.hostname = "pc-anna";
  record.last_seen_at = at("2026-11-30T07:00:00Z");
  const auto inventory = laptop();

  auto d = fleet_device(record, &inventory, true);
  EXPECT_EQ(d.id, "D-3");
  EXPECT_EQ(d.group, "sales");
  EXPECT_EQ(d.hostname, "pc-anna");
  EXPECT_TRUE(d.online);
  EXPECT_EQ(d.last_seen, inventory.reported_at);  // the report is later than the connection
  EXPECT_EQ(d.inventory, compose_inventory(inventory));

  record.last_seen_at = at("2026-11-30T07:59:00Z");
  EXPECT_EQ(fleet_device(record, &inventory, false).last_seen, record.last_seen_at);

  d = fleet_device(record, nullptr, false);
  EXPECT_FALSE(d.online);
  EXPECT_TRUE(d.inventory.is_null());
  EXPECT_EQ(d.last_seen, record.last_seen_at);
  record.last_seen_at.reset();
  EXPECT_FALSE(fleet_device(record, nullptr, false).last_seen);
}

// The queries of docs/inventory.md on a composed document: the live figures count although
// they are in no stored section.
TEST(FleetDevice, DocumentedQueriesSeeTheOverlay) {
  Device record;
  record.id = 3;
  record.group_name = "sales";
  record.hostname = "pc-anna";
  record.last_seen_at = kNow - 2h;
  const auto inventory = laptop();
  const auto d = fleet_device(record, &inventory, false);

  EXPECT_TRUE(matches("storage.free_pct<10", d));
  EXPECT_TRUE(matches("storage.mount=/ and storage.free_pct<10", d));
  EXPECT_FALSE(matches("storage.mount=/boot/efi and storage.free_pct<10", d));
  EXPECT_TRUE(matches("storage.free_pct<10 and storage.read_only=false", d));
  EXPECT_TRUE(matches("software.name=openssl and software.version<3.0.14", d));
  EXPECT_FALSE(matches("software.name=zoom and software.version<3.0.14", d));
  EXPECT_TRUE(matches("os.id=debian and os.version=12", d));
  EXPECT_TRUE(matches("findings.severity=critical", d));
  EXPECT_TRUE(matches("findings.id=disk.space and findings.severity>=warning", d));
  EXPECT_TRUE(matches("online=false and group=sales and hostname~pc-", d));
  EXPECT_TRUE(matches("last_seen<1h", d));  // the report at 07:55:02, not the connection
  EXPECT_FALSE(matches("last_seen>7d", d));
  EXPECT_FALSE(matches("battery.wear_pct>30", d));  // a desktop-like inventory: no battery

  // Without the overlay the free space is unknown, and unknown never matches.
  auto stored_only = inventory;
  stored_only.live = json::object();
  EXPECT_FALSE(matches("storage.free_pct<10", fleet_device(record, &stored_only, false)));
  EXPECT_FALSE(matches("storage.free_pct>=10", fleet_device(record, &stored_only, false)));

  // And the export reads the same document.
  const auto rows = export_json({d});
  EXPECT_EQ(rows[0]["id"], "D-3");
  EXPECT_EQ(rows[0]["disk_free_pct_min"], 5.0);
  EXPECT_EQ(rows[0]["critical_findings"], 1);
  EXPECT_EQ(rows[0]["software_count"], 2);
}

}  // namespace
}  // namespace tether::relay::fleet
