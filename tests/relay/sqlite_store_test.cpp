#include "tether/relay/sqlite_store.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "temp_store.hpp"

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

class SqliteStoreTest : public TempStoreTest {
 protected:
  Ticket open_ticket(const std::string& title, const std::string& description,
                     const std::string& requester, const std::string& by, TimePoint at) {
    Ticket fields;
    fields.title = title;
    fields.description = description;
    fields.requester = requester;
    fields.created_by = by;
    TimelineEntry created;
    created.at = at;
    created.actor = by;
    created.kind = "ticket.created";
    created.summary = "Ticket {ticket} opened by " + by;
    return store_->create_ticket(fields, created, at);
  }

  const TimePoint t0_ = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 25));
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
  const auto ticket = open_ticket("Printer offline", "Jams on page 2", "alice", "ada", t0_);
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
  const auto ticket = open_ticket("VPN", "", "bob", "ada", t0_);
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
  open_ticket("first", "", "", "ada", t0_);
  open_ticket("second", "", "", "ada", t0_);
  const auto tickets = store_->list_tickets();
  ASSERT_EQ(tickets.size(), 2u);
  EXPECT_EQ(tickets[0].title, "second");
}

TEST_F(SqliteStoreTest, SessionLifecycle) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
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
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
  const auto s1 = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  const auto s2 = store_->create_session(ticket.id, "bob", "support_code", "pc", t0_);
  store_->save_support_code({"code-hash", "secret-hash", t0_, t0_ + 10min, std::nullopt});
  EXPECT_TRUE(store_->claim_support_code("code-hash", s1.id));
  EXPECT_FALSE(store_->claim_support_code("code-hash", s2.id));
  EXPECT_FALSE(store_->claim_support_code("other", s2.id));
  EXPECT_EQ(store_->find_support_code("code-hash")->session_id, s1.id);
}

TEST_F(SqliteStoreTest, PurgeDropsOnlyExpiredUnusedCodes) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
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
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
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

TEST_F(SqliteStoreTest, CreatedEntryNamesTheNewTicket) {
  const auto ticket = open_ticket("VPN", "", "bob", "ada", t0_);
  const auto timeline = store_->timeline(ticket.id);
  ASSERT_EQ(timeline.size(), 1u);
  EXPECT_EQ(timeline[0].summary, "Ticket T-" + std::to_string(ticket.id) + " opened by ada");
}

TEST_F(SqliteStoreTest, HelpDeskFieldsRoundTrip) {
  Ticket fields;
  fields.title = "Laptop slow";
  fields.requester_email = "ann@example.com";
  fields.category = "performance";
  fields.impact = "high";
  fields.urgency = "low";
  fields.priority = "P3";
  fields.level = 2;
  fields.assignee = "bob";
  fields.device = "PC-042";
  fields.external_system = "glpi";
  fields.external_key = "1234";
  fields.created_by = "ada";
  fields.first_response_at = t0_ + 5min;
  fields.pauses = {{t0_ + 10min, t0_ + 20min}, {t0_ + 30min, std::nullopt}};
  TimelineEntry created;
  created.at = t0_;
  created.actor = "ada";
  created.kind = "ticket.created";
  created.summary = "opened";
  const auto ticket = store_->create_ticket(fields, created, t0_);
  const auto found = store_->find_ticket(ticket.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->requester_email, "ann@example.com");
  EXPECT_EQ(found->category, "performance");
  EXPECT_EQ(found->impact, "high");
  EXPECT_EQ(found->urgency, "low");
  EXPECT_EQ(found->level, 2);
  EXPECT_EQ(found->assignee, "bob");
  EXPECT_EQ(found->external_system, "glpi");
  EXPECT_EQ(found->external_key, "1234");
  EXPECT_EQ(found->first_response_at, t0_ + 5min);
  EXPECT_FALSE(found->resolved_at);
  ASSERT_EQ(found->pauses.size(), 2u);
  EXPECT_EQ(found->pauses[0].to, t0_ + 20min);
  EXPECT_FALSE(found->pauses[1].to);
  EXPECT_EQ(found->version, 1);
}

TEST_F(SqliteStoreTest, UpdateTicketRefusesAStaleVersionAndWritesNothing) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
  Ticket first = ticket;
  first.status = "open";
  TimelineEntry entry;
  entry.ticket_id = ticket.id;
  entry.at = t0_ + 1min;
  entry.actor = "ada";
  entry.kind = "ticket.status";
  entry.summary = "new → open";
  ASSERT_TRUE(store_->update_ticket(first, {entry}));
  Ticket stale = ticket;  // Still version 1.
  stale.status = "pending";
  entry.summary = "lost";
  EXPECT_FALSE(store_->update_ticket(stale, {entry}));
  const auto found = store_->find_ticket(ticket.id);
  EXPECT_EQ(found->status, "open");
  EXPECT_EQ(found->version, 2);
  const auto timeline = store_->timeline(ticket.id);
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_EQ(timeline[1].summary, "new → open");
}

