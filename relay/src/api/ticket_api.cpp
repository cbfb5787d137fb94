// The help-desk half of the REST API: tickets with priority, levels and SLA clocks, notes,
// status changes, escalation, the report, the knowledge base and the webhook delivery log.
// The rules themselves live in helpdesk/ (pure, unit-tested); this file reads and writes.

#include <algorithm>
#include <filesystem>
#include <set>

#include "api/api_util.hpp"
#include "api/rest_api.hpp"
#include "broker/shell_recorder.hpp"
#include "helpdesk/handover.hpp"
#include "helpdesk/sla.hpp"
#include "helpdesk/sla_sweep.hpp"
#include "helpdesk/ticket_report.hpp"
#include "helpdesk/ticket_rules.hpp"
#include "relay_context.hpp"
#include "tether/protocol/time_format.hpp"
#include "webhooks/webhook_payload.hpp"

namespace tether::relay {

namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;
using namespace api;

namespace {

std::string level_name(int level) {
  return helpdesk::support_level_name(level);
}

helpdesk::Level3 level3_field(const json& body, const char* key, helpdesk::Level3 fallback) {
  const auto text = optional_text(body, key, 16);
  if (!text) return fallback;
  const auto value = helpdesk::parse_level3(*text);
  if (!value) fail(Error::bad_request, std::string("\"") + key + "\" must be low, medium or high");
  return *value;
}

int support_level_field(const json& body, const char* key) {
  const auto text = text_field(body, key, true, 8);
  const auto level = helpdesk::parse_support_level(text);
  if (!level) fail(Error::bad_request, std::string("\"") + key + "\" must be L1, L2 or L3");
  return *level;
}

/// "glpi:1234" → {"glpi", "1234"}; "" clears.
std::pair<std::string, std::string> parse_external(const std::string& text) {
  if (text.empty()) return {};
  const auto colon = text.find(':');
  const auto system = text.substr(0, colon);
  const auto key = colon == std::string::npos ? std::string() : text.substr(colon + 1);
  const bool system_ok =
      !system.empty() && system.size() <= 32 &&
      system.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
  const bool key_ok =
      !key.empty() && key.size() <= 128 && std::all_of(key.begin(), key.end(), [](char c) {
        return static_cast<unsigned char>(c) > 0x20 && c != 0x7f;
      });
  if (!system_ok || !key_ok) {
    fail(Error::bad_request,
         "\"external\" must be SYSTEM:KEY, e.g. glpi:1234 (system: lower-case letters, digits, "
         "'_' or '-'; key: 1 to 128 visible characters)");
  }
  return {system, key};
}

void check_email(const std::string& email) {
  if (email.empty()) return;
  const auto at = email.find('@');
  const bool ok = at != std::string::npos && at > 0 && at + 1 < email.size() &&
                  email.find('@', at + 1) == std::string::npos && email.size() <= 254 &&
                  std::none_of(email.begin(), email.end(), [](char c) {
                    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
                  });
  if (!ok) fail(Error::bad_request, "\"requester_email\" is not an e-mail address");
}

std::string one_line(const std::string& text) {
  std::string out;
  for (char c : text) out += (c == '\n' || c == '\r' || c == '\t') ? ' ' : c;
  return out;
}

bool is_done(const Ticket& t) {
  return t.status == "resolved" || t.status == "closed";
}

void close_open_pause(Ticket& t, TimePoint at) {
  for (auto& p : t.pauses) {
    if (!p.to) p.to = at;
  }
}

/// Marks the first response if there was none; true when this was it.
bool mark_first_response(Ticket& t, TimePoint at) {
  if (t.first_response_at) return false;
  t.first_response_at = at;
  return true;
}

std::string targets_text(const helpdesk::SlaPolicy& policy, const std::string& priority) {
  const auto& target = policy.target(priority);
  return helpdesk::short_duration(target.first_response) + " response / " +
         helpdesk::short_duration(target.resolution) + " resolution" +
         (target.business_hours ? " (business hours)" : "");
}

std::optional<std::string> finding_id_of(const json& problem) {
  if (!problem.is_object()) return std::nullopt;
  auto it = problem.find("id");
  if (it == problem.end() || !it->is_string() || it->get<std::string>().empty())
    return std::nullopt;
  return it->get<std::string>();
}

json faq_ref(const FaqArticle& a) {
  return {{"id", faq_number(a.id)}, {"title", a.title}};
}

json faq_json(const FaqArticle& a) {
  return {{"id", faq_number(a.id)},
          {"title", a.title},
          {"body", a.body},
          {"finding_ids", a.finding_ids},
          {"categories", a.categories},
          {"created_by", a.created_by},
          {"created_at", protocol::format_time(a.created_at)},
          {"updated_at", protocol::format_time(a.updated_at)},
          {"version", a.version}};
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const auto comma = text.find(',', start);
    auto item = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void check_query_keys(const ApiRequest& r, std::initializer_list<std::string_view> known) {
  for (const auto& [key, value] : r.query) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      std::string list;
      for (auto k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      fail(Error::bad_request, "unknown query parameter \"" + shorten(key, 32) + "\"" +
                                   (list.empty() ? "" : "; this endpoint takes " + list));
    }
  }
}

std::vector<std::string> string_list(const json& body, const char* key, std::size_t max_items,
                                     std::size_t max_length) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return {};
  const auto message = std::string("\"") + key + "\" must be a list of at most " +
                       std::to_string(max_items) + " non-empty strings of up to " +
                       std::to_string(max_length) + " bytes";
  if (!it->is_array() || it->size() > max_items) fail(Error::bad_request, message);
  std::vector<std::string> out;
  for (const auto& v : *it) {
    if (!v.is_string() || v.get<std::string>().empty() ||
        v.get<std::string>().size() > max_length) {
      fail(Error::bad_request, message);
    }
    if (std::find(out.begin(), out.end(), v.get<std::string>()) == out.end()) {
      out.push_back(v.get<std::string>());
    }
  }
  return out;
}

std::int64_t ticket_param(const ApiRequest& r) {
  auto id = parse_object_id(r.params.at(0), 'T');
  if (!id) fail(Error::not_found, "no such ticket " + shorten(r.params.at(0), 32));
  return *id;
}

std::int64_t faq_param(const std::string& text) {
  auto id = parse_object_id(text, "FAQ");
  if (!id) fail(Error::not_found, "no such article " + shorten(text, 32));
  return *id;
}

}  // namespace

