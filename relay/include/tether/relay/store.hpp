#pragma once
/// The relay's persistent state behind one interface: SQLite is the embedded default
/// (SqliteStore), PostgreSQL follows for scale-out.
///
/// Thread safety: a Store is not thread-safe. The relay calls it only from its store
/// executor (one thread), never from a network thread.
/// Errors: storage failures throw StoreError (the relay answers `internal` and logs);
/// "not found" is an empty optional, never an exception.
/// Durability: every mutating call returns only after its transaction committed.

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay {

using TimePoint = std::chrono::system_clock::time_point;

class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct User {
  std::int64_t id = 0;
  std::string name;
  std::string role;           ///< "admin" or "technician".
  std::string password_hash;  ///< PHC-style string from PasswordHasher.
};

struct Ticket {
  std::int64_t id = 0;  ///< Shown to users as "T-<id>".
  std::string title;
  std::string description;
  std::string requester;
  std::string status;  ///< "new", "open", "pending", "resolved", "closed".
  std::string created_by;
  TimePoint created_at;
  TimePoint updated_at;
};

struct SessionRecord {
  std::int64_t id = 0;  ///< Shown to users as "S-<id>".
  std::int64_t ticket_id = 0;
  std::string technician;
  std::string joined_by;   ///< "support_code" (attended) or "device" (managed).
  std::string device;      ///< Agent's description: hostname and OS.
  std::string status;      ///< "pending_consent", "active", "refused", "ended".
  nlohmann::json consent;  ///< {granted, scopes, by, at} once answered; null before.
  TimePoint started_at;
  std::optional<TimePoint> ended_at;
  std::string end_note;
};

/// One line of a ticket's story. `kind` is a dotted name ("ticket.created",
/// "session.joined", "consent.granted", "consent.refused", "diagnostics.snapshot",
/// "session.ended", ...); `detail` carries the structured facts.
struct TimelineEntry {
  std::int64_t id = 0;
  std::int64_t ticket_id = 0;
  std::optional<std::int64_t> session_id;
  TimePoint at;
  std::string actor;  ///< User name, "agent:<host>" or "relay".
  std::string kind;
  std::string summary;  ///< One line a person reads.
  nlohmann::json detail = nlohmann::json::object();
};

/// A support code as stored: only hashes of the code and of the agent's resume secret.
struct SupportCodeRecord {
  std::string code_hash;    ///< hex SHA-256 of the 9 digits.
  std::string secret_hash;  ///< hex SHA-256 of the agent's resume secret.
  TimePoint created_at;
  TimePoint expires_at;
  std::optional<std::int64_t> session_id;  ///< Set once a technician used the code.
};

struct Snapshot {
  std::int64_t id = 0;
  std::int64_t session_id = 0;
  TimePoint taken_at;
  nlohmann::json data;
};

class Store {
 public:
  virtual ~Store() = default;

  // Users.
  virtual std::optional<User> find_user(std::string_view name) = 0;
  /// Throws StoreError if the name exists.
  virtual User create_user(std::string_view name, std::string_view role,
                           std::string_view password_hash) = 0;
  virtual std::int64_t count_users() = 0;

  // API tokens (only their SHA-256 is stored).
  virtual void save_token(std::string_view token_hash, std::int64_t user_id,
                          TimePoint expires_at) = 0;
  /// The user holding an unexpired token with this hash.
  virtual std::optional<User> user_for_token(std::string_view token_hash, TimePoint now) = 0;

  // Tickets. create_ticket also appends the "ticket.created" timeline entry.
  virtual Ticket create_ticket(std::string_view title, std::string_view description,
                               std::string_view requester, std::string_view created_by,
                               TimePoint now) = 0;
  virtual std::optional<Ticket> find_ticket(std::int64_t id) = 0;
  /// Newest first.
  virtual std::vector<Ticket> list_tickets() = 0;

  // Sessions.
  virtual SessionRecord create_session(std::int64_t ticket_id, std::string_view technician,
                                       std::string_view joined_by, std::string_view device,
                                       TimePoint now) = 0;
  virtual std::optional<SessionRecord> find_session(std::int64_t id) = 0;
  virtual std::vector<SessionRecord> sessions_for_ticket(std::int64_t ticket_id) = 0;
  /// Records the user's answer; status becomes "active" or "refused".
  virtual void record_consent(std::int64_t session_id, const nlohmann::json& consent) = 0;
  /// Sets the end time and note; status becomes "ended" (a "refused" session stays
  /// "refused"). No-op if the session already has an end time.
  virtual void end_session(std::int64_t session_id, TimePoint at, std::string_view note) = 0;

  // Timeline, in insertion order. Appending touches the ticket's updated_at.
  virtual TimelineEntry append_timeline(const TimelineEntry& entry) = 0;
  virtual std::vector<TimelineEntry> timeline(std::int64_t ticket_id) = 0;

  // Diagnostics snapshots.
  virtual Snapshot save_snapshot(std::int64_t session_id, const nlohmann::json& data,
                                 TimePoint at) = 0;
  virtual std::optional<Snapshot> latest_snapshot(std::int64_t session_id) = 0;

  // Support codes.
  virtual void save_support_code(const SupportCodeRecord& record) = 0;
  virtual std::optional<SupportCodeRecord> find_support_code(std::string_view code_hash) = 0;
  /// Atomically marks the code used by `session_id`. False if it was already used.
  virtual bool claim_support_code(std::string_view code_hash, std::int64_t session_id) = 0;
  /// Deletes codes that expired before `now`; returns how many.
  virtual std::size_t purge_expired_codes(TimePoint now) = 0;
};

}  // namespace tether::relay
