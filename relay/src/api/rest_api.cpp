#include "api/rest_api.hpp"

#include "api/api_util.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>

#include "auth/secrets.hpp"
#include "broker/agent_connection.hpp"
#include "broker/device_auth.hpp"
#include "broker/session_broker.hpp"
#include "broker/shell_recorder.hpp"
#include "helpdesk/session_diff_entry.hpp"
#include "helpdesk/sla.hpp"
#include "helpdesk/snapshot_diff.hpp"
#include "helpdesk/ticket_rules.hpp"
#include "relay_context.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"
#include "tether/protocol/support_code.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/relay/api_routes.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using protocol::Error;
using json = nlohmann::json;

namespace {

using namespace api;

// A session with the user's consent answers the requester (first response); a new ticket
// becomes open and, when nobody holds it, the joining technician's.
void note_session_started(Store& store, std::int64_t ticket_id, const std::string& technician) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ticket = store.find_ticket(ticket_id);
    if (!ticket) return;
    Ticket t = *ticket;
    json detail = {{"from", t.assignee.empty() ? json(nullptr) : json(t.assignee)}};
    std::string summary;
    if (!t.first_response_at) t.first_response_at = now();
    if (t.assignee.empty()) {
      t.assignee = technician;
      summary = "Assigned to " + technician + " (joined a session)";
    }
    detail["to"] = t.assignee;
    if (t.status == "new") {
      t.status = "open";
      detail["status"] = {{"from", "new"}, {"to", "open"}};
      summary += std::string(summary.empty() ? "Status" : "; status") + " new → open";
    }
    std::vector<TimelineEntry> entries;
    if (!summary.empty()) {
      entries.push_back(ticket_entry(ticket_id, technician, "ticket.assigned", summary, detail));
    }
    if (ticket->first_response_at == t.first_response_at && entries.empty()) return;
    if (store.update_ticket(t, entries)) return;
  }
}

// The scopes a technician asks for when joining: all of them unless the request names some.
std::vector<std::string> requested_scopes(const json& body) {
  const auto& kAll = all_scopes();
  auto it = body.find("scopes");
  if (it == body.end() || it->is_null()) return kAll;
  if (!it->is_array() || it->empty() || it->size() > kAll.size()) {
    fail(Error::bad_request,
         "\"scopes\" must list some of: diagnostics, shell, files, "
         "processes, logs");
  }
  std::vector<std::string> scopes;
  for (const auto& s : *it) {
    if (!s.is_string() || std::find(kAll.begin(), kAll.end(), s.get<std::string>()) == kAll.end()) {
      fail(Error::bad_request,
           "unknown scope in \"scopes\"; use diagnostics, shell, files, "
           "processes, logs");
    }
    if (std::find(scopes.begin(), scopes.end(), s.get<std::string>()) == scopes.end()) {
      scopes.push_back(s.get<std::string>());
    }
  }
  return scopes;
}

std::string scope_list(const json& scopes) {
  std::string out;
  for (const auto& s : scopes) {
    if (!s.is_string()) continue;
    if (!out.empty()) out += ", ";
    out += s.get<std::string>();
  }
  return out.empty() ? "none" : out;
}

std::string next_request_id() {
  static std::atomic<std::uint64_t> counter{0};
  return "r" + std::to_string(++counter);
}

}  // namespace

std::optional<std::int64_t> parse_object_id(std::string_view text, std::string_view prefix) {
  if (text.size() > prefix.size() + 1 && text[prefix.size()] == '-') {
    bool same = true;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
      same = same && std::toupper(static_cast<unsigned char>(text[i])) ==
                         std::toupper(static_cast<unsigned char>(prefix[i]));
    }
    if (same) text.remove_prefix(prefix.size() + 1);
  }
  if (text.empty() || text.size() > 18) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  if (value <= 0) return std::nullopt;
  return value;
}

std::optional<std::int64_t> parse_object_id(std::string_view text, char prefix) {
  return parse_object_id(text, std::string_view(&prefix, 1));
}

RestApi::RestApi(RelayContext& context)
    : context_(context),
      sla_(std::make_unique<helpdesk::SlaPolicy>(
          helpdesk::SlaPolicy::from_json(context.config.sla))) {}

RestApi::~RestApi() = default;

json session_json(const SessionRecord& s) {
  return {{"id", session_number(s.id)},
          {"ticket", ticket_number(s.ticket_id)},
          {"technician", s.technician},
          {"joined_by", s.joined_by},
          {"device", s.device},
          {"status", s.status},
          {"consent", s.consent},
          {"started_at", protocol::format_time(s.started_at)},
          {"ended_at", s.ended_at ? json(protocol::format_time(*s.ended_at)) : json(nullptr)},
          {"end_note", s.end_note}};
}

json timeline_json(const TimelineEntry& e) {
  return {{"at", protocol::format_time(e.at)},
          {"actor", e.actor},
          {"kind", e.kind},
          {"summary", e.summary},
          {"session", e.session_id ? json(session_number(*e.session_id)) : json(nullptr)},
          {"detail", e.detail}};
}

