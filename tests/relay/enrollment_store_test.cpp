// Managed devices and enrollment tokens in the SQLite store (schema 3).
#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "temp_store.hpp"

#include "tether/relay/sqlite_store.hpp"

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

class EnrollmentStoreTest : public TempStoreTest {
 protected:
  EnrollmentToken token(const std::string& hash, int uses, TimePoint expires_at) {
    return EnrollmentToken{hash, "lab", "cli:root", t0_, expires_at, uses};
  }

  Device laptop() {
    Device d;
    d.group_name = "lab";
    d.hostname = "pc-01";
    d.os = "Debian GNU/Linux 12";
    d.identity = {{"machine_id", "0123"}, {"serials", {"SN1"}}, {"macs", {"aa:bb:cc:dd:ee:ff"}}};
    d.enrolled_at = t0_;
    return d;
  }

  const TimePoint t0_ = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 30));
};

TEST_F(EnrollmentStoreTest, SchemaIsVersionFour) {
  EXPECT_EQ(SqliteStore::schema_version(), 4);
}

TEST_F(EnrollmentStoreTest, ASingleUseTokenIsClaimedOnce) {
  store_->save_enrollment_token(token("h1", 1, t0_ + 30min));
  auto first = store_->claim_enrollment_token("h1", t0_ + 1min);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->group_name, "lab");
  EXPECT_EQ(first->created_by, "cli:root");
  EXPECT_EQ(first->uses_left, 0);
  EXPECT_EQ(first->expires_at, t0_ + 30min);
  EXPECT_FALSE(store_->claim_enrollment_token("h1", t0_ + 2min));
  EXPECT_FALSE(store_->claim_enrollment_token("unknown", t0_ + 2min));
}

TEST_F(EnrollmentStoreTest, ATokenWithSeveralUsesCountsDown) {
  store_->save_enrollment_token(token("h3", 3, t0_ + 30min));
  EXPECT_EQ(store_->claim_enrollment_token("h3", t0_)->uses_left, 2);
  EXPECT_EQ(store_->claim_enrollment_token("h3", t0_)->uses_left, 1);
  EXPECT_EQ(store_->claim_enrollment_token("h3", t0_)->uses_left, 0);
  EXPECT_FALSE(store_->claim_enrollment_token("h3", t0_));
}

TEST_F(EnrollmentStoreTest, AnExpiredTokenIsRefusedAndKeepsItsUses) {
  store_->save_enrollment_token(token("h2", 2, t0_ + 30min));
  EXPECT_FALSE(store_->claim_enrollment_token("h2", t0_ + 30min));
  EXPECT_FALSE(store_->claim_enrollment_token("h2", t0_ + 31min));
  // Still unused before its expiry (the refused claims took nothing).
  EXPECT_EQ(store_->claim_enrollment_token("h2", t0_ + 29min)->uses_left, 1);
}

TEST_F(EnrollmentStoreTest, ADuplicateTokenHashIsAStoreError) {
  store_->save_enrollment_token(token("dup", 1, t0_ + 30min));
  EXPECT_THROW(store_->save_enrollment_token(token("dup", 1, t0_ + 30min)), StoreError);
}

