// glpi_device_inventory: the relay's per-device GLPI document. The mapping itself is the
// agent's (tests/agent/glpi_inventory_test.cpp); the documents are validated against the
// format's schema by the glpi_inventory_schema.relay_* ctests.

#include "fleet/glpi_export.hpp"

#include <gtest/gtest.h>

#include <string>

#include "../fixture_json.hpp"
#include "tether/protocol/glpi_inventory.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const TimePoint kSeen = protocol::parse_time("2026-11-30T07:55:00Z").value();

FleetDevice device(std::string id, json inventory) {
  FleetDevice d;
  d.id = std::move(id);
  d.group = "sales";
  d.hostname = "anna-laptop";
  d.online = true;
  d.last_seen = kSeen;
  d.inventory = std::move(inventory);
  return d;
}

bool has_null(const json& value) {
  if (value.is_null()) return true;
  if (value.is_structured()) {
    for (const auto& element : value) {
      if (has_null(element)) return true;
    }
  }
  return false;
}

TEST(GlpiExport, EnvelopeCarriesTheRelaysFacts) {
  const auto glpi =
      glpi_device_inventory(device("D-1", fixture_json("relay/data/fleet/laptop.json")));
  EXPECT_EQ(glpi["deviceid"], "anna-laptop-D-1");
  EXPECT_EQ(glpi["itemtype"], "Computer");
  EXPECT_EQ(glpi["action"], "inventory");
  EXPECT_EQ(glpi["tag"], "sales");
  EXPECT_EQ(glpi["content"]["accesslog"], json({{"logdate", "2026-11-30 07:55:00"}}));
  EXPECT_EQ(glpi["content"]["versionclient"], "Tether-Agent_v0.2.0");
  EXPECT_EQ(glpi["content"]["hardware"]["name"], "anna-laptop");
  EXPECT_FALSE(has_null(glpi));
}

TEST(GlpiExport, ContentIsTheAgentsMappingOfTheInventory) {
  const auto inventory = fixture_json("relay/data/fleet/laptop.json");
  auto glpi = glpi_device_inventory(device("D-1", inventory));
  auto mapped = protocol::to_glpi_inventory(inventory);
  glpi["content"].erase("accesslog");
  EXPECT_EQ(glpi["content"], mapped["content"]);
  EXPECT_GT(glpi["content"]["softwares"].size(), 5u);
  EXPECT_FALSE(glpi["content"]["storages"].empty());
}

TEST(GlpiExport, DeviceIdIsStableAndPlain) {
  auto laptop = device("D-7", fixture_json("relay/data/fleet/laptop.json"));
  auto changed = laptop;
  changed.inventory["software"]["packages"].erase(0);
  changed.inventory["identity"]["device_id"] = "sha256:ffff";  // e.g. a new mainboard
  changed.last_seen = kSeen + 24h;
  changed.online = false;
  EXPECT_EQ(glpi_device_id(laptop), "anna-laptop-D-7");
  EXPECT_EQ(glpi_device_inventory(changed)["deviceid"], "anna-laptop-D-7");

  // The inventory's host name, without its domain, when the relay has none.
  laptop.hostname.clear();
  laptop.inventory["system"]["hostname"] = "anna-laptop.corp.example";
  EXPECT_EQ(glpi_device_id(laptop), "anna-laptop-D-7");
  laptop.inventory = nullptr;
  EXPECT_EQ(glpi_device_id(laptop), "tether-D-7");
  laptop.hostname = "PC de Anna <b>\xc3\xa9";
  EXPECT_EQ(glpi_device_id(laptop), "PC_de_Anna__b___-D-7");
  laptop.hostname = std::string(100, 'x');
  EXPECT_EQ(glpi_device_id(laptop), std::string(64, 'x') + "-D-7");
}

TEST(GlpiExport, WithoutGroupOrContactThoseAreLeftOut) {
  auto d = device("D-2", fixture_json("relay/data/fleet/vm.json"));
  d.group.clear();
  d.last_seen.reset();
  const auto glpi = glpi_device_inventory(d);
  EXPECT_FALSE(glpi.contains("tag"));
  EXPECT_FALSE(glpi["content"].contains("accesslog"));
  EXPECT_FALSE(has_null(glpi));
}

TEST(GlpiExport, InventoryDocumentWithoutLiveFigures) {
  // What a managed agent sends: make_inventory's document of tests/glpi/snapshot_laptop.json.
  const auto snapshot = protocol::to_glpi_inventory(fixture_json("glpi/snapshot_laptop.json"));
  const auto glpi =
      glpi_device_inventory(device("D-3", fixture_json("glpi/inventory_laptop.json")));
  EXPECT_FALSE(has_null(glpi));
  const auto& content = glpi["content"];
  for (const char* section : {"bios", "operatingsystem", "cpus", "memories", "storages",
                              "softwares", "batteries", "videos", "controllers", "local_users"}) {
    EXPECT_EQ(content[section], snapshot["content"][section]) << section;
  }
  // Free space is a live figure: the drives are there, without it.
  ASSERT_FALSE(content["drives"].empty());
  EXPECT_TRUE(content["drives"][0].contains("total"));
  EXPECT_FALSE(content["drives"][0].contains("free"));
}

TEST(GlpiExport, AnyInventoryGivesAWritableDocument) {
  const json inputs[] = {
      nullptr,
      json::array(),
      7,
      "text",
      fixture_json("relay/data/fleet/broken.json"),
      json::parse(R"({"system": {"hostname": "a\u0000b"}, "cpu": [1]})"),
      json{{"system", {{"hostname", "bad\xff\xfe"}, {"kernel", "6.1\xc3"}}},
           {"software", {{"packages", {{{"name", "x\xff"}, {"version", "1"}}}}}}}};
  for (const auto& inventory : inputs) {
    auto d = device("D-9", inventory);
    d.hostname.clear();
    d.group = "grp\xff";
    json glpi;
    ASSERT_NO_THROW(glpi = glpi_device_inventory(d))
        << inventory.dump(-1, ' ', false, json::error_handler_t::replace);
    EXPECT_EQ(glpi["itemtype"], "Computer");
    EXPECT_TRUE(glpi["deviceid"].is_string());
    EXPECT_TRUE(glpi["content"].is_object());
    EXPECT_FALSE(has_null(glpi));
    std::string text;
    ASSERT_NO_THROW(text = glpi.dump());  // invalid UTF-8 would throw here
    EXPECT_EQ(text.find("\xff"), std::string::npos);
  }
  // Bad bytes become U+FFFD; the id has none at all.
  auto d = device("D-9", inputs[6]);
  d.hostname.clear();
  const auto glpi = glpi_device_inventory(d);
  EXPECT_EQ(glpi["content"]["hardware"]["name"], "bad\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(glpi["deviceid"], "bad__-D-9");
  EXPECT_EQ(glpi["content"]["softwares"][0]["name"], "x\xEF\xBF\xBD");
}

}  // namespace
}  // namespace tether::relay::fleet