HttpResponse RestApi::error_response(const ApiError& error, unsigned version) {
  HttpResponse response{static_cast<http::status>(protocol::http_status(error.code)), version};
  response.set(http::field::server, "tether-relay/" TETHER_VERSION);
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  if (error.code == Error::unauthorized) {
    response.set(http::field::www_authenticate, "Bearer realm=\"tether\"");
  }
  response.keep_alive(false);
  response.body() =
      json{{"error", {{"code", protocol::to_string(error.code)}, {"message", error.message}}}}.dump(
          -1, ' ', false, json::error_handler_t::replace);
  response.prepare_payload();
  return response;
}

asio::awaitable<HttpResponse> RestApi::handle(const HttpRequest& request,
                                              const std::string& client_address) {
  // Recordings are files, not JSON: they are served as they are.
  if (request.method() == http::verb::get &&
      std::string_view(request.target()).starts_with("/api/v1/recordings/")) {
    try {
      co_return co_await download_recording(request);
    } catch (const ApiError& e) {
      auto response = error_response(e, request.version());
      response.keep_alive(request.keep_alive());
      co_return response;
    }
  }
  int status = 200;
  json body;
  std::string allow;
  std::string content_type;
  try {
    body = co_await route(request, client_address, status, content_type);
  } catch (const ApiError& e) {
    allow = e.allow;
    status = protocol::http_status(e.code);
    body = {{"error", {{"code", protocol::to_string(e.code)}, {"message", e.message}}}};
    if (e.details.is_object()) body["error"].update(e.details);
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", std::string(request.method_string()), std::string(request.target()),
                  e.what());
    status = 500;
    body = {{"error",
             {{"code", "internal"}, {"message", "internal relay error (see the relay's log)"}}}};
  }
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, "tether-relay/" TETHER_VERSION);
  const bool text = !content_type.empty() && body.is_string();
  response.set(http::field::content_type, text ? content_type : "application/json");
  response.set(http::field::cache_control, "no-store");
  if (status == 401) response.set(http::field::www_authenticate, "Bearer realm=\"tether\"");
  if (!allow.empty()) response.set(http::field::allow, allow);
  response.keep_alive(request.keep_alive());
  response.body() =
      text ? body.get<std::string>() : body.dump(-1, ' ', false, json::error_handler_t::replace);
  response.prepare_payload();
  co_return response;
}

namespace {

using RouteHandler = std::function<asio::awaitable<json>(RestApi&, ApiRequest&)>;

struct Route {
  http::verb verb;
  std::string_view pattern;  ///< Below /api/v1/; "{name}" matches one path segment.
  bool authenticated;
  int status;  ///< On success.
  RouteHandler handler;
};

}  // namespace