TEST_F(EnrollmentStoreTest, OnlyTheHashIsStored) {
  store_->save_enrollment_token(token("abc123hash", 1, t0_ + 30min));
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT * FROM enrollment_tokens", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_count(stmt), 6);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "abc123hash");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Two connections on the same file (two relays) racing for the last uses: every use is
// handed out exactly once.
TEST_F(EnrollmentStoreTest, TwoStoresOnOneFileNeverShareAUse) {
  store_->save_enrollment_token(token("shared", 100, t0_ + 30min));
  auto other = SqliteStore::open(file_);
  int claimed[2] = {0, 0};
  std::thread a([&] {
    for (int i = 0; i < 80; ++i)
      claimed[0] += store_->claim_enrollment_token("shared", t0_) ? 1 : 0;
  });
  std::thread b([&] {
    for (int i = 0; i < 80; ++i) claimed[1] += other->claim_enrollment_token("shared", t0_) ? 1 : 0;
  });
  a.join();
  b.join();
  EXPECT_EQ(claimed[0] + claimed[1], 100);
  EXPECT_FALSE(store_->claim_enrollment_token("shared", t0_));
}

TEST_F(EnrollmentStoreTest, EnrollDeviceSpendsTheTokenAndCreatesTheDeviceTogether) {
  store_->save_enrollment_token(token("once", 1, t0_ + 30min));
  Device fields = laptop();
  fields.group_name = "ignored: the token decides";
  fields.enrolled_at = t0_ + 1min;
  auto device = store_->enroll_device("once", fields);
  ASSERT_TRUE(device);
  EXPECT_EQ(device->id, 1);
  EXPECT_EQ(device->group_name, "lab");
  EXPECT_EQ(store_->find_device(1)->group_name, "lab");
  // Used up, unknown, expired: no device, and the refused attempts change nothing.
  EXPECT_FALSE(store_->enroll_device("once", fields));
  EXPECT_FALSE(store_->enroll_device("unknown", fields));
  store_->save_enrollment_token(token("late", 1, t0_ + 30min));
  fields.enrolled_at = t0_ + 31min;
  EXPECT_FALSE(store_->enroll_device("late", fields));
  EXPECT_EQ(store_->list_devices().size(), 1u);
  EXPECT_EQ(store_->claim_enrollment_token("late", t0_)->uses_left, 0);
}

TEST_F(EnrollmentStoreTest, AFailedDeviceInsertGivesTheTokenItsUseBack) {
  store_->save_enrollment_token(token("kept", 1, t0_ + 30min));
  Device broken = laptop();
  broken.status = "lost";  // refused by the table's CHECK, after the claim
  broken.enrolled_at = t0_;
  EXPECT_THROW(store_->enroll_device("kept", broken), StoreError);
  EXPECT_TRUE(store_->list_devices().empty());
  EXPECT_TRUE(store_->enroll_device("kept", laptop()));
}

TEST_F(EnrollmentStoreTest, DevicesKeepEveryField) {
  auto created = store_->create_device(laptop());
  EXPECT_EQ(created.id, 1);
  auto second = store_->create_device(laptop());
  EXPECT_EQ(second.id, 2);
  auto found = store_->find_device(created.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->group_name, "lab");
  EXPECT_EQ(found->hostname, "pc-01");
  EXPECT_EQ(found->os, "Debian GNU/Linux 12");
  EXPECT_EQ(found->identity, laptop().identity);
  EXPECT_EQ(found->status, "active");
  EXPECT_EQ(found->enrolled_at, t0_);
  EXPECT_FALSE(found->certificate_not_after);
  EXPECT_FALSE(found->revoked_at);
  EXPECT_FALSE(found->last_seen_at);
  EXPECT_TRUE(found->certificate_fingerprint.empty());
  EXPECT_FALSE(store_->find_device(99));
  const auto all = store_->list_devices();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, 1);
  EXPECT_EQ(all[1].id, 2);
}

TEST_F(EnrollmentStoreTest, ACertificateIsRecordedOnTheDevice) {
  const auto id = store_->create_device(laptop()).id;
  EXPECT_TRUE(store_->update_device_certificate(id, "ab12", "0f9e", t0_ + 24h * 90));
  auto found = store_->find_device(id);
  EXPECT_EQ(found->certificate_fingerprint, "ab12");
  EXPECT_EQ(found->certificate_serial, "0f9e");
  EXPECT_EQ(found->certificate_not_after, t0_ + 24h * 90);
  EXPECT_FALSE(store_->update_device_certificate(42, "x", "y", t0_));
}

TEST_F(EnrollmentStoreTest, RevocationIsFinalAndKeepsTheFirstReason) {
  const auto id = store_->create_device(laptop()).id;
  EXPECT_TRUE(store_->revoke_device(id, "stolen laptop", t0_ + 1h));
  EXPECT_FALSE(store_->revoke_device(id, "second reason", t0_ + 2h));
  EXPECT_FALSE(store_->revoke_device(77, "no such device", t0_));
  auto found = store_->find_device(id);
  EXPECT_EQ(found->status, "revoked");
  EXPECT_EQ(found->revoked_reason, "stolen laptop");
  EXPECT_EQ(found->revoked_at, t0_ + 1h);
}

TEST_F(EnrollmentStoreTest, ADatabaseOfSchemaTwoIsMigratedForward) {
  store_.reset();
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  // A schema-2 file: drop what migrations 3 and 4 add and step the version back.
  { auto fresh = SqliteStore::open(file_); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(file_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE inventory_history; DROP TABLE inventories; "
                         "DROP TABLE inventory_sections; "
                         "DROP TABLE enrollment_tokens; DROP TABLE devices; "
                         "PRAGMA user_version = 2;",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  store_ = SqliteStore::open(file_);
  EXPECT_EQ(store_->create_device(laptop()).id, 1);
}

}  // namespace
}  // namespace tether::relay