/// Articles whose finding ids match critical/warning findings of `snapshot`, by finding.
json faq_matches(const std::vector<FaqArticle>& articles, const json& snapshot) {
  json out = json::object();
  const auto findings = snapshot.is_object() ? snapshot.find("findings") : snapshot.end();
  if (!snapshot.is_object() || findings == snapshot.end() || !findings->is_array()) return out;
  for (const auto& finding : *findings) {
    const auto id = finding_id_of(finding);
    if (!id) continue;
    const auto severity = finding.value("severity", json()).is_string()
                              ? finding["severity"].get<std::string>()
                              : std::string();
    if (severity != "critical" && severity != "warning") continue;
    for (const auto& a : articles) {
      if (std::find(a.finding_ids.begin(), a.finding_ids.end(), *id) == a.finding_ids.end()) {
        continue;
      }
      if (!out.contains(*id)) out[*id] = json::array();
      out[*id].push_back(faq_ref(a));
    }
  }
  return out;
}

json ticket_json(const Ticket& t, const helpdesk::SlaPolicy& policy, TimePoint now) {
  const auto input = helpdesk::sla_input_of(t);
  return ticket_json(t, policy, input, helpdesk::compute_sla(policy, input, now));
}

json ticket_json(const Ticket& t, const helpdesk::SlaPolicy& policy,
                 const helpdesk::SlaInput& input, const helpdesk::SlaStatus& sla) {
  auto optional_time = [](const std::optional<TimePoint>& at) {
    return at ? json(protocol::format_time(*at)) : json(nullptr);
  };
  return {{"id", ticket_number(t.id)},
          {"title", t.title},
          {"description", t.description},
          {"requester", t.requester},
          {"requester_email", t.requester_email},
          {"category", t.category},
          {"impact", t.impact},
          {"urgency", t.urgency},
          {"priority", t.priority},
          {"level", level_name(t.level)},
          {"assignee", t.assignee.empty() ? json(nullptr) : json(t.assignee)},
          {"device", t.device},
          {"external", t.external_system.empty()
                           ? json(nullptr)
                           : json{{"system", t.external_system}, {"key", t.external_key}}},
          {"status", t.status},
          {"resolution", t.resolution},
          {"created_by", t.created_by},
          {"created_at", protocol::format_time(t.created_at)},
          {"updated_at", protocol::format_time(t.updated_at)},
          {"first_response_at", optional_time(t.first_response_at)},
          {"resolved_at", optional_time(t.resolved_at)},
          {"closed_at", optional_time(t.closed_at)},
          {"version", t.version},
          {"sla", helpdesk::sla_json(sla, input, policy)}};
}

asio::awaitable<Ticket> RestApi::update_ticket(
    ApiRequest& r, std::int64_t id,
    std::function<std::vector<TimelineEntry>(Ticket&, Store&)> change, bool check_level) {
  const auto expected = expected_version(r.body);
  const User user = r.user;
  co_return co_await context_.store.run([&, expected, user, id](Store& store) {
    // Another relay sharing the database may win the race between read and write; the
    // change is then re-applied to the new state (or refused when the client pinned a
    // version).
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto ticket = store.find_ticket(id);
      if (!ticket) fail(Error::not_found, "no such ticket " + ticket_number(id));
      if (expected && ticket->version != *expected) {
        const auto timeline = store.timeline(id);
        std::string last;
        if (!timeline.empty()) {
          last = ": last change " + timeline.back().summary + " (" + timeline.back().actor + ", " +
                 protocol::format_time(timeline.back().at) + ")";
        }
        fail(Error::conflict, ticket_number(id) + " changed since you read it (version " +
                                  std::to_string(ticket->version) + ", you had " +
                                  std::to_string(*expected) + ")" + last +
                                  ". Show it again and retry.");
      }
      if (check_level) {
        if (auto why = helpdesk::check_may_act(ticket_number(id), ticket->level, user.name,
                                               user.role, user.level)) {
          fail(Error::forbidden, *why);
        }
      }
      Ticket updated = *ticket;
      auto entries = change(updated, store);
      for (auto& e : entries) e.ticket_id = id;
      if (store.update_ticket(updated, entries)) {
        return *store.find_ticket(id);
      }
      if (expected) {
        fail(Error::conflict,
             ticket_number(id) + " changed while you saved; show it again and retry");
      }
    }
    fail(Error::conflict, ticket_number(id) + " is changing too fast; try again");
  });
}

