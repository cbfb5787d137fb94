#include "helpdesk/handover.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {
namespace {

using nlohmann::json;

TimePoint at(const char* text) {
  auto t = protocol::parse_time(text);
  EXPECT_TRUE(t) << text;
  return t ? *t : TimePoint{};
}

json load(const std::string& name) {
  std::ifstream in(std::string(TETHER_TEST_DATA_DIR) + "/snapshots/" + name);
  EXPECT_TRUE(in) << name;
  return json::parse(in);
}

TimelineEntry entry(const char* when, std::string actor, std::string kind, std::string summary,
                    json detail = json::object(), std::optional<std::int64_t> session = 3) {
  TimelineEntry e;
  e.ticket_id = 7;
  e.session_id = session;
  e.at = at(when);
  e.actor = std::move(actor);
  e.kind = std::move(kind);
  e.summary = std::move(summary);
  e.detail = std::move(detail);
  return e;
}

// A printing ticket worked by alice at L1: one session on Anna's laptop, commands, a service
// restart, a refused kill, two notes, the before/after diff; then she escalates it to L2.
class HandoverFixture : public ::testing::Test {
 protected:
  HandoverFixture() {
    ticket.id = 7;
    ticket.title = "Printing fails since this morning";
    ticket.description = "Nothing prints; the printer shows \"ready\".\nNeeded for invoices today.";
    ticket.requester = "Anna Berg";
    ticket.requester_email = "anna.berg@example.com";
    ticket.category = "printing";
    ticket.impact = "medium";
    ticket.urgency = "high";
    ticket.priority = "P2";
    ticket.level = 1;
    ticket.assignee = "alice";
    ticket.device = "PC-042";
    ticket.status = "open";
    ticket.created_by = "alice";
    ticket.created_at = at("2025-11-25T09:55:00Z");

    SessionRecord session;
    session.id = 3;
    session.ticket_id = 7;
    session.technician = "alice";
    session.joined_by = "support_code";
    session.device = "anna-laptop (Debian GNU/Linux 12 (bookworm))";
    session.status = "ended";
    session.started_at = at("2025-11-25T10:01:50Z");
    session.ended_at = at("2025-11-25T10:41:30Z");
    session.end_note = "freed 3 GiB, restarted cups; PDFs still fail";
    sessions.push_back(session);

    timeline = {
        entry("2025-11-25T09:55:00Z", "alice", "ticket.created", "T-7 created by alice", {},
              std::nullopt),
        entry("2025-11-25T09:58:00Z", "alice", "ticket.note", "Note by alice",
              {{"text", "Anna says it started after yesterday's updates."}, {"internal", false}},
              std::nullopt),
        entry("2025-11-25T10:01:50Z", "alice", "session.requested", "alice asked to join"),
        entry("2025-11-25T10:02:10Z", "agent:anna-laptop", "consent.granted", "Anna allowed"),
        entry("2025-11-25T10:02:31Z", "relay", "diagnostics.snapshot", "Diagnostics snapshot"),
        entry("2025-11-25T10:05:12Z", "alice", "command.run", "alice ran df -h /: exit 0 in 0.2 s"),
        entry("2025-11-25T10:12:40Z", "alice", "command.run",
              "alice ran apt-get autoremove --purge -y skypeforlinux: exit 0 in 41.3 s"),
        entry("2025-11-25T10:30:05Z", "alice", "command.run",
              "alice ran apt-get install -y openssl printer-driver-gutenprint: exit 0 in 58.0 s"),
        entry("2025-11-25T10:31:44Z", "alice", "service.restart",
              "alice restart service cups: done (now active)"),
        entry("2025-11-25T10:35:00Z", "alice", "action.refused",
              "Refused killing process 3120 with SIGKILL for alice: the user said no"),
        entry("2025-11-25T10:38:20Z", "alice", "ticket.note", "Internal note by alice",
              {{"text",
                "Test page prints; PDFs from evince still fail.\nSuspect cups-filters: needs "
                "someone with packaging rights."},
               {"internal", true}}),
        entry("2025-11-25T10:41:07Z", "relay", "diagnostics.snapshot", "Diagnostics snapshot"),
        entry("2025-11-25T10:41:08Z", "relay", "diagnostics.diff",
              "Before/after S-3: 2 findings cleared, 1 appeared; cups restarted"),
        entry("2025-11-25T10:41:30Z", "alice", "session.ended",
              "Session S-3 ended by alice: freed 3 GiB, restarted cups; PDFs still fail"),
    };
  }