// The whole JSON API in one table, so the OpenAPI test can compare it with docs/openapi.yaml.
// Handlers are RestApi members; the two non-JSON routes (recording downloads and the channel
// WebSocket) are answered before routing and listed by api_routes() below.
struct RestApiRoutes {
  static const std::vector<Route>& all() {
    using A = ApiRequest;
    static const std::vector<Route> routes = {
        {http::verb::get, "health", false, 200,
         [](RestApi&, A&) -> asio::awaitable<json> {
           co_return json{{"status", "ok"}, {"version", TETHER_VERSION}};
         }},
        {http::verb::post, "login", false, 200,
         [](RestApi& api, A& r) { return api.login(r.body, r.client_address); }},
        {http::verb::post, "enroll", false, 201, [](RestApi& api, A& r) { return api.enroll(r); }},
        {http::verb::get, "me", true, 200,
         [](RestApi&, A& r) -> asio::awaitable<json> {
           co_return json{{"name", r.user.name},
                          {"role", r.user.role},
                          {"level", "L" + std::to_string(r.user.level)}};
         }},
        {http::verb::get, "users", true, 200, [](RestApi& api, A& r) { return api.list_users(r); }},
        {http::verb::get, "tickets", true, 200,
         [](RestApi& api, A& r) { return api.list_tickets(r); }},
        {http::verb::post, "tickets", true, 201,
         [](RestApi& api, A& r) { return api.create_ticket(r); }},
        {http::verb::get, "tickets/{ticket}", true, 200,
         [](RestApi& api, A& r) { return api.show_ticket(r); }},
        {http::verb::patch, "tickets/{ticket}", true, 200,
         [](RestApi& api, A& r) { return api.edit_ticket(r); }},
        {http::verb::post, "tickets/{ticket}/assign", true, 200,
         [](RestApi& api, A& r) { return api.assign_ticket(r); }},
        {http::verb::post, "tickets/{ticket}/escalate", true, 200,
         [](RestApi& api, A& r) { return api.escalate_ticket(r, true); }},
        {http::verb::post, "tickets/{ticket}/deescalate", true, 200,
         [](RestApi& api, A& r) { return api.escalate_ticket(r, false); }},
        {http::verb::post, "tickets/{ticket}/notes", true, 201,
         [](RestApi& api, A& r) { return api.add_note(r); }},
        {http::verb::post, "tickets/{ticket}/status", true, 200,
         [](RestApi& api, A& r) { return api.change_status(r); }},
        {http::verb::post, "tickets/{ticket}/reopen", true, 200,
         [](RestApi& api, A& r) { return api.reopen_ticket(r); }},
        {http::verb::get, "tickets/{ticket}/report", true, 200,
         [](RestApi& api, A& r) { return api.ticket_report(r); }},
        {http::verb::post, "tickets/{ticket}/faq", true, 200,
         [](RestApi& api, A& r) { return api.link_faq(r); }},
        {http::verb::get, "sla", true, 200, [](RestApi& api, A& r) { return api.sla_overview(r); }},
        {http::verb::get, "faq", true, 200, [](RestApi& api, A& r) { return api.list_faq(r); }},
        {http::verb::post, "faq", true, 201, [](RestApi& api, A& r) { return api.create_faq(r); }},
        {http::verb::get, "faq/suggestions", true, 200,
         [](RestApi& api, A& r) { return api.faq_suggestions(r); }},
        {http::verb::get, "faq/{faq}", true, 200,
         [](RestApi& api, A& r) { return api.show_faq(r); }},
        {http::verb::patch, "faq/{faq}", true, 200,
         [](RestApi& api, A& r) { return api.edit_faq(r); }},
        {http::verb::get, "webhooks/deliveries", true, 200,
         [](RestApi& api, A& r) { return api.webhook_deliveries(r); }},
        {http::verb::post, "sessions", true, 201,
         [](RestApi& api, A& r) { return api.join_session(r.user, r.body, r.client_address); }},
        {http::verb::get, "sessions/{session}", true, 200,
         [](RestApi& api, A& r) { return api.show_session(r.user, session_param(r)); }},
        {http::verb::post, "sessions/{session}/diagnostics", true, 201,
         [](RestApi& api, A& r) { return api.take_diagnostics(r.user, session_param(r), r.body); }},
        {http::verb::get, "sessions/{session}/recordings", true, 200,
         [](RestApi& api, A& r) { return api.list_recordings(r.user, session_param(r)); }},
        {http::verb::post, "sessions/{session}/end", true, 200,
         [](RestApi& api, A& r) { return api.end_session(r.user, session_param(r), r.body); }},
        {http::verb::get, "devices", true, 200,
         [](RestApi& api, A& r) { return api.list_devices(r); }},
        {http::verb::get, "devices/{device}", true, 200,
         [](RestApi& api, A& r) { return api.show_device(r); }},
        {http::verb::post, "devices/{device}/revoke", true, 200,
         [](RestApi& api, A& r) { return api.revoke_device(r); }},
        {http::verb::get, "devices/{device}/inventory", true, 200,
         [](RestApi& api, A& r) { return api.device_inventory(r); }},
        {http::verb::get, "devices/{device}/history", true, 200,
         [](RestApi& api, A& r) { return api.device_history(r); }},
        {http::verb::get, "inventory", true, 200,
         [](RestApi& api, A& r) { return api.query_inventory(r); }},
        {http::verb::get, "inventory/export", true, 200,
         [](RestApi& api, A& r) { return api.export_inventory(r); }},
    };
    return routes;
  }

  static std::int64_t session_param(const ApiRequest& r) {
    auto id = parse_object_id(r.params.at(0), 'S');
    if (!id) fail(Error::not_found, "no such session " + r.params.at(0).substr(0, 32));
    return *id;
  }
};

std::vector<ApiRoute> api_routes() {
  std::vector<ApiRoute> out;
  for (const auto& route : RestApiRoutes::all()) {
    out.push_back(
        {std::string(http::to_string(route.verb)), "/api/v1/" + std::string(route.pattern)});
  }
  out.push_back({"GET", "/api/v1/sessions/{session}/channel"});
  out.push_back({"GET", "/api/v1/recordings/{session}/{name}"});
  return out;
}

namespace {

/// %XX and '+' decoded; nullopt for a broken escape.
std::optional<std::string> percent_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] != '%') {
      out += text[i];
    } else {
      if (i + 2 >= text.size()) return std::nullopt;
      const int hi = hex(text[i + 1]);
      const int lo = hex(text[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
  }
  return out;
}

std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  if (query.size() > 4096) fail(Error::bad_request, "the query string is too long");
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    auto key = percent_decode(pair.substr(0, eq));
    auto value =
        percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    if (!key || !value) fail(Error::bad_request, "the query string has a broken %-escape");
    out[*key] = *value;
  }
  return out;
}

}  // namespace