asio::awaitable<json> RestApi::create_ticket(ApiRequest& r) {
  const auto& body = r.body;
  Ticket t;
  t.title = text_field(body, "title", true, 512);
  t.description = text_field(body, "description", false);
  t.requester = text_field(body, "requester", false, 512);
  t.requester_email = text_field(body, "requester_email", false, 254);
  check_email(t.requester_email);
  t.category = text_field(body, "category", false, 64);
  t.device = text_field(body, "device", false, 256);
  const auto impact = level3_field(body, "impact", helpdesk::Level3::medium);
  const auto urgency = level3_field(body, "urgency", helpdesk::Level3::medium);
  t.impact = std::string(helpdesk::to_string(impact));
  t.urgency = std::string(helpdesk::to_string(urgency));
  t.priority = helpdesk::priority_for(impact, urgency);
  std::tie(t.external_system, t.external_key) =
      parse_external(text_field(body, "external", false, 200));
  t.level = 1;
  t.status = "new";
  t.created_by = r.user.name;
  json detail = {{"title", t.title},   {"requester", t.requester}, {"priority", t.priority},
                 {"impact", t.impact}, {"urgency", t.urgency},     {"category", t.category},
                 {"device", t.device}};
  if (!t.external_system.empty()) {
    detail["external"] = {{"system", t.external_system}, {"key", t.external_key}};
  }
  auto entry = ticket_entry(0, r.user.name, "ticket.created",
                            "Ticket {ticket} opened by " + r.user.name + ": " + one_line(t.title) +
                                " (" + t.priority + ")",
                            detail);
  auto ticket = co_await context_.store.run(
      [t, entry](Store& store) { return store.create_ticket(t, entry, now()); });
  co_return ticket_json(ticket, *sla_, now());
}

asio::awaitable<json> RestApi::list_tickets(ApiRequest& r) {
  check_query_keys(r, {"status", "assignee", "level", "breaching", "sort"});
  std::set<std::string> statuses;
  if (auto it = r.query.find("status"); it != r.query.end()) {
    for (const auto& s : split_list(it->second)) {
      if (!helpdesk::parse_status(s)) {
        fail(Error::bad_request,
             "unknown status \"" + shorten(s, 32) + "\"; use new, open, pending, resolved, closed");
      }
      statuses.insert(s);
    }
  }
  std::optional<std::string> assignee;
  if (auto it = r.query.find("assignee"); it != r.query.end()) {
    assignee = it->second == "me" ? r.user.name : it->second == "none" ? "" : it->second;
  }
  std::optional<int> level;
  if (auto it = r.query.find("level"); it != r.query.end()) {
    level = helpdesk::parse_support_level(it->second);
    if (!level) fail(Error::bad_request, "level must be L1, L2 or L3");
  }
  bool breaching = false;
  if (auto it = r.query.find("breaching"); it != r.query.end()) {
    if (it->second != "1" && it->second != "true" && it->second != "0" && it->second != "false") {
      fail(Error::bad_request, "breaching must be 1 or 0");
    }
    breaching = it->second == "1" || it->second == "true";
  }
  std::string sort = "updated";
  if (auto it = r.query.find("sort"); it != r.query.end()) {
    sort = it->second;
    if (sort != "updated" && sort != "priority" && sort != "sla") {
      fail(Error::bad_request, "sort must be priority, sla or updated");
    }
  }
  auto tickets = co_await context_.store.run([](Store& store) { return store.list_tickets(); });
  const auto at = now();
  struct Row {
    Ticket ticket;
    helpdesk::SlaInput input;
    helpdesk::SlaStatus sla;
    std::optional<std::chrono::seconds> slack;  // Remaining time of the most urgent clock.
  };
  std::vector<Row> rows;
  for (auto& t : tickets) {
    if (!statuses.empty() && !statuses.contains(t.status)) continue;
    if (assignee && t.assignee != *assignee) continue;
    if (level && t.level != *level) continue;
    Row row{t, helpdesk::sla_input_of(t), {}, std::nullopt};
    row.sla = helpdesk::compute_sla(*sla_, row.input, at);
    if (!is_done(t)) {
      for (const auto* clock : {&row.sla.first_response, &row.sla.resolution}) {
        if (clock->stopped_at) continue;
        const auto slack = clock->breached ? -clock->overdue : clock->remaining;
        if (!row.slack || slack < *row.slack) row.slack = slack;
      }
    }
    if (breaching && !(row.slack && *row.slack <= sla_->warn_before)) continue;
    rows.push_back(std::move(row));
  }
  if (sort == "priority") {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      if (a.ticket.priority != b.ticket.priority) return a.ticket.priority < b.ticket.priority;
      return a.ticket.created_at < b.ticket.created_at;
    });
  } else if (sort == "sla") {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      if (a.slack.has_value() != b.slack.has_value()) return a.slack.has_value();
      if (a.slack && *a.slack != *b.slack) return *a.slack < *b.slack;
      return a.ticket.id < b.ticket.id;
    });
  } else {
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      if (a.ticket.updated_at != b.ticket.updated_at)
        return a.ticket.updated_at > b.ticket.updated_at;
      return a.ticket.id > b.ticket.id;
    });
  }
  json out = json::array();
  for (const auto& row : rows) out.push_back(ticket_json(row.ticket, *sla_, row.input, row.sla));
  co_return json{{"tickets", out}};
}

