// prepare_inventory: what the relay stores of a managed device's inventory_report, and what it
// refuses: a section that does not match its hash, a delta relying on sections the relay does
// not hold, a full report with a section missing, malformed names and times. Bounds on what
// is kept, removed sections, history lines; inventory_request_for.
#include "fleet/inventory_intake.hpp"

#include <gtest/gtest.h>

namespace tether::relay::fleet {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

const TimePoint kNow = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 30)) + 9h;

json software(std::initializer_list<std::pair<const char*, const char*>> packages) {
  json list = json::array();
  for (const auto& [name, version] : packages) {
    list.push_back({{"name", name}, {"version", version}, {"architecture", "amd64"}});
  }
  return {{"manager", "dpkg"}, {"packages", list}};
}

json memory(std::int64_t total) {
  return {{"total_bytes", total}};
}

protocol::InventoryReport report_of(const json& sections, bool full, std::string id = "r1") {
  protocol::InventoryReport report;
  report.id = std::move(id);
  report.device = "D-1";
  report.collected_at = "2026-11-30T08:59:00Z";
  report.full = full;
  for (const auto& [name, content] : sections.items()) {
    report.hashes[name] = protocol::inventory_section_hash(content);
    report.sections[name] = content;
  }
  report.live = {{"findings", json::array()}};
  return report;
}

DeviceInventory stored(const json& sections, int deltas = 0) {
  DeviceInventory inventory;
  inventory.device_id = 1;
  inventory.deltas_since_full = deltas;
  for (const auto& [name, content] : sections.items()) {
    inventory.sections[name] =
        InventorySection{protocol::inventory_section_hash(content), content, kNow - 6h};
  }
  return inventory;
}

TEST(InventoryIntake, AFirstFullReportIsStoredWholeWithOneFirstInventoryLine) {
  const json sections = {{"software", software({{"openssl", "3.0.11"}})}, {"memory", memory(8)}};
  auto intake = prepare_inventory(report_of(sections, true), std::nullopt, 1, kNow);
  ASSERT_EQ(intake.refusal, "");
  EXPECT_TRUE(intake.update.full);
  EXPECT_EQ(intake.update.device_id, 1);
  EXPECT_EQ(intake.update.reported_at, kNow);
  EXPECT_EQ(intake.update.collected_at, kNow - 1min);
  ASSERT_EQ(intake.update.changed.size(), 2u);
  EXPECT_EQ(intake.update.changed.at("memory").content, memory(8));
  EXPECT_EQ(intake.update.changed.at("memory").hash, protocol::inventory_section_hash(memory(8)));
  EXPECT_TRUE(intake.update.removed.empty());
  ASSERT_EQ(intake.update.changes.size(), 1u);
  EXPECT_EQ(intake.update.changes[0].kind, "inventory.first");
  EXPECT_EQ(intake.update.live, report_of(sections, true).live);
}

TEST(InventoryIntake, ADeltaCarriesOnlyChangedSectionsAndSaysWhatChanged) {
  const json before = {{"software", software({{"openssl", "3.0.11"}})}, {"memory", memory(8)}};
  const json now_software = software({{"openssl", "3.0.14"}, {"zoom", "6.0"}});
  auto report = report_of({{"software", now_software}}, false);
  report.hashes["memory"] = protocol::inventory_section_hash(memory(8));  // unchanged, not sent
  auto intake = prepare_inventory(report, stored(before), 1, kNow);
  ASSERT_EQ(intake.refusal, "");
  ASSERT_EQ(intake.update.changed.size(), 1u);
  EXPECT_TRUE(intake.update.changed.contains("software"));
  std::vector<std::string> kinds;
  for (const auto& change : intake.update.changes) kinds.push_back(change.kind);
  EXPECT_EQ(kinds, (std::vector<std::string>{"software.installed", "software.upgraded"}));
}

TEST(InventoryIntake, SectionsTheDeviceNoLongerNamesAreRemoved) {
  const json before = {{"software", software({})}, {"memory", memory(8)}};
  protocol::InventoryReport report = report_of(json::object(), false);
  report.hashes["memory"] = protocol::inventory_section_hash(memory(8));
  auto intake = prepare_inventory(report, stored(before), 1, kNow);
  ASSERT_EQ(intake.refusal, "");
  EXPECT_EQ(intake.update.removed, std::vector<std::string>{"software"});
  EXPECT_TRUE(intake.update.changed.empty());
}

TEST(InventoryIntake, ASectionThatDoesNotMatchItsHashIsRefused) {
  auto report = report_of({{"memory", memory(8)}}, true);
  report.sections["memory"]["total_bytes"] = 16;  // the hash was made for 8
  auto intake = prepare_inventory(report, std::nullopt, 1, kNow);
  EXPECT_EQ(intake.refusal, "section \"memory\" does not match its hash");
  EXPECT_FALSE(intake.request_full);
}