asio::awaitable<json> RestApi::route(const HttpRequest& request, const std::string& client_address,
                                     int& status, std::string& content_type) {
  std::string_view target = request.target();
  std::string_view query;
  if (auto mark = target.find('?'); mark != std::string_view::npos) {
    query = target.substr(mark + 1);
    target = target.substr(0, mark);
  }
  constexpr std::string_view kPrefix = "/api/v1/";
  if (!target.starts_with(kPrefix)) fail(Error::not_found, "no such endpoint");
  std::vector<std::string_view> parts;
  for (auto rest = target.substr(kPrefix.size()); !rest.empty();) {
    const auto slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  const Route* found = nullptr;
  bool path_known = false;
  std::string allow;
  std::vector<std::string> params;
  for (const auto& route : RestApiRoutes::all()) {
    std::vector<std::string_view> pattern;
    for (auto rest = route.pattern; !rest.empty();) {
      const auto slash = rest.find('/');
      pattern.push_back(rest.substr(0, slash));
      if (slash == std::string_view::npos) break;
      rest.remove_prefix(slash + 1);
    }
    if (pattern.size() != parts.size()) continue;
    std::vector<std::string> values;
    bool match = true;
    for (std::size_t i = 0; i < parts.size() && match; ++i) {
      if (pattern[i].starts_with('{')) {
        values.emplace_back(parts[i]);
      } else {
        match = pattern[i] == parts[i];
      }
    }
    if (!match) continue;
    path_known = true;
    if (route.verb != request.method()) {
      allow += (allow.empty() ? "" : ", ") + std::string(http::to_string(route.verb));
      continue;
    }
    found = &route;
    params = std::move(values);
    break;
  }
  if (found == nullptr && path_known) {
    throw ApiError{Error::method_not_allowed,
                   std::string(request.method_string()) + " is not allowed on " +
                       std::string(target) + "; use " + allow,
                   allow};
  }
  if (found == nullptr) {
    fail(Error::not_found,
         "no such endpoint: " + std::string(request.method_string()) + " " + std::string(target));
  }

  json body = json::object();
  if (!request.body().empty()) {
    body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded()) fail(Error::bad_json, "the request body is not valid JSON");
    if (!body.is_object()) fail(Error::bad_request, "the request body must be a JSON object");
  }
  ApiRequest api_request{request,         client_address,     User{},
                         std::move(body), parse_query(query), std::move(params),
                         found->status};
  if (found->authenticated) api_request.user = co_await authenticate(request);
  auto result = co_await found->handler(*this, api_request);
  status = api_request.status;
  content_type = std::move(api_request.content_type);
  co_return result;
}

asio::awaitable<User> RestApi::authenticate(const HttpRequest& request) {
  const auto header = request[http::field::authorization];
  constexpr std::string_view kBearer = "Bearer ";
  if (!header.starts_with(kBearer) || header.size() == kBearer.size()) {
    fail(Error::unauthorized, "log in first: this request carries no bearer token");
  }
  const auto token_hash = sha256_hex(header.substr(kBearer.size()));
  auto user = co_await context_.store.run(
      [token_hash](Store& store) { return store.user_for_token(token_hash, now()); });
  if (!user) fail(Error::unauthorized, "the token is invalid or expired; log in again");
  co_return *user;
}

asio::awaitable<json> RestApi::login(const json& body, const std::string& client_address) {
  const auto name = text_field(body, "user", true, 256);
  const auto password = text_field(body, "password", true, 1024);
  const auto steady_now = FailureLimiter::Clock::now();
  for (const auto& key : {"user:" + name, "addr:" + client_address}) {
    if (context_.login_failures.blocked(key, steady_now)) {
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
          context_.login_failures.retry_after(key, steady_now));
      fail(Error::rate_limited,
           "too many failed logins; try again in " + std::to_string(wait.count() + 1) + " s");
    }
  }
  auto user = co_await context_.store.run([name](Store& store) { return store.find_user(name); });
  // Hash even for unknown users so timing does not reveal which names exist.
  const auto encoded = user ? user->password_hash : dummy_password_hash();
  const bool ok = co_await context_.store.compute(
      [password, encoded]() { return verify_password(password, encoded); });
  if (!user || !ok) {
    context_.login_failures.record_failure("user:" + name, steady_now);
    context_.login_failures.record_failure("addr:" + client_address, steady_now);
    spdlog::info("failed login for \"{}\" from {}", name, client_address);
    fail(Error::unauthorized, "wrong user name or password");
  }
  const auto token = random_token();
  const auto expires_at = now() + context_.config.token_ttl;
  co_await context_.store.run([hash = sha256_hex(token), id = user->id, expires_at](Store& store) {
    store.save_token(hash, id, expires_at);
  });
  spdlog::info("{} logged in from {}", name, client_address);
  co_return json{{"token", token},
                 {"expires_at", protocol::format_time(expires_at)},
                 {"user", {{"name", user->name}, {"role", user->role}}}};
}

