// The help desk's other views (tether sla, faq, webhooks log, escalation handover, the
// knowledge-base block after tether diag) and the query strings the console sends.

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tether/console/api_client.hpp"
#include "tether/console/ticket_view.hpp"
#include "view_text.hpp"

namespace tether::console {
namespace {

using nlohmann::json;

using tether::testing::columns;
using tether::testing::lines;

const json kSla = json::parse(R"json({
  "generated_at": "2026-11-30T07:00:00Z", "warn_before_seconds": 3600,
  "tickets": [
    {"id": "T-1", "title": "Printer offline", "priority": "P2", "level": "L1", "assignee": "alice",
     "status": "open", "clock": "resolution", "state": "breached",
     "due_at": "2026-11-30T05:55:00Z", "remaining_seconds": 0, "overdue_seconds": 3900},
    {"id": "T-2", "title": "VPN drops", "priority": "P1", "level": "L2", "assignee": null,
     "status": "new", "clock": "first_response", "state": "running",
     "due_at": "2026-11-30T07:25:00Z", "remaining_seconds": 1500, "overdue_seconds": 0}],
  "by_technician": [{"name": "alice", "open": 3, "breached": 1, "due_soon": 0},
                    {"name": "(unassigned)", "open": 2, "breached": 0, "due_soon": 1}],
  "by_level": [{"level": "L1", "open": 4, "breached": 1, "due_soon": 0},
               {"level": "L2", "open": 1, "breached": 0, "due_soon": 1}]
})json");

TEST(HelpdeskViews, SlaListsTheMostUrgentFirstThenCountsPerTechnicianAndLevel) {
  const auto text = render_sla_overview(kSla);
  const auto rows = lines(text);
  ASSERT_GE(rows.size(), 12u) << text;
  EXPECT_EQ(rows[0], "Breached or due within 1 h (as of 2026-11-30 07:00Z), most urgent first:");
  EXPECT_EQ(rows[1],
            "ID   PRIO  LVL  ASSIGNEE  STATUS  CLOCK       SLA                      TITLE");
  EXPECT_EQ(rows[2],
            "T-1  P2    L1   alice     open    resolution  breached 1 h 05 min ago  "
            "Printer offline");
  EXPECT_EQ(rows[3],
            "T-2  P1    L2   -         new     response    in 25 min                "
            "VPN drops");
  EXPECT_EQ(rows[5], "TECHNICIAN    OPEN  BREACHED  DUE SOON");
  EXPECT_EQ(rows[6], "alice         3     1         0");
  EXPECT_EQ(rows[7], "(unassigned)  2     0         1");
  EXPECT_EQ(rows[9], "LEVEL  OPEN  BREACHED  DUE SOON");
  EXPECT_EQ(rows[10], "L1     4     1         0");
}

TEST(HelpdeskViews, SlaSaysSoWhenNothingIsDue) {
  auto calm = kSla;
  calm["tickets"] = json::array();
  calm["warn_before_seconds"] = 7200;
  EXPECT_EQ(lines(render_sla_overview(calm))[0],
            "Nothing breached or due within 2 h (as of 2026-11-30 07:00Z).");
}

TEST(HelpdeskViews, SlaTableFitsOneHundredColumns) {
  auto busy = kSla;
  busy["tickets"][0]["title"] = std::string(200, 't');
  busy["tickets"][0]["assignee"] = std::string(40, 'a');
  for (const auto& line : lines(render_sla_overview(busy))) {
    EXPECT_LE(columns(line), 100u) << line;
  }
}

const json kArticle = json::parse(R"json({
  "id": "FAQ-3", "title": "Clean the root filesystem",
  "body": "1. Run `du -xh / | sort -h`\n2. Remove old kernels",
  "finding_ids": ["disk.root_full"], "categories": ["disk", "linux"], "created_by": "alice",
  "created_at": "2026-11-30T06:00:00Z", "updated_at": "2026-11-30T06:10:00Z", "version": 2,
  "tickets": ["T-1", "T-4"]
})json");