asio::awaitable<json> RestApi::show_ticket(ApiRequest& r) {
  check_query_keys(r, {});
  const auto id = ticket_param(r);
  struct Found {
    std::optional<Ticket> ticket;
    std::vector<SessionRecord> sessions;
    std::vector<TimelineEntry> timeline;
    std::vector<FaqArticle> linked;
    std::vector<FaqArticle> articles;
    std::optional<Snapshot> snapshot;
  };
  auto found = co_await context_.store.run([id](Store& store) {
    Found found;
    found.ticket = store.find_ticket(id);
    if (found.ticket) {
      found.sessions = store.sessions_for_ticket(id);
      found.timeline = store.timeline(id);
      found.linked = store.faq_for_ticket(id);
      found.articles = store.list_faq("");
      found.snapshot = store.latest_ticket_snapshot(id);
    }
    return found;
  });
  if (!found.ticket) fail(Error::not_found, "no such ticket " + ticket_number(id));
  json out = ticket_json(*found.ticket, *sla_, now());
  out["sessions"] = json::array();
  for (const auto& s : found.sessions) out["sessions"].push_back(session_json(s));
  out["timeline"] = json::array();
  json handover = nullptr;
  for (const auto& e : found.timeline) {
    out["timeline"].push_back(timeline_json(e));
    if ((e.kind == "ticket.escalated" || e.kind == "ticket.deescalated") &&
        e.detail.contains("handover")) {
      handover = e.detail["handover"];
    }
  }
  out["faq"] = json::array();
  for (const auto& a : found.linked) out["faq"].push_back(faq_ref(a));
  out["suggested_faq"] = json::array();
  if (found.snapshot) {
    for (const auto& [finding, articles] :
         faq_matches(found.articles, found.snapshot->data).items()) {
      for (const auto& a : articles) {
        out["suggested_faq"].push_back(
            {{"id", a["id"]}, {"title", a["title"]}, {"finding", finding}});
      }
    }
  }
  out["handover"] = handover;
  co_return out;
}

asio::awaitable<json> RestApi::edit_ticket(ApiRequest& r) {
  const auto id = ticket_param(r);
  const auto& body = r.body;
  static const std::set<std::string> kFields = {
      "title",  "description", "requester", "requester_email", "category",
      "impact", "urgency",     "device",    "external",        "version"};
  bool any = false;
  for (const auto& [key, value] : body.items()) {
    if (!kFields.contains(key))
      fail(Error::bad_request, "unknown field \"" + shorten(key, 32) + "\"");
    any = any || key != "version";
  }
  if (!any) fail(Error::bad_request, "nothing to change: give at least one field");
  // Validate everything before touching the ticket.
  const auto title = optional_text(body, "title", 512);
  if (title && title->find_first_not_of(" \t\r\n") == std::string::npos) {
    fail(Error::bad_request, "\"title\" must not be empty");
  }
  const auto description = optional_text(body, "description");
  const auto requester = optional_text(body, "requester", 512);
  const auto email = optional_text(body, "requester_email", 254);
  if (email) check_email(*email);
  const auto category = optional_text(body, "category", 64);
  const auto device = optional_text(body, "device", 256);
  std::optional<std::pair<std::string, std::string>> external;
  if (auto text = optional_text(body, "external", 200)) external = parse_external(*text);
  std::optional<helpdesk::Level3> impact, urgency;
  if (body.contains("impact")) impact = level3_field(body, "impact", helpdesk::Level3::medium);
  if (body.contains("urgency")) urgency = level3_field(body, "urgency", helpdesk::Level3::medium);
  const auto name = r.user.name;
  const auto& policy = *sla_;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store&) {
    std::vector<TimelineEntry> entries;
    json changes = json::object();
    auto set = [&](const char* field, std::string& target,
                   const std::optional<std::string>& value) {
      if (value && *value != target) {
        changes[field] = {target, *value};
        target = *value;
      }
    };
    set("title", t.title, title);
    set("description", t.description, description);
    set("requester", t.requester, requester);
    set("requester_email", t.requester_email, email);
    set("category", t.category, category);
    set("device", t.device, device);
    if (external && (external->first != t.external_system || external->second != t.external_key)) {
      changes["external"] = {
          t.external_system.empty() ? "" : t.external_system + ":" + t.external_key,
          external->first.empty() ? "" : external->first + ":" + external->second};
      std::tie(t.external_system, t.external_key) = *external;
    }
    const auto old_priority = t.priority;
    set("impact", t.impact,
        impact ? std::optional<std::string>(std::string(helpdesk::to_string(*impact)))
               : std::nullopt);
    set("urgency", t.urgency,
        urgency ? std::optional<std::string>(std::string(helpdesk::to_string(*urgency)))
                : std::nullopt);
    t.priority = helpdesk::priority_for(*helpdesk::parse_level3(t.impact),
                                        *helpdesk::parse_level3(t.urgency));
    if (changes.empty()) fail(Error::conflict, ticket_number(t.id) + " already has these values");
    std::string fields;
    for (const auto& [key, value] : changes.items()) fields += (fields.empty() ? "" : ", ") + key;
    entries.push_back(ticket_entry(t.id, name, "ticket.updated", name + " changed " + fields,
                                   {{"changes", changes}}));
    if (t.priority != old_priority) {
      entries.push_back(ticket_entry(
          t.id, name, "ticket.priority_changed",
          "Priority " + old_priority + " → " + t.priority + " (impact " + t.impact + " × urgency " +
              t.urgency + "); SLA targets now " + targets_text(policy, t.priority),
          {{"from", old_priority},
           {"to", t.priority},
           {"impact", t.impact},
           {"urgency", t.urgency},
           {"targets",
            {{"first_response_seconds", policy.target(t.priority).first_response.count()},
             {"resolution_seconds", policy.target(t.priority).resolution.count()}}}}));
    }
    return entries;
  });
  co_return ticket_json(ticket, *sla_, now());
}

