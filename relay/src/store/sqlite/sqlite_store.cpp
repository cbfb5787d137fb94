#include "tether/relay/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace tether::relay {
namespace {

// Each entry moves the schema one version forward; never edit a released entry, append.
constexpr std::array<const char*, 1> kMigrations = {
    R"sql(
CREATE TABLE users (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  role          TEXT NOT NULL CHECK (role IN ('admin', 'technician')),
  password_hash TEXT NOT NULL
);
CREATE TABLE tokens (
  hash       TEXT PRIMARY KEY,
  user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
);
CREATE TABLE tickets (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  title       TEXT NOT NULL,
  description TEXT NOT NULL,
  requester   TEXT NOT NULL,
  status      TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
);
CREATE TABLE sessions (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
  technician TEXT NOT NULL,
  joined_by  TEXT NOT NULL,
  device     TEXT NOT NULL,
  status     TEXT NOT NULL,
  consent    TEXT,
  started_at INTEGER NOT NULL,
  ended_at   INTEGER,
  end_note   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_ticket ON sessions(ticket_id);
CREATE TABLE timeline (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  ticket_id  INTEGER NOT NULL REFERENCES tickets(id),
  session_id INTEGER REFERENCES sessions(id),
  at         INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  kind       TEXT NOT NULL,
  summary    TEXT NOT NULL,
  detail     TEXT NOT NULL
);
CREATE INDEX timeline_by_ticket ON timeline(ticket_id, id);
CREATE TABLE snapshots (
  id         INTEGER PRIMARY KEY AUTOINCREMENT,
  session_id INTEGER NOT NULL REFERENCES sessions(id),
  taken_at   INTEGER NOT NULL,
  data       TEXT NOT NULL
);
CREATE INDEX snapshots_by_session ON snapshots(session_id, id);
CREATE TABLE support_codes (
  code_hash   TEXT PRIMARY KEY,
  secret_hash TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  expires_at  INTEGER NOT NULL,
  session_id  INTEGER REFERENCES sessions(id)
);
)sql",
};

std::int64_t to_millis(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TimePoint from_millis(std::int64_t ms) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::milliseconds(ms)));
}

// One prepared statement; binds by position, reads columns by index, finalizes on scope exit.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail("prepare");
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int index, std::string_view text) {
    check(sqlite3_bind_text(stmt_, index, text.data(), static_cast<int>(text.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  Statement& bind(int index, std::int64_t value) {
    check(sqlite3_bind_int64(stmt_, index, value));
    return *this;
  }
  Statement& bind(int index, TimePoint t) { return bind(index, to_millis(t)); }
  Statement& bind(int index, std::optional<std::int64_t> value) {
    check(value ? sqlite3_bind_int64(stmt_, index, *value) : sqlite3_bind_null(stmt_, index));
    return *this;
  }
  Statement& bind_null(int index) {
    check(sqlite3_bind_null(stmt_, index));
    return *this;
  }

  /// True while there is a row to read.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail("step");
  }
  void run() {
    while (step()) {
    }
  }

  std::string text(int column) const {
    const auto* p = sqlite3_column_text(stmt_, column);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, column)))
             : std::string();
  }
  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  TimePoint time(int column) const { return from_millis(integer(column)); }
  bool is_null(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::optional<std::int64_t> optional_integer(int column) const {
    if (is_null(column)) return std::nullopt;
    return integer(column);
  }
  nlohmann::json json(int column) const {
    if (is_null(column)) return nullptr;
    // Stored by this class from valid JSON; a parse failure means a damaged database.
    auto value = nlohmann::json::parse(text(column), nullptr, false);
    if (value.is_discarded()) throw StoreError("damaged JSON in the database");
    return value;
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail("bind");
  }
  [[noreturn]] void fail(const char* what) {
    throw StoreError(std::string("database ") + what + " failed: " + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE … COMMIT, rolled back if the scope exits without commit().
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) { run("BEGIN IMMEDIATE"); }
  ~Transaction() {
    if (!committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    run("COMMIT");
    committed_ = true;
  }

 private:
  void run(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw StoreError(std::string(sql) + " failed: " + sqlite3_errmsg(db_));
    }
  }
  sqlite3* db_;
  bool committed_ = false;
};

constexpr const char* kUserColumns = "id, name, role, password_hash";
User read_user(const Statement& s) {
  return User{s.integer(0), s.text(1), s.text(2), s.text(3)};
}

constexpr const char* kTicketColumns =
    "id, title, description, requester, status, created_by, created_at, updated_at";
Ticket read_ticket(const Statement& s) {
  return Ticket{s.integer(0), s.text(1), s.text(2), s.text(3),
                s.text(4),    s.text(5), s.time(6), s.time(7)};
}

constexpr const char* kSessionColumns =
    "id, ticket_id, technician, joined_by, device, status, consent, started_at, ended_at, end_note";
SessionRecord read_session(const Statement& s) {
  SessionRecord r;
  r.id = s.integer(0);
  r.ticket_id = s.integer(1);
  r.technician = s.text(2);
  r.joined_by = s.text(3);
  r.device = s.text(4);
  r.status = s.text(5);
  r.consent = s.json(6);
  r.started_at = s.time(7);
  if (!s.is_null(8)) r.ended_at = s.time(8);
  r.end_note = s.text(9);
  return r;
}

std::string sql(std::string_view a, std::string_view b, std::string_view c = {}) {
  return std::string(a) + std::string(b) + std::string(c);
}

}  // namespace