TEST(HelpdeskViews, FaqListIsATableOfArticles) {
  auto other = kArticle;
  other["id"] = "FAQ-12";
  other["title"] = "Printer queue stuck";
  other["finding_ids"] = json::array();
  const auto rows = lines(render_faq_list(json::array({kArticle, other})));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "ID      TITLE                      CATEGORIES   FINDINGS");
  EXPECT_EQ(rows[1], "FAQ-3   Clean the root filesystem  disk, linux  disk.root_full");
  EXPECT_EQ(rows[2], "FAQ-12  Printer queue stuck        disk, linux");
  EXPECT_EQ(render_faq_list(json::array()), "No articles.\n");
}

TEST(HelpdeskViews, FaqArticleShowsItsFieldsThenItsBody) {
  const auto text = render_faq_article(kArticle);
  EXPECT_EQ(text,
            "FAQ-3  Clean the root filesystem\n"
            "  categories: disk, linux\n"
            "  findings:   disk.root_full\n"
            "  created:    2026-11-30 06:00Z by alice\n"
            "  updated:    2026-11-30 06:10Z (version 2)\n"
            "  tickets:    T-1, T-4\n"
            "\n"
            "  1. Run `du -xh / | sort -h`\n"
            "  2. Remove old kernels\n");
}

const json kSuggestions = json::parse(R"json({
  "since": "2026-10-31T07:00:00Z", "tickets_considered": 12,
  "suggestions": [
    {"kind": "finding", "key": "disk.root_full", "label": "Root filesystem almost full",
     "count": 4, "tickets": ["T-3", "T-9", "T-11", "T-12"],
     "resolutions": [{"ticket": "T-3", "note": "Removed old kernels\nand rotated logs"}],
     "covered_by": []},
    {"kind": "category", "key": "printing", "label": "printing", "count": 3,
     "tickets": ["T-1", "T-2", "T-5"], "resolutions": [],
     "covered_by": [{"id": "FAQ-2", "title": "Printer queue stuck"}]}]
})json");

TEST(HelpdeskViews, FaqSuggestionsRankWithResolutionsAndSayWhatIsNotCoveredYet) {
  const auto text = render_faq_suggestions(kSuggestions);
  EXPECT_EQ(lines(text)[0],
            "Recurring among 12 resolved tickets since 2026-10-31 07:00Z, most frequent first:");
  const auto first = text.find(
      "1. finding disk.root_full: Root filesystem almost full\n"
      "   4 tickets: T-3, T-9, T-11, T-12\n"
      "   resolved with:\n"
      "     T-3: Removed old kernels\n"
      "          and rotated logs\n"
      "   no article yet: tether faq new --title TITLE --body-file FILE "
      "--finding disk.root_full\n");
  EXPECT_NE(first, std::string::npos) << text;
  const auto second = text.find(
      "2. category printing\n"
      "   3 tickets: T-1, T-2, T-5\n"
      "   covered by FAQ-2: Printer queue stuck\n");
  EXPECT_NE(second, std::string::npos) << text;
  EXPECT_LT(first, second);
  EXPECT_EQ(text.find("--category printing"), std::string::npos) << text;
}

TEST(HelpdeskViews, FaqSuggestionsWithNothingRecurring) {
  auto none = kSuggestions;
  none["suggestions"] = json::array();
  EXPECT_EQ(render_faq_suggestions(none),
            "Nothing recurs among the 12 resolved tickets since 2026-10-31 07:00Z.\n");
}

const json kDeliveries = json::parse(R"json([
  {"id": 7, "webhook": "glpi", "event": "ticket.status", "ticket": "T-1", "entry": 42,
   "status": "pending", "attempts": 3, "created_at": "2026-11-30T06:00:00Z",
   "next_attempt_at": "2026-11-30T07:05:00Z", "last_attempt_at": "2026-11-30T06:58:00Z",
   "last_http_status": 503, "last_error": "Service Unavailable", "delivered_at": null},
  {"id": 6, "webhook": "zammad", "event": "session.ended", "ticket": "T-1", "entry": 41,
   "status": "delivered", "attempts": 1, "created_at": "2026-11-30T05:00:00Z",
   "next_attempt_at": null, "last_attempt_at": "2026-11-30T05:00:01Z",
   "last_http_status": 200, "last_error": "", "delivered_at": "2026-11-30T05:00:01Z"},
  {"id": 5, "webhook": "jira", "event": "ticket.created", "ticket": "T-1", "entry": 1,
   "status": "failed", "attempts": 8, "created_at": "2026-11-29T05:00:00Z",
   "next_attempt_at": null, "last_attempt_at": "2026-11-29T09:00:00Z",
   "last_http_status": null, "last_error": "connection refused", "delivered_at": null}
])json");

