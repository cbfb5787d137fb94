// `tether ticket …`: the help-desk queue from the command line. Every command is one or two
// REST calls (docs/api.md); the relay decides what is allowed and its message is what the
// technician reads when it refuses (409 for a refused transition or a stale --expect-version).

#include <sys/ioctl.h>
#include <unistd.h>

#include <iostream>
#include <iterator>
#include <map>
#include <memory>

#include "tether/console/api_client.hpp"
#include "tether/console/ticket_view.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"

namespace tether::console {

using json = nlohmann::json;

namespace {

struct TicketState {
  std::string id;
  // new / edit
  std::string title, description, requester, requester_email, category, impact, urgency, device,
      external;
  std::map<std::string, CLI::Option*> edit_options;  // body field → its option on `edit`
  // list
  std::vector<std::string> statuses;
  std::string assignee_filter, level, sort;
  bool breaching = false;
  // assign, escalate, note, status, reopen
  std::string assignee, to, reason, text, status, note;
  bool internal = false;
  long long expect_version = -1;
  bool as_json = false;
};

const std::vector<std::string> kLevels3 = {"low", "medium", "high"};

// A ticket id as a path segment: whatever was typed, percent-encoded ("T-1" stays as it is).
std::string ticket_path(const std::string& id) {
  if (id.empty()) throw CommandError("give a ticket, e.g. T-1");
  return "/tickets/" + percent_encode(id);
}

void check_external(const std::string& value) {
  const auto colon = value.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == value.size()) {
    throw CommandError("--external must look like SYSTEM:KEY, e.g. glpi:1234 (\"\" clears it)");
  }
}

void add_version(json& body, const TicketState& state) {
  if (state.expect_version >= 0) body["version"] = state.expect_version;
}

void print_json(const json& value) {
  std::cout << value.dump(2) << "\n";
}

std::string first_response_line(const json& ticket) {
  const auto& sla = ticket.is_object() ? ticket.value("sla", json()) : json();
  if (!sla.is_object()) return "";
  return "  first response " + describe_sla_clock(sla.value("first_response", json())) +
         ", resolution " + describe_sla_clock(sla.value("resolution", json())) + "\n";
}

// A string field of the relay's answer, safe to print ("" when missing or not a string).
std::string string_field(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? protocol::printable_text(it->get<std::string>())
                                               : "";
}

void run_new(const TicketState& state) {
  json body{{"title", state.title}};
  const std::pair<const char*, const std::string*> optional_fields[] = {
      {"description", &state.description},
      {"requester", &state.requester},
      {"requester_email", &state.requester_email},
      {"category", &state.category},
      {"impact", &state.impact},
      {"urgency", &state.urgency},
      {"device", &state.device},
      {"external", &state.external}};
  for (const auto& [key, value] : optional_fields) {
    if (!value->empty()) body[key] = *value;
  }
  if (!state.external.empty()) check_external(state.external);
  const auto t = ApiClient::from_saved_credentials().post("/tickets", body);
  if (state.as_json) return print_json(t);
  std::cout << string_field(t, "id") << " created: " << string_field(t, "title") << "\n";
  if (!string_field(t, "priority").empty()) {
    std::cout << "  priority " << string_field(t, "priority") << " (impact "
              << string_field(t, "impact") << ", urgency " << string_field(t, "urgency")
              << "), level " << string_field(t, "level") << "\n";
  }
  std::cout << first_response_line(t);
}

void run_list(const TicketState& state) {
  std::string statuses;
  for (const auto& s : state.statuses) statuses += (statuses.empty() ? "" : ",") + s;
  const auto reply = ApiClient::from_saved_credentials().get(
      "/tickets", {{"status", statuses},
                   {"assignee", state.assignee_filter},
                   {"level", state.level},
                   {"breaching", state.breaching ? "1" : ""},
                   {"sort", state.sort}});
  const auto tickets = reply.is_object() ? reply.value("tickets", json::array()) : json::array();
  if (state.as_json) return print_json(tickets);
  std::cout << render_ticket_list(tickets, output_width());
}

void run_show(const TicketState& state) {
  const auto t = ApiClient::from_saved_credentials().get(ticket_path(state.id));
  if (state.as_json) return print_json(t);
  std::cout << render_ticket(t);
}

void run_edit(const TicketState& state) {
  json body = json::object();
  for (const auto& [key, option] : state.edit_options) {
    if (option->count() == 0) continue;
    const std::string* value = nullptr;
    if (key == "title") value = &state.title;
    if (key == "description") value = &state.description;
    if (key == "requester") value = &state.requester;
    if (key == "requester_email") value = &state.requester_email;
    if (key == "category") value = &state.category;
    if (key == "impact") value = &state.impact;
    if (key == "urgency") value = &state.urgency;
    if (key == "device") value = &state.device;
    if (key == "external") value = &state.external;
    if (value == nullptr) continue;
    if (key == "external" && !value->empty()) check_external(*value);
    if (key == "title" && value->empty()) throw CommandError("--title cannot be empty");
    body[key] = *value;
  }
  if (body.empty()) {
    throw CommandError(
        "nothing to change: give --title, --description, --impact, --urgency, --category, "
        "--requester, --requester-email, --device or --external");
  }
  add_version(body, state);
  auto client = ApiClient::from_saved_credentials();
  // The priority can only move with impact or urgency; read it first to say so when it does.
  std::string before;
  if (body.contains("impact") || body.contains("urgency")) {
    before = string_field(client.get(ticket_path(state.id)), "priority");
  }
  const auto t = client.patch(ticket_path(state.id), body);
  if (state.as_json) return print_json(t);
  std::cout << string_field(t, "id") << " updated.\n";
  const auto after = string_field(t, "priority");
  if (!before.empty() && !after.empty() && before != after) {
    std::cout << "Priority is now " << after << " (was " << before << ").\n"
              << first_response_line(t);
  }
}

void run_assign(const TicketState& state) {
  json body{{"assignee", state.assignee}};
  add_version(body, state);
  const auto t = ApiClient::from_saved_credentials().post(ticket_path(state.id) + "/assign", body);
  if (state.as_json) return print_json(t);
  const auto name = string_field(t, "assignee");
  std::cout << string_field(t, "id") << " assigned to " << (name.empty() ? state.assignee : name)
            << ".\n"
            << render_ticket_line(t);
}

void run_escalate(const TicketState& state, bool up) {
  json body{{"to", state.to}};
  if (!state.reason.empty()) body["reason"] = state.reason;
  if (!state.assignee.empty()) body["assignee"] = state.assignee;
  add_version(body, state);
  const auto reply = ApiClient::from_saved_credentials().post(
      ticket_path(state.id) + (up ? "/escalate" : "/deescalate"), body);
  if (state.as_json) return print_json(reply);
  const auto t = reply.is_object() ? reply.value("ticket", json()) : json();
  std::cout << (string_field(t, "id").empty() ? state.id : string_field(t, "id"))
            << (up ? " escalated to " : " handed back to ") << state.to << ".\n"
            << render_ticket_line(t);
  const auto handover =
      render_handover(reply.is_object() ? reply.value("handover", json()) : json());
  if (!handover.empty()) std::cout << "\n" << handover;
}

void run_note(const TicketState& state) {
  std::string note = state.text;
  if (note == "-") {
    note.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    while (!note.empty() && (note.back() == '\n' || note.back() == '\r')) note.pop_back();
  }
  if (note.empty()) throw CommandError("the note is empty");
  const auto reply = ApiClient::from_saved_credentials().post(
      ticket_path(state.id) + "/notes", {{"text", note}, {"internal", state.internal}});
  if (state.as_json) return print_json(reply);
  const auto t = reply.is_object() ? reply.value("ticket", json()) : json();
  std::cout << (state.internal ? "Internal note added to " : "Note added to ")
            << (string_field(t, "id").empty() ? state.id : string_field(t, "id")) << ".\n";
}

void run_status(const TicketState& state) {
  std::string note = state.note;
  if (state.status == "resolved" && note.empty()) {
    if (auto typed = prompt_line("Resolution note (what fixed it): ")) note = *typed;
    if (note.empty()) throw CommandError("resolving needs --note");
  }
  json body{{"status", state.status}};
  if (!note.empty()) body["note"] = note;
  add_version(body, state);
  const auto t = ApiClient::from_saved_credentials().post(ticket_path(state.id) + "/status", body);
  if (state.as_json) return print_json(t);
  std::cout << string_field(t, "id") << " is now " << string_field(t, "status") << ".\n"
            << render_ticket_line(t);
}

void run_reopen(const TicketState& state) {
  json body{{"reason", state.reason}};
  add_version(body, state);
  const auto t = ApiClient::from_saved_credentials().post(ticket_path(state.id) + "/reopen", body);
  if (state.as_json) return print_json(t);
  std::cout << string_field(t, "id") << " reopened; it is " << string_field(t, "status")
            << " again.\n"
            << render_ticket_line(t);
}

CLI::App* with_ticket(CLI::App* command, TicketState& state) {
  command->add_option("TICKET", state.id, "Ticket, e.g. T-1")->required();
  return command;
}

void add_json(CLI::App* command, TicketState& state) {
  command->add_flag("--json", state.as_json, "Print the relay's JSON");
}

void add_expect_version(CLI::App* command, TicketState& state) {
  command->add_option("--expect-version", state.expect_version,
                      "Refuse (409) if the ticket changed since this version (see ticket show)");
}

}  // namespace

