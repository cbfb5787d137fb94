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
#include <map>
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
  int level = 1;              ///< Highest support level the technician works at (1..3).
};

/// A span during which a ticket's SLA clocks stand still (pending, or resolved before a
/// reopen); `to` is empty while it lasts.
struct TicketPause {
  TimePoint from;
  std::optional<TimePoint> to;
};

struct Ticket {
  std::int64_t id = 0;  ///< Shown to users as "T-<id>".
  std::string title;
  std::string description;
  std::string requester;
  std::string requester_email;
  std::string category;
  std::string impact = "medium";   ///< "low", "medium", "high".
  std::string urgency = "medium";  ///< "low", "medium", "high".
  std::string priority = "P3";     ///< "P1".."P4", from impact × urgency.
  int level = 1;                   ///< Support level L1..L3.
  std::string assignee;            ///< Technician's name; empty when unassigned.
  std::string device;              ///< Free text: the PC concerned.
  std::string external_system;     ///< e.g. "glpi", "jira"; empty when none.
  std::string external_key;        ///< The ticket's key in that system.
  std::string status = "new";      ///< "new", "open", "pending", "resolved", "closed".
  std::string resolution;          ///< The note that resolved it.
  std::string created_by;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> first_response_at;
  std::optional<TimePoint> resolved_at;  ///< Set while resolved or closed.
  std::optional<TimePoint> closed_at;
  std::vector<TicketPause> pauses;
  int sla_breaches = 0;      ///< Bits already announced: 1 first response, 2 resolution.
  std::int64_t version = 1;  ///< Bumped by every update (optimistic concurrency).
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

/// A knowledge article ("FAQ-<id>"), linked from tickets and matched to findings by id.
struct FaqArticle {
  std::int64_t id = 0;
  std::string title;
  std::string body;  ///< Markdown.
  std::vector<std::string> finding_ids;
  std::vector<std::string> categories;
  std::string created_by;
  TimePoint created_at;
  TimePoint updated_at;
  std::int64_t version = 1;
};

/// One webhook delivery: one timeline entry sent to one configured receiver.
struct WebhookDelivery {
  std::int64_t id = 0;
  std::string webhook;        ///< The receiver's name in the relay config.
  std::int64_t entry_id = 0;  ///< The timeline entry it announces.
  std::int64_t ticket_id = 0;
  std::string event;               ///< The entry's kind, e.g. "ticket.escalated".
  std::string payload;             ///< The exact JSON body sent (and signed).
  std::string status = "pending";  ///< "pending", "delivered", "failed" (gave up).
  int attempts = 0;
  TimePoint created_at;
  TimePoint next_attempt_at;
  std::optional<TimePoint> last_attempt_at;
  std::optional<int> last_http_status;
  std::string last_error;
  std::optional<TimePoint> delivered_at;
};

/// A managed-device enrollment token as stored: only the SHA-256 of the token.
struct EnrollmentToken {
  std::string hash;        ///< hex SHA-256 of the token.
  std::string group_name;  ///< The group an enrolled device joins.
  std::string created_by;  ///< Who made it ("cli:<user>", a technician's name).
  TimePoint created_at;
  TimePoint expires_at;
  int uses_left = 1;  ///< Enrollments still allowed; 0 once used up.
};

/// A managed device ("D-<id>"), enrolled once with a token, holding a client certificate.
struct Device {
  std::int64_t id = 0;  ///< Shown to users as "D-<id>".
  std::string group_name;
  std::string hostname;
  std::string os;
  /// As the agent reported it: {machine_id, smbios_uuid, serials: [...], macs: [...]}.
  nlohmann::json identity = nlohmann::json::object();
  std::string certificate_fingerprint;  ///< hex SHA-256 of the certificate's DER; empty before.
  std::string certificate_serial;       ///< hex serial number; empty before one is issued.
  std::optional<TimePoint> certificate_not_after;
  std::string status = "active";  ///< "active" or "revoked".
  std::string revoked_reason;
  std::optional<TimePoint> revoked_at;
  TimePoint enrolled_at;
  std::optional<TimePoint> last_seen_at;
  /// The certificate the device held before its last renewal (hex SHA-256), still accepted
  /// until the device first connects with the new one; empty otherwise.
  std::string previous_fingerprint;
  /// What identity matching noticed at enrollment: {"possible_clone": bool, "conflict": bool,
  /// "related": ["D-3"], "reasons": [...], "reenrolled": true, "confidence": 95}; {} when nothing.
  nlohmann::json identity_flags = nlohmann::json::object();
};

/// One section of a device's current inventory (make_inventory's sections).
struct InventorySection {
  std::string hash;  ///< "sha256:<64 hex>", protocol::inventory_section_hash(content)
  nlohmann::json content;
  TimePoint updated_at;
};

/// A device's current inventory: the sections as last reported and the live part (figures
/// left out of the sections, findings).
struct DeviceInventory {
  std::int64_t device_id = 0;
  std::map<std::string, InventorySection> sections;
  nlohmann::json live = nlohmann::json::object();
  TimePoint collected_at;  ///< When the agent collected the last report.
  TimePoint reported_at;   ///< When the relay stored it.
  int reports = 0;         ///< Reports stored so far.
  int deltas_since_full = 0;
};

/// One line of a device's history ("what changed when").
struct InventoryChange {
  std::int64_t id = 0;
  std::int64_t device_id = 0;
  TimePoint at;
  std::string section;
  std::string kind;  ///< "software.installed", "storage.disk_replaced", …
  std::string summary;
  nlohmann::json detail = nlohmann::json::object();
};

/// One stored report: applied whole or not at all.
struct InventoryUpdate {
  std::int64_t device_id = 0;
  TimePoint collected_at;
  TimePoint reported_at;
  bool full = false;
  std::map<std::string, InventorySection> changed;  ///< New or changed sections.
  std::vector<std::string> removed;                 ///< Sections the device no longer has.
  nlohmann::json live = nlohmann::json::object();
  std::vector<InventoryChange> changes;  ///< History lines (device_id and at filled in).
};

class Store {
 public:
  virtual ~Store() = default;