TEST(HelpdeskViews, DeliveryLogSaysWhenAndWhyPerDelivery) {
  const auto rows = lines(render_delivery_log(kDeliveries));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0],
            "ID  STATUS     EVENT           TICKET  WEBHOOK  TRIES  WHEN                    "
            "LAST ERROR");
  EXPECT_EQ(rows[1],
            "7   pending    ticket.status   T-1     glpi     3      next 2026-11-30 07:05Z  "
            "HTTP 503: Service Un…");
  EXPECT_EQ(rows[2],
            "6   delivered  session.ended   T-1     zammad   1      2026-11-30 05:00Z       -");
  EXPECT_EQ(rows[3],
            "5   failed     ticket.created  T-1     jira     8      2026-11-29 09:00Z       "
            "connection refused");
  EXPECT_EQ(render_delivery_log(json::array()), "No deliveries.\n");
  for (const auto& row : rows) EXPECT_LE(columns(row), 100u) << row;
}

TEST(HelpdeskViews, DeliveryLogShowsTheWholeErrorOnAWideTerminal) {
  EXPECT_NE(render_delivery_log(kDeliveries, 200).find("HTTP 503: Service Unavailable"),
            std::string::npos);
}

TEST(HelpdeskViews, HandoverPrintsTheRelaysTextAsItIs) {
  const json handover{{"ticket", "T-1"},
                      {"text", "T-1 escalated L1 → L2: needs root\nFindings:\n  [critical] x"}};
  EXPECT_EQ(render_handover(handover),
            "T-1 escalated L1 → L2: needs root\nFindings:\n  [critical] x\n");
  EXPECT_EQ(render_handover(json()), "");
}

TEST(HelpdeskViews, HandoverWithoutTextIsBuiltFromItsFields) {
  const auto handover = json::parse(R"json({
    "ticket": "T-1", "title": "Printer offline", "priority": "P2", "from_level": 1,
    "to_level": "L2", "reason": "needs a driver", "requester": "Ann", "device": "PC-042",
    "findings": [{"id": "disk.root_full", "severity": "critical", "summary": "/ is 97% full"}],
    "snapshot_at": "2026-11-30T06:30:00Z",
    "actions": [{"at": "2026-11-30T06:31:00Z", "actor": "alice", "kind": "service.restart",
                 "summary": "Restarted cups"}],
    "notes": [{"at": "2026-11-30T06:35:00Z", "actor": "alice", "text": "Ann says\nit jams",
               "internal": true}],
    "sessions": [{"id": "S-1", "technician": "alice", "started_at": "2026-11-30T06:20:00Z",
                  "ended_at": "2026-11-30T06:40:00Z", "end_note": "Restarted cups"}]})json");
  const auto text = render_handover(handover);
  EXPECT_NE(text.find("Handover T-1: L1 → L2  Printer offline\nReason: needs a driver\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  [critical] disk.root_full: / is 97% full"), std::string::npos) << text;
  EXPECT_NE(text.find("  2026-11-30 06:31Z  alice  Restarted cups"), std::string::npos) << text;
  EXPECT_NE(text.find("  2026-11-30 06:35Z  alice (internal): Ann says\n    it jams\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  S-1  alice  2026-11-30 06:20Z – 2026-11-30 06:40Z  Restarted cups"),
            std::string::npos)
      << text;
}

