#include "tether/console/ticket_view.hpp"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "view_text.hpp"

namespace tether::console {
namespace {

using nlohmann::json;

const json kTicket = json::parse(R"json({
  "id": "T-1", "title": "Printer offline", "status": "new", "requester": "Alice",
  "description": "Jams", "created_by": "ada", "created_at": "2026-11-25T10:00:00Z",
  "updated_at": "2026-11-25T10:05:00Z",
  "sessions": [{"id": "S-1", "status": "ended", "device": "pc-1 (Debian)", "technician": "ada",
                "consent": {"granted": true, "by": "alice"}, "ended_at": "2026-11-25T10:05:00Z"}],
  "timeline": [
    {"at": "2026-11-25T10:00:00Z", "actor": "ada", "kind": "ticket.created", "summary": "Ticket T-1 opened"},
    {"at": "2026-11-25T10:01:00Z", "actor": "ada", "kind": "session.requested", "summary": "ada joined"},
    {"at": "2026-11-25T10:05:00Z", "actor": "ada", "kind": "session.ended", "summary": "Session S-1 ended"}
  ]})json");

TEST(TicketView, ShowsFieldsSessionsAndTimelineInOrder) {
  const auto text = render_ticket(kTicket);
  EXPECT_NE(text.find("T-1  Printer offline"), std::string::npos) << text;
  EXPECT_NE(text.find("Alice"), std::string::npos);
  EXPECT_NE(text.find("S-1  ended  pc-1 (Debian)"), std::string::npos) << text;
  const auto created = text.find("ticket.created");
  const auto requested = text.find("session.requested");
  const auto ended = text.find("session.ended");
  ASSERT_NE(ended, std::string::npos);
  EXPECT_LT(created, requested);
  EXPECT_LT(requested, ended);
}

TEST(TicketView, ListIsATableWithAHeader) {
  const auto text = render_ticket_list(json::array({kTicket}));
  EXPECT_EQ(text.substr(0, 2), "ID");
  EXPECT_NE(text.find("T-1"), std::string::npos);
  EXPECT_EQ(render_ticket_list(json::array()), "No tickets.\n");
}

TEST(TicketView, ControlCharactersFromTheNetworkAreNeutralised) {
  auto evil = kTicket;
  evil["title"] = "\x1b]0;pwned\x07\x1b[2J";
  const auto text = render_ticket(evil);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
}

TEST(TicketView, OddInputNeverThrows) {
  for (const auto& odd : {json(), json::array(), json(42), json::parse(R"({"id": 5})"),
                          json::parse(R"({"sessions": "x", "timeline": [1, null, {}]})"),
                          json::parse(R"({"sessions": [null, 3, {"consent": "yes"}]})")}) {
    EXPECT_NO_THROW(render_ticket(odd)) << odd;
    EXPECT_NO_THROW(render_ticket_list(odd)) << odd;
    EXPECT_NO_THROW(render_session(odd)) << odd;
  }
}

using tether::testing::columns;
using tether::testing::lines;

// A help-desk ticket as GET /tickets/T-1 returns it (docs/api.md).
const json kHelpdeskTicket = json::parse(R"json({
  "id": "T-7", "title": "VPN drops every hour", "description": "Since Monday\nonly on Wi-Fi",
  "requester": "Ann Example", "requester_email": "ann@example.com", "category": "network",
  "impact": "high", "urgency": "high", "priority": "P1", "level": "L2", "assignee": "bob",
  "device": "PC-042", "external": {"system": "glpi", "key": "1234"}, "status": "open",
  "resolution": "", "created_by": "alice", "created_at": "2026-11-30T06:14:14Z",
  "updated_at": "2026-11-30T07:02:59Z", "first_response_at": "2026-11-30T06:20:00Z",
  "resolved_at": null, "closed_at": null, "version": 5,
  "sla": {"priority": "P1", "business_hours": false,
    "first_response": {"state": "met", "target_seconds": 900, "elapsed_seconds": 346,
      "remaining_seconds": 554, "overdue_seconds": 0, "due_at": null,
      "stopped_at": "2026-11-30T06:20:00Z", "breached": false},
    "resolution": {"state": "breached", "target_seconds": 14400, "elapsed_seconds": 18300,
      "remaining_seconds": 0, "overdue_seconds": 3900, "due_at": "2026-11-30T10:14:14Z",
      "stopped_at": null, "breached": true}},
  "sessions": [{"id": "S-2", "status": "ended", "device": "PC-042", "technician": "alice",
                "consent": {"granted": true, "by": "ann"}, "ended_at": "2026-11-30T06:50:00Z",
                "end_note": "Reset the Wi-Fi driver"}],
  "timeline": [
    {"at": "2026-11-30T06:14:14Z", "actor": "alice", "kind": "ticket.created", "summary": "Ticket T-7 opened"},
    {"at": "2026-11-30T06:30:00Z", "actor": "alice", "kind": "ticket.note", "summary": "Called Ann back", "detail": {"internal": true, "text": "Called Ann back"}},
    {"at": "2026-11-30T07:00:00Z", "actor": "alice", "kind": "ticket.escalated", "summary": "Escalated L1 → L2 by alice: driver bug"}
  ],
  "faq": [{"id": "FAQ-2", "title": "Wi-Fi keeps dropping"}],
  "suggested_faq": [{"id": "FAQ-5", "title": "Clean the root filesystem", "finding": "disk.root_full"}],
  "handover": {"ticket": "T-7", "from_level": "L1", "to_level": "L2", "reason": "driver bug",
               "text": "T-7 escalated L1 → L2: driver bug\nFindings:\n  [warning] net.wifi_drops: 14 drops today"}
})json");