  // Users.
  virtual std::optional<User> find_user(std::string_view name) = 0;
  /// Throws StoreError if the name exists.
  virtual User create_user(std::string_view name, std::string_view role,
                           std::string_view password_hash, int level = 1) = 0;
  virtual std::int64_t count_users() = 0;
  /// By name.
  virtual std::vector<User> list_users() = 0;

  // API tokens (only their SHA-256 is stored).
  virtual void save_token(std::string_view token_hash, std::int64_t user_id,
                          TimePoint expires_at) = 0;
  /// The user holding an unexpired token with this hash.
  virtual std::optional<User> user_for_token(std::string_view token_hash, TimePoint now) = 0;

  // Tickets. create_ticket stores every field of `fields` except id and version (created_at
  // and updated_at become `now`) and appends `created_entry` (its ticket_id filled in, a
  // "{ticket}" in its summary replaced by "T-<id>") in the same transaction.
  virtual Ticket create_ticket(const Ticket& fields, TimelineEntry created_entry,
                               TimePoint now) = 0;
  virtual std::optional<Ticket> find_ticket(std::int64_t id) = 0;
  /// Newest first.
  virtual std::vector<Ticket> list_tickets() = 0;
  /// Tickets still being worked on (not resolved or closed), oldest first.
  virtual std::vector<Ticket> open_tickets() = 0;
  /// Writes every mutable field of `ticket` and appends `entries`, in one transaction, only
  /// if the stored version is still `ticket.version`; the stored version becomes
  /// ticket.version + 1. False (nothing written) when someone else updated it first.
  virtual bool update_ticket(const Ticket& ticket, const std::vector<TimelineEntry>& entries) = 0;

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
  /// Entries of all tickets with id > after_id, oldest first, at most `limit`.
  virtual std::vector<TimelineEntry> timeline_since(std::int64_t after_id, std::size_t limit) = 0;

  // Diagnostics snapshots.
  virtual Snapshot save_snapshot(std::int64_t session_id, const nlohmann::json& data,
                                 TimePoint at) = 0;
  virtual std::optional<Snapshot> latest_snapshot(std::int64_t session_id) = 0;
  /// All snapshots of a session, oldest first.
  virtual std::vector<Snapshot> snapshots_for_session(std::int64_t session_id) = 0;
  /// The newest snapshot of any session of the ticket.
  virtual std::optional<Snapshot> latest_ticket_snapshot(std::int64_t ticket_id) = 0;

  // Knowledge articles.
  virtual FaqArticle create_faq(const FaqArticle& fields, TimePoint now) = 0;
  virtual std::optional<FaqArticle> find_faq(std::int64_t id) = 0;
  /// Newest first; `search` (case-insensitive substring of title, body, finding ids or
  /// categories) filters when not empty.
  virtual std::vector<FaqArticle> list_faq(std::string_view search) = 0;
  /// Like update_ticket: only if the stored version is still `article.version`.
  virtual bool update_faq(const FaqArticle& article, TimePoint now) = 0;
  /// False if the link already existed.
  virtual bool link_faq(std::int64_t ticket_id, std::int64_t faq_id, TimePoint now) = 0;
  virtual std::vector<FaqArticle> faq_for_ticket(std::int64_t ticket_id) = 0;
  /// Ids of the tickets linked to an article, in linking order.
  virtual std::vector<std::int64_t> tickets_for_faq(std::int64_t faq_id) = 0;