TEST(HelpdeskViews, DiagnosticsGetAKnowledgeBaseBlockForMatchingFindings) {
  const auto snapshot = json::parse(R"json({"findings": [
    {"id": "disk.root_full", "severity": "critical", "summary": "/ is 97% full"},
    {"id": "net.dns", "severity": "warning", "summary": "DNS is slow"}]})json");
  const auto faq = json::parse(R"json({
    "disk.root_full": [{"id": "FAQ-3", "title": "Clean the root filesystem"},
                       {"id": "FAQ-7", "title": "Move /var to its own disk"}],
    "net.dns": [],
    "cpu.hot": [{"id": "FAQ-9", "title": "Fans"}]})json");
  EXPECT_EQ(render_diag_faq(faq, snapshot),
            "\nKnowledge base:\n"
            "  cpu.hot\n"
            "    → FAQ-9: Fans\n"
            "  disk.root_full  / is 97% full\n"
            "    → FAQ-3: Clean the root filesystem\n"
            "    → FAQ-7: Move /var to its own disk\n");
  EXPECT_EQ(render_diag_faq(json::object(), snapshot), "");
  EXPECT_EQ(render_diag_faq(json::parse(R"({"net.dns": []})"), snapshot), "");
  EXPECT_EQ(render_diag_faq(json(), snapshot), "");
}

TEST(HelpdeskViews, ControlCharactersFromTheNetworkAreNeutralised) {
  auto article = kArticle;
  article["body"] = "safe\n\x1b]52;c;ZWNobyBwd25lZA==\x07\n";
  auto deliveries = kDeliveries;
  deliveries[0]["last_error"] = "\x1b[31mred";
  auto suggestions = kSuggestions;
  suggestions["suggestions"][0]["resolutions"][0]["note"] = "\x1b[2J";
  const json faq{{"\x1b[1Ax", json::array({json{{"id", "FAQ-1"}, {"title", "\x1b[2J"}}})}};
  for (const auto& text : {render_faq_article(article), render_delivery_log(deliveries, 200),
                           render_faq_suggestions(suggestions), render_diag_faq(faq, json()),
                           render_handover(json{{"text", "\x1b[2J\x07"}})}) {
    EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
    EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  }
}

TEST(HelpdeskViews, OddInputNeverThrows) {
  for (const auto& odd :
       {json(), json::array(), json(42), json("x"), json::parse(R"({"tickets": 5})"),
        json::parse(R"({"tickets": [null, 1, {"overdue_seconds": "x"}], "by_level": [{"level": 2}],
                        "by_technician": [1, {"name": null}]})"),
        json::parse(R"({"suggestions": [null, {"resolutions": [1, {"note": 5}],
                        "covered_by": "x", "tickets": [1]}]})"),
        json::parse(R"([{"id": 1.5, "status": 3, "last_http_status": "x"}, null])"),
        json::parse(R"({"findings": {"a": 1}, "text": [], "notes": [{"text": 1}]})")}) {
    EXPECT_NO_THROW(render_sla_overview(odd)) << odd;
    EXPECT_NO_THROW(render_faq_list(odd)) << odd;
    EXPECT_NO_THROW(render_faq_article(odd)) << odd;
    EXPECT_NO_THROW(render_faq_suggestions(odd)) << odd;
    EXPECT_NO_THROW(render_delivery_log(odd)) << odd;
    EXPECT_NO_THROW(render_handover(odd)) << odd;
    EXPECT_NO_THROW(render_diag_faq(odd, odd)) << odd;
    EXPECT_NO_THROW(describe_sla_clock(odd)) << odd;
    EXPECT_NO_THROW(sla_cell(odd)) << odd;
  }
}

TEST(HelpdeskQuery, ValuesArePercentEncoded) {
  EXPECT_EQ(percent_encode("disk full"), "disk%20full");
  EXPECT_EQ(percent_encode("a&b=c/d?e#f+g%"), "a%26b%3Dc%2Fd%3Fe%23f%2Bg%25");
  EXPECT_EQ(percent_encode("é"), "%C3%A9");
  EXPECT_EQ(percent_encode("T-1_x.y~z"), "T-1_x.y~z");
  // The relay splits lists on ",", so the separator stays as it is.
  EXPECT_EQ(percent_encode("open,pending"), "open,pending");
}

TEST(HelpdeskQuery, QueryStringLeavesOutEmptyValues) {
  EXPECT_EQ(query_string({}), "");
  EXPECT_EQ(query_string({{"status", ""}, {"sort", ""}}), "");
  EXPECT_EQ(query_string({{"status", "open,pending"}, {"assignee", ""}, {"search", "a b"}}),
            "?status=open,pending&search=a%20b");
}

}  // namespace
}  // namespace tether::console