TEST(TicketView, ShowsPriorityLevelAssigneeAndBothSlaClocks) {
  const auto text = render_ticket(kHelpdeskTicket);
  EXPECT_NE(text.find("priority:    P1 (impact high, urgency high)"), std::string::npos) << text;
  EXPECT_NE(text.find("level:       L2"), std::string::npos) << text;
  EXPECT_NE(text.find("assignee:    bob"), std::string::npos) << text;
  EXPECT_NE(text.find("Ann Example <ann@example.com>"), std::string::npos) << text;
  EXPECT_NE(text.find("external:    glpi 1234"), std::string::npos) << text;
  EXPECT_NE(text.find("updated:     2026-11-30 07:02Z (version 5)"), std::string::npos) << text;
  EXPECT_NE(text.find("first response:  met at 2026-11-30 06:20Z  [target 15 min]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("resolution:      breached 1 h 05 min ago (was due 2026-11-30 10:14Z)  "
                      "[target 4 h]"),
            std::string::npos)
      << text;
}

TEST(TicketView, ShowsMultiLineDescriptionIndentedUnderItsLabel) {
  const auto text = render_ticket(kHelpdeskTicket);
  EXPECT_NE(text.find("  description: Since Monday\n               only on Wi-Fi\n"),
            std::string::npos)
      << text;
}

TEST(TicketView, ShowsEndNotesInternalNotesFaqAndTheLatestHandover) {
  const auto text = render_ticket(kHelpdeskTicket);
  EXPECT_NE(text.find("    note: Reset the Wi-Fi driver"), std::string::npos) << text;
  EXPECT_NE(text.find("[internal] Called Ann back"), std::string::npos) << text;
  EXPECT_NE(text.find("2026-11-30 06:14Z  alice  ticket.created"), std::string::npos) << text;
  EXPECT_NE(text.find("linked:    FAQ-2: Wi-Fi keeps dropping"), std::string::npos) << text;
  EXPECT_NE(text.find("suggested: FAQ-5: Clean the root filesystem (finding disk.root_full)"),
            std::string::npos)
      << text;
  const auto handover = text.find("Latest handover:\n  T-7 escalated L1 → L2: driver bug\n");
  ASSERT_NE(handover, std::string::npos) << text;
  EXPECT_NE(text.find("    [warning] net.wifi_drops", handover), std::string::npos) << text;
  EXPECT_LT(text.find("Timeline:"), handover);
}

