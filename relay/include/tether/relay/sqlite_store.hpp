#pragma once
/// The embedded Store: one SQLite file in WAL mode with synchronous=FULL, so a mutating
/// call returns only after its transaction is durable. The schema is migrated forward on
/// open (PRAGMA user_version); a database from a newer Tether is refused.

#include <filesystem>
#include <memory>

#include "tether/relay/store.hpp"

struct sqlite3;

namespace tether::relay {

class SqliteStore final : public Store {
 public:
  /// Opens or creates `file` (created 0600). Throws StoreError with a message naming the
  /// file when it cannot be opened, is not a Tether database, or is from a newer version.
  static std::unique_ptr<SqliteStore> open(const std::filesystem::path& file);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// Schema version this build writes.
  static int schema_version();

  std::optional<User> find_user(std::string_view name) override;
  User create_user(std::string_view name, std::string_view role, std::string_view password_hash,
                   int level = 1) override;
  std::int64_t count_users() override;
  std::vector<User> list_users() override;

  void save_token(std::string_view token_hash, std::int64_t user_id, TimePoint expires_at) override;
  std::optional<User> user_for_token(std::string_view token_hash, TimePoint now) override;

  Ticket create_ticket(const Ticket& fields, TimelineEntry created_entry, TimePoint now) override;
  std::optional<Ticket> find_ticket(std::int64_t id) override;
  std::vector<Ticket> list_tickets() override;
  std::vector<Ticket> open_tickets() override;
  bool update_ticket(const Ticket& ticket, const std::vector<TimelineEntry>& entries) override;

  SessionRecord create_session(std::int64_t ticket_id, std::string_view technician,
                               std::string_view joined_by, std::string_view device,
                               TimePoint now) override;
  std::optional<SessionRecord> find_session(std::int64_t id) override;
  std::vector<SessionRecord> sessions_for_ticket(std::int64_t ticket_id) override;
  void record_consent(std::int64_t session_id, const nlohmann::json& consent) override;
  void end_session(std::int64_t session_id, TimePoint at, std::string_view note) override;

  TimelineEntry append_timeline(const TimelineEntry& entry) override;
  std::vector<TimelineEntry> timeline(std::int64_t ticket_id) override;
  std::vector<TimelineEntry> timeline_since(std::int64_t after_id, std::size_t limit) override;

  Snapshot save_snapshot(std::int64_t session_id, const nlohmann::json& data,
                         TimePoint at) override;
  std::optional<Snapshot> latest_snapshot(std::int64_t session_id) override;
  std::vector<Snapshot> snapshots_for_session(std::int64_t session_id) override;
  std::optional<Snapshot> latest_ticket_snapshot(std::int64_t ticket_id) override;

  FaqArticle create_faq(const FaqArticle& fields, TimePoint now) override;
  std::optional<FaqArticle> find_faq(std::int64_t id) override;
  std::vector<FaqArticle> list_faq(std::string_view search) override;
  bool update_faq(const FaqArticle& article, TimePoint now) override;
  bool link_faq(std::int64_t ticket_id, std::int64_t faq_id, TimePoint now) override;
  std::vector<FaqArticle> faq_for_ticket(std::int64_t ticket_id) override;
  std::vector<std::int64_t> tickets_for_faq(std::int64_t faq_id) override;

  std::int64_t webhook_cursor(std::string_view webhook) override;
  void enqueue_deliveries(std::string_view webhook, const std::vector<WebhookDelivery>& deliveries,
                          std::int64_t cursor) override;
  std::vector<WebhookDelivery> due_deliveries(TimePoint now, std::size_t limit) override;
  void record_delivery_attempt(const WebhookDelivery& delivery) override;
  std::vector<WebhookDelivery> webhook_log(std::size_t limit, std::string_view status) override;

  void save_support_code(const SupportCodeRecord& record) override;
  std::optional<SupportCodeRecord> find_support_code(std::string_view code_hash) override;
  bool claim_support_code(std::string_view code_hash, std::int64_t session_id) override;
  std::size_t purge_expired_codes(TimePoint now) override;

  void save_enrollment_token(const EnrollmentToken& token) override;
  std::optional<EnrollmentToken> claim_enrollment_token(std::string_view hash,
                                                        TimePoint now) override;
  std::optional<Device> enroll_device(std::string_view token_hash, const Device& fields) override;
  Device create_device(const Device& fields) override;
  std::optional<Device> find_device(std::int64_t id) override;
  void set_devices_last_seen(const std::map<std::int64_t, TimePoint>& seen) override;
  std::vector<Device> list_devices() override;
  bool update_device_certificate(std::int64_t id, std::string_view fingerprint,
                                 std::string_view serial, TimePoint not_after) override;
  bool revoke_device(std::int64_t id, std::string_view reason, TimePoint at) override;
  std::optional<Device> reenroll_device(std::string_view token_hash, std::int64_t device_id,
                                        const Device& fields) override;
  bool renew_device_certificate(std::int64_t id, std::string_view fingerprint,
                                std::string_view serial, TimePoint not_after,
                                std::string_view previous) override;
  void forget_previous_certificate(std::int64_t id) override;
  std::optional<DeviceInventory> device_inventory(std::int64_t device_id,
                                                  bool content = true) override;
  std::vector<DeviceInventory> all_inventories() override;
  void apply_inventory(const InventoryUpdate& update) override;
  std::vector<InventoryChange> inventory_history(std::int64_t device_id, std::size_t limit,
                                                 std::optional<std::int64_t> before_id) override;

 private:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  void migrate(const std::filesystem::path& file);
  void exec(const char* sql);
  TimelineEntry insert_timeline(const TimelineEntry& entry);

  sqlite3* db_;
};

}  // namespace tether::relay
