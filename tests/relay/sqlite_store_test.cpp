#include "tether/relay/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-store-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    file_ = dir_ / "tether.db";
    store_ = SqliteStore::open(file_);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  const TimePoint t0_ = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 25));
  std::filesystem::path dir_;
  std::filesystem::path file_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(SqliteStoreTest, FileIsPrivateAndInWalMode) {
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open_v2(file_.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), SqliteStore::schema_version());
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteStoreTest, DataSurvivesReopening) {
  store_->create_user("ada", "admin", "$scrypt$x");
  const auto ticket =
      store_->create_ticket("Printer offline", "Jams on page 2", "alice", "ada", t0_);
  store_.reset();
  store_ = SqliteStore::open(file_);
  auto user = store_->find_user("ada");
  ASSERT_TRUE(user);
  EXPECT_EQ(user->role, "admin");
  auto found = store_->find_ticket(ticket.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->title, "Printer offline");
  EXPECT_EQ(found->description, "Jams on page 2");
  EXPECT_EQ(found->created_at, t0_);
}

TEST_F(SqliteStoreTest, DuplicateUserIsAnError) {
  store_->create_user("ada", "admin", "h");
  EXPECT_THROW(store_->create_user("ada", "technician", "h"), StoreError);
  EXPECT_THROW(store_->create_user("bob", "superuser", "h"), StoreError);
  EXPECT_EQ(store_->count_users(), 1);
}

TEST_F(SqliteStoreTest, TokensExpire) {
  const auto user = store_->create_user("ada", "admin", "h");
  store_->save_token("hash-1", user.id, t0_ + 1h);
  EXPECT_TRUE(store_->user_for_token("hash-1", t0_));
  EXPECT_FALSE(store_->user_for_token("hash-1", t0_ + 1h));
  EXPECT_FALSE(store_->user_for_token("hash-2", t0_));
}

TEST_F(SqliteStoreTest, TicketTimelineKeepsOrderAndTouchesTheTicket) {
  const auto ticket = store_->create_ticket("VPN", "", "bob", "ada", t0_);
  auto session =
      store_->create_session(ticket.id, "ada", "support_code", "pc-1 (Debian)", t0_ + 1s);
  for (const char* kind : {"session.requested", "consent.granted", "session.ended"}) {
    TimelineEntry entry;
    entry.ticket_id = ticket.id;
    entry.session_id = session.id;
    entry.at = t0_ + 2s;
    entry.actor = "ada";
    entry.kind = kind;
    entry.summary = kind;
    entry.detail = {{"n", 1}};
    store_->append_timeline(entry);
  }
  const auto timeline = store_->timeline(ticket.id);
  ASSERT_EQ(timeline.size(), 4u);
  EXPECT_EQ(timeline[0].kind, "ticket.created");
  EXPECT_FALSE(timeline[0].session_id);
  EXPECT_EQ(timeline[1].kind, "session.requested");
  EXPECT_EQ(timeline[3].kind, "session.ended");
  EXPECT_EQ(timeline[3].session_id, session.id);
  EXPECT_EQ(timeline[3].detail, (nlohmann::json{{"n", 1}}));
  EXPECT_EQ(store_->find_ticket(ticket.id)->updated_at, t0_ + 2s);
}

TEST_F(SqliteStoreTest, TicketsListNewestFirst) {
  store_->create_ticket("first", "", "", "ada", t0_);
  store_->create_ticket("second", "", "", "ada", t0_);
  const auto tickets = store_->list_tickets();
  ASSERT_EQ(tickets.size(), 2u);
  EXPECT_EQ(tickets[0].title, "second");
}