TEST_F(SqliteStoreTest, OpenTicketsLeaveResolvedAndClosedOut) {
  auto a = open_ticket("a", "", "", "ada", t0_);
  auto b = open_ticket("b", "", "", "ada", t0_);
  auto c = open_ticket("c", "", "", "ada", t0_);
  b.status = "resolved";
  c.status = "pending";
  ASSERT_TRUE(store_->update_ticket(b, {}));
  ASSERT_TRUE(store_->update_ticket(c, {}));
  const auto open = store_->open_tickets();
  ASSERT_EQ(open.size(), 2u);
  EXPECT_EQ(open[0].id, a.id);
  EXPECT_EQ(open[1].id, c.id);
}

TEST_F(SqliteStoreTest, UsersHaveLevels) {
  store_->create_user("ada", "admin", "h", 3);
  store_->create_user("bob", "technician", "h");
  const auto users = store_->list_users();
  ASSERT_EQ(users.size(), 2u);
  EXPECT_EQ(users[0].name, "ada");
  EXPECT_EQ(users[0].level, 3);
  EXPECT_EQ(users[1].level, 1);
}

TEST_F(SqliteStoreTest, FaqSearchLinksAndVersions) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
  FaqArticle fields;
  fields.title = "Disk full on /";
  fields.body = "Run `apt clean`; 100% sure";
  fields.finding_ids = {"storage.low_space"};
  fields.categories = {"disk"};
  fields.created_by = "ada";
  const auto article = store_->create_faq(fields, t0_);
  EXPECT_EQ(store_->list_faq("DISK").size(), 1u);
  EXPECT_EQ(store_->list_faq("low_space").size(), 1u);
  EXPECT_EQ(store_->list_faq("100%").size(), 1u);  // literal, not a LIKE pattern
  EXPECT_EQ(store_->list_faq("_").size(), 1u);
  EXPECT_EQ(store_->list_faq("printer").size(), 0u);
  EXPECT_TRUE(store_->link_faq(ticket.id, article.id, t0_));
  EXPECT_FALSE(store_->link_faq(ticket.id, article.id, t0_));
  ASSERT_EQ(store_->faq_for_ticket(ticket.id).size(), 1u);
  EXPECT_EQ(store_->tickets_for_faq(article.id), std::vector<std::int64_t>{ticket.id});
  FaqArticle edit = article;
  edit.title = "Disk full";
  EXPECT_TRUE(store_->update_faq(edit, t0_ + 1min));
  EXPECT_FALSE(store_->update_faq(edit, t0_ + 2min));  // version 1 is gone
  EXPECT_EQ(store_->find_faq(article.id)->title, "Disk full");
  EXPECT_EQ(store_->find_faq(article.id)->version, 2);
}

TEST_F(SqliteStoreTest, WebhookOutboxQueuesEachEntryOnceAndRecordsAttempts) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
  const auto entries = store_->timeline_since(0, 100);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(store_->webhook_cursor("glpi"), 0);
  WebhookDelivery d;
  d.entry_id = entries[0].id;
  d.ticket_id = ticket.id;
  d.event = "ticket.created";
  d.payload = "{}";
  d.created_at = t0_;
  d.next_attempt_at = t0_;
  store_->enqueue_deliveries("glpi", {d}, entries[0].id);
  store_->enqueue_deliveries("glpi", {d}, entries[0].id);  // the same entry again: ignored
  EXPECT_EQ(store_->webhook_cursor("glpi"), entries[0].id);
  EXPECT_TRUE(store_->timeline_since(entries[0].id, 100).empty());
  auto due = store_->due_deliveries(t0_, 10);
  ASSERT_EQ(due.size(), 1u);
  EXPECT_TRUE(store_->due_deliveries(t0_ - 1s, 10).empty());
  auto attempt = due[0];
  attempt.attempts = 1;
  attempt.last_attempt_at = t0_;
  attempt.last_http_status = 500;
  attempt.last_error = "HTTP 500";
  attempt.next_attempt_at = t0_ + 2s;
  store_->record_delivery_attempt(attempt);
  EXPECT_TRUE(store_->due_deliveries(t0_ + 1s, 10).empty());
  attempt.status = "delivered";
  attempt.attempts = 2;
  attempt.last_http_status = 204;
  attempt.delivered_at = t0_ + 3s;
  store_->record_delivery_attempt(attempt);
  EXPECT_TRUE(store_->due_deliveries(t0_ + 1h, 10).empty());
  const auto log = store_->webhook_log(10, "delivered");
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].attempts, 2);
  EXPECT_EQ(log[0].last_http_status, 204);
  EXPECT_EQ(log[0].delivered_at, t0_ + 3s);
  EXPECT_TRUE(store_->webhook_log(10, "failed").empty());
}

TEST_F(SqliteStoreTest, SessionSnapshotsInOrderAndLatestOfTicket) {
  const auto ticket = open_ticket("x", "", "", "ada", t0_);
  const auto s1 = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_);
  const auto s2 = store_->create_session(ticket.id, "ada", "support_code", "pc", t0_ + 1h);
  store_->save_snapshot(s1.id, {{"n", 1}}, t0_);
  store_->save_snapshot(s1.id, {{"n", 2}}, t0_ + 1min);
  store_->save_snapshot(s2.id, {{"n", 3}}, t0_ + 2h);
  const auto first = store_->snapshots_for_session(s1.id);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].data["n"], 1);
  EXPECT_EQ(first[1].data["n"], 2);
  EXPECT_EQ(store_->latest_ticket_snapshot(ticket.id)->data["n"], 3);
}

}  // namespace
}  // namespace tether::relay
