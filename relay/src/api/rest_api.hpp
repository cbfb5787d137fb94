#pragma once
// The technician REST API under /api/v1 (docs/api.md). Pure request → response: the HTTP
// connection reads and writes, this decides. Handlers run as coroutines on the calling
// connection's strand and reach the store, the broker and agents by co_await.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "tether/protocol/error.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay {

struct RelayContext;
struct PemCertificate;
class AgentConnection;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// A failed request: the error code, the HTTP status that goes with it, a message for people.
struct ApiError {
  protocol::Error code;
  std::string message;
  std::string allow = {};       ///< For method_not_allowed: the methods the path takes.
  nlohmann::json details = {};  ///< More members of the error object ({"column": 9}), if any.
};

namespace helpdesk {
struct SlaPolicy;
struct SlaInput;
struct SlaStatus;
}  // namespace helpdesk

/// One routed request: who asks, the JSON body (an object), the query parameters
/// (percent-decoded), the path's placeholders in order, and the success status to answer.
struct ApiRequest {
  const HttpRequest& http;
  const std::string& client_address;
  User user;
  nlohmann::json body;
  std::map<std::string, std::string> query;
  std::vector<std::string> params;
  int status = 200;
  /// Empty for JSON; otherwise the handler's answer is a JSON string sent as this type (CSV).
  std::string content_type = {};
};

struct RestApiRoutes;

class RestApi {
 public:
  explicit RestApi(RelayContext& context);
  ~RestApi();

  /// The SLA policy of relay.json, parsed once; the relay's breach loop uses the same.
  const helpdesk::SlaPolicy& sla_policy() const { return *sla_; }

  /// Answers one request. Never throws: storage failures become 500 `internal`.
  boost::asio::awaitable<HttpResponse> handle(const HttpRequest& request,
                                              const std::string& client_address);

  /// For a console's tool WebSocket on /api/v1/sessions/S-n/channel: the authenticated
  /// technician and the active session that technician joined (nobody else may use it).
  /// Throws ApiError.
  boost::asio::awaitable<std::pair<User, SessionRecord>> authorize_channel(
      const HttpRequest& request);
  /// The error response for an ApiError (JSON body, matching HTTP status).
  static HttpResponse error_response(const ApiError& error, unsigned version);

 private:
  friend struct RestApiRoutes;
  boost::asio::awaitable<nlohmann::json> route(const HttpRequest& request,
                                               const std::string& client_address, int& status,
                                               std::string& content_type);
  boost::asio::awaitable<User> authenticate(const HttpRequest& request);