  json handover(int from = 1, int to = 2,
                std::string reason =
                    "PDFs still fail after cleanup; cups-filters needs a "
                    "packaging look") {
    return build_handover(ticket, sessions, timeline, snapshot, from, to, reason);
  }

  Ticket ticket;
  std::vector<SessionRecord> sessions;
  std::vector<TimelineEntry> timeline;
  json snapshot = load("after.json");
};

TEST_F(HandoverFixture, TextTellsTheNextLevelEverythingInOneScreen) {
  EXPECT_EQ(handover()["text"],
            "T-7 [P2] Printing fails since this morning: escalated L1 → L2\n"
            "Requester: Anna Berg <anna.berg@example.com> · Device: PC-042 (anna-laptop, "
            "Debian GNU/Linux 12 (bookworm)) · Category: printing · Status: open\n"
            "Problem: Nothing prints; the printer shows \"ready\". Needed for invoices today.\n"
            "Reason: PDFs still fail after cleanup; cups-filters needs a packaging look\n"
            "Problems at the last diagnostics (2025-11-25 10:41Z):\n"
            "  warning  battery.wear: Battery BAT0 holds 73% of its design capacity\n"
            "  warning  logs.crashes: 1 program crashed in the last 24 hours: evince\n"
            "Tried (7):\n"
            "  2025-11-25 10:05Z  alice ran df -h /: exit 0 in 0.2 s\n"
            "  2025-11-25 10:12Z  alice ran apt-get autoremove --purge -y skypeforlinux: exit 0 "
            "in 41.3 s\n"
            "  2025-11-25 10:30Z  alice ran apt-get install -y openssl printer-driver-gutenprint: "
            "exit 0 in 58.0 s\n"
            "  2025-11-25 10:31Z  alice restart service cups: done (now active)\n"
            "  2025-11-25 10:35Z  Refused killing process 3120 with SIGKILL for alice: the user "
            "said no\n"
            "  2025-11-25 10:41Z  Before/after S-3: 2 findings cleared, 1 appeared; cups "
            "restarted\n"
            "  2025-11-25 10:41Z  Session S-3 ended by alice: freed 3 GiB, restarted cups; PDFs "
            "still fail\n"
            "Notes (2):\n"
            "  2025-11-25 09:58Z  alice: Anna says it started after yesterday's updates.\n"
            "  2025-11-25 10:38Z  alice [internal]: Test page prints; PDFs from evince still "
            "fail. Suspect cups-filters: needs someone with packaging rights.\n"
            "Sessions (1):\n"
            "  S-3 alice 2025-11-25 10:01Z–10:41Z (39 min): \"freed 3 GiB, restarted cups; PDFs "
            "still fail\"\n");
}

TEST_F(HandoverFixture, JsonCarriesTheSameFacts) {
  const auto h = handover();
  EXPECT_EQ(h["ticket"], "T-7");
  EXPECT_EQ(h["title"], "Printing fails since this morning");
  EXPECT_EQ(h["priority"], "P2");
  EXPECT_EQ(h["from_level"], "L1");
  EXPECT_EQ(h["to_level"], "L2");
  EXPECT_EQ(h["reason"], "PDFs still fail after cleanup; cups-filters needs a packaging look");
  EXPECT_EQ(h["requester"], "Anna Berg");
  EXPECT_EQ(h["device"], "PC-042");
  EXPECT_EQ(h["assignee"], "alice");
  EXPECT_EQ(h["snapshot_at"], "2025-11-25T10:41:07Z");
  EXPECT_EQ(h["findings"], json::parse(R"j([
    {"id": "battery.wear", "severity": "warning",
     "summary": "Battery BAT0 holds 73% of its design capacity"},
    {"id": "logs.crashes", "severity": "warning",
     "summary": "1 program crashed in the last 24 hours: evince"}])j"));

  // Only what was done on the PC, oldest first: not the bookkeeping (created, consent,
  // snapshots) and not the notes.
  ASSERT_EQ(h["actions"].size(), 7u);
  EXPECT_EQ(h["actions_total"], 7);
  EXPECT_EQ(h["actions"][0], json::parse(R"j({"at": "2025-11-25T10:05:12Z", "actor": "alice",
    "kind": "command.run", "summary": "alice ran df -h /: exit 0 in 0.2 s", "session": "S-3"})j"));
  std::vector<std::string> kinds;
  for (const auto& a : h["actions"]) kinds.push_back(a["kind"]);
  EXPECT_EQ(kinds, (std::vector<std::string>{"command.run", "command.run", "command.run",
                                             "service.restart", "action.refused",
                                             "diagnostics.diff", "session.ended"}));

  ASSERT_EQ(h["notes"].size(), 2u);
  EXPECT_EQ(h["notes"][0], json::parse(R"j({"at": "2025-11-25T09:58:00Z", "actor": "alice",
    "text": "Anna says it started after yesterday's updates.", "internal": false})j"));
  EXPECT_EQ(h["notes"][1]["internal"], true);
  // The JSON keeps the note's paragraphs; only the terminal text flattens them.
  EXPECT_EQ(h["notes"][1]["text"],
            "Test page prints; PDFs from evince still fail.\nSuspect cups-filters: needs someone "
            "with packaging rights.");

  EXPECT_EQ(h["sessions"], json::parse(R"j([{"id": "S-3", "technician": "alice",
    "device": "anna-laptop (Debian GNU/Linux 12 (bookworm))", "status": "ended",
    "started_at": "2025-11-25T10:01:50Z", "ended_at": "2025-11-25T10:41:30Z",
    "end_note": "freed 3 GiB, restarted cups; PDFs still fail"}])j"));
  EXPECT_EQ(h["escalations"], json::array());
}

