#include "api/rest_api.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <boost/beast/http/field.hpp>
#include <boost/beast/version.hpp>

#include "auth/secrets.hpp"
#include "broker/agent_connection.hpp"
#include "broker/session_broker.hpp"
#include "broker/shell_recorder.hpp"
#include "relay_context.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"
#include "tether/protocol/support_code.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using protocol::Error;
using json = nlohmann::json;

namespace {

[[noreturn]] void fail(Error code, std::string message) {
  throw ApiError{code, std::move(message)};
}

std::string ticket_number(std::int64_t id) {
  return "T-" + std::to_string(id);
}
std::string session_number(std::int64_t id) {
  return "S-" + std::to_string(id);
}

/// A required or optional string field of a request body, bounded in length.
std::string text_field(const json& body, const char* key, bool required,
                       std::size_t max = protocol::kMaxTextField) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) {
    if (required) fail(Error::bad_request, std::string("missing field \"") + key + "\"");
    return {};
  }
  if (!it->is_string()) fail(Error::bad_request, std::string("\"") + key + "\" must be a string");
  auto value = it->get<std::string>();
  if (value.size() > max) {
    fail(Error::message_too_large,
         std::string("\"") + key + "\" is longer than " + std::to_string(max) + " bytes");
  }
  if (required && value.find_first_not_of(" \t\r\n") == std::string::npos) {
    fail(Error::bad_request, std::string("\"") + key + "\" must not be empty");
  }
  return value;
}

TimelineEntry entry_for(const SessionRecord& session, std::string actor, std::string kind,
                        std::string summary, json detail = json::object()) {
  TimelineEntry entry;
  entry.ticket_id = session.ticket_id;
  entry.session_id = session.id;
  entry.at = now();
  entry.actor = std::move(actor);
  entry.kind = std::move(kind);
  entry.summary = std::move(summary);
  entry.detail = std::move(detail);
  return entry;
}

// The scopes a technician asks for when joining: all of them unless the request names some.
std::vector<std::string> requested_scopes(const json& body) {
  static const std::vector<std::string> kAll = {"diagnostics", "shell", "files", "processes",
                                                "logs"};
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

/// One line for the timeline from a snapshot: what machine, how full its disks are.
// Counts of the snapshot's findings per severity and the problems worth naming on the
// timeline (critical and warning), tolerant of any shape an agent sends.
json findings_digest(const json& snapshot) {
  json counts = {{"critical", 0}, {"warning", 0}, {"info", 0}, {"ok", 0}};
  json problems = json::array();
  const auto findings = snapshot.find("findings");
  if (findings == snapshot.end() || !findings->is_array()) return {{"counts", counts}};
  for (const auto& finding : *findings) {
    if (!finding.is_object()) continue;
    const auto severity = finding.value("severity", json()).is_string()
                              ? finding["severity"].get<std::string>()
                              : std::string();
    if (!counts.contains(severity)) continue;
    counts[severity] = counts[severity].get<int>() + 1;
    if ((severity == "critical" || severity == "warning") && problems.size() < 20) {
      problems.push_back({{"id", finding.value("id", json()).is_string() ? finding["id"] : ""},
                          {"severity", severity},
                          {"summary", finding.value("summary", json()).is_string()
                                          ? finding["summary"].get<std::string>().substr(0, 200)
                                          : ""}});
    }
  }
  return {{"counts", counts}, {"problems", problems}};
}

std::string snapshot_summary(const json& snapshot, const json& digest) {
  std::string summary = "Diagnostics snapshot";
  const auto system = snapshot.value("system", json::object());
  if (system.is_object()) {
    if (auto host = system.find("hostname"); host != system.end() && host->is_string()) {
      summary += " of " + host->get<std::string>();
    }
    auto os = system.find("os");
    if (os != system.end() && os->is_object()) {
      auto pretty = os->find("pretty_name");
      if (pretty != os->end() && pretty->is_string())
        summary += " (" + pretty->get<std::string>() + ")";
    }
  }
  const auto& counts = digest["counts"];
  const int critical = counts["critical"].get<int>();
  const int warning = counts["warning"].get<int>();
  if (!snapshot.contains("findings")) {
    std::size_t sections = 0;
    for (const auto& [key, value] : snapshot.items()) sections += value.is_object() ? 1 : 0;
    return summary + ", " + std::to_string(sections) + " sections";
  }
  if (critical == 0 && warning == 0) {
    return summary + ": no problems found (" + std::to_string(counts["ok"].get<int>()) +
           " checks passed)";
  }
  summary += ": " + std::to_string(critical) + " critical, " + std::to_string(warning) +
             (warning == 1 ? " warning" : " warnings");
  const auto& problems = digest["problems"];
  for (std::size_t i = 0; i < problems.size() && i < 3; ++i) {
    summary += (i == 0 ? " — " : "; ") + problems[i]["summary"].get<std::string>();
  }
  if (problems.size() > 3) summary += "; …";
  return summary;
}

}  // namespace

