#pragma once
// The technician REST API under /api/v1 (docs/api.md). Pure request → response: the HTTP
// connection reads and writes, this decides. Handlers run as coroutines on the calling
// connection's strand and reach the store, the broker and agents by co_await.

#include <cstdint>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <nlohmann/json.hpp>

#include "tether/protocol/error.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay {

struct RelayContext;

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

/// A failed request: the error code, the HTTP status that goes with it, a message for people.
struct ApiError {
  protocol::Error code;
  std::string message;
};

class RestApi {
 public:
  explicit RestApi(RelayContext& context) : context_(context) {}

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
  boost::asio::awaitable<nlohmann::json> route(const HttpRequest& request,
                                               const std::string& client_address, int& status);
  boost::asio::awaitable<User> authenticate(const HttpRequest& request);

  boost::asio::awaitable<nlohmann::json> login(const nlohmann::json& body,
                                               const std::string& client_address);
  boost::asio::awaitable<nlohmann::json> create_ticket(const User& user,
                                                       const nlohmann::json& body);
  boost::asio::awaitable<nlohmann::json> list_tickets();
  boost::asio::awaitable<nlohmann::json> show_ticket(std::int64_t id);
  boost::asio::awaitable<nlohmann::json> join_session(const User& user, const nlohmann::json& body,
                                                      const std::string& client_address);
  boost::asio::awaitable<nlohmann::json> show_session(const User& user, std::int64_t id);
  boost::asio::awaitable<nlohmann::json> take_diagnostics(const User& user, std::int64_t id,
                                                          const nlohmann::json& body);
  boost::asio::awaitable<nlohmann::json> end_session(const User& user, std::int64_t id,
                                                     const nlohmann::json& body);

  boost::asio::awaitable<nlohmann::json> list_recordings(const User& user, std::int64_t id);
  boost::asio::awaitable<HttpResponse> download_recording(const HttpRequest& request);

  boost::asio::awaitable<SessionRecord> active_session_of(const User& user, std::int64_t id);

  RelayContext& context_;
};

/// JSON shapes shared by the API and its documentation.
nlohmann::json ticket_json(const Ticket& ticket);
nlohmann::json session_json(const SessionRecord& session);
nlohmann::json timeline_json(const TimelineEntry& entry);

/// "T-12" → 12 (prefix optional, case-insensitive); nullopt for anything else.
std::optional<std::int64_t> parse_object_id(std::string_view text, char prefix);

}  // namespace tether::relay