TEST_F(HandoverFixture, HandingBackListsTheEarlierEscalation) {
  timeline.push_back(
      entry("2025-11-25T10:45:00Z", "alice", "ticket.escalated", "T-7 escalated L1 → L2 by alice",
            {{"from", "L1"}, {"to", "L2"}, {"reason", "cups-filters"}}, std::nullopt));
  ticket.level = 2;
  ticket.assignee = "bob";
  const auto h = handover(2, 1, "Fixed cups-filters; please confirm with Anna");
  const auto text = h["text"].get<std::string>();
  EXPECT_EQ(text.rfind("T-7 [P2] Printing fails since this morning: handed back L2 → L1\n", 0), 0u)
      << text;
  EXPECT_NE(text.find("Earlier level changes:\n  2025-11-25 10:45Z  L1 → L2 by alice: "
                      "cups-filters\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(h["escalations"], json::parse(R"j([{"at": "2025-11-25T10:45:00Z", "by": "alice",
    "from": "L1", "to": "L2", "reason": "cups-filters"}])j"));
}

TEST_F(HandoverFixture, ANewTicketWithoutSessionsOrDiagnostics) {
  timeline.resize(1);  // only ticket.created
  sessions.clear();
  ticket.device.clear();
  ticket.description.clear();
  ticket.requester_email.clear();
  ticket.category.clear();
  snapshot = nullptr;
  const auto h = build_handover(ticket, sessions, timeline, snapshot, 1, 3, "");
  EXPECT_EQ(h["text"],
            "T-7 [P2] Printing fails since this morning: escalated L1 → L3\n"
            "Requester: Anna Berg · Status: open\n"
            "Reason: (none given)\n"
            "Diagnostics: none taken yet.\n"
            "Tried: nothing on the PC yet.\n"
            "Notes: none.\n"
            "Sessions: none.\n");
  EXPECT_EQ(h["findings"], json::array());
  EXPECT_EQ(h["snapshot_at"], nullptr);
  EXPECT_EQ(h["device"], "");
}

TEST_F(HandoverFixture, DeviceFromTheSnapshotAndNoProblems) {
  ticket.device.clear();
  snapshot = load("after.json");
  for (auto& f : snapshot["findings"]) f["severity"] = "ok";
  const auto h = handover();
  EXPECT_EQ(h["device"], "anna-laptop, Debian GNU/Linux 12 (bookworm)");
  const auto text = h["text"].get<std::string>();
  EXPECT_NE(text.find("Device: anna-laptop, Debian GNU/Linux 12 (bookworm) · "), std::string::npos)
      << text;
  EXPECT_NE(text.find("Diagnostics (2025-11-25 10:41Z): no critical or warning findings.\n"),
            std::string::npos)
      << text;
}

TEST_F(HandoverFixture, ASnapshotWithoutItsTimeIsDatedByTheNewestSnapshotEntry) {
  snapshot.erase("collected_at");
  EXPECT_EQ(handover()["snapshot_at"], "2025-11-25T10:41:07Z");
  timeline.erase(timeline.begin() + 11);  // the second snapshot entry
  EXPECT_EQ(handover()["snapshot_at"], "2025-11-25T10:02:31Z");
}

TEST_F(HandoverFixture, WithoutDeviceOrSnapshotTheSessionNamesThePc) {
  ticket.device.clear();
  snapshot = nullptr;
  const auto h = handover();
  EXPECT_EQ(h["device"], "anna-laptop (Debian GNU/Linux 12 (bookworm))");
  EXPECT_NE(h["text"].get<std::string>().find(
                "Device: anna-laptop (Debian GNU/Linux 12 (bookworm)) · Category"),
            std::string::npos)
      << h["text"];
  EXPECT_NE(h["text"].get<std::string>().find("Diagnostics: none taken yet.\n"), std::string::npos);
}

TEST_F(HandoverFixture, LongHistoriesAreCutToTheNewest) {
  timeline.clear();
  for (int i = 0; i < 80; ++i) {
    char when[32];
    std::snprintf(when, sizeof when, "2025-11-25T11:%02d:00Z", i % 60);
    auto e = entry(i < 60 ? when : "2025-11-25T12:00:00Z", "alice", "command.run",
                   "alice ran step " + std::to_string(i) + ": exit 0 in 0.1 s");
    timeline.push_back(e);
    timeline.push_back(entry(i < 60 ? when : "2025-11-25T12:00:00Z", "alice", "ticket.note", "note",
                             {{"text", "note " + std::to_string(i)}}));
  }
  const auto h = handover();
  ASSERT_EQ(h["actions"].size(), 50u);
  EXPECT_EQ(h["actions_total"], 80);
  EXPECT_EQ(h["actions"][0]["summary"], "alice ran step 30: exit 0 in 0.1 s");
  EXPECT_EQ(h["actions"][49]["summary"], "alice ran step 79: exit 0 in 0.1 s");
  EXPECT_EQ(h["notes"].size(), 50u);
  EXPECT_EQ(h["notes"][49]["internal"], false);
  const auto text = h["text"].get<std::string>();
  EXPECT_NE(text.find("Tried (80):\n  … 65 earlier (tether ticket show T-7)\n"
                      "  2025-11-25 12:00Z  alice ran step 65"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Notes (80):\n  … 70 earlier (tether ticket show T-7)\n"), std::string::npos)
      << text;
}

TEST_F(HandoverFixture, HostileTextStaysOnItsLineAndValid) {
  ticket.title = "Bad\x1b[2J title\nwith a newline";
  timeline.push_back(entry("2025-11-25T10:50:00Z", "alice", "ticket.note", "n",
                           {{"text", std::string(20000, 'a')}, {"internal", "yes"}}));
  timeline.push_back(
      entry("2025-11-25T10:51:00Z", "alice", "ticket.note", "summary only", {{"text", 42}}));
  timeline.push_back(entry("2025-11-25T10:52:00Z", "alice", "ticket.escalated", "odd",
                           {{"from", 1}, {"to", json::array()}, {"reason", nullptr}}));
  snapshot = json::array({1, 2});
  json h;
  ASSERT_NO_THROW(h = handover());
  EXPECT_NO_THROW(h.dump());
  const auto text = h["text"].get<std::string>();
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.rfind("T-7 [P2] Bad [2J title with a newline: escalated", 0), 0u) << text;
  const auto& notes = h["notes"];
  EXPECT_EQ(notes[2]["text"].get<std::string>().size(), 2000u + std::string("…").size());
  EXPECT_EQ(notes[2]["internal"], false);  // not a boolean: not marked internal
  EXPECT_EQ(notes[3]["text"], "summary only");
  EXPECT_EQ(h["escalations"][0]["from"], "L1");
  EXPECT_EQ(h["escalations"][0]["to"], "");
  EXPECT_EQ(h["findings"], json::array());
}

}  // namespace
}  // namespace tether::relay::helpdesk