asio::awaitable<json> RestApi::join_session(const User& user, const json& body,
                                            const std::string& client_address) {
  const bool by_device = body.contains("device");
  if (by_device == body.contains("code")) {
    fail(Error::bad_request,
         "give either \"code\" (the user's support code) or \"device\" (a managed device)");
  }
  if (by_device) co_return co_await open_device_session(user, body);
  const auto code_text = text_field(body, "code", true, 64);
  const auto ticket_text = text_field(body, "ticket", true, 32);
  // Checked before the code is claimed: a bad request must not spend the user's code.
  const auto scopes = requested_scopes(body);
  const auto steady_now = FailureLimiter::Clock::now();
  const std::string user_key = "user:" + user.name;
  const std::string addr_key = "addr:" + client_address;
  for (const auto& key : {user_key, addr_key}) {
    if (context_.join_failures.blocked(key, steady_now)) {
      const auto wait = std::chrono::duration_cast<std::chrono::seconds>(
          context_.join_failures.retry_after(key, steady_now));
      fail(Error::rate_limited,
           "too many wrong support codes; try again in " + std::to_string(wait.count() + 1) + " s");
    }
  }
  auto failed = [&](Error code, std::string message) {
    context_.join_failures.record_failure(user_key, steady_now);
    context_.join_failures.record_failure(addr_key, steady_now);
    fail(code, std::move(message));
  };

  auto code = protocol::SupportCode::parse(code_text);
  const auto ticket = co_await workable_ticket(user, ticket_text);
  if (!code) failed(Error::code_invalid, "that is not a valid support code (check the digits)");
  const auto code_hash = sha256_hex(code->digits());

  auto record =
      co_await context_.store.run([&](Store& store) { return store.find_support_code(code_hash); });
  if (!record)
    failed(Error::code_invalid, "no session is waiting for support code " + code->display());
  if (record->session_id)
    failed(Error::code_used, "support code " + code->display() + " was already used");
  if (record->expires_at <= now()) {
    failed(Error::code_expired, "support code " + code->display() +
                                    " has expired; ask the user to start a new support session");
  }
  auto agent = co_await context_.broker.agent_for_code(code_hash);
  if (!agent) {
    fail(Error::agent_offline,
         "the agent for support code " + code->display() +
             " is not connected right now; ask the user to check it is running");
  }

  // The code is claimed before the user is asked, so it can never start two sessions.
  auto session = co_await context_.store.run([&, name = user.name,
                                              device = agent->device()](Store& store) {
    auto created = store.create_session(ticket.id, name, "support_code", device, now());
    if (!store.claim_support_code(code_hash, created.id)) {
      store.end_session(created.id, now(), "support code already used");
      return std::optional<SessionRecord>{};
    }
    store.append_timeline(session_entry(created, name, "session.requested",
                                        name + " joined with support code " + code->display() +
                                            " on " + device + "; waiting for the user's consent",
                                        {{"device", device}, {"joined_by", "support_code"}}));
    return std::optional<SessionRecord>(created);
  });
  if (!session) failed(Error::code_used, "support code " + code->display() + " was already used");
  co_return co_await start_session(user, ticket, *session, agent, code_hash, scopes, std::nullopt);
}

asio::awaitable<Ticket> RestApi::workable_ticket(const User& user, const std::string& ticket_text) {
  const auto ticket_id = parse_object_id(ticket_text, 'T');
  if (!ticket_id) fail(Error::not_found, "no such ticket " + ticket_text);
  auto ticket = co_await context_.store.run(
      [id = *ticket_id](Store& store) { return store.find_ticket(id); });
  if (!ticket) fail(Error::not_found, "no such ticket " + ticket_text);
  if (ticket->status == "closed" || ticket->status == "resolved") {
    fail(Error::conflict, ticket_number(ticket->id) + " is " + ticket->status +
                              "; reopen it first (`tether ticket reopen " +
                              ticket_number(ticket->id) + " --reason …`)");
  }
  if (auto why = helpdesk::check_may_act(ticket_number(ticket->id), ticket->level, user.name,
                                         user.role, user.level)) {
    fail(Error::forbidden, *why);
  }
  co_return *ticket;
}

asio::awaitable<json> RestApi::open_device_session(const User& user, const json& body) {
  const auto device_text = text_field(body, "device", true, 32);
  const auto ticket_text = text_field(body, "ticket", true, 32);
  const auto device_id = parse_device_number(device_text);
  if (!device_id) fail(Error::not_found, "no such device " + device_text);
  const auto name = device_number(*device_id);
  auto device = co_await context_.store.run(
      [id = *device_id](Store& store) { return store.find_device(id); });
  if (!device) fail(Error::not_found, "no such device " + name);
  if (device->status == "revoked") fail(Error::forbidden, name + " is revoked");
  const auto policy = context_.config.policy_for(device->group_name);
  const auto group =
      device->group_name.empty() ? std::string("(no group)") : "\"" + device->group_name + "\"";
  if (!policy.unattended) {
    fail(Error::forbidden, name + "'s group " + group +
                               " does not allow unattended sessions (relay.json \"groups\"); "
                               "ask the user for a support code");
  }
  auto scopes = body.contains("scopes") ? requested_scopes(body) : policy.scopes;
  for (const auto& scope : scopes) {
    if (std::find(policy.scopes.begin(), policy.scopes.end(), scope) == policy.scopes.end()) {
      fail(Error::forbidden,
           name + "'s group " + group + " allows only: " + scope_list(json(policy.scopes)));
    }
  }
  const auto ticket = co_await workable_ticket(user, ticket_text);
  auto agent = co_await context_.broker.device_connection(*device_id);
  if (!agent) {
    fail(Error::agent_offline,
         name + " is offline" +
             (device->last_seen_at
                  ? " (last seen " + protocol::format_time(*device->last_seen_at) + ")"
                  : std::string(" (never connected)")));
  }
  auto session = co_await context_.store.run(
      [&, technician = user.name, description = agent->device()](Store& store) {
        auto created = store.create_session(ticket.id, technician, "device", description, now());
        store.append_timeline(session_entry(
            created, technician, "session.requested",
            technician + " opened an unattended session on " + description + " (group " + group +
                ", consent: " + policy.consent + "); waiting for the device's answer",
            {{"device", name}, {"joined_by", "device"}, {"consent_policy", policy.consent}}));
        return created;
      });
  co_return co_await start_session(user, ticket, session, agent,
                                   SessionBroker::device_key(*device_id), scopes, policy.consent);
}