asio::awaitable<json> RestApi::assign_ticket(ApiRequest& r) {
  const auto id = ticket_param(r);
  auto who = text_field(r.body, "assignee", true, 64);
  // "me" takes the ticket: refused when someone else already holds it. A name assigns (and
  // may take it from someone else: that is what a team lead does).
  const bool take = who == "me";
  if (take) who = r.user.name;
  const auto name = r.user.name;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store& store) {
    const auto assignee = store.find_user(who);
    if (!assignee) fail(Error::not_found, "no technician named " + shorten(who, 64));
    if (auto why = helpdesk::check_assignee(ticket_number(t.id), t.level, assignee->name,
                                            assignee->level, assignee->role)) {
      fail(Error::forbidden, *why);
    }
    if (t.assignee == who)
      fail(Error::conflict, ticket_number(t.id) + " is already assigned to " + who);
    if (take && !t.assignee.empty()) {
      fail(Error::conflict, ticket_number(t.id) + " is already assigned to " + t.assignee +
                                "; ask them, or use `tether ticket assign " + ticket_number(t.id) +
                                " " + who + "` to take it over");
    }
    if (is_done(t)) {
      fail(Error::conflict, ticket_number(t.id) + " is " + t.status + "; reopen it first");
    }
    json detail = {{"from", t.assignee.empty() ? json(nullptr) : json(t.assignee)}, {"to", who}};
    std::string summary = take ? name + " took the ticket"
                               : "Assigned to " + who + " by " + name +
                                     (t.assignee.empty() ? "" : " (was " + t.assignee + ")");
    t.assignee = who;
    if (t.status == "new") {
      t.status = "open";
      detail["status"] = {{"from", "new"}, {"to", "open"}};
      summary += "; status new → open";
    }
    return std::vector<TimelineEntry>{ticket_entry(t.id, name, "ticket.assigned", summary, detail)};
  });
  co_return ticket_json(ticket, *sla_, now());
}

asio::awaitable<json> RestApi::escalate_ticket(ApiRequest& r, bool upwards) {
  const auto id = ticket_param(r);
  const int to = support_level_field(r.body, "to");
  const auto reason = text_field(r.body, "reason", upwards, 2000);
  const auto who = text_field(r.body, "assignee", false, 64);
  const auto name = r.user.name;
  json handover;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store& store) {
    if (auto why = helpdesk::check_escalation(ticket_number(t.id), t.level, to, upwards)) {
      fail(Error::conflict, *why);
    }
    if (t.status == "closed")
      fail(Error::conflict, ticket_number(t.id) + " is closed; reopen it first");
    if (!who.empty()) {
      const auto assignee = store.find_user(who);
      if (!assignee) fail(Error::not_found, "no technician named " + shorten(who, 64));
      if (auto why = helpdesk::check_assignee(ticket_number(t.id), to, assignee->name,
                                              assignee->level, assignee->role)) {
        fail(Error::forbidden, *why);
      }
    }
    const int from = t.level;
    const auto snapshot = store.latest_ticket_snapshot(t.id);
    handover =
        helpdesk::build_handover(t, store.sessions_for_ticket(t.id), store.timeline(t.id),
                                 snapshot ? snapshot->data : json(nullptr), from, to, reason);
    const auto previous = t.assignee;
    t.level = to;
    t.assignee = who;
    if (t.status == "new" && !who.empty()) t.status = "open";
    std::string summary = (upwards ? "Escalated " : "De-escalated ") + level_name(from) + " → " +
                          level_name(to) + " by " + name +
                          (reason.empty() ? "" : ": " + one_line(reason));
    if (!who.empty()) summary += "; assigned to " + who;
    return std::vector<TimelineEntry>{ticket_entry(
        t.id, name, upwards ? "ticket.escalated" : "ticket.deescalated", shorten(summary, 400),
        {{"from", level_name(from)},
         {"to", level_name(to)},
         {"reason", reason},
         {"previous_assignee", previous.empty() ? json(nullptr) : json(previous)},
         {"assignee", who.empty() ? json(nullptr) : json(who)},
         {"handover", handover}})};
  });
  co_return json{{"ticket", ticket_json(ticket, *sla_, now())}, {"handover", handover}};
}

asio::awaitable<json> RestApi::add_note(ApiRequest& r) {
  const auto id = ticket_param(r);
  const auto text = text_field(r.body, "text", true, 16384);
  const bool internal = bool_field(r.body, "internal", false);
  const auto name = r.user.name;
  TimelineEntry written;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store&) {
    if (t.status == "closed")
      fail(Error::conflict, ticket_number(t.id) + " is closed; reopen it first");
    json detail = {{"text", text}, {"internal", internal}};
    // A note the requester can read is a response; an internal one is not.
    if (!internal && mark_first_response(t, now())) detail["first_response"] = true;
    written = ticket_entry(
        t.id, name, "ticket.note",
        (internal ? "Internal note by " : "Note by ") + name + ": " + shorten(one_line(text), 160),
        detail);
    return std::vector<TimelineEntry>{written};
  });
  co_return json{{"ticket", ticket_json(ticket, *sla_, now())}, {"entry", timeline_json(written)}};
}

asio::awaitable<json> RestApi::change_status(ApiRequest& r) {
  const auto id = ticket_param(r);
  const auto wanted = text_field(r.body, "status", true, 16);
  const auto to = helpdesk::parse_status(wanted);
  if (!to) fail(Error::bad_request, "status must be open, pending, resolved or closed");
  const auto note = text_field(r.body, "note", false, 16384);
  const bool has_note = note.find_first_not_of(" \t\r\n") != std::string::npos;
  if (*to == helpdesk::Status::resolved && !has_note) {
    fail(Error::bad_request, "resolving needs a resolution \"note\": what fixed it");
  }
  const auto name = r.user.name;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store&) {
    const auto from = helpdesk::parse_status(t.status).value_or(helpdesk::Status::open);
    if (auto why = helpdesk::check_change(ticket_number(t.id), from, *to,
                                          helpdesk::ChangeKind::set_status, has_note, false)) {
      fail(Error::conflict, *why);
    }
    const auto at = now();
    json detail = {{"from", t.status}, {"to", wanted}, {"note", note}};
    if (from == helpdesk::Status::pending) close_open_pause(t, at);
    switch (*to) {
      case helpdesk::Status::pending:
        t.pauses.push_back({at, std::nullopt});
        if (mark_first_response(t, at)) detail["first_response"] = true;
        break;
      case helpdesk::Status::resolved:
        t.resolved_at = at;
        t.resolution = note;
        if (mark_first_response(t, at)) detail["first_response"] = true;
        break;
      case helpdesk::Status::closed:
        t.closed_at = at;
        break;
      default:
        break;
    }
    std::string summary = "Status " + t.status + " → " + wanted + " by " + name;
    if (has_note) summary += ": " + shorten(one_line(note), 200);
    t.status = wanted;
    return std::vector<TimelineEntry>{ticket_entry(t.id, name, "ticket.status", summary, detail)};
  });
  co_return ticket_json(ticket, *sla_, now());
}