TEST_F(SqliteStoreTest, SessionLifecycle) {
  const auto ticket = store_->create_ticket("x", "", "", "ada", t0_);
  auto granted = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  EXPECT_EQ(granted.status, "pending_consent");
  store_->record_consent(granted.id, {{"granted", true}, {"by", "alice"}});
  EXPECT_EQ(store_->find_session(granted.id)->status, "active");
  store_->end_session(granted.id, t0_ + 5min, "fixed");
  store_->end_session(granted.id, t0_ + 9min, "again");  // no-op
  auto ended = store_->find_session(granted.id);
  EXPECT_EQ(ended->status, "ended");
  EXPECT_EQ(ended->ended_at, t0_ + 5min);
  EXPECT_EQ(ended->end_note, "fixed");
  EXPECT_EQ(ended->consent.at("by"), "alice");

  auto refused = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  store_->record_consent(refused.id, {{"granted", false}});
  store_->end_session(refused.id, t0_ + 1min, "refused");
  EXPECT_EQ(store_->find_session(refused.id)->status, "refused");
  EXPECT_EQ(store_->sessions_for_ticket(ticket.id).size(), 2u);
}

TEST_F(SqliteStoreTest, SupportCodeIsClaimedOnce) {
  const auto ticket = store_->create_ticket("x", "", "", "ada", t0_);
  const auto s1 = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  const auto s2 = store_->create_session(ticket.id, "bob", "support_code", "pc", t0_);
  store_->save_support_code({"code-hash", "secret-hash", t0_, t0_ + 10min, std::nullopt});
  EXPECT_TRUE(store_->claim_support_code("code-hash", s1.id));
  EXPECT_FALSE(store_->claim_support_code("code-hash", s2.id));
  EXPECT_FALSE(store_->claim_support_code("other", s2.id));
  EXPECT_EQ(store_->find_support_code("code-hash")->session_id, s1.id);
}

TEST_F(SqliteStoreTest, PurgeDropsOnlyExpiredUnusedCodes) {
  const auto ticket = store_->create_ticket("x", "", "", "ada", t0_);
  const auto s1 = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  store_->save_support_code({"expired", "s", t0_, t0_ + 1min, std::nullopt});
  store_->save_support_code({"in-use", "s", t0_, t0_ + 1min, std::nullopt});
  store_->save_support_code({"fresh", "s", t0_, t0_ + 1h, std::nullopt});
  store_->claim_support_code("in-use", s1.id);
  EXPECT_EQ(store_->purge_expired_codes(t0_ + 2min), 1u);
  EXPECT_FALSE(store_->find_support_code("expired"));
  EXPECT_TRUE(store_->find_support_code("in-use"));
  EXPECT_TRUE(store_->find_support_code("fresh"));
}

TEST_F(SqliteStoreTest, SnapshotsKeepTheirJson) {
  const auto ticket = store_->create_ticket("x", "", "", "ada", t0_);
  const auto s = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  EXPECT_FALSE(store_->latest_snapshot(s.id));
  store_->save_snapshot(s.id, {{"schema", 1}, {"n", 1}}, t0_);
  store_->save_snapshot(s.id, {{"schema", 1}, {"n", 2}, {"name", "caf\xc3\xa9"}}, t0_ + 1s);
  auto latest = store_->latest_snapshot(s.id);
  ASSERT_TRUE(latest);
  EXPECT_EQ(latest->data.at("n"), 2);
  EXPECT_EQ(latest->data.at("name"), "caf\xc3\xa9");
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerVersion) {
  store_.reset();
  sqlite3* db = nullptr;
  sqlite3_open(file_.c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version = 999", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  try {
    SqliteStore::open(file_);
    FAIL() << "opened a database from the future";
  } catch (const StoreError& e) {
    EXPECT_NE(std::string(e.what()).find("newer"), std::string::npos) << e.what();
  }
}

TEST_F(SqliteStoreTest, RefusesAFileThatIsNotADatabase) {
  store_.reset();
  const auto junk = dir_ / "junk.db";
  std::FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("this is not an SQLite database, just text that is long enough to be read", f);
  std::fclose(f);
  EXPECT_THROW(SqliteStore::open(junk), StoreError);
}

}  // namespace
}  // namespace tether::relay