  boost::asio::awaitable<nlohmann::json> login(const nlohmann::json& body,
                                               const std::string& client_address);
  // Tickets and the help-desk workflow (ticket_api.cpp).
  boost::asio::awaitable<nlohmann::json> create_ticket(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> list_tickets(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> show_ticket(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> edit_ticket(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> assign_ticket(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> escalate_ticket(ApiRequest& r, bool upwards);
  boost::asio::awaitable<nlohmann::json> add_note(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> change_status(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> reopen_ticket(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> ticket_report(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> link_faq(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> list_users(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> sla_overview(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> list_faq(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> create_faq(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> show_faq(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> edit_faq(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> faq_suggestions(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> webhook_deliveries(ApiRequest& r);
  // Managed devices (enroll_api.cpp).
  boost::asio::awaitable<nlohmann::json> enroll(ApiRequest& r);
  // Managed devices for technicians (device_api.cpp).
  boost::asio::awaitable<nlohmann::json> list_devices(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> show_device(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> revoke_device(ApiRequest& r);
  // The fleet inventory: a device's inventory and history, queries, exports (fleet_api.cpp).
  boost::asio::awaitable<nlohmann::json> device_inventory(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> device_history(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> query_inventory(ApiRequest& r);
  boost::asio::awaitable<nlohmann::json> export_inventory(ApiRequest& r);

  /// Reads the ticket, checks the caller's expected "version" and that the caller may act at
  /// its level, lets `change` edit it and return the timeline entries to append, and writes
  /// both atomically. `change` runs on the store thread and may throw ApiError.
  boost::asio::awaitable<Ticket> update_ticket(
      ApiRequest& r, std::int64_t id,
      std::function<std::vector<TimelineEntry>(Ticket&, Store&)> change, bool check_level = true);
  boost::asio::awaitable<nlohmann::json> join_session(const User& user, const nlohmann::json& body,
                                                      const std::string& client_address);
  /// An unattended session on a managed device (body "device"), as its group's policy allows.
  boost::asio::awaitable<nlohmann::json> open_device_session(const User& user,
                                                             const nlohmann::json& body);
  /// The ticket named `ticket_text` if `user` may start a session on it now.
  boost::asio::awaitable<Ticket> workable_ticket(const User& user, const std::string& ticket_text);
  /// Asks the agent for consent to the requested session and records the answer; the session
  /// is attached to the agent under `broker_key` (a code hash or a device key).
  boost::asio::awaitable<nlohmann::json> start_session(const User& user, const Ticket& ticket,
                                                       const SessionRecord& requested,
                                                       std::shared_ptr<AgentConnection> agent,
                                                       const std::string& broker_key,
                                                       const std::vector<std::string>& scopes,
                                                       std::optional<std::string> consent_policy);
  boost::asio::awaitable<nlohmann::json> show_session(const User& user, std::int64_t id);
  boost::asio::awaitable<nlohmann::json> take_diagnostics(const User& user, std::int64_t id,
                                                          const nlohmann::json& body);
  boost::asio::awaitable<nlohmann::json> end_session(const User& user, std::int64_t id,
                                                     const nlohmann::json& body);

  boost::asio::awaitable<nlohmann::json> list_recordings(const User& user, std::int64_t id);
  boost::asio::awaitable<HttpResponse> download_recording(const HttpRequest& request);

  boost::asio::awaitable<SessionRecord> active_session_of(const User& user, std::int64_t id);
  /// Asks the session's agent for diagnostics, stores the snapshot and its timeline entry
  /// ("moment" prefixes the summary, e.g. "At session start"). Throws ApiError.
  boost::asio::awaitable<Snapshot> capture_snapshot(const SessionRecord& session,
                                                    std::shared_ptr<AgentConnection> agent,
                                                    const std::string& actor,
                                                    std::vector<std::string> sections,
                                                    std::string moment);
  /// The automatic snapshots at session start and end: only with the user's "diagnostics"
  /// consent and a connected agent; a failure lands on the timeline, never on the caller.
  boost::asio::awaitable<std::optional<Snapshot>> capture_snapshot_quietly(
      const SessionRecord& session, const std::string& actor, std::string moment);

  RelayContext& context_;
  std::unique_ptr<helpdesk::SlaPolicy> sla_;
};

/// JSON shapes shared by the API and its documentation. A ticket carries its SLA clocks as
/// of `now` under `policy`.
nlohmann::json ticket_json(const Ticket& ticket, const helpdesk::SlaPolicy& policy, TimePoint now);
/// The same with the clocks already computed (listings compute them once per ticket).
nlohmann::json ticket_json(const Ticket& ticket, const helpdesk::SlaPolicy& policy,
                           const helpdesk::SlaInput& input, const helpdesk::SlaStatus& sla);
nlohmann::json session_json(const SessionRecord& session);
/// Knowledge articles whose finding ids match the critical and warning findings of
/// `snapshot`: {"<finding id>": [{"id": "FAQ-n", "title"}]}.
nlohmann::json faq_matches(const std::vector<FaqArticle>& articles, const nlohmann::json& snapshot);
nlohmann::json timeline_json(const TimelineEntry& entry);

/// "T-12" → 12; prefix may be longer ("FAQ-3" with prefix "FAQ").
std::optional<std::int64_t> parse_object_id(std::string_view text, std::string_view prefix);
/// "T-12" → 12 (prefix optional, case-insensitive); nullopt for anything else.
std::optional<std::int64_t> parse_object_id(std::string_view text, char prefix);

}  // namespace tether::relay