asio::awaitable<json> RestApi::reopen_ticket(ApiRequest& r) {
  const auto id = ticket_param(r);
  const auto reason = text_field(r.body, "reason", true, 2000);  // required: never blank
  const auto name = r.user.name;
  const auto window = sla_->reopen_window;
  auto ticket = co_await update_ticket(r, id, [&](Ticket& t, Store&) {
    const auto from = helpdesk::parse_status(t.status).value_or(helpdesk::Status::open);
    const auto at = now();
    const bool window_open = t.closed_at && at - *t.closed_at <= window;
    if (auto why = helpdesk::check_change(ticket_number(t.id), from, helpdesk::Status::open,
                                          helpdesk::ChangeKind::reopen, true, window_open)) {
      fail(Error::conflict, *why);
    }
    // The time it spent resolved does not count against the resolution clock.
    if (t.resolved_at) t.pauses.push_back({*t.resolved_at, at});
    json detail = {{"from", t.status}, {"reason", reason}, {"previous_resolution", t.resolution}};
    const std::string summary =
        "Reopened (" + t.status + " → open) by " + name + ": " + shorten(one_line(reason), 200);
    t.status = "open";
    t.resolved_at.reset();
    t.closed_at.reset();
    t.resolution.clear();
    return std::vector<TimelineEntry>{ticket_entry(t.id, name, "ticket.reopened", summary, detail)};
  });
  co_return ticket_json(ticket, *sla_, now());
}

asio::awaitable<json> RestApi::ticket_report(ApiRequest& r) {
  check_query_keys(r, {});
  const auto id = ticket_param(r);
  auto input = co_await context_.store.run([id](Store& store) {
    std::optional<helpdesk::ReportInput> input;
    auto ticket = store.find_ticket(id);
    if (!ticket) return input;
    input.emplace();
    input->ticket = *ticket;
    input->sessions = store.sessions_for_ticket(id);
    input->timeline = store.timeline(id);
    for (const auto& s : input->sessions) {
      for (auto& snapshot : store.snapshots_for_session(s.id)) {
        input->snapshots.push_back(std::move(snapshot));
      }
    }
    input->faq = store.faq_for_ticket(id);
    return input;
  });
  if (!input) fail(Error::not_found, "no such ticket " + ticket_number(id));
  input->generated_at = now();
  input->ticket_json = ticket_json(input->ticket, *sla_, input->generated_at);
  const auto recordings_root = context_.config.data_dir / "recordings";
  for (const auto& s : input->sessions) {
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry :
         std::filesystem::directory_iterator(session_recordings_dir(recordings_root, s.id), ec)) {
      if (entry.path().extension() == ".cast" && entry.is_regular_file(ec))
        files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      const auto name = file.filename().string();
      input->recordings.push_back({s.id, name,
                                   static_cast<std::uint64_t>(std::filesystem::file_size(file, ec)),
                                   "/api/v1/recordings/" + session_number(s.id) + "/" + name});
    }
  }
  co_return helpdesk::build_ticket_report(*input);
}

asio::awaitable<json> RestApi::link_faq(ApiRequest& r) {
  const auto id = ticket_param(r);
  const auto faq_id = faq_param(text_field(r.body, "faq", true, 32));
  const auto name = r.user.name;
  auto linked = co_await context_.store.run([=](Store& store) {
    if (!store.find_ticket(id)) fail(Error::not_found, "no such ticket " + ticket_number(id));
    const auto article = store.find_faq(faq_id);
    if (!article) fail(Error::not_found, "no such article " + faq_number(faq_id));
    if (store.link_faq(id, faq_id, now())) {
      store.append_timeline(ticket_entry(
          id, name, "faq.linked", name + " linked " + faq_number(faq_id) + ": " + article->title,
          {{"faq", faq_number(faq_id)}, {"title", article->title}}));
    }
    return store.faq_for_ticket(id);
  });
  json list = json::array();
  for (const auto& a : linked) list.push_back(faq_ref(a));
  co_return json{{"ticket", ticket_number(id)}, {"faq", list}};
}

asio::awaitable<json> RestApi::list_users(ApiRequest& r) {
  check_query_keys(r, {});
  auto users = co_await context_.store.run([](Store& store) { return store.list_users(); });
  json out = json::array();
  for (const auto& u : users) {
    out.push_back({{"name", u.name}, {"role", u.role}, {"level", level_name(u.level)}});
  }
  co_return json{{"users", out}};
}