TEST(TicketView, OmitsWhatATicketDoesNotHave) {
  auto plain = kHelpdeskTicket;
  for (const char* key : {"external", "faq", "suggested_faq", "handover", "category", "device"}) {
    plain.erase(key);
  }
  plain["assignee"] = nullptr;
  const auto text = render_ticket(plain);
  EXPECT_EQ(text.find("external:"), std::string::npos) << text;
  EXPECT_EQ(text.find("Knowledge base"), std::string::npos) << text;
  EXPECT_EQ(text.find("Latest handover"), std::string::npos) << text;
  EXPECT_EQ(text.find("category:"), std::string::npos) << text;
  EXPECT_NE(text.find("assignee:    -\n"), std::string::npos) << text;
}

TEST(TicketView, DurationsReadTheWayPeopleSayThem) {
  EXPECT_EQ(format_duration(0), "0 s");
  EXPECT_EQ(format_duration(45), "45 s");
  EXPECT_EQ(format_duration(60), "1 min");
  EXPECT_EQ(format_duration(25 * 60 + 59), "25 min");
  EXPECT_EQ(format_duration(3600), "1 h");
  EXPECT_EQ(format_duration(3900), "1 h 05 min");
  EXPECT_EQ(format_duration(23 * 3600 + 59 * 60), "23 h 59 min");
  EXPECT_EQ(format_duration(86400), "1 d");
  EXPECT_EQ(format_duration(3 * 86400 + 4 * 3600 + 59), "3 d 4 h");
  EXPECT_EQ(format_duration(-1), "?");
}

TEST(TicketView, TimesAreShownToTheMinuteInUtc) {
  EXPECT_EQ(format_short_time(json("2026-11-30T06:14:14Z")), "2026-11-30 06:14Z");
  EXPECT_EQ(format_short_time(json("2026-11-30T06:14:14.250Z")), "2026-11-30 06:14Z");
  EXPECT_EQ(format_short_time(json(nullptr)), "-");
  EXPECT_EQ(format_short_time(json()), "-");
  EXPECT_EQ(format_short_time(json(5)), "?");
  EXPECT_EQ(format_short_time(json("yesterday")), "yesterday");
  EXPECT_EQ(format_short_time(json("\x1b[2J")).find('\x1b'), std::string::npos);
}

TEST(TicketView, EachClockStateHasItsWords) {
  EXPECT_EQ(describe_sla_clock(json::parse(
                R"({"state":"running","remaining_seconds":1500,"due_at":"2026-11-30T06:39:00Z"})")),
            "in 25 min (due 2026-11-30 06:39Z)");
  EXPECT_EQ(describe_sla_clock(json::parse(R"({"state":"breached","overdue_seconds":1500})")),
            "breached 25 min ago");
  EXPECT_EQ(describe_sla_clock(json::parse(R"({"state":"paused","remaining_seconds":1500})")),
            "paused, 25 min left");
  EXPECT_EQ(describe_sla_clock(
                json::parse(R"({"state":"paused","breached":true,"overdue_seconds":600})")),
            "paused, breached 10 min over target");
  EXPECT_EQ(describe_sla_clock(json::parse(
                R"({"state":"met","stopped_at":"2026-11-30T06:20:00Z","breached":false})")),
            "met at 2026-11-30 06:20Z");
  EXPECT_EQ(describe_sla_clock(json::parse(
                R"({"state":"met","stopped_at":"2026-11-30T06:20:00Z","breached":true,
                    "overdue_seconds":600})")),
            "met at 2026-11-30 06:20Z, 10 min late");
  EXPECT_EQ(describe_sla_clock(json()), "-");
}

TEST(TicketView, SlaCellShowsTheMostUrgentClock) {
  const auto sla = [](const char* first, const char* resolution) {
    return json{{"first_response", json::parse(first)}, {"resolution", json::parse(resolution)}};
  };
  EXPECT_EQ(sla_cell(sla(R"({"state":"running","remaining_seconds":1500})",
                         R"({"state":"running","remaining_seconds":9000})")),
            "in 25 min");
  EXPECT_EQ(sla_cell(sla(R"({"state":"met"})", R"({"state":"running","remaining_seconds":90})")),
            "in 1 min");
  EXPECT_EQ(sla_cell(sla(R"({"state":"breached","overdue_seconds":60})",
                         R"({"state":"breached","overdue_seconds":3900})")),
            "breached 1 h 05 min ago");
  // A breach outranks a clock that still runs, however close.
  EXPECT_EQ(sla_cell(sla(R"({"state":"breached","overdue_seconds":60})",
                         R"({"state":"running","remaining_seconds":5})")),
            "breached 1 min ago");
  EXPECT_EQ(sla_cell(sla(R"({"state":"met"})", R"({"state":"paused","remaining_seconds":5})")),
            "paused");
  EXPECT_EQ(sla_cell(sla(R"({"state":"met"})", R"({"state":"met","breached":false})")), "met");
  EXPECT_EQ(sla_cell(sla(R"({"state":"met"})", R"({"state":"met","breached":true})")), "missed");
  EXPECT_EQ(sla_cell(json()), "-");
}