std::optional<std::int64_t> parse_object_id(std::string_view text, char prefix) {
  if (text.size() > 2 && (text[0] == prefix || text[0] == std::tolower(prefix)) && text[1] == '-') {
    text.remove_prefix(2);
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

json ticket_json(const Ticket& t) {
  return {{"id", ticket_number(t.id)},
          {"title", t.title},
          {"description", t.description},
          {"requester", t.requester},
          {"status", t.status},
          {"created_by", t.created_by},
          {"created_at", protocol::format_time(t.created_at)},
          {"updated_at", protocol::format_time(t.updated_at)}};
}

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
  try {
    body = co_await route(request, client_address, status);
  } catch (const ApiError& e) {
    status = protocol::http_status(e.code);
    body = {{"error", {{"code", protocol::to_string(e.code)}, {"message", e.message}}}};
  } catch (const std::exception& e) {
    spdlog::error("{} {}: {}", std::string(request.method_string()), std::string(request.target()),
                  e.what());
    status = 500;
    body = {{"error",
             {{"code", "internal"}, {"message", "internal relay error (see the relay's log)"}}}};
  }
  HttpResponse response{static_cast<http::status>(status), request.version()};
  response.set(http::field::server, "tether-relay/" TETHER_VERSION);
  response.set(http::field::content_type, "application/json");
  response.set(http::field::cache_control, "no-store");
  if (status == 401) response.set(http::field::www_authenticate, "Bearer realm=\"tether\"");
  response.keep_alive(request.keep_alive());
  response.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  response.prepare_payload();
  co_return response;
}

asio::awaitable<json> RestApi::route(const HttpRequest& request, const std::string& client_address,
                                     int& status) {
  std::string_view target = request.target();
  if (auto query = target.find('?'); query != std::string_view::npos)
    target = target.substr(0, query);
  constexpr std::string_view kPrefix = "/api/v1/";
  if (!target.starts_with(kPrefix)) fail(Error::not_found, "no such endpoint");
  std::vector<std::string_view> parts;
  for (auto rest = target.substr(kPrefix.size()); !rest.empty();) {
    const auto slash = rest.find('/');
    parts.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  const auto method = request.method();
  auto is = [&](http::verb verb, std::initializer_list<std::string_view> path) {
    if (verb != method || path.size() != parts.size()) return false;
    std::size_t i = 0;
    for (auto p : path) {
      if (p != "*" && p != parts[i]) return false;
      ++i;
    }
    return true;
  };

  json body = json::object();
  if (!request.body().empty()) {
    body = json::parse(request.body(), nullptr, false);
    if (body.is_discarded()) fail(Error::bad_json, "the request body is not valid JSON");
    if (!body.is_object()) fail(Error::bad_request, "the request body must be a JSON object");
  }

  if (is(http::verb::get, {"health"}))
    co_return json{{"status", "ok"}, {"version", TETHER_VERSION}};
  if (is(http::verb::post, {"login"})) co_return co_await login(body, client_address);

  const User user = co_await authenticate(request);
  auto id_of = [&](std::size_t index, char prefix) {
    auto id = parse_object_id(parts[index], prefix);
    if (!id)
      fail(Error::not_found, "no such " + std::string(prefix == 'T' ? "ticket " : "session ") +
                                 std::string(parts[index]));
    return *id;
  };
  if (is(http::verb::get, {"me"})) co_return json{{"name", user.name}, {"role", user.role}};
  if (is(http::verb::get, {"tickets"})) co_return co_await list_tickets();
  if (is(http::verb::post, {"tickets"})) {
    status = 201;
    co_return co_await create_ticket(user, body);
  }
  if (is(http::verb::get, {"tickets", "*"})) co_return co_await show_ticket(id_of(1, 'T'));
  if (is(http::verb::post, {"sessions"})) {
    status = 201;
    co_return co_await join_session(user, body, client_address);
  }
  if (is(http::verb::get, {"sessions", "*"})) co_return co_await show_session(user, id_of(1, 'S'));
  if (is(http::verb::post, {"sessions", "*", "diagnostics"})) {
    status = 201;
    co_return co_await take_diagnostics(user, id_of(1, 'S'), body);
  }
  if (is(http::verb::get, {"sessions", "*", "recordings"})) {
    co_return co_await list_recordings(user, id_of(1, 'S'));
  }
  if (is(http::verb::post, {"sessions", "*", "end"})) {
    co_return co_await end_session(user, id_of(1, 'S'), body);
  }
  fail(Error::not_found,
       "no such endpoint: " + std::string(request.method_string()) + " " + std::string(target));
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

asio::awaitable<json> RestApi::create_ticket(const User& user, const json& body) {
  auto title = text_field(body, "title", true, 512);
  auto description = text_field(body, "description", false);
  auto requester = text_field(body, "requester", false, 512);
  auto ticket = co_await context_.store.run([=, name = user.name](Store& store) {
    return store.create_ticket(title, description, requester, name, now());
  });
  co_return ticket_json(ticket);
}

asio::awaitable<json> RestApi::list_tickets() {
  auto tickets = co_await context_.store.run([](Store& store) { return store.list_tickets(); });
  json out = json::array();
  for (const auto& t : tickets) out.push_back(ticket_json(t));
  co_return json{{"tickets", out}};
}

asio::awaitable<json> RestApi::show_ticket(std::int64_t id) {
  auto found = co_await context_.store.run([id](Store& store) {
    struct Found {
      std::optional<Ticket> ticket;
      std::vector<SessionRecord> sessions;
      std::vector<TimelineEntry> timeline;
    } found;
    found.ticket = store.find_ticket(id);
    if (found.ticket) {
      found.sessions = store.sessions_for_ticket(id);
      found.timeline = store.timeline(id);
    }
    return found;
  });
  if (!found.ticket) fail(Error::not_found, "no such ticket " + ticket_number(id));
  json out = ticket_json(*found.ticket);
  out["sessions"] = json::array();
  for (const auto& s : found.sessions) out["sessions"].push_back(session_json(s));
  out["timeline"] = json::array();
  for (const auto& e : found.timeline) out["timeline"].push_back(timeline_json(e));
  co_return out;
}

asio::awaitable<json> RestApi::join_session(const User& user, const json& body,
                                            const std::string& client_address) {
  const auto code_text = text_field(body, "code", true, 64);
  const auto ticket_text = text_field(body, "ticket", true, 32);
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

  const auto ticket_id = parse_object_id(ticket_text, 'T');
  if (!ticket_id) fail(Error::not_found, "no such ticket " + ticket_text);
  auto code = protocol::SupportCode::parse(code_text);
  if (!code) failed(Error::code_invalid, "that is not a valid support code (check the digits)");
  const auto code_hash = sha256_hex(code->digits());

  auto [ticket, record] = co_await context_.store.run([&, id = *ticket_id](Store& store) {
    return std::pair(store.find_ticket(id), store.find_support_code(code_hash));
  });
  if (!ticket) fail(Error::not_found, "no such ticket " + ticket_text);
  if (ticket->status == "closed") fail(Error::conflict, ticket_text + " is closed");
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
  auto session = co_await context_.store.run(
      [&, name = user.name, device = agent->device(), id = *ticket_id](Store& store) {
        auto created = store.create_session(id, name, "support_code", device, now());
        if (!store.claim_support_code(code_hash, created.id)) {
          store.end_session(created.id, now(), "support code already used");
          return std::optional<SessionRecord>{};
        }
        store.append_timeline(entry_for(created, name, "session.requested",
                                        name + " joined with support code " + code->display() +
                                            " on " + device + "; waiting for the user's consent",
                                        {{"device", device}, {"joined_by", "support_code"}}));
        return std::optional<SessionRecord>(created);
      });
  if (!session) failed(Error::code_used, "support code " + code->display() + " was already used");
  agent->bind_session(session->id);
  co_await context_.broker.attach_session(session->id, code_hash);
  spdlog::info("{} joined {} for {}; asking for consent", user.name, session_number(session->id),
               ticket_number(*ticket_id));

  protocol::JoinRequest join;
  join.id = next_request_id();
  join.session = session_number(session->id);
  join.technician = user.name;
  join.ticket.number = ticket_number(*ticket_id);
  join.ticket.title = ticket->title;
  join.scopes = requested_scopes(body);
  auto answer = co_await agent->request(join, join.id, context_.config.consent_timeout);

  json consent;
  Error outcome = Error::ok;
  std::string refusal_by = "the user";
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
      store.append_timeline(entry_for(*session, "agent:" + agent->hostname(), "consent.granted",
                                      consent["by"].get<std::string>() + " granted consent to " +
                                          name + " (scopes: " + scope_list(consent["scopes"]) + ")",
                                      consent));
    } else {
      const std::string why = outcome == Error::consent_refused ? refusal_by + " refused consent"
                              : outcome == Error::consent_timeout
                                  ? "the user did not answer the consent prompt in time"
                                  : "the agent disconnected before the user answered";
      store.append_timeline(entry_for(
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
    fail(outcome, outcome == Error::consent_refused
                      ? "the user refused the session; nothing was shared"
                      : std::string(protocol::describe(outcome)));
  }
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

asio::awaitable<json> RestApi::take_diagnostics(const User& user, std::int64_t id,
                                                const json& body) {
  const auto session = co_await active_session_of(user, id);
  if (session.technician != user.name) {
    fail(Error::forbidden, session_number(id) + " belongs to " + session.technician);
  }
  auto agent = co_await context_.broker.agent_for_session(id);
  if (!agent)
    fail(Error::agent_offline, "the agent of " + session_number(id) + " is not connected");
  protocol::DiagRequest request;
  request.id = next_request_id();
  request.session = session_number(id);
  if (auto sections = body.find("sections"); sections != body.end()) {
    if (!sections->is_array() || sections->size() > 32) {
      fail(Error::bad_request, "\"sections\" must be a list of section names");
    }
    for (const auto& s : *sections) {
      if (!s.is_string() || s.get<std::string>().empty() || s.get<std::string>().size() > 64) {
        fail(Error::bad_request, "\"sections\" must be a list of section names");
      }
      request.sections.push_back(s.get<std::string>());
    }
  }
  auto answer = co_await agent->request(request, request.id, context_.config.agent_request_timeout);
  if (!answer) fail(static_cast<Error>(answer.error().value()), answer.error().message());
  if (auto* error = std::get_if<protocol::ErrorMessage>(&*answer)) {
    fail(protocol::error_from_string(error->code), "the agent refused: " + error->message);
  }
  auto* result = std::get_if<protocol::DiagResult>(&*answer);
  if (result == nullptr) fail(Error::internal, "the agent answered with the wrong message");
  const auto digest = findings_digest(result->snapshot);
  const auto summary = snapshot_summary(result->snapshot, digest);
  auto snapshot = co_await context_.store.run([&, name = user.name](Store& store) {
    auto saved = store.save_snapshot(id, result->snapshot, now());
    store.append_timeline(entry_for(session, name, "diagnostics.snapshot", summary,
                                    {{"snapshot", saved.id},
                                     {"findings", digest["counts"]},
                                     {"problems", digest["problems"]}}));
    return saved;
  });
  co_return json{{"session", session_number(id)},
                 {"snapshot_id", snapshot.id},
                 {"taken_at", protocol::format_time(snapshot.taken_at)},
                 {"snapshot", std::move(result->snapshot)}};
}

asio::awaitable<json> RestApi::end_session(const User& user, std::int64_t id, const json& body) {
  const auto note = text_field(body, "note", false);
  const auto session = co_await active_session_of(user, id);
  if (auto agent = co_await context_.broker.agent_for_session(id)) {
    agent->send(protocol::SessionEnd{session_number(id), note, user.name});
  }
  co_await context_.broker.detach_session(id);
  auto ended = co_await context_.store.run([&, name = user.name](Store& store) {
    const auto at = now();
    store.end_session(id, at, note);
    store.append_timeline(entry_for(
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