asio::awaitable<json> RestApi::start_session(const User& user, const Ticket& ticket,
                                             const SessionRecord& requested,
                                             std::shared_ptr<AgentConnection> agent,
                                             const std::string& broker_key,
                                             const std::vector<std::string>& scopes,
                                             std::optional<std::string> consent_policy) {
  const auto* session = &requested;
  agent->bind_session(session->id);
  co_await context_.broker.attach_session(session->id, broker_key);
  spdlog::info("{} joined {} for {}; asking for consent", user.name, session_number(session->id),
               ticket_number(ticket.id));

  protocol::JoinRequest join;
  join.id = next_request_id();
  join.session = session_number(session->id);
  join.technician = user.name;
  join.ticket.number = ticket_number(ticket.id);
  join.ticket.title = ticket.title;
  join.scopes = scopes;
  join.consent = std::move(consent_policy);
  auto answer = co_await agent->request(join, join.id, context_.config.consent_timeout);

  json consent;
  Error outcome = Error::ok;
  std::string refusal_by = "the user";
  std::string refusal_reason;
  if (!answer) {
    outcome =
        answer.error() == Error::agent_timeout ? Error::consent_timeout : Error::agent_offline;
  } else if (auto* reply = std::get_if<protocol::Consent>(&*answer)) {
    consent = {{"granted", reply->granted},
               {"scopes", reply->scopes},
               {"by", reply->by},
               {"at", protocol::format_time(now())}};
    if (!reply->granted) outcome = Error::consent_refused;
    refusal_by = reply->by;
  } else if (auto* error = std::get_if<protocol::ErrorMessage>(&*answer)) {
    // A managed device refuses by policy with its reason (nobody can be asked, …).
    outcome = Error::consent_refused;
    refusal_by = "the device";
    refusal_reason = protocol::printable_text(error->message.substr(0, 500));
  } else {
    outcome = Error::consent_refused;
  }
  if (consent.is_null()) {
    consent = {{"granted", false},
               {"scopes", json::array()},
               {"by", nullptr},
               {"at", protocol::format_time(now())},
               {"reason", protocol::to_string(outcome)}};
  }

  auto updated = co_await context_.store.run([&, name = user.name](Store& store) {
    store.record_consent(session->id, consent);
    if (outcome == Error::ok) {
      store.append_timeline(session_entry(*session, "agent:" + agent->hostname(), "consent.granted",
                                          consent["by"].get<std::string>() +
                                              " granted consent to " + name +
                                              " (scopes: " + scope_list(consent["scopes"]) + ")",
                                          consent));
      note_session_started(store, session->ticket_id, name);
    } else {
      const std::string why = outcome == Error::consent_refused
                                  ? refusal_by + " refused consent" +
                                        (refusal_reason.empty() ? "" : ": " + refusal_reason)
                              : outcome == Error::consent_timeout
                                  ? "the user did not answer the consent prompt in time"
                                  : "the agent disconnected before the user answered";
      store.append_timeline(session_entry(
          *session,
          outcome == Error::consent_refused ? "agent:" + agent->hostname() : std::string("relay"),
          "consent.refused", "Session not started: " + why, consent));
      store.end_session(session->id, now(), why);
    }
    return store.find_session(session->id);
  });
  if (outcome != Error::ok) {
    co_await context_.broker.detach_session(session->id);
    // The code is spent either way; the agent learns the session will not happen and stops.
    agent->send(protocol::SessionEnd{
        join.session, outcome == Error::consent_refused ? "consent refused" : "no consent in time",
        "relay"});
    fail(outcome, !refusal_reason.empty() ? refusal_reason
                  : outcome == Error::consent_refused
                      ? "the user refused the session; nothing was shared"
                      : std::string(protocol::describe(outcome)));
  }
  // The "before" picture, so the session's end can say what changed.
  co_await capture_snapshot_quietly(*updated, user.name, "At session start");
  co_return session_json(*updated);
}

asio::awaitable<SessionRecord> RestApi::active_session_of(const User& user, std::int64_t id) {
  auto session = co_await context_.store.run([id](Store& store) { return store.find_session(id); });
  if (!session) fail(Error::not_found, "no such session " + session_number(id));
  if (session->technician != user.name && user.role != "admin") {
    fail(Error::forbidden, session_number(id) + " belongs to " + session->technician);
  }
  if (session->status != "active") {
    fail(Error::session_ended, session_number(id) + " is " + session->status);
  }
  co_return *session;
}