std::optional<std::string> prompt_line(const std::string& question) {
  if (!isatty(STDIN_FILENO)) return std::nullopt;
  std::cerr << question << std::flush;
  std::string line;
  if (!std::getline(std::cin, line)) return std::nullopt;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

std::size_t output_width() {
  winsize size{};
  if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40) {
    return size.ws_col;
  }
  return kTableWidth;
}

void add_ticket_commands(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<TicketState>();
  auto* ticket = app.add_subcommand("ticket", "Help-desk tickets");
  ticket->require_subcommand(1);

  auto* create = ticket->add_subcommand("new", "Open a ticket");
  create->add_option("--title", state->title, "One-line summary")->required();
  create->add_option("--description", state->description, "What is wrong");
  create->add_option("--requester", state->requester, "Who asked for help");
  create->add_option("--requester-email", state->requester_email, "The requester's e-mail");
  create->add_option("--category", state->category, "Category, e.g. printing");
  create
      ->add_option("--impact", state->impact, "How many are affected: low, medium (default), high")
      ->check(CLI::IsMember(kLevels3));
  create->add_option("--urgency", state->urgency, "How soon it hurts: low, medium (default), high")
      ->check(CLI::IsMember(kLevels3));
  create->add_option("--device", state->device, "The requester's device, e.g. PC-042");
  create->add_option("--external", state->external,
                     "Reference in another ticketing system, SYSTEM:KEY (e.g. glpi:1234)");
  add_json(create, *state);
  create->callback([state, &action] { action = [state] { run_new(*state); }; });

  auto* list = ticket->add_subcommand("list", "List tickets (newest change first by default)");
  list->add_option("--status", state->statuses,
                   "Only these statuses, comma-separated: new, open, pending, resolved, closed")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->check(CLI::IsMember({"new", "open", "pending", "resolved", "closed"}));
  list->add_option("--assignee", state->assignee_filter,
                   "Only tickets of: me, a technician's name, or none (unassigned)");
  list->add_option("--level", state->level, "Only this support level: L1, L2 or L3")
      ->check(CLI::IsMember({"L1", "L2", "L3"}));
  list->add_flag("--breaching", state->breaching, "Only tickets whose SLA is breached or due soon");
  list->add_option("--sort", state->sort,
                   "updated (default, newest first), priority (P1 first) or sla (soonest due)")
      ->check(CLI::IsMember({"priority", "sla", "updated"}));
  add_json(list, *state);
  list->callback([state, &action] { action = [state] { run_list(*state); }; });

  auto* show = with_ticket(
      ticket->add_subcommand("show",
                             "Show a ticket: fields, SLA clocks, sessions, timeline, FAQ, "
                             "latest handover"),
      *state);
  add_json(show, *state);
  show->callback([state, &action] { action = [state] { run_show(*state); }; });

  auto* edit =
      with_ticket(ticket->add_subcommand("edit",
                                         "Change a ticket's fields (impact or urgency recompute "
                                         "the priority and SLA targets)"),
                  *state);
  auto& options = state->edit_options;
  options["title"] = edit->add_option("--title", state->title, "One-line summary");
  options["description"] = edit->add_option("--description", state->description, "What is wrong");
  options["requester"] = edit->add_option("--requester", state->requester, "Who asked for help");
  options["requester_email"] =
      edit->add_option("--requester-email", state->requester_email, "The requester's e-mail");
  options["category"] = edit->add_option("--category", state->category, "Category");
  options["impact"] = edit->add_option("--impact", state->impact, "low, medium or high")
                          ->check(CLI::IsMember(kLevels3));
  options["urgency"] = edit->add_option("--urgency", state->urgency, "low, medium or high")
                           ->check(CLI::IsMember(kLevels3));
  options["device"] = edit->add_option("--device", state->device, "The requester's device");
  options["external"] = edit->add_option("--external", state->external,
                                         "SYSTEM:KEY in another ticketing system; \"\" clears it");
  add_expect_version(edit, *state);
  add_json(edit, *state);
  edit->callback([state, &action] { action = [state] { run_edit(*state); }; });

  auto* assign =
      with_ticket(ticket->add_subcommand("assign", "Give a ticket to a technician"), *state);
  assign->add_option("NAME", state->assignee, "Technician (me: yourself)")->required();
  add_expect_version(assign, *state);
  add_json(assign, *state);
  assign->callback([state, &action] { action = [state] { run_assign(*state); }; });

  auto* take = with_ticket(ticket->add_subcommand("take", "Assign a ticket to yourself"), *state);
  add_expect_version(take, *state);
  add_json(take, *state);
  take->callback([state, &action] {
    state->assignee = "me";
    action = [state] { run_assign(*state); };
  });

  auto* escalate = with_ticket(
      ticket->add_subcommand(
          "escalate", "Hand a ticket up to 2nd or 3rd level with a summary of what is known"),
      *state);
  escalate->add_option("--to", state->to, "L2 or L3")
      ->required()
      ->check(CLI::IsMember({"L2", "L3"}));
  escalate->add_option("--reason", state->reason, "Why it goes up")->required();
  escalate->add_option("--assign", state->assignee,
                       "Technician who takes it at the new level (default: nobody)");
  add_expect_version(escalate, *state);
  add_json(escalate, *state);
  escalate->callback([state, &action] { action = [state] { run_escalate(*state, true); }; });

  auto* deescalate = with_ticket(
      ticket->add_subcommand("deescalate", "Hand a ticket back down to 1st or 2nd level"), *state);
  deescalate->add_option("--to", state->to, "L1 or L2")
      ->required()
      ->check(CLI::IsMember({"L1", "L2"}));
  deescalate->add_option("--reason", state->reason, "Why it goes back");
  deescalate->add_option("--assign", state->assignee, "Technician who takes it back");
  add_expect_version(deescalate, *state);
  add_json(deescalate, *state);
  deescalate->callback([state, &action] { action = [state] { run_escalate(*state, false); }; });

  auto* note =
      with_ticket(ticket->add_subcommand("note", "Add a note to a ticket's timeline"), *state);
  note->add_option("TEXT", state->text, "The note (- reads it from stdin)")->required();
  note->add_flag("--internal", state->internal,
                 "For technicians only (not for the requester or outside systems)");
  add_json(note, *state);
  note->callback([state, &action] { action = [state] { run_note(*state); }; });

  auto* status =
      with_ticket(ticket->add_subcommand("status",
                                         "Move a ticket: open, pending (waiting on the requester; "
                                         "SLA paused), resolved, closed"),
                  *state);
  status->add_option("STATUS", state->status, "open, pending, resolved or closed")
      ->required()
      ->check(CLI::IsMember({"open", "pending", "resolved", "closed"}));
  status->add_option("--note", state->note, "What fixed it (required for resolved) or why");
  add_expect_version(status, *state);
  add_json(status, *state);
  status->callback([state, &action] { action = [state] { run_status(*state); }; });

  auto* reopen = with_ticket(
      ticket->add_subcommand("reopen", "Reopen a resolved (or recently closed) ticket"), *state);
  reopen->add_option("--reason", state->reason, "Why it is not fixed")->required();
  add_expect_version(reopen, *state);
  add_json(reopen, *state);
  reopen->callback([state, &action] { action = [state] { run_reopen(*state); }; });
}

}  // namespace tether::console