TEST(TicketView, ListHasTheHelpDeskColumnsAligned) {
  auto unassigned = kHelpdeskTicket;
  unassigned["id"] = "T-12";
  unassigned["assignee"] = nullptr;
  unassigned["priority"] = "P4";
  unassigned["sla"]["resolution"] = json::parse(R"({"state":"running","remaining_seconds":1500})");
  const auto text = render_ticket_list(json::array({kHelpdeskTicket, unassigned}));
  const auto rows = lines(text);
  ASSERT_EQ(rows.size(), 3u) << text;
  EXPECT_EQ(rows[0], "ID    PRIO  LVL  STATUS  ASSIGNEE  SLA                      TITLE");
  EXPECT_EQ(rows[1],
            "T-7   P1    L2   open    bob       breached 1 h 05 min ago  VPN drops every hour");
  EXPECT_EQ(rows[2],
            "T-12  P4    L2   open    -         in 25 min                VPN drops every hour");
}

TEST(TicketView, ListFitsOneHundredColumnsByCuttingTitlesAndNames) {
  auto t = kHelpdeskTicket;
  t["title"] = std::string(300, 'x');
  t["assignee"] = "bartholomew.very-long-name";
  const auto text = render_ticket_list(json::array({t}));
  for (const auto& line : lines(text)) EXPECT_LE(columns(line), 100u) << line;
  EXPECT_NE(text.find("bartholomew…"), std::string::npos) << text;
  EXPECT_NE(text.find("x…"), std::string::npos) << text;
  // A wider terminal shows more of the title.
  EXPECT_GT(columns(lines(render_ticket_list(json::array({t}), 160))[1]), 100u);
}

TEST(TicketView, OneLineAfterAChange) {
  EXPECT_EQ(render_ticket_line(kHelpdeskTicket), "T-7  P1  L2  open  bob  VPN drops every hour\n");
}

TEST(TicketView, HelpdeskFieldsOfTheWrongTypeNeverThrow) {
  auto odd = kHelpdeskTicket;
  odd["sla"] = json::parse(R"({"first_response": 5, "resolution": {"state": 7,
                               "overdue_seconds": "x", "remaining_seconds": 1e300}})");
  odd["level"] = 2;
  odd["assignee"] = json::array();
  odd["external"] = "glpi:1";
  odd["faq"] = json::parse(R"([null, 1, {"id": 3}])");
  odd["suggested_faq"] = "FAQ-1";
  odd["handover"] = json::parse(R"({"text": 5, "findings": "x", "notes": [1], "sessions": [{}]})");
  odd["description"] = 42;
  odd["version"] = "five";
  EXPECT_NO_THROW(render_ticket(odd));
  EXPECT_NO_THROW(render_ticket_list(json::array({odd, 1, nullptr})));
  EXPECT_NO_THROW(render_ticket_line(odd));
  EXPECT_NE(render_ticket(odd).find("level:       L2"), std::string::npos);
}

TEST(TicketView, ControlCharactersInMultiLineFieldsAreNeutralised) {
  auto evil = kHelpdeskTicket;
  evil["description"] = "line one\n\x1b]0;pwned\x07\nline three\r\n";
  evil["handover"]["text"] =
      "\x1b[2Jgone\n\xc2\x9b"
      "31m";
  evil["sessions"][0]["end_note"] = "done\x1b[1A";
  const auto text = render_ticket(evil);
  EXPECT_EQ(text.find('\x1b'), std::string::npos) << text;
  EXPECT_EQ(text.find('\x07'), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos) << text;
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << text;
  EXPECT_NE(text.find("               line three\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace tether::console