asio::awaitable<json> RestApi::show_session(const User& user, std::int64_t id) {
  auto session = co_await context_.store.run([id](Store& store) { return store.find_session(id); });
  if (!session) fail(Error::not_found, "no such session " + session_number(id));
  if (session->technician != user.name && user.role != "admin") {
    fail(Error::forbidden, session_number(id) + " belongs to " + session->technician);
  }
  json out = session_json(*session);
  out["agent_online"] = (co_await context_.broker.agent_for_session(id)) != nullptr;
  co_return out;
}

asio::awaitable<Snapshot> RestApi::capture_snapshot(const SessionRecord& session,
                                                    std::shared_ptr<AgentConnection> agent,
                                                    const std::string& actor,
                                                    std::vector<std::string> sections,
                                                    std::string moment) {
  protocol::DiagRequest request;
  request.id = next_request_id();
  request.session = session_number(session.id);
  request.sections = std::move(sections);
  auto answer = co_await agent->request(request, request.id, context_.config.agent_request_timeout);
  if (!answer) fail(static_cast<Error>(answer.error().value()), answer.error().message());
  if (auto* error = std::get_if<protocol::ErrorMessage>(&*answer)) {
    fail(protocol::error_from_string(error->code), "the agent refused: " + error->message);
  }
  auto* result = std::get_if<protocol::DiagResult>(&*answer);
  if (result == nullptr) fail(Error::internal, "the agent answered with the wrong message");
  const auto digest = helpdesk::findings_digest(result->snapshot);
  auto summary = helpdesk::snapshot_summary(result->snapshot, digest);
  if (!moment.empty()) summary = moment + ": " + summary;
  co_return co_await context_.store.run([&, actor](Store& store) {
    auto saved = store.save_snapshot(session.id, result->snapshot, now());
    json detail = {
        {"snapshot", saved.id}, {"findings", digest["counts"]}, {"problems", digest["problems"]}};
    if (!moment.empty()) detail["moment"] = moment;
    store.append_timeline(session_entry(session, actor, "diagnostics.snapshot", summary, detail));
    return saved;
  });
}

asio::awaitable<std::optional<Snapshot>> RestApi::capture_snapshot_quietly(
    const SessionRecord& session, const std::string& actor, std::string moment) {
  const bool granted = session.consent.is_object() && session.consent.contains("scopes") &&
                       session.consent["scopes"].is_array() &&
                       std::find(session.consent["scopes"].begin(), session.consent["scopes"].end(),
                                 "diagnostics") != session.consent["scopes"].end();
  if (!granted) co_return std::nullopt;
  auto agent = co_await context_.broker.agent_for_session(session.id);
  if (!agent) co_return std::nullopt;
  std::string message;
  try {
    co_return co_await capture_snapshot(session, agent, actor, {}, moment);
  } catch (const ApiError& e) {
    message = e.message;
  }
  spdlog::warn("{}: no automatic snapshot: {}", session_number(session.id), message);
  co_await context_.store.run([&](Store& store) {
    store.append_timeline(session_entry(session, "relay", "diagnostics.failed",
                                        moment + ": no diagnostics snapshot: " + message,
                                        {{"reason", message}, {"moment", moment}}));
  });
  co_return std::nullopt;
}

asio::awaitable<json> RestApi::take_diagnostics(const User& user, std::int64_t id,
                                                const json& body) {
  const auto session = co_await active_session_of(user, id);
  if (session.technician != user.name) {
    fail(Error::forbidden, session_number(id) + " belongs to " + session.technician);
  }
  auto agent = co_await context_.broker.agent_for_session(id);
  if (!agent)
    fail(Error::agent_offline, "the agent of " + session_number(id) + " is not connected");
  std::vector<std::string> sections;
  if (auto list = body.find("sections"); list != body.end()) {
    if (!list->is_array() || list->size() > 32) {
      fail(Error::bad_request, "\"sections\" must be a list of section names");
    }
    for (const auto& s : *list) {
      if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > 64) {
        fail(Error::bad_request, "\"sections\" must be a list of section names");
      }
      sections.push_back(s.get<std::string>());
    }
  }
  auto snapshot = co_await capture_snapshot(session, agent, user.name, std::move(sections), "");
  auto articles = co_await context_.store.run([](Store& store) { return store.list_faq(""); });
  co_return json{{"session", session_number(id)},
                 {"snapshot_id", snapshot.id},
                 {"taken_at", protocol::format_time(snapshot.taken_at)},
                 {"faq", faq_matches(articles, snapshot.data)},
                 {"snapshot", std::move(snapshot.data)}};
}