  // Webhook deliveries (an outbox: rows are written before anything is sent).
  /// The last timeline id already turned into deliveries for `webhook` (0 at first).
  virtual std::int64_t webhook_cursor(std::string_view webhook) = 0;
  /// Stores `deliveries` (one per timeline entry; an entry already queued for this webhook
  /// is skipped) and moves the cursor to `cursor`, in one transaction.
  virtual void enqueue_deliveries(std::string_view webhook,
                                  const std::vector<WebhookDelivery>& deliveries,
                                  std::int64_t cursor) = 0;
  /// Pending deliveries whose next attempt is due, oldest first.
  virtual std::vector<WebhookDelivery> due_deliveries(TimePoint now, std::size_t limit) = 0;
  /// Saves the outcome of an attempt: status, attempts, next_attempt_at, last_* and
  /// delivered_at of `delivery` (matched by id).
  virtual void record_delivery_attempt(const WebhookDelivery& delivery) = 0;
  /// Newest first; `status` filters when not empty.
  virtual std::vector<WebhookDelivery> webhook_log(std::size_t limit, std::string_view status) = 0;

  // Support codes.
  virtual void save_support_code(const SupportCodeRecord& record) = 0;
  virtual std::optional<SupportCodeRecord> find_support_code(std::string_view code_hash) = 0;
  /// Atomically marks the code used by `session_id`. False if it was already used.
  virtual bool claim_support_code(std::string_view code_hash, std::int64_t session_id) = 0;
  /// Deletes codes that expired before `now`; returns how many.
  virtual std::size_t purge_expired_codes(TimePoint now) = 0;

  // Managed devices and their enrollment tokens (only the tokens' SHA-256 is stored).
  /// Throws StoreError if a token with this hash exists.
  virtual void save_enrollment_token(const EnrollmentToken& token) = 0;
  /// Uses the token once, atomically (one conditional UPDATE, so it holds across relays
  /// sharing the database too): empty when it is unknown, expired at `now` or used up;
  /// otherwise the token as it is after this use.
  virtual std::optional<EnrollmentToken> claim_enrollment_token(std::string_view hash,
                                                                TimePoint now) = 0;
  /// claim_enrollment_token and create_device in one transaction: the device (its group the
  /// token's) exists exactly when the token's use was taken. Empty, with nothing changed,
  /// when the token is unknown, expired at `fields.enrolled_at` or used up.
  virtual std::optional<Device> enroll_device(std::string_view token_hash,
                                              const Device& fields) = 0;
  /// Stores every field of `fields` but id; returns the device with its new id.
  virtual Device create_device(const Device& fields) = 0;
  virtual std::optional<Device> find_device(std::int64_t id) = 0;
  /// Sets last_seen_at (when a managed agent connected or disconnected) of many devices in
  /// one transaction; unknown ids are skipped.
  virtual void set_devices_last_seen(const std::map<std::int64_t, TimePoint>& seen) = 0;
  /// By id.
  virtual std::vector<Device> list_devices() = 0;
  /// Records the device's current certificate. False when there is no such device.
  virtual bool update_device_certificate(std::int64_t id, std::string_view fingerprint,
                                         std::string_view serial, TimePoint not_after) = 0;
  /// Status becomes "revoked" with `reason` and `at`. False when there is no such device or
  /// it was already revoked (the first revocation's reason and time stay).
  virtual bool revoke_device(std::int64_t id, std::string_view reason, TimePoint at) = 0;
  /// Re-enrollment of a machine the relay already knows (identity matching): uses the token
  /// once and gives device `device_id` the certificate, identity, hostname, os and
  /// identity_flags of `fields`, in one transaction. Empty, nothing changed, when the token
  /// is unknown, expired at `fields.enrolled_at` or used up, or the device is not active.
  virtual std::optional<Device> reenroll_device(std::string_view token_hash, std::int64_t device_id,
                                                const Device& fields) = 0;
  /// A renewed certificate; `previous` (the certificate the device asked with) stays
  /// accepted until the new one is used. False when there is no such active device.
  virtual bool renew_device_certificate(std::int64_t id, std::string_view fingerprint,
                                        std::string_view serial, TimePoint not_after,
                                        std::string_view previous) = 0;
  /// The device connected with its current certificate: forget the previous one.
  virtual void forget_previous_certificate(std::int64_t id) = 0;

  // Inventories.
  /// With `content` false the sections hold only their hash and time (content null): what a
  /// connecting device's inventory_request needs, without reading the documents.
  virtual std::optional<DeviceInventory> device_inventory(std::int64_t device_id,
                                                          bool content = true) = 0;
  /// Every device's current inventory, by device id.
  virtual std::vector<DeviceInventory> all_inventories() = 0;
  /// Stores the report and its history lines in one transaction; the device's
  /// deltas_since_full becomes 0 on a full report, else grows by one.
  virtual void apply_inventory(const InventoryUpdate& update) = 0;
  /// Newest first, at most `limit`, only ids below `before_id` when it is set.
  virtual std::vector<InventoryChange> inventory_history(std::int64_t device_id, std::size_t limit,
                                                         std::optional<std::int64_t> before_id) = 0;
};

}  // namespace tether::relay
