#include "tether/relay/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <limits>
#include <map>

namespace tether::relay {
namespace {

// Each entry moves the schema one version forward; never edit a released entry, append.
constexpr std::array<const char*, 4> kMigrations = {
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
    // 2: the help-desk workflow (priority, levels, SLA, knowledge base, webhook outbox).
    R"sql(
ALTER TABLE users ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN requester_email TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN category TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN impact TEXT NOT NULL DEFAULT 'medium';
ALTER TABLE tickets ADD COLUMN urgency TEXT NOT NULL DEFAULT 'medium';
ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'P3';
ALTER TABLE tickets ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
ALTER TABLE tickets ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN external_system TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN external_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN resolution TEXT NOT NULL DEFAULT '';
ALTER TABLE tickets ADD COLUMN first_response_at INTEGER;
ALTER TABLE tickets ADD COLUMN resolved_at INTEGER;
ALTER TABLE tickets ADD COLUMN closed_at INTEGER;
ALTER TABLE tickets ADD COLUMN pauses TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN sla_breaches INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
CREATE TABLE faq (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  title       TEXT NOT NULL,
  body        TEXT NOT NULL,
  finding_ids TEXT NOT NULL,
  categories  TEXT NOT NULL,
  created_by  TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL,
  version     INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE faq_links (
  ticket_id INTEGER NOT NULL REFERENCES tickets(id),
  faq_id    INTEGER NOT NULL REFERENCES faq(id),
  linked_at INTEGER NOT NULL,
  PRIMARY KEY (ticket_id, faq_id)
);
CREATE TABLE webhook_cursors (
  webhook  TEXT PRIMARY KEY,
  entry_id INTEGER NOT NULL
);
CREATE TABLE webhook_deliveries (
  id               INTEGER PRIMARY KEY AUTOINCREMENT,
  webhook          TEXT NOT NULL,
  entry_id         INTEGER NOT NULL,
  ticket_id        INTEGER NOT NULL,
  event            TEXT NOT NULL,
  payload          TEXT NOT NULL,
  status           TEXT NOT NULL,
  attempts         INTEGER NOT NULL DEFAULT 0,
  created_at       INTEGER NOT NULL,
  next_attempt_at  INTEGER NOT NULL,
  last_attempt_at  INTEGER,
  last_http_status INTEGER,
  last_error       TEXT NOT NULL DEFAULT '',
  delivered_at     INTEGER,
  UNIQUE (webhook, entry_id)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX tickets_by_status ON tickets(status);
)sql",
    // 3: managed devices, enrolled with single- or few-use tokens (only their SHA-256).
    R"sql(
CREATE TABLE enrollment_tokens (
  hash       TEXT PRIMARY KEY,
  group_name TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  uses_left  INTEGER NOT NULL CHECK (uses_left >= 0)
);
CREATE TABLE devices (
  id                      INTEGER PRIMARY KEY AUTOINCREMENT,
  group_name              TEXT NOT NULL,
  hostname                TEXT NOT NULL,
  os                      TEXT NOT NULL,
  identity                TEXT NOT NULL,
  certificate_fingerprint TEXT NOT NULL DEFAULT '',
  certificate_serial      TEXT NOT NULL DEFAULT '',
  certificate_not_after   INTEGER,
  status                  TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  revoked_reason          TEXT NOT NULL DEFAULT '',
  revoked_at              INTEGER,
  enrolled_at             INTEGER NOT NULL,
  last_seen_at            INTEGER
);
CREATE INDEX devices_by_group ON devices(group_name);
CREATE INDEX devices_by_fingerprint ON devices(certificate_fingerprint);
)sql",
    // 4: inventories (current sections, live part, history), certificate renewal, identity
    // flags.
    R"sql(
ALTER TABLE devices ADD COLUMN previous_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN identity_flags TEXT NOT NULL DEFAULT '{}';
CREATE INDEX devices_by_previous_fingerprint ON devices(previous_fingerprint)
  WHERE previous_fingerprint != '';
CREATE TABLE inventory_sections (
  device_id  INTEGER NOT NULL REFERENCES devices(id),
  name       TEXT NOT NULL,
  hash       TEXT NOT NULL,
  content    TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, name)
);
CREATE TABLE inventories (
  device_id         INTEGER PRIMARY KEY REFERENCES devices(id),
  live              TEXT NOT NULL,
  collected_at      INTEGER NOT NULL,
  reported_at       INTEGER NOT NULL,
  reports           INTEGER NOT NULL,
  deltas_since_full INTEGER NOT NULL
);
CREATE TABLE inventory_history (
  id        INTEGER PRIMARY KEY AUTOINCREMENT,
  device_id INTEGER NOT NULL REFERENCES devices(id),
  at        INTEGER NOT NULL,
  section   TEXT NOT NULL,
  kind      TEXT NOT NULL,
  summary   TEXT NOT NULL,
  detail    TEXT NOT NULL
);
CREATE INDEX inventory_history_by_device ON inventory_history(device_id, id);
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
  Statement& bind(int index, std::optional<TimePoint> value) {
    return value ? bind(index, *value) : bind_null(index);
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
  /// Ready to bind and run again.
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
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

constexpr const char* kUserColumns = "id, name, role, password_hash, level";
User read_user(const Statement& s) {
  return User{s.integer(0), s.text(1), s.text(2), s.text(3), static_cast<int>(s.integer(4))};
}

nlohmann::json pauses_json(const std::vector<TicketPause>& pauses) {
  auto out = nlohmann::json::array();
  for (const auto& p : pauses) {
    out.push_back({to_millis(p.from), p.to ? nlohmann::json(to_millis(*p.to)) : nlohmann::json()});
  }
  return out;
}

std::vector<TicketPause> pauses_from(const nlohmann::json& value) {
  std::vector<TicketPause> out;
  if (!value.is_array()) return out;
  for (const auto& p : value) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number_integer()) continue;
    TicketPause pause{from_millis(p[0].get<std::int64_t>()), std::nullopt};
    if (p[1].is_number_integer()) pause.to = from_millis(p[1].get<std::int64_t>());
    out.push_back(pause);
  }
  return out;
}

nlohmann::json strings_json(const std::vector<std::string>& values) {
  return nlohmann::json(values);
}

std::vector<std::string> strings_from(const nlohmann::json& value) {
  std::vector<std::string> out;
  if (!value.is_array()) return out;
  for (const auto& v : value) {
    if (v.is_string()) out.push_back(v.get<std::string>());
  }
  return out;
}

constexpr const char* kTicketColumns =
    "id, title, description, requester, status, created_by, created_at, updated_at, "
    "requester_email, category, impact, urgency, priority, level, assignee, device, "
    "external_system, external_key, resolution, first_response_at, resolved_at, closed_at, "
    "pauses, sla_breaches, version";
Ticket read_ticket(const Statement& s) {
  Ticket t;
  t.id = s.integer(0);
  t.title = s.text(1);
  t.description = s.text(2);
  t.requester = s.text(3);
  t.status = s.text(4);
  t.created_by = s.text(5);
  t.created_at = s.time(6);
  t.updated_at = s.time(7);
  t.requester_email = s.text(8);
  t.category = s.text(9);
  t.impact = s.text(10);
  t.urgency = s.text(11);
  t.priority = s.text(12);
  t.level = static_cast<int>(s.integer(13));
  t.assignee = s.text(14);
  t.device = s.text(15);
  t.external_system = s.text(16);
  t.external_key = s.text(17);
  t.resolution = s.text(18);
  if (!s.is_null(19)) t.first_response_at = s.time(19);
  if (!s.is_null(20)) t.resolved_at = s.time(20);
  if (!s.is_null(21)) t.closed_at = s.time(21);
  t.pauses = pauses_from(s.json(22));
  t.sla_breaches = static_cast<int>(s.integer(23));
  t.version = s.integer(24);
  return t;
}

constexpr const char* kFaqColumns =
    "id, title, body, finding_ids, categories, created_by, created_at, updated_at, version";
FaqArticle read_faq(const Statement& s) {
  FaqArticle a;
  a.id = s.integer(0);
  a.title = s.text(1);
  a.body = s.text(2);
  a.finding_ids = strings_from(s.json(3));
  a.categories = strings_from(s.json(4));
  a.created_by = s.text(5);
  a.created_at = s.time(6);
  a.updated_at = s.time(7);
  a.version = s.integer(8);
  return a;
}

constexpr const char* kDeliveryColumns =
    "id, webhook, entry_id, ticket_id, event, payload, status, attempts, created_at, "
    "next_attempt_at, last_attempt_at, last_http_status, last_error, delivered_at";
WebhookDelivery read_delivery(const Statement& s) {
  WebhookDelivery d;
  d.id = s.integer(0);
  d.webhook = s.text(1);
  d.entry_id = s.integer(2);
  d.ticket_id = s.integer(3);
  d.event = s.text(4);
  d.payload = s.text(5);
  d.status = s.text(6);
  d.attempts = static_cast<int>(s.integer(7));
  d.created_at = s.time(8);
  d.next_attempt_at = s.time(9);
  if (!s.is_null(10)) d.last_attempt_at = s.time(10);
  if (!s.is_null(11)) d.last_http_status = static_cast<int>(s.integer(11));
  d.last_error = s.text(12);
  if (!s.is_null(13)) d.delivered_at = s.time(13);
  return d;
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

Snapshot read_snapshot(const Statement& s) {
  return Snapshot{s.integer(0), s.integer(1), s.time(2), s.json(3)};
}

// The row a query found, if any, and every row, read with `read`.
template <class Reader>
auto one(Statement& s, Reader read) -> std::optional<decltype(read(s))> {
  if (!s.step()) return std::nullopt;
  return read(s);
}
template <class Reader>
auto all(Statement& s, Reader read) -> std::vector<decltype(read(s))> {
  std::vector<decltype(read(s))> out;
  while (s.step()) out.push_back(read(s));
  return out;
}

TimelineEntry read_entry(const Statement& s) {
  TimelineEntry e;
  e.id = s.integer(0);
  e.ticket_id = s.integer(1);
  e.session_id = s.optional_integer(2);
  e.at = s.time(3);
  e.actor = s.text(4);
  e.kind = s.text(5);
  e.summary = s.text(6);
  e.detail = s.json(7);
  return e;
}

constexpr const char* kEnrollmentTokenColumns =
    "hash, group_name, created_by, created_at, expires_at, uses_left";
EnrollmentToken read_enrollment_token(const Statement& s) {
  return EnrollmentToken{s.text(0), s.text(1), s.text(2),
                         s.time(3), s.time(4), static_cast<int>(s.integer(5))};
}

constexpr const char* kDeviceColumns =
    "id, group_name, hostname, os, identity, certificate_fingerprint, certificate_serial, "
    "certificate_not_after, status, revoked_reason, revoked_at, enrolled_at, last_seen_at, "
    "previous_fingerprint, identity_flags";
Device read_device(const Statement& s) {
  Device d;
  d.id = s.integer(0);
  d.group_name = s.text(1);
  d.hostname = s.text(2);
  d.os = s.text(3);
  d.identity = s.json(4);
  d.certificate_fingerprint = s.text(5);
  d.certificate_serial = s.text(6);
  if (!s.is_null(7)) d.certificate_not_after = s.time(7);
  d.status = s.text(8);
  d.revoked_reason = s.text(9);
  if (!s.is_null(10)) d.revoked_at = s.time(10);
  d.enrolled_at = s.time(11);
  if (!s.is_null(12)) d.last_seen_at = s.time(12);
  d.previous_fingerprint = s.text(13);
  d.identity_flags = s.json(14);
  return d;
}

std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

constexpr const char* kInventoryColumns =
    "device_id, live, collected_at, reported_at, reports, deltas_since_full";
DeviceInventory read_inventory(const Statement& s) {
  DeviceInventory inventory;
  inventory.device_id = s.integer(0);
  inventory.live = s.json(1);
  inventory.collected_at = s.time(2);
  inventory.reported_at = s.time(3);
  inventory.reports = static_cast<int>(s.integer(4));
  inventory.deltas_since_full = static_cast<int>(s.integer(5));
  return inventory;
}

constexpr const char* kInventoryChangeColumns = "id, device_id, at, section, kind, summary, detail";
InventoryChange read_inventory_change(const Statement& s) {
  InventoryChange change;
  change.id = s.integer(0);
  change.device_id = s.integer(1);
  change.at = s.time(2);
  change.section = s.text(3);
  change.kind = s.text(4);
  change.summary = s.text(5);
  change.detail = s.json(6);
  return change;
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
  return one(s, read_user);
}

User SqliteStore::create_user(std::string_view name, std::string_view role,
                              std::string_view password_hash, int level) {
  Statement s(db_, "INSERT INTO users (name, role, password_hash, level) VALUES (?, ?, ?, ?)");
  s.bind(1, name).bind(2, role).bind(3, password_hash).bind(4, std::int64_t{level}).run();
  return User{sqlite3_last_insert_rowid(db_), std::string(name), std::string(role),
              std::string(password_hash), level};
}

std::vector<User> SqliteStore::list_users() {
  Statement s(db_, sql("SELECT ", kUserColumns, " FROM users ORDER BY name").c_str());
  return all(s, read_user);
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
              "SELECT u.id, u.name, u.role, u.password_hash, u.level FROM tokens t "
              "JOIN users u ON u.id = t.user_id WHERE t.hash = ? AND t.expires_at > ?");
  s.bind(1, token_hash).bind(2, now);
  return one(s, read_user);
}

namespace {

// Binds the mutable ticket fields as parameters 1..20 in the order of kTicketWrite.
constexpr const char* kTicketWrite =
    "title = ?1, description = ?2, requester = ?3, status = ?4, requester_email = ?5, "
    "category = ?6, impact = ?7, urgency = ?8, priority = ?9, level = ?10, assignee = ?11, "
    "device = ?12, external_system = ?13, external_key = ?14, resolution = ?15, "
    "first_response_at = ?16, resolved_at = ?17, closed_at = ?18, pauses = ?19, "
    "sla_breaches = ?20";

void bind_ticket(Statement& s, const Ticket& t) {
  s.bind(1, t.title).bind(2, t.description).bind(3, t.requester).bind(4, t.status);
  s.bind(5, t.requester_email).bind(6, t.category).bind(7, t.impact).bind(8, t.urgency);
  s.bind(9, t.priority).bind(10, std::int64_t{t.level}).bind(11, t.assignee).bind(12, t.device);
  s.bind(13, t.external_system).bind(14, t.external_key).bind(15, t.resolution);
  s.bind(16, t.first_response_at).bind(17, t.resolved_at).bind(18, t.closed_at);
  s.bind(19, pauses_json(t.pauses).dump()).bind(20, std::int64_t{t.sla_breaches});
}

}  // namespace

Ticket SqliteStore::create_ticket(const Ticket& fields, TimelineEntry created_entry,
                                  TimePoint now) {
  Transaction tx(db_);
  Statement s(db_, (std::string("INSERT INTO tickets (title, description, requester, status, "
                                "requester_email, category, impact, urgency, priority, level, "
                                "assignee, device, external_system, external_key, resolution, "
                                "first_response_at, resolved_at, closed_at, pauses, "
                                "sla_breaches, created_by, created_at, updated_at, version) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                                "?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?22, 1)"))
                       .c_str());
  bind_ticket(s, fields);
  s.bind(21, fields.created_by).bind(22, now).run();
  Ticket ticket = fields;
  ticket.id = sqlite3_last_insert_rowid(db_);
  ticket.created_at = now;
  ticket.updated_at = now;
  ticket.version = 1;
  created_entry.ticket_id = ticket.id;
  if (const auto mark = created_entry.summary.find("{ticket}"); mark != std::string::npos) {
    created_entry.summary.replace(mark, 8, "T-" + std::to_string(ticket.id));
  }
  insert_timeline(created_entry);
  tx.commit();
  return ticket;
}

bool SqliteStore::update_ticket(const Ticket& ticket, const std::vector<TimelineEntry>& entries) {
  Transaction tx(db_);
  Statement s(db_, (std::string("UPDATE tickets SET ") + kTicketWrite +
                    ", version = version + 1 WHERE id = ?21 AND version = ?22")
                       .c_str());
  bind_ticket(s, ticket);
  s.bind(21, ticket.id).bind(22, ticket.version).run();
  if (sqlite3_changes(db_) != 1) return false;
  for (const auto& entry : entries) insert_timeline(entry);
  tx.commit();
  return true;
}

std::optional<Ticket> SqliteStore::find_ticket(std::int64_t id) {
  Statement s(db_, sql("SELECT ", kTicketColumns, " FROM tickets WHERE id = ?").c_str());
  s.bind(1, id);
  return one(s, read_ticket);
}

std::vector<Ticket> SqliteStore::list_tickets() {
  Statement s(db_, sql("SELECT ", kTicketColumns, " FROM tickets ORDER BY id DESC").c_str());
  return all(s, read_ticket);
}

std::vector<Ticket> SqliteStore::open_tickets() {
  Statement s(db_, sql("SELECT ", kTicketColumns,
                       " FROM tickets WHERE status NOT IN ('resolved', 'closed') ORDER BY id")
                       .c_str());
  return all(s, read_ticket);
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
  return one(s, read_session);
}

std::vector<SessionRecord> SqliteStore::sessions_for_ticket(std::int64_t ticket_id) {
  Statement s(
      db_,
      sql("SELECT ", kSessionColumns, " FROM sessions WHERE ticket_id = ? ORDER BY id").c_str());
  s.bind(1, ticket_id);
  return all(s, read_session);
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
  return all(s, read_entry);
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
  return one(s, read_snapshot);
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

std::vector<TimelineEntry> SqliteStore::timeline_since(std::int64_t after_id, std::size_t limit) {
  Statement s(db_,
              "SELECT id, ticket_id, session_id, at, actor, kind, summary, detail "
              "FROM timeline WHERE id > ? ORDER BY id LIMIT ?");
  s.bind(1, after_id).bind(2, static_cast<std::int64_t>(limit));
  return all(s, read_entry);
}

std::vector<Snapshot> SqliteStore::snapshots_for_session(std::int64_t session_id) {
  Statement s(db_,
              "SELECT id, session_id, taken_at, data FROM snapshots WHERE session_id = ? "
              "ORDER BY id");
  s.bind(1, session_id);
  return all(s, read_snapshot);
}

std::optional<Snapshot> SqliteStore::latest_ticket_snapshot(std::int64_t ticket_id) {
  Statement s(db_,
              "SELECT n.id, n.session_id, n.taken_at, n.data FROM snapshots n "
              "JOIN sessions s ON s.id = n.session_id WHERE s.ticket_id = ? "
              "ORDER BY n.id DESC LIMIT 1");
  s.bind(1, ticket_id);
  return one(s, read_snapshot);
}

FaqArticle SqliteStore::create_faq(const FaqArticle& fields, TimePoint now) {
  Statement s(db_,
              "INSERT INTO faq (title, body, finding_ids, categories, created_by, created_at, "
              "updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)");
  s.bind(1, fields.title).bind(2, fields.body).bind(3, strings_json(fields.finding_ids).dump());
  s.bind(4, strings_json(fields.categories).dump()).bind(5, fields.created_by).bind(6, now);
  s.bind(7, now).run();
  FaqArticle article = fields;
  article.id = sqlite3_last_insert_rowid(db_);
  article.created_at = now;
  article.updated_at = now;
  article.version = 1;
  return article;
}

std::optional<FaqArticle> SqliteStore::find_faq(std::int64_t id) {
  Statement s(db_, sql("SELECT ", kFaqColumns, " FROM faq WHERE id = ?").c_str());
  s.bind(1, id);
  return one(s, read_faq);
}

std::vector<FaqArticle> SqliteStore::list_faq(std::string_view search) {
  // instr() on lower() keeps the search literal: no LIKE wildcards to escape.
  Statement s(db_, sql("SELECT ", kFaqColumns,
                       " FROM faq WHERE ?1 = '' OR instr(lower(title || ' ' || body || ' ' || "
                       "finding_ids || ' ' || categories), lower(?1)) > 0 ORDER BY id DESC")
                       .c_str());
  s.bind(1, search);
  return all(s, read_faq);
}

bool SqliteStore::update_faq(const FaqArticle& article, TimePoint now) {
  Statement s(db_,
              "UPDATE faq SET title = ?, body = ?, finding_ids = ?, categories = ?, "
              "updated_at = ?, version = version + 1 WHERE id = ? AND version = ?");
  s.bind(1, article.title).bind(2, article.body).bind(3, strings_json(article.finding_ids).dump());
  s.bind(4, strings_json(article.categories).dump()).bind(5, now).bind(6, article.id);
  s.bind(7, article.version).run();
  return sqlite3_changes(db_) == 1;
}

bool SqliteStore::link_faq(std::int64_t ticket_id, std::int64_t faq_id, TimePoint now) {
  Statement s(db_,
              "INSERT OR IGNORE INTO faq_links (ticket_id, faq_id, linked_at) VALUES (?, ?, ?)");
  s.bind(1, ticket_id).bind(2, faq_id).bind(3, now).run();
  return sqlite3_changes(db_) == 1;
}

std::vector<FaqArticle> SqliteStore::faq_for_ticket(std::int64_t ticket_id) {
  Statement s(db_,
              "SELECT f.id, f.title, f.body, f.finding_ids, f.categories, f.created_by, "
              "f.created_at, f.updated_at, f.version FROM faq f JOIN faq_links l "
              "ON l.faq_id = f.id WHERE l.ticket_id = ? ORDER BY l.linked_at, f.id");
  s.bind(1, ticket_id);
  return all(s, read_faq);
}

std::vector<std::int64_t> SqliteStore::tickets_for_faq(std::int64_t faq_id) {
  Statement s(db_,
              "SELECT ticket_id FROM faq_links WHERE faq_id = ? ORDER BY linked_at, ticket_id");
  s.bind(1, faq_id);
  std::vector<std::int64_t> out;
  while (s.step()) out.push_back(s.integer(0));
  return out;
}

std::int64_t SqliteStore::webhook_cursor(std::string_view webhook) {
  Statement s(db_, "SELECT entry_id FROM webhook_cursors WHERE webhook = ?");
  s.bind(1, webhook);
  return s.step() ? s.integer(0) : 0;
}

void SqliteStore::enqueue_deliveries(std::string_view webhook,
                                     const std::vector<WebhookDelivery>& deliveries,
                                     std::int64_t cursor) {
  Transaction tx(db_);
  for (const auto& d : deliveries) {
    Statement s(db_,
                "INSERT OR IGNORE INTO webhook_deliveries (webhook, entry_id, ticket_id, event, "
                "payload, status, attempts, created_at, next_attempt_at) "
                "VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)");
    s.bind(1, webhook).bind(2, d.entry_id).bind(3, d.ticket_id).bind(4, d.event);
    s.bind(5, d.payload).bind(6, d.created_at).bind(7, d.next_attempt_at).run();
  }
  Statement c(db_,
              "INSERT INTO webhook_cursors (webhook, entry_id) VALUES (?, ?) "
              "ON CONFLICT (webhook) DO UPDATE SET entry_id = max(entry_id, excluded.entry_id)");
  c.bind(1, webhook).bind(2, cursor).run();
  tx.commit();
}

std::vector<WebhookDelivery> SqliteStore::due_deliveries(TimePoint now, std::size_t limit) {
  Statement s(db_, sql("SELECT ", kDeliveryColumns,
                       " FROM webhook_deliveries WHERE status = 'pending' AND "
                       "next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?")
                       .c_str());
  s.bind(1, now).bind(2, static_cast<std::int64_t>(limit));
  return all(s, read_delivery);
}

void SqliteStore::record_delivery_attempt(const WebhookDelivery& d) {
  Statement s(db_,
              "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at = ?, "
              "last_attempt_at = ?, last_http_status = ?, last_error = ?, delivered_at = ? "
              "WHERE id = ?");
  s.bind(1, d.status).bind(2, std::int64_t{d.attempts}).bind(3, d.next_attempt_at);
  s.bind(4, d.last_attempt_at);
  if (d.last_http_status) {
    s.bind(5, std::int64_t{*d.last_http_status});
  } else {
    s.bind_null(5);
  }
  s.bind(6, d.last_error).bind(7, d.delivered_at).bind(8, d.id).run();
}

std::vector<WebhookDelivery> SqliteStore::webhook_log(std::size_t limit, std::string_view status) {
  Statement s(db_, sql("SELECT ", kDeliveryColumns,
                       " FROM webhook_deliveries WHERE ?1 = '' OR status = ?1 "
                       "ORDER BY id DESC LIMIT ?2")
                       .c_str());
  s.bind(1, status).bind(2, static_cast<std::int64_t>(limit));
  return all(s, read_delivery);
}

void SqliteStore::save_enrollment_token(const EnrollmentToken& token) {
  Statement s(db_, sql("INSERT INTO enrollment_tokens (", kEnrollmentTokenColumns,
                       ") VALUES (?, ?, ?, ?, ?, ?)")
                       .c_str());
  s.bind(1, token.hash).bind(2, token.group_name).bind(3, token.created_by);
  s.bind(4, token.created_at).bind(5, token.expires_at).bind(6, std::int64_t{token.uses_left});
  s.run();
}

std::optional<EnrollmentToken> SqliteStore::claim_enrollment_token(std::string_view hash,
                                                                   TimePoint now) {
  // One statement: SQLite takes the write lock for it, so two relays on the same file (or
  // two threads) can never both take the last use.
  Statement s(db_, sql("UPDATE enrollment_tokens SET uses_left = uses_left - 1 "
                       "WHERE hash = ? AND uses_left > 0 AND expires_at > ? RETURNING ",
                       kEnrollmentTokenColumns)
                       .c_str());
  s.bind(1, hash).bind(2, now);
  auto token = one(s, read_enrollment_token);
  // RETURNING rows are produced before the statement completes; finish it so the change is
  // committed when this call returns.
  if (token) s.run();
  return token;
}

std::optional<Device> SqliteStore::enroll_device(std::string_view token_hash,
                                                 const Device& fields) {
  Transaction tx(db_);
  auto token = claim_enrollment_token(token_hash, fields.enrolled_at);
  if (!token) return std::nullopt;
  Device device = fields;
  device.group_name = token->group_name;
  device = create_device(device);
  tx.commit();
  return device;
}

Device SqliteStore::create_device(const Device& fields) {
  Statement s(db_,
              "INSERT INTO devices (group_name, hostname, os, identity, certificate_fingerprint, "
              "certificate_serial, certificate_not_after, status, revoked_reason, revoked_at, "
              "enrolled_at, last_seen_at, previous_fingerprint, identity_flags) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  s.bind(1, fields.group_name).bind(2, fields.hostname).bind(3, fields.os);
  s.bind(4, fields.identity.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  s.bind(5, fields.certificate_fingerprint).bind(6, fields.certificate_serial);
  s.bind(7, fields.certificate_not_after).bind(8, fields.status).bind(9, fields.revoked_reason);
  s.bind(10, fields.revoked_at).bind(11, fields.enrolled_at).bind(12, fields.last_seen_at);
  s.bind(13, fields.previous_fingerprint).bind(14, dump(fields.identity_flags));
  s.run();
  Device device = fields;
  device.id = sqlite3_last_insert_rowid(db_);
  return device;
}

std::optional<Device> SqliteStore::find_device(std::int64_t id) {
  Statement s(db_, sql("SELECT ", kDeviceColumns, " FROM devices WHERE id = ?").c_str());
  s.bind(1, id);
  return one(s, read_device);
}

void SqliteStore::set_devices_last_seen(const std::map<std::int64_t, TimePoint>& seen) {
  Transaction tx(db_);
  Statement s(db_, "UPDATE devices SET last_seen_at = ? WHERE id = ?");
  for (const auto& [id, at] : seen) {
    s.bind(1, at).bind(2, id).run();
    s.reset();
  }
  tx.commit();
}

std::vector<Device> SqliteStore::list_devices() {
  Statement s(db_, sql("SELECT ", kDeviceColumns, " FROM devices ORDER BY id").c_str());
  return all(s, read_device);
}

bool SqliteStore::update_device_certificate(std::int64_t id, std::string_view fingerprint,
                                            std::string_view serial, TimePoint not_after) {
  Statement s(db_,
              "UPDATE devices SET certificate_fingerprint = ?, certificate_serial = ?, "
              "certificate_not_after = ? WHERE id = ?");
  s.bind(1, fingerprint).bind(2, serial).bind(3, not_after).bind(4, id).run();
  return sqlite3_changes(db_) == 1;
}

bool SqliteStore::revoke_device(std::int64_t id, std::string_view reason, TimePoint at) {
  Statement s(db_,
              "UPDATE devices SET status = 'revoked', revoked_reason = ?, revoked_at = ? "
              "WHERE id = ? AND status = 'active'");
  s.bind(1, reason).bind(2, at).bind(3, id).run();
  return sqlite3_changes(db_) == 1;
}

std::optional<Device> SqliteStore::reenroll_device(std::string_view token_hash,
                                                   std::int64_t device_id, const Device& fields) {
  Transaction tx(db_);
  auto existing = find_device(device_id);
  if (!existing || existing->status != "active") return std::nullopt;
  if (!claim_enrollment_token(token_hash, fields.enrolled_at)) return std::nullopt;
  Statement s(db_,
              "UPDATE devices SET hostname = ?, os = ?, identity = ?, certificate_fingerprint = ?, "
              "certificate_serial = ?, certificate_not_after = ?, previous_fingerprint = '', "
              "identity_flags = ? WHERE id = ?");
  s.bind(1, fields.hostname).bind(2, fields.os).bind(3, dump(fields.identity));
  s.bind(4, fields.certificate_fingerprint).bind(5, fields.certificate_serial);
  s.bind(6, fields.certificate_not_after).bind(7, dump(fields.identity_flags)).bind(8, device_id);
  s.run();
  auto device = find_device(device_id);
  tx.commit();
  return device;
}

bool SqliteStore::renew_device_certificate(std::int64_t id, std::string_view fingerprint,
                                           std::string_view serial, TimePoint not_after,
                                           std::string_view previous) {
  Statement s(db_,
              "UPDATE devices SET previous_fingerprint = ?, certificate_fingerprint = ?, "
              "certificate_serial = ?, certificate_not_after = ? "
              "WHERE id = ? AND status = 'active'");
  s.bind(1, previous).bind(2, fingerprint).bind(3, serial).bind(4, not_after).bind(5, id).run();
  return sqlite3_changes(db_) == 1;
}

void SqliteStore::forget_previous_certificate(std::int64_t id) {
  Statement s(db_,
              "UPDATE devices SET previous_fingerprint = '' WHERE id = ? AND "
              "previous_fingerprint != ''");
  s.bind(1, id).run();
}

std::optional<DeviceInventory> SqliteStore::device_inventory(std::int64_t device_id, bool content) {
  Statement s(db_,
              sql("SELECT ", kInventoryColumns, " FROM inventories WHERE device_id = ?").c_str());
  s.bind(1, device_id);
  auto inventory = one(s, read_inventory);
  if (!inventory) return std::nullopt;
  Statement sections(db_, content
                              ? "SELECT name, hash, updated_at, content FROM inventory_sections "
                                "WHERE device_id = ? ORDER BY name"
                              : "SELECT name, hash, updated_at FROM inventory_sections "
                                "WHERE device_id = ? ORDER BY name");
  sections.bind(1, device_id);
  while (sections.step()) {
    inventory->sections.emplace(
        sections.text(0),
        InventorySection{sections.text(1), content ? sections.json(3) : nlohmann::json(),
                         sections.time(2)});
  }
  return inventory;
}

std::vector<DeviceInventory> SqliteStore::all_inventories() {
  Statement s(db_,
              sql("SELECT ", kInventoryColumns, " FROM inventories ORDER BY device_id").c_str());
  auto inventories = all(s, read_inventory);
  std::map<std::int64_t, DeviceInventory*> by_device;
  for (auto& inventory : inventories) by_device[inventory.device_id] = &inventory;
  Statement sections(db_,
                     "SELECT device_id, name, hash, content, updated_at FROM inventory_sections "
                     "ORDER BY device_id, name");
  while (sections.step()) {
    auto it = by_device.find(sections.integer(0));
    if (it == by_device.end()) continue;
    it->second->sections.emplace(
        sections.text(1), InventorySection{sections.text(2), sections.json(3), sections.time(4)});
  }
  return inventories;
}

void SqliteStore::apply_inventory(const InventoryUpdate& update) {
  Transaction tx(db_);
  for (const auto& [name, section] : update.changed) {
    Statement s(db_,
                "INSERT INTO inventory_sections (device_id, name, hash, content, updated_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id, name) DO UPDATE SET "
                "hash = excluded.hash, content = excluded.content, "
                "updated_at = excluded.updated_at");
    s.bind(1, update.device_id).bind(2, name).bind(3, section.hash);
    s.bind(4, dump(section.content)).bind(5, section.updated_at).run();
  }
  for (const auto& name : update.removed) {
    Statement s(db_, "DELETE FROM inventory_sections WHERE device_id = ? AND name = ?");
    s.bind(1, update.device_id).bind(2, name).run();
  }
  Statement s(db_,
              "INSERT INTO inventories (device_id, live, collected_at, reported_at, reports, "
              "deltas_since_full) VALUES (?, ?, ?, ?, 1, 0) ON CONFLICT (device_id) DO UPDATE "
              "SET live = excluded.live, collected_at = excluded.collected_at, "
              "reported_at = excluded.reported_at, reports = reports + 1, "
              "deltas_since_full = CASE WHEN ? THEN 0 ELSE deltas_since_full + 1 END");
  s.bind(1, update.device_id).bind(2, dump(update.live)).bind(3, update.collected_at);
  s.bind(4, update.reported_at).bind(5, static_cast<std::int64_t>(update.full ? 1 : 0)).run();
  for (const auto& change : update.changes) {
    Statement h(db_,
                "INSERT INTO inventory_history (device_id, at, section, kind, summary, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)");
    h.bind(1, update.device_id).bind(2, update.reported_at).bind(3, change.section);
    h.bind(4, change.kind).bind(5, change.summary).bind(6, dump(change.detail)).run();
  }
  tx.commit();
}

std::vector<InventoryChange> SqliteStore::inventory_history(std::int64_t device_id,
                                                            std::size_t limit,
                                                            std::optional<std::int64_t> before_id) {
  Statement s(db_, sql("SELECT ", kInventoryChangeColumns,
                       " FROM inventory_history WHERE device_id = ? AND id < ? "
                       "ORDER BY id DESC LIMIT ?")
                       .c_str());
  s.bind(1, device_id).bind(2, before_id.value_or(std::numeric_limits<std::int64_t>::max()));
  s.bind(3, static_cast<std::int64_t>(limit));
  return all(s, read_inventory_change);
}

}  // namespace tether::relay
