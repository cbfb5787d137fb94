// Inventories in the SQLite store (schema 4): a report stored whole with its history lines,
// deltas, removed sections, counters, reading with and without the documents, the history's
// pages; certificate renewal's previous certificate and re-enrollment.
#include <gtest/gtest.h>

#include "temp_store.hpp"

namespace tether::relay {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class InventoryStoreTest : public TempStoreTest {
 protected:
  void SetUp() override {
    TempStoreTest::SetUp();
    Device d;
    d.group_name = "lab";
    d.hostname = "pc-01";
    d.os = "Debian GNU/Linux 12";
    d.enrolled_at = t0_;
    d.certificate_fingerprint = "aa";
    device_ = store_->create_device(d).id;
  }

  InventoryUpdate update(std::map<std::string, json> changed, std::vector<std::string> removed,
                         bool full, TimePoint at, std::vector<std::string> kinds = {}) {
    InventoryUpdate u;
    u.device_id = device_;
    u.collected_at = at - 1min;
    u.reported_at = at;
    u.full = full;
    for (auto& [name, content] : changed) {
      u.changed[name] = InventorySection{"sha256:" + name + content.dump(), content, at};
    }
    u.removed = std::move(removed);
    u.live = {{"findings", json::array({{{"id", "disk.space"}}})}};
    for (const auto& kind : kinds) {
      u.changes.push_back({0, device_, at, "software", kind, kind + " happened", {{"n", 1}}});
    }
    return u;
  }

  const TimePoint t0_ = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 30));
  std::int64_t device_ = 0;
};

TEST_F(InventoryStoreTest, AReportIsStoredWholeAndDeltasBuildOnIt) {
  EXPECT_FALSE(store_->device_inventory(device_));
  store_->apply_inventory(
      update({{"software", {{"packages", json::array({"a"})}}}, {"memory", {{"total_bytes", 8}}}},
             {}, true, t0_, {"inventory.first"}));
  auto first = store_->device_inventory(device_);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->reports, 1);
  EXPECT_EQ(first->deltas_since_full, 0);
  EXPECT_EQ(first->collected_at, t0_ - 1min);
  EXPECT_EQ(first->reported_at, t0_);
  EXPECT_EQ(first->live["findings"][0]["id"], "disk.space");
  ASSERT_EQ(first->sections.size(), 2u);
  EXPECT_EQ(first->sections["memory"].content, json({{"total_bytes", 8}}));

  // A delta: memory changed, software removed; twice, then a full report resets the count.
  store_->apply_inventory(update({{"memory", {{"total_bytes", 16}}}}, {"software"}, false, t0_ + 6h,
                                 {"memory.changed"}));
  store_->apply_inventory(update({}, {}, false, t0_ + 12h));
  auto delta = store_->device_inventory(device_);
  EXPECT_EQ(delta->reports, 3);
  EXPECT_EQ(delta->deltas_since_full, 2);
  ASSERT_EQ(delta->sections.size(), 1u);
  EXPECT_EQ(delta->sections["memory"].content, json({{"total_bytes", 16}}));
  EXPECT_EQ(delta->sections["memory"].updated_at, t0_ + 6h);
  store_->apply_inventory(update({{"memory", {{"total_bytes", 16}}}}, {}, true, t0_ + 18h));
  EXPECT_EQ(store_->device_inventory(device_)->deltas_since_full, 0);

  // Without the documents: hashes and times only.
  auto light = store_->device_inventory(device_, /*content=*/false);
  ASSERT_TRUE(light);
  EXPECT_EQ(light->sections["memory"].hash, delta->sections["memory"].hash);
  EXPECT_TRUE(light->sections["memory"].content.is_null());
  EXPECT_EQ(light->reports, 4);

  auto all = store_->all_inventories();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].device_id, device_);
  EXPECT_EQ(all[0].sections["memory"].content, json({{"total_bytes", 16}}));
}

TEST_F(InventoryStoreTest, HistoryIsNewestFirstInPages) {
  store_->apply_inventory(
      update({{"memory", {{"total_bytes", 8}}}}, {}, true, t0_, {"inventory.first"}));
  store_->apply_inventory(
      update({}, {}, false, t0_ + 1h, {"software.installed", "software.removed"}));
  auto page = store_->inventory_history(device_, 2, std::nullopt);
  ASSERT_EQ(page.size(), 2u);
  EXPECT_EQ(page[0].kind, "software.removed");
  EXPECT_EQ(page[1].kind, "software.installed");
  EXPECT_EQ(page[0].at, t0_ + 1h);
  EXPECT_EQ(page[0].detail, json({{"n", 1}}));
  auto next = store_->inventory_history(device_, 2, page[1].id);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].kind, "inventory.first");
  EXPECT_TRUE(store_->inventory_history(device_ + 1, 10, std::nullopt).empty());
}

TEST_F(InventoryStoreTest, ARenewedCertificateKeepsTheOneItWasAskedWithUntilForgotten) {
  ASSERT_TRUE(store_->renew_device_certificate(device_, "bb", "0b", t0_ + 90 * 24h, "aa"));
  EXPECT_EQ(store_->find_device(device_)->certificate_fingerprint, "bb");
  EXPECT_EQ(store_->find_device(device_)->previous_fingerprint, "aa");
  store_->forget_previous_certificate(device_);
  EXPECT_EQ(store_->find_device(device_)->previous_fingerprint, "");
  ASSERT_TRUE(store_->revoke_device(device_, "stolen", t0_));
  EXPECT_FALSE(store_->renew_device_certificate(device_, "cc", "0c", t0_, "bb"));
}

TEST_F(InventoryStoreTest, ReenrollmentTakesATokenUseAndReplacesTheCertificate) {
  store_->save_enrollment_token({"tok", "lab", "cli:root", t0_, t0_ + 30min, 1});
  Device fields;
  fields.hostname = "pc-01-reinstalled";
  fields.os = "Debian GNU/Linux 13";
  fields.certificate_fingerprint = "dd";
  fields.identity_flags = {{"reenrolled", true}, {"confidence", 95}};
  fields.enrolled_at = t0_ + 1min;
  auto device = store_->reenroll_device("tok", device_, fields);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->id, device_);
  EXPECT_EQ(device->hostname, "pc-01-reinstalled");
  EXPECT_EQ(device->certificate_fingerprint, "dd");
  EXPECT_EQ(device->identity_flags["confidence"], 95);
  EXPECT_EQ(device->group_name, "lab");
  // The token is spent: a second re-enrollment changes nothing.
  fields.certificate_fingerprint = "ee";
  EXPECT_FALSE(store_->reenroll_device("tok", device_, fields));
  EXPECT_EQ(store_->find_device(device_)->certificate_fingerprint, "dd");
}

TEST_F(InventoryStoreTest, LastSeenTimesAreWrittenForManyDevicesAtOnce) {
  Device other;
  other.hostname = "pc-02";
  other.enrolled_at = t0_;
  const auto second = store_->create_device(other).id;
  store_->set_devices_last_seen({{device_, t0_ + 1h}, {second, t0_ + 2h}, {second + 99, t0_}});
  EXPECT_EQ(store_->find_device(device_)->last_seen_at, t0_ + 1h);
  EXPECT_EQ(store_->find_device(second)->last_seen_at, t0_ + 2h);
  EXPECT_FALSE(store_->find_device(second + 99));
}

}  // namespace
}  // namespace tether::relay