asio::awaitable<json> RestApi::sla_overview(ApiRequest& r) {
  check_query_keys(r, {});
  auto tickets = co_await context_.store.run([](Store& store) { return store.open_tickets(); });
  const auto at = now();
  struct Count {
    int open = 0, breached = 0, due_soon = 0;
  };
  std::map<std::string, Count> by_technician;
  std::map<int, Count> by_level;
  struct Item {
    json value;
    std::chrono::seconds slack;
  };
  std::vector<Item> items;
  for (const auto& t : tickets) {
    if (is_done(t)) continue;
    const auto sla = helpdesk::compute_sla(*sla_, helpdesk::sla_input_of(t), at);
    auto& tech = by_technician[t.assignee.empty() ? "(unassigned)" : t.assignee];
    auto& level = by_level[t.level];
    ++tech.open;
    ++level.open;
    bool breached = false, soon = false;
    for (const auto& [clock_name, clock] : {std::pair<const char*, const helpdesk::ClockStatus*>{
                                                "first_response", &sla.first_response},
                                            {"resolution", &sla.resolution}}) {
      if (clock->stopped_at) continue;
      const bool is_breached = clock->breached;
      const bool is_soon = !is_breached && clock->remaining <= sla_->warn_before &&
                           clock->state == helpdesk::ClockState::running;
      if (!is_breached && !is_soon) continue;
      breached = breached || is_breached;
      soon = soon || is_soon;
      items.push_back({json{{"id", ticket_number(t.id)},
                            {"title", t.title},
                            {"priority", t.priority},
                            {"level", level_name(t.level)},
                            {"assignee", t.assignee.empty() ? json(nullptr) : json(t.assignee)},
                            {"status", t.status},
                            {"clock", clock_name},
                            {"state", helpdesk::to_string(clock->state)},
                            {"due_at", clock->due_at ? json(protocol::format_time(*clock->due_at))
                                                     : json(nullptr)},
                            {"remaining_seconds", clock->remaining.count()},
                            {"overdue_seconds", clock->overdue.count()}},
                       is_breached ? -clock->overdue : clock->remaining});
    }
    tech.breached += breached ? 1 : 0;
    level.breached += breached ? 1 : 0;
    tech.due_soon += soon && !breached ? 1 : 0;
    level.due_soon += soon && !breached ? 1 : 0;
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.slack < b.slack; });
  json list = json::array();
  for (auto& item : items) list.push_back(std::move(item.value));
  json technicians = json::array();
  for (const auto& [name, c] : by_technician) {
    technicians.push_back(
        {{"name", name}, {"open", c.open}, {"breached", c.breached}, {"due_soon", c.due_soon}});
  }
  json levels = json::array();
  for (const auto& [level, c] : by_level) {
    levels.push_back({{"level", level_name(level)},
                      {"open", c.open},
                      {"breached", c.breached},
                      {"due_soon", c.due_soon}});
  }
  co_return json{{"generated_at", protocol::format_time(at)},
                 {"warn_before_seconds", sla_->warn_before.count()},
                 {"tickets", list},
                 {"by_technician", technicians},
                 {"by_level", levels}};
}

asio::awaitable<json> RestApi::list_faq(ApiRequest& r) {
  check_query_keys(r, {"search"});
  std::string search;
  if (auto it = r.query.find("search"); it != r.query.end()) search = it->second;
  if (search.size() > 200) fail(Error::bad_request, "search is limited to 200 bytes");
  auto articles =
      co_await context_.store.run([search](Store& store) { return store.list_faq(search); });
  json out = json::array();
  for (const auto& a : articles) out.push_back(faq_json(a));
  co_return json{{"articles", out}};
}

asio::awaitable<json> RestApi::create_faq(ApiRequest& r) {
  FaqArticle a;
  a.title = text_field(r.body, "title", true, 200);
  a.body = text_field(r.body, "body", true, 65536);
  a.finding_ids = string_list(r.body, "finding_ids", 32, 128);
  a.categories = string_list(r.body, "categories", 16, 64);
  a.created_by = r.user.name;
  auto created =
      co_await context_.store.run([a](Store& store) { return store.create_faq(a, now()); });
  co_return faq_json(created);
}

asio::awaitable<json> RestApi::show_faq(ApiRequest& r) {
  check_query_keys(r, {});
  const auto id = faq_param(r.params.at(0));
  auto [article, tickets] = co_await context_.store.run(
      [id](Store& store) { return std::pair(store.find_faq(id), store.tickets_for_faq(id)); });
  if (!article) fail(Error::not_found, "no such article " + faq_number(id));
  auto out = faq_json(*article);
  out["tickets"] = json::array();
  for (auto t : tickets) out["tickets"].push_back(ticket_number(t));
  co_return out;
}

asio::awaitable<json> RestApi::edit_faq(ApiRequest& r) {
  const auto id = faq_param(r.params.at(0));
  static const std::set<std::string> kFields = {"title", "body", "finding_ids", "categories",
                                                "version"};
  bool any = false;
  for (const auto& [key, value] : r.body.items()) {
    if (!kFields.contains(key))
      fail(Error::bad_request, "unknown field \"" + shorten(key, 32) + "\"");
    any = any || key != "version";
  }
  if (!any) fail(Error::bad_request, "nothing to change: give at least one field");
  const auto title = optional_text(r.body, "title", 200);
  const auto body = optional_text(r.body, "body", 65536);
  if ((title && title->find_first_not_of(" \t\r\n") == std::string::npos) ||
      (body && body->find_first_not_of(" \t\r\n") == std::string::npos)) {
    fail(Error::bad_request, "title and body must not be empty");
  }
  std::optional<std::vector<std::string>> findings, categories;
  if (r.body.contains("finding_ids")) findings = string_list(r.body, "finding_ids", 32, 128);
  if (r.body.contains("categories")) categories = string_list(r.body, "categories", 16, 64);
  const auto expected = expected_version(r.body);
  auto updated = co_await context_.store.run([=](Store& store) {
    auto article = store.find_faq(id);
    if (!article) fail(Error::not_found, "no such article " + faq_number(id));
    if (expected && article->version != *expected) {
      fail(Error::conflict, faq_number(id) + " changed since you read it (version " +
                                std::to_string(article->version) + ", you had " +
                                std::to_string(*expected) + "). Show it again and retry.");
    }
    if (title) article->title = *title;
    if (body) article->body = *body;
    if (findings) article->finding_ids = *findings;
    if (categories) article->categories = *categories;
    if (!store.update_faq(*article, now())) {
      fail(Error::conflict, faq_number(id) + " changed while you saved; show it again and retry");
    }
    return *store.find_faq(id);
  });
  co_return faq_json(updated);
}