asio::awaitable<json> RestApi::end_session(const User& user, std::int64_t id, const json& body) {
  const auto note = text_field(body, "note", false);
  const auto session = co_await active_session_of(user, id);
  // The "after" picture, taken while the agent still serves the session.
  co_await capture_snapshot_quietly(session, user.name, "At session end");
  if (auto agent = co_await context_.broker.agent_for_session(id)) {
    agent->send(protocol::SessionEnd{session_number(id), note, user.name});
  }
  co_await context_.broker.detach_session(id);
  auto ended = co_await context_.store.run([&, name = user.name](Store& store) {
    const auto at = now();
    if (auto diff = helpdesk::session_diff_entry(store, session, name, at)) {
      store.append_timeline(*diff);
    }
    store.end_session(id, at, note);
    store.append_timeline(session_entry(
        session, name, "session.ended",
        "Session " + session_number(id) + " ended by " + name + (note.empty() ? "" : ": " + note),
        {{"note", note}, {"by", name}, {"from", "technician"}}));
    return store.find_session(id);
  });
  spdlog::info("{} ended {}", user.name, session_number(id));
  co_return session_json(*ended);
}

asio::awaitable<std::pair<User, SessionRecord>> RestApi::authorize_channel(
    const HttpRequest& request) {
  std::string_view target = request.target();
  constexpr std::string_view kPrefix = "/api/v1/sessions/";
  constexpr std::string_view kSuffix = "/channel";
  if (!target.starts_with(kPrefix) || !target.ends_with(kSuffix) ||
      target.size() <= kPrefix.size() + kSuffix.size()) {
    fail(Error::not_found, "no WebSocket endpoint here");
  }
  const auto id_text =
      target.substr(kPrefix.size(), target.size() - kPrefix.size() - kSuffix.size());
  const auto user = co_await authenticate(request);
  const auto id = parse_object_id(id_text, 'S');
  if (!id) fail(Error::not_found, "no such session " + std::string(id_text.substr(0, 32)));
  auto session = co_await active_session_of(user, *id);
  // Tools act on someone's PC: only the technician the user consented to may use them.
  if (session.technician != user.name) {
    fail(Error::forbidden, session_number(*id) + " belongs to " + session.technician +
                               "; join your own session with the user's consent");
  }
  co_return std::pair(user, session);
}

asio::awaitable<json> RestApi::list_recordings(const User& user, std::int64_t id) {
  auto session = co_await context_.store.run([id](Store& store) { return store.find_session(id); });
  if (!session) fail(Error::not_found, "no such session " + session_number(id));
  const auto dir = session_recordings_dir(context_.config.data_dir / "recordings", id);
  json list = json::array();
  std::error_code ec;
  std::vector<std::filesystem::directory_entry> entries;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) entries.push_back(entry);
  // Names are "<UTC time>-<counter>.cast": oldest first, the counter compared as a number.
  auto key = [](const std::filesystem::directory_entry& e) {
    const auto name = e.path().stem().string();
    const auto dash = name.rfind('-');
    std::uint64_t counter = 0;
    if (dash != std::string::npos) {
      for (char c : name.substr(dash + 1)) {
        if (c < '0' || c > '9') break;
        counter = counter * 10 + static_cast<std::uint64_t>(c - '0');
      }
    }
    return std::pair(name.substr(0, dash), counter);
  };
  std::sort(entries.begin(), entries.end(),
            [&](const auto& a, const auto& b) { return key(a) < key(b); });
  for (const auto& entry : entries) {
    if (!entry.is_regular_file(ec) || entry.path().extension() != ".cast") continue;
    const auto name = entry.path().filename().string();
    list.push_back({{"name", name},
                    {"bytes", entry.file_size(ec)},
                    {"url", "/api/v1/recordings/" + session_number(id) + "/" + name}});
  }
  (void)user;
  co_return json{{"session", session_number(id)}, {"recordings", list}};
}

asio::awaitable<HttpResponse> RestApi::download_recording(const HttpRequest& request) {
  const auto user = co_await authenticate(request);
  (void)user;
  // /api/v1/recordings/S-<n>/<name>.cast
  auto rest =
      std::string_view(request.target()).substr(std::string_view("/api/v1/recordings/").size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) fail(Error::not_found, "no such recording");
  const auto id = parse_object_id(rest.substr(0, slash), 'S');
  const auto name = std::string(rest.substr(slash + 1));
  const bool safe_name = !name.empty() && name.size() <= 64 && name.ends_with(".cast") &&
                         name.find_first_not_of("0123456789TZ-.acst") == std::string::npos &&
                         name.find("..") == std::string::npos;
  if (!id || !safe_name) fail(Error::not_found, "no such recording");
  const auto path = session_recordings_dir(context_.config.data_dir / "recordings", *id) / name;
  auto body = co_await context_.store.run([path](Store&) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::optional<std::string>{};
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::optional<std::string>(std::move(text));
  });
  if (!body) fail(Error::not_found, "no such recording");
  HttpResponse response{http::status::ok, request.version()};
  response.set(http::field::server, "tether-relay/" TETHER_VERSION);
  response.set(http::field::content_type, "application/x-asciicast");
  response.set(http::field::cache_control, "no-store");
  response.keep_alive(request.keep_alive());
  response.body() = std::move(*body);
  response.prepare_payload();
  co_return response;
}

}  // namespace tether::relay