int SqliteStore::schema_version() {
  return static_cast<int>(kMigrations.size());
}

std::unique_ptr<SqliteStore> SqliteStore::open(const std::filesystem::path& file) {
  // Create the file ourselves so it is private from the first byte; SQLite gives the WAL
  // and shared-memory files the same mode.
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    throw StoreError("cannot open database " + file.string() + ": " + std::strerror(errno));
  ::close(fd);
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(file.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw StoreError("cannot open database " + file.string() + ": " + message);
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db));
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, 5000);
  store->exec("PRAGMA journal_mode = WAL");
  store->exec("PRAGMA synchronous = FULL");
  store->exec("PRAGMA foreign_keys = ON");
  store->migrate(file);
  return store;
}

SqliteStore::~SqliteStore() {
  sqlite3_close_v2(db_);
}

void SqliteStore::exec(const char* statement) {
  char* error = nullptr;
  if (sqlite3_exec(db_, statement, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : sqlite3_errmsg(db_);
    sqlite3_free(error);
    throw StoreError(message);
  }
}

void SqliteStore::migrate(const std::filesystem::path& file) {
  int version = 0;
  {
    Statement s(db_, "PRAGMA user_version");
    if (s.step()) version = static_cast<int>(s.integer(0));
  }
  if (version > schema_version()) {
    throw StoreError(file.string() + " was written by a newer Tether (schema " +
                     std::to_string(version) + "; this build knows " +
                     std::to_string(schema_version()) + ")");
  }
  for (int v = version; v < schema_version(); ++v) {
    Transaction tx(db_);
    exec(kMigrations[static_cast<std::size_t>(v)]);
    exec(("PRAGMA user_version = " + std::to_string(v + 1)).c_str());
    tx.commit();
  }
}

std::optional<User> SqliteStore::find_user(std::string_view name) {
  Statement s(db_, sql("SELECT ", kUserColumns, " FROM users WHERE name = ?").c_str());
  s.bind(1, name);
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

User SqliteStore::create_user(std::string_view name, std::string_view role,
                              std::string_view password_hash) {
  Statement s(db_, "INSERT INTO users (name, role, password_hash) VALUES (?, ?, ?)");
  s.bind(1, name).bind(2, role).bind(3, password_hash).run();
  return User{sqlite3_last_insert_rowid(db_), std::string(name), std::string(role),
              std::string(password_hash)};
}

std::int64_t SqliteStore::count_users() {
  Statement s(db_, "SELECT count(*) FROM users");
  s.step();
  return s.integer(0);
}

void SqliteStore::save_token(std::string_view token_hash, std::int64_t user_id,
                             TimePoint expires_at) {
  Transaction tx(db_);
  // Expired tokens are dropped whenever a new one is issued, so the table stays small.
  Statement purge(db_, "DELETE FROM tokens WHERE expires_at <= ?");
  purge.bind(1, std::chrono::system_clock::now()).run();
  Statement s(db_, "INSERT INTO tokens (hash, user_id, expires_at) VALUES (?, ?, ?)");
  s.bind(1, token_hash).bind(2, user_id).bind(3, expires_at).run();
  tx.commit();
}

std::optional<User> SqliteStore::user_for_token(std::string_view token_hash, TimePoint now) {
  Statement s(db_,
              "SELECT u.id, u.name, u.role, u.password_hash FROM tokens t "
              "JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.expires_at > ?");
  s.bind(1, token_hash).bind(2, now);
  if (!s.step()) return std::nullopt;
  return read_user(s);
}

Ticket SqliteStore::create_ticket(std::string_view title, std::string_view description,
                                  std::string_view requester, std::string_view created_by,
                                  TimePoint now) {
  Transaction tx(db_);
  Statement s(db_,
              "INSERT INTO tickets (title, description, requester, status, created_by, "
              "created_at, updated_at) VALUES (?, ?, ?, 'new', ?, ?, ?)");
  s.bind(1, title)
      .bind(2, description)
      .bind(3, requester)
      .bind(4, created_by)
      .bind(5, now)
      .bind(6, now)
      .run();
  Ticket ticket{sqlite3_last_insert_rowid(db_),
                std::string(title),
                std::string(description),
                std::string(requester),
                "new",
                std::string(created_by),
                now,
                now};
  TimelineEntry entry;
  entry.ticket_id = ticket.id;
  entry.at = now;
  entry.actor = std::string(created_by);
  entry.kind = "ticket.created";
  entry.summary = "Ticket T-" + std::to_string(ticket.id) + " opened by " +
                  std::string(created_by) + ": " + std::string(title);
  entry.detail = {{"title", title}, {"requester", requester}};
  insert_timeline(entry);
  tx.commit();
  return ticket;
}

std::optional<Ticket> SqliteStore::find_ticket(std::int64_t id) {
  Statement s(db_, sql("SELECT ", kTicketColumns, " FROM tickets WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_ticket(s);
}

std::vector<Ticket> SqliteStore::list_tickets() {
  Statement s(db_, sql("SELECT ", kTicketColumns, " FROM tickets ORDER BY id DESC").c_str());
  std::vector<Ticket> out;
  while (s.step()) out.push_back(read_ticket(s));
  return out;
}

SessionRecord SqliteStore::create_session(std::int64_t ticket_id, std::string_view technician,
                                          std::string_view joined_by, std::string_view device,
                                          TimePoint now) {
  Statement s(db_,
              "INSERT INTO sessions (ticket_id, technician, joined_by, device, status, "
              "started_at) VALUES (?, ?, ?, ?, 'pending_consent', ?)");
  s.bind(1, ticket_id).bind(2, technician).bind(3, joined_by).bind(4, device).bind(5, now).run();
  SessionRecord r;
  r.id = sqlite3_last_insert_rowid(db_);
  r.ticket_id = ticket_id;
  r.technician = technician;
  r.joined_by = joined_by;
  r.device = device;
  r.status = "pending_consent";
  r.started_at = now;
  return r;
}

std::optional<SessionRecord> SqliteStore::find_session(std::int64_t id) {
  Statement s(db_, sql("SELECT ", kSessionColumns, " FROM sessions WHERE id = ?").c_str());
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return read_session(s);
}

std::vector<SessionRecord> SqliteStore::sessions_for_ticket(std::int64_t ticket_id) {
  Statement s(
      db_,
      sql("SELECT ", kSessionColumns, " FROM sessions WHERE ticket_id = ? ORDER BY id").c_str());
  s.bind(1, ticket_id);
  std::vector<SessionRecord> out;
  while (s.step()) out.push_back(read_session(s));
  return out;
}

void SqliteStore::record_consent(std::int64_t session_id, const nlohmann::json& consent) {
  const bool granted = consent.value("granted", false);
  Statement s(
      db_,
      "UPDATE sessions SET consent = ?, status = ? WHERE id = ? AND status = 'pending_consent'");
  s.bind(1, consent.dump()).bind(2, granted ? "active" : "refused").bind(3, session_id).run();
}

void SqliteStore::end_session(std::int64_t session_id, TimePoint at, std::string_view note) {
  // A refused session keeps its status: it ended, but it never started.
  Statement s(db_,
              "UPDATE sessions SET status = CASE status WHEN 'refused' THEN 'refused' "
              "ELSE 'ended' END, ended_at = ?, end_note = ? WHERE id = ? AND ended_at IS NULL");
  s.bind(1, at).bind(2, note).bind(3, session_id).run();
}

TimelineEntry SqliteStore::insert_timeline(const TimelineEntry& entry) {
  Statement s(db_,
              "INSERT INTO timeline (ticket_id, session_id, at, actor, kind, summary, detail) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, entry.ticket_id).bind(2, entry.session_id).bind(3, entry.at).bind(4, entry.actor);
  s.bind(5, entry.kind).bind(6, entry.summary).bind(7, entry.detail.dump()).run();
  TimelineEntry stored = entry;
  stored.id = sqlite3_last_insert_rowid(db_);
  Statement touch(db_, "UPDATE tickets SET updated_at = max(updated_at, ?) WHERE id = ?");
  touch.bind(1, entry.at).bind(2, entry.ticket_id).run();
  return stored;
}

TimelineEntry SqliteStore::append_timeline(const TimelineEntry& entry) {
  Transaction tx(db_);
  auto stored = insert_timeline(entry);
  tx.commit();
  return stored;
}

std::vector<TimelineEntry> SqliteStore::timeline(std::int64_t ticket_id) {
  Statement s(db_,
              "SELECT id, ticket_id, session_id, at, actor, kind, summary, detail "
              "FROM timeline WHERE ticket_id = ? ORDER BY id");
  s.bind(1, ticket_id);
  std::vector<TimelineEntry> out;
  while (s.step()) {
    TimelineEntry e;
    e.id = s.integer(0);
    e.ticket_id = s.integer(1);
    e.session_id = s.optional_integer(2);
    e.at = s.time(3);
    e.actor = s.text(4);
    e.kind = s.text(5);
    e.summary = s.text(6);
    e.detail = s.json(7);
    out.push_back(std::move(e));
  }
  return out;
}

Snapshot SqliteStore::save_snapshot(std::int64_t session_id, const nlohmann::json& data,
                                    TimePoint at) {
  Statement s(db_, "INSERT INTO snapshots (session_id, taken_at, data) VALUES (?, ?, ?)");
  s.bind(1, session_id)
      .bind(2, at)
      .bind(3, data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
      .run();
  return Snapshot{sqlite3_last_insert_rowid(db_), session_id, at, data};
}

std::optional<Snapshot> SqliteStore::latest_snapshot(std::int64_t session_id) {
  Statement s(db_,
              "SELECT id, session_id, taken_at, data FROM snapshots WHERE session_id = ? "
              "ORDER BY id DESC LIMIT 1");
  s.bind(1, session_id);
  if (!s.step()) return std::nullopt;
  return Snapshot{s.integer(0), s.integer(1), s.time(2), s.json(3)};
}

void SqliteStore::save_support_code(const SupportCodeRecord& record) {
  Statement s(db_,
              "INSERT INTO support_codes (code_hash, secret_hash, created_at, expires_at, "
              "session_id) VALUES (?, ?, ?, ?, ?)");
  s.bind(1, record.code_hash).bind(2, record.secret_hash).bind(3, record.created_at);
  s.bind(4, record.expires_at).bind(5, record.session_id).run();
}

std::optional<SupportCodeRecord> SqliteStore::find_support_code(std::string_view code_hash) {
  Statement s(db_,
              "SELECT code_hash, secret_hash, created_at, expires_at, session_id "
              "FROM support_codes WHERE code_hash = ?");
  s.bind(1, code_hash);
  if (!s.step()) return std::nullopt;
  return SupportCodeRecord{s.text(0), s.text(1), s.time(2), s.time(3), s.optional_integer(4)};
}

bool SqliteStore::claim_support_code(std::string_view code_hash, std::int64_t session_id) {
  Statement s(db_,
              "UPDATE support_codes SET session_id = ? WHERE code_hash = ? AND session_id IS NULL");
  s.bind(1, session_id).bind(2, code_hash).run();
  return sqlite3_changes(db_) == 1;
}

std::size_t SqliteStore::purge_expired_codes(TimePoint now) {
  // Codes in use by a session stay: the agent resumes with them while the session lives.
  Statement s(db_, "DELETE FROM support_codes WHERE expires_at <= ? AND session_id IS NULL");
  s.bind(1, now).run();
  return static_cast<std::size_t>(sqlite3_changes(db_));
}

}  // namespace tether::relay