asio::awaitable<json> RestApi::faq_suggestions(ApiRequest& r) {
  check_query_keys(r, {"since"});
  std::chrono::seconds since{30 * 86400};
  if (auto it = r.query.find("since"); it != r.query.end()) {
    const auto& text = it->second;
    const bool ok =
        text.size() >= 2 && text.size() <= 6 && (text.back() == 'd' || text.back() == 'h') &&
        text.substr(0, text.size() - 1).find_first_not_of("0123456789") == std::string::npos;
    if (!ok) fail(Error::bad_request, "since must be a number of days or hours, e.g. 30d or 12h");
    const long amount = std::stol(text.substr(0, text.size() - 1));
    since = std::chrono::seconds(amount * (text.back() == 'd' ? 86400 : 3600));
  }
  const auto from = now() - since;
  struct Gathered {
    std::vector<Ticket> tickets;
    std::map<std::int64_t, std::vector<TimelineEntry>> timelines;
    std::vector<FaqArticle> articles;
  };
  auto gathered = co_await context_.store.run([from](Store& store) {
    Gathered g;
    for (auto& t : store.list_tickets()) {
      if (!is_done(t) || !t.resolved_at || *t.resolved_at < from) continue;
      g.timelines[t.id] = store.timeline(t.id);
      g.tickets.push_back(std::move(t));
    }
    g.articles = store.list_faq("");
    return g;
  });
  struct Suggestion {
    std::string kind, key, label;
    std::vector<const Ticket*> tickets;
  };
  std::map<std::pair<std::string, std::string>, Suggestion> found;
  for (const auto& t : gathered.tickets) {
    std::set<std::string> seen;
    for (const auto& e : gathered.timelines[t.id]) {
      if (e.kind != "diagnostics.snapshot") continue;
      const auto problems = e.detail.value("problems", json::array());
      if (!problems.is_array()) continue;
      for (const auto& p : problems) {
        const auto id = finding_id_of(p);
        if (!id || !seen.insert(*id).second) continue;
        auto& s = found[{"finding", *id}];
        s.kind = "finding";
        s.key = *id;
        if (s.label.empty() && p.value("summary", json()).is_string()) s.label = p["summary"];
        s.tickets.push_back(&t);
      }
    }
    if (!t.category.empty()) {
      auto& s = found[{"category", t.category}];
      s.kind = "category";
      s.key = t.category;
      s.label = t.category;
      s.tickets.push_back(&t);
    }
  }
  std::vector<Suggestion*> ranked;
  for (auto& [key, s] : found) ranked.push_back(&s);
  std::stable_sort(ranked.begin(), ranked.end(), [](const Suggestion* a, const Suggestion* b) {
    return a->tickets.size() > b->tickets.size();
  });
  json list = json::array();
  for (const auto* s : ranked) {
    if (list.size() >= 20) break;
    json tickets = json::array(), resolutions = json::array(), covered = json::array();
    // Newest resolutions first: they are the most likely to still be right.
    auto newest = s->tickets;
    std::sort(newest.begin(), newest.end(),
              [](const Ticket* a, const Ticket* b) { return *a->resolved_at > *b->resolved_at; });
    for (const auto* t : newest) {
      tickets.push_back(ticket_number(t->id));
      if (resolutions.size() < 5 && !t->resolution.empty()) {
        resolutions.push_back({{"ticket", ticket_number(t->id)}, {"note", t->resolution}});
      }
    }
    for (const auto& a : gathered.articles) {
      const auto& keys = s->kind == "finding" ? a.finding_ids : a.categories;
      if (std::find(keys.begin(), keys.end(), s->key) != keys.end()) covered.push_back(faq_ref(a));
    }
    list.push_back({{"kind", s->kind},
                    {"key", s->key},
                    {"label", s->label},
                    {"count", s->tickets.size()},
                    {"tickets", tickets},
                    {"resolutions", resolutions},
                    {"covered_by", covered}});
  }
  co_return json{{"since", protocol::format_time(from)},
                 {"tickets_considered", gathered.tickets.size()},
                 {"suggestions", list}};
}

asio::awaitable<json> RestApi::webhook_deliveries(ApiRequest& r) {
  check_query_keys(r, {"status", "limit"});
  if (r.user.role != "admin") fail(Error::forbidden, "only an admin may read the webhook log");
  std::string status;
  if (auto it = r.query.find("status"); it != r.query.end()) {
    status = it->second;
    if (status != "pending" && status != "delivered" && status != "failed") {
      fail(Error::bad_request, "status must be pending, delivered or failed");
    }
  }
  std::size_t limit = 50;
  if (auto it = r.query.find("limit"); it != r.query.end()) {
    const auto& text = it->second;
    if (text.empty() || text.size() > 3 ||
        text.find_first_not_of("0123456789") != std::string::npos || std::stoul(text) < 1 ||
        std::stoul(text) > 500) {
      fail(Error::bad_request, "limit must be 1 to 500");
    }
    limit = std::stoul(text);
  }
  auto log = co_await context_.store.run(
      [limit, status](Store& store) { return store.webhook_log(limit, status); });
  json out = json::array();
  for (const auto& d : log) out.push_back(webhook_delivery_json(d));
  co_return json{{"deliveries", out}};
}

}  // namespace tether::relay