TEST(InventoryIntake, ADeltaOnSectionsTheRelayDoesNotHoldAsksForAFullReport) {
  // The relay was killed before it stored the last report: it holds an older memory hash.
  auto report = report_of(json::object(), false);
  report.hashes["memory"] = protocol::inventory_section_hash(memory(16));
  for (const auto& current :
       {std::optional<DeviceInventory>(), std::optional(stored({{"memory", memory(8)}}))}) {
    auto intake = prepare_inventory(report, current, 1, kNow);
    EXPECT_EQ(intake.refusal,
              "the relay does not hold section \"memory\" as the report assumes; send a full "
              "inventory");
    EXPECT_TRUE(intake.request_full);
  }
}

TEST(InventoryIntake, AFullReportMustCarryEverySectionItNames) {
  auto report = report_of({{"memory", memory(8)}}, true);
  report.hashes["software"] = protocol::inventory_section_hash(software({}));
  auto intake = prepare_inventory(report, stored({{"software", software({})}}), 1, kNow);
  EXPECT_EQ(intake.refusal, "a full report must carry every section it names");
}

TEST(InventoryIntake, MalformedNamesTimesAndSectionsAreRefused) {
  auto bad_time = report_of({{"memory", memory(8)}}, true);
  bad_time.collected_at = "yesterday";
  EXPECT_EQ(prepare_inventory(bad_time, std::nullopt, 1, kNow).refusal,
            "collected_at is not an ISO 8601 UTC time");

  auto bad_name = report_of({{"Memory<script>", memory(8)}}, true);
  EXPECT_EQ(prepare_inventory(bad_name, std::nullopt, 1, kNow).refusal,
            "section names are 1 to 32 characters a-z, 0-9 and _");

  auto scalar = report_of({{"memory", 8}}, true);
  EXPECT_EQ(prepare_inventory(scalar, std::nullopt, 1, kNow).refusal,
            "section \"memory\" must be an object or a list");
}

TEST(InventoryIntake, LongListsAndTextsAreCutAndTheCutIsNoted) {
  json packages = json::array();
  for (std::size_t i = 0; i < kMaxInventoryListItems + 5; ++i) {
    packages.push_back({{"name", "p" + std::to_string(i)}, {"version", "1"}});
  }
  const std::string long_name(kMaxInventoryTextBytes + 100, 'x');
  const json sections = {{"software", {{"packages", packages}}},
                         {"system", {{"hostname", long_name}}}};
  auto intake = prepare_inventory(report_of(sections, true), std::nullopt, 1, kNow);
  ASSERT_EQ(intake.refusal, "");
  const auto& kept = intake.update.changed.at("software").content["packages"];
  EXPECT_EQ(kept.size(), kMaxInventoryListItems);
  EXPECT_EQ(kept.back()["name"], "p" + std::to_string(kMaxInventoryListItems - 1));
  const auto hostname = intake.update.changed.at("system").content["hostname"].get<std::string>();
  EXPECT_LE(hostname.size(), kMaxInventoryTextBytes);
  EXPECT_TRUE(hostname.ends_with("\u2026"));
  // The device's hash is kept: its next delta still matches what the relay holds.
  EXPECT_EQ(intake.update.changed.at("software").hash,
            protocol::inventory_section_hash(sections["software"]));
  ASSERT_EQ(intake.notes.size(), 2u);
  EXPECT_EQ(intake.notes[0], "software.packages: 20005 items, kept the first 20000");
  EXPECT_EQ(intake.notes[1], "system.hostname: text of 4196 bytes cut to 4096");
  EXPECT_EQ(intake.update.live["relay_notes"], json(intake.notes));
}

TEST(InventoryIntake, MarkupIsStoredAsTextNotInterpreted) {
  const json sections = {{"system", {{"hostname", "<script>alert(1)</script>"}}}};
  auto intake = prepare_inventory(report_of(sections, true), std::nullopt, 1, kNow);
  ASSERT_EQ(intake.refusal, "");
  EXPECT_EQ(intake.update.changed.at("system").content["hostname"], "<script>alert(1)</script>");
}

TEST(InventoryIntake, TheRelayAsksForAFullReportWhenItHoldsNoneOrAfterTwentyDeltas) {
  auto none = inventory_request_for(std::nullopt, "d1");
  EXPECT_EQ(none.id, "d1");
  EXPECT_TRUE(none.full);
  EXPECT_TRUE(none.known.empty());

  const json sections = {{"memory", memory(8)}};
  auto fresh = inventory_request_for(stored(sections, kFullInventoryEvery - 1), "d2");
  EXPECT_FALSE(fresh.full);
  EXPECT_EQ(fresh.known,
            (protocol::SectionHashes{{"memory", protocol::inventory_section_hash(memory(8))}}));

  auto due = inventory_request_for(stored(sections, kFullInventoryEvery), "d3");
  EXPECT_TRUE(due.full);
  EXPECT_TRUE(due.known.empty());
}

}  // namespace
}  // namespace tether::relay::fleet
