// `tether sla`, `tether report T-1`, `tether faq …`, `tether webhooks log`: the help desk's
// overview, the ticket's story for a manager, the knowledge base and the outgoing webhooks.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>

#include "tether/console/api_client.hpp"
#include "tether/console/ticket_view.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"
#include "tether/protocol/json_access.hpp"
#include "tether/protocol/ticket_report.hpp"

namespace tether::console {

using json = nlohmann::json;

namespace {

struct HelpdeskState {
  std::string ticket, faq;
  // report
  std::string format = "md", out;
  // faq
  std::string since, search, title, body, body_file;
  std::vector<std::string> findings, categories;
  bool no_findings = false, no_categories = false;
  CLI::Option* title_option = nullptr;
  long long expect_version = -1;
  // webhooks
  std::string delivery_status;
  int limit = 50;
  bool as_json = false;
};

void print_json(const json& value) {
  std::cout << value.dump(2) << "\n";
}

std::string segment(const std::string& id, const char* what) {
  if (id.empty()) throw CommandError(std::string("give ") + what);
  return percent_encode(id);
}

std::string shown(const json& object, const char* key) {
  if (!object.is_object()) return "?";
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? protocol::printable_text(it->get<std::string>())
                                               : "?";
}

const json& member(const json& object, const char* key) {
  return protocol::json_member(object, key);
}

// The article's body from --body or --body-file (- is stdin); nothing when neither was given.
std::optional<std::string> article_body(const HelpdeskState& state) {
  if (!state.body_file.empty()) {
    std::string text;
    if (state.body_file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(state.body_file, std::ios::binary);
      if (!in) throw CommandError("cannot read " + state.body_file);
      text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      if (in.bad()) throw CommandError("cannot read " + state.body_file);
    }
    return text;
  }
  if (!state.body.empty()) return state.body;
  return std::nullopt;
}

// Writes `text` to `path` through a temporary file in the same directory, so a reader never
// sees half a report and a failed write leaves an older report as it was.
void write_file(const std::string& path, const std::string& text) {
  const std::filesystem::path target(path);
  auto temporary = target;
  temporary += ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      std::error_code ignored;
      std::filesystem::remove(temporary, ignored);
      throw CommandError("cannot write " + path);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temporary, target, ec);
  if (ec) {
    std::filesystem::remove(temporary, ec);
    throw CommandError("cannot write " + path + ": " + ec.message());
  }
}

void run_sla(const HelpdeskState& state) {
  const auto reply = ApiClient::from_saved_credentials().get("/sla");
  if (state.as_json) return print_json(reply);
  std::cout << render_sla_overview(reply, output_width());
}

void run_report(const HelpdeskState& state) {
  const auto report = ApiClient::from_saved_credentials().get(
      "/tickets/" + segment(state.ticket, "a ticket, e.g. T-1") + "/report");
  std::string document;
  if (state.format == "json") {
    document = report.dump(2) + "\n";
  } else if (state.format == "html") {
    document = protocol::render_ticket_report_html(report);
  } else {
    document = protocol::render_ticket_report_markdown(report);
  }
  if (state.out.empty() || state.out == "-") {
    std::cout << document;
    return;
  }
  write_file(state.out, document);
  std::cout << "Report of " << shown(member(report, "ticket"), "id") << " written to " << state.out
            << " (" << state.format << ", " << document.size() << " bytes).\n";
}

void run_faq_suggest(const HelpdeskState& state) {
  if (!state.since.empty()) {
    const bool ok = state.since.size() >= 2 && state.since.size() <= 6 &&
                    (state.since.back() == 'd' || state.since.back() == 'h') &&
                    state.since.find_first_not_of("0123456789") == state.since.size() - 1;
    if (!ok) throw CommandError("--since takes days or hours, e.g. 30d or 12h");
  }
  const auto reply =
      ApiClient::from_saved_credentials().get("/faq/suggestions", {{"since", state.since}});
  if (state.as_json) return print_json(reply);
  std::cout << render_faq_suggestions(reply);
}

void run_faq_new(const HelpdeskState& state) {
  auto body = article_body(state);
  if (!body || body->empty())
    throw CommandError("the article needs --body TEXT or --body-file FILE");
  json request{{"title", state.title}, {"body", *body}};
  if (!state.findings.empty()) request["finding_ids"] = state.findings;
  if (!state.categories.empty()) request["categories"] = state.categories;
  const auto article = ApiClient::from_saved_credentials().post("/faq", request);
  if (state.as_json) return print_json(article);
  std::cout << shown(article, "id") << " created: " << shown(article, "title") << "\n";
}

void run_faq_list(const HelpdeskState& state) {
  const auto reply = ApiClient::from_saved_credentials().get("/faq", {{"search", state.search}});
  const auto& articles = member(reply, "articles");
  if (state.as_json) return print_json(articles.is_array() ? articles : json::array());
  std::cout << render_faq_list(articles, output_width());
}

void run_faq_show(const HelpdeskState& state) {
  const auto article = ApiClient::from_saved_credentials().get(
      "/faq/" + segment(state.faq, "an article, e.g. FAQ-3"));
  if (state.as_json) return print_json(article);
  std::cout << render_faq_article(article);
}

void run_faq_edit(const HelpdeskState& state) {
  json request = json::object();
  if (state.title_option->count() > 0) {
    if (state.title.empty()) throw CommandError("--title cannot be empty");
    request["title"] = state.title;
  }
  if (auto body = article_body(state)) {
    if (body->empty()) throw CommandError("the body cannot be empty");
    request["body"] = *body;
  }
  if (!state.findings.empty()) request["finding_ids"] = state.findings;
  if (state.no_findings) request["finding_ids"] = json::array();
  if (!state.categories.empty()) request["categories"] = state.categories;
  if (state.no_categories) request["categories"] = json::array();
  if (request.empty()) {
    throw CommandError(
        "nothing to change: give --title, --body, --body-file, --finding, --category, "
        "--no-findings or --no-categories");
  }
  if (state.expect_version >= 0) request["version"] = state.expect_version;
  const auto article = ApiClient::from_saved_credentials().patch(
      "/faq/" + segment(state.faq, "an article, e.g. FAQ-3"), request);
  if (state.as_json) return print_json(article);
  std::cout << shown(article, "id") << " updated: " << shown(article, "title") << "\n";
}

void run_faq_link(const HelpdeskState& state) {
  const auto reply = ApiClient::from_saved_credentials().post(
      "/tickets/" + segment(state.ticket, "a ticket, e.g. T-1") + "/faq", {{"faq", state.faq}});
  if (state.as_json) return print_json(reply);
  std::cout << shown(reply, "ticket") << " links:\n";
  const auto& linked = member(reply, "faq");
  if (!linked.is_array() || linked.empty()) std::cout << "  (none)\n";
  if (linked.is_array()) {
    for (const auto& a : linked)
      std::cout << "  " << shown(a, "id") << ": " << shown(a, "title") << "\n";
  }
}

void run_webhooks_log(const HelpdeskState& state) {
  const auto reply = ApiClient::from_saved_credentials().get(
      "/webhooks/deliveries",
      {{"status", state.delivery_status}, {"limit", std::to_string(state.limit)}});
  const auto& deliveries = member(reply, "deliveries");
  if (state.as_json) return print_json(deliveries.is_array() ? deliveries : json::array());
  std::cout << render_delivery_log(deliveries, output_width());
}

void add_json(CLI::App* command, HelpdeskState& state) {
  command->add_flag("--json", state.as_json, "Print the relay's JSON");
}

// --body / --body-file, one of them at most.
void add_body_options(CLI::App* command, HelpdeskState& state) {
  auto* body = command->add_option("--body", state.body, "The article's text (Markdown)");
  auto* file = command->add_option("--body-file", state.body_file,
                                   "Read the article's text from FILE (- for stdin)");
  body->excludes(file);
}

}  // namespace

void add_helpdesk_commands(CLI::App& app, std::function<void()>& action) {
  auto state = std::make_shared<HelpdeskState>();

  auto* sla = app.add_subcommand(
      "sla", "What breaches soon: tickets by urgency, counts per technician and level");
  add_json(sla, *state);
  sla->callback([state, &action] { action = [state] { run_sla(*state); }; });

  auto* report = app.add_subcommand(
      "report", "A ticket's story: sessions, consent, actions, findings, escalations, resolution");
  report->add_option("TICKET", state->ticket, "Ticket, e.g. T-1")->required();
  report->add_option("--format", state->format, "md (default), html (one printable file) or json")
      ->check(CLI::IsMember({"md", "html", "json"}));
  report->add_option("--out", state->out, "Write to FILE instead of stdout");
  report->callback([state, &action] { action = [state] { run_report(*state); }; });

  auto* faq = app.add_subcommand("faq", "The knowledge base: articles linked to findings");
  faq->require_subcommand(1);

  auto* suggest = faq->add_subcommand(
      "suggest", "The most frequent findings and categories of resolved tickets, as drafts");
  suggest->add_option("--since", state->since, "How far back: 30d (default), 7d, 12h…");
  add_json(suggest, *state);
  suggest->callback([state, &action] { action = [state] { run_faq_suggest(*state); }; });

  auto* create = faq->add_subcommand("new", "Write an article");
  create->add_option("--title", state->title, "The article's title")->required();
  add_body_options(create, *state);
  create
      ->add_option("--finding", state->findings,
                   "Diagnostics finding it answers, e.g. disk.root_full (repeatable)")
      ->allow_extra_args(false);
  create->add_option("--category", state->categories, "Ticket category it answers (repeatable)")
      ->allow_extra_args(false);
  add_json(create, *state);
  create->callback([state, &action] { action = [state] { run_faq_new(*state); }; });

  auto* list = faq->add_subcommand("list", "List or search articles");
  list->add_option("--search", state->search, "Only articles containing TEXT");
  add_json(list, *state);
  list->callback([state, &action] { action = [state] { run_faq_list(*state); }; });

  auto* show = faq->add_subcommand("show", "Show an article and the tickets it is linked to");
  show->add_option("FAQ", state->faq, "Article, e.g. FAQ-3")->required();
  add_json(show, *state);
  show->callback([state, &action] { action = [state] { run_faq_show(*state); }; });

  auto* edit = faq->add_subcommand("edit", "Change an article");
  edit->add_option("FAQ", state->faq, "Article, e.g. FAQ-3")->required();
  state->title_option = edit->add_option("--title", state->title, "New title");
  add_body_options(edit, *state);
  auto* findings = edit->add_option("--finding", state->findings,
                                    "Replace the finding ids with these (repeatable)")
                       ->allow_extra_args(false);
  auto* no_findings = edit->add_flag("--no-findings", state->no_findings, "Remove all finding ids");
  findings->excludes(no_findings);
  auto* categories = edit->add_option("--category", state->categories,
                                      "Replace the categories with these (repeatable)")
                         ->allow_extra_args(false);
  auto* no_categories =
      edit->add_flag("--no-categories", state->no_categories, "Remove all categories");
  categories->excludes(no_categories);
  edit->add_option("--expect-version", state->expect_version,
                   "Refuse (409) if the article changed since this version");
  add_json(edit, *state);
  edit->callback([state, &action] { action = [state] { run_faq_edit(*state); }; });

  auto* link = faq->add_subcommand("link", "Link an article to a ticket");
  link->add_option("TICKET", state->ticket, "Ticket, e.g. T-1")->required();
  link->add_option("FAQ", state->faq, "Article, e.g. FAQ-3")->required();
  add_json(link, *state);
  link->callback([state, &action] { action = [state] { run_faq_link(*state); }; });

  auto* webhooks = app.add_subcommand("webhooks", "Outgoing webhooks to other ticketing systems");
  webhooks->require_subcommand(1);
  auto* log = webhooks->add_subcommand("log", "The delivery log, newest first (admins only)");
  log->add_option("--status", state->delivery_status, "Only pending, delivered or failed")
      ->check(CLI::IsMember({"pending", "delivered", "failed"}));
  log->add_option("--limit", state->limit, "At most N deliveries (default 50)")
      ->check(CLI::Range(1, 1000));
  add_json(log, *state);
  log->callback([state, &action] { action = [state] { run_webhooks_log(*state); }; });
}

}  // namespace tether::console
