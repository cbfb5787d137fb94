// The help-desk workflow through the real console and relay: lifecycle and its refusals,
// priority, levels and escalation, two technicians on one ticket, the report and the
// knowledge base.

#include <fstream>

#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

std::vector<std::string> kinds_of(const json& ticket) {
  std::vector<std::string> kinds;
  for (const auto& e : ticket.at("timeline")) kinds.push_back(e.at("kind"));
  return kinds;
}

bool has_kind(const json& ticket, const std::string& kind) {
  const auto kinds = kinds_of(ticket);
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

class HelpDesk : public RelayFixture {
 protected:
  /// Adds a technician at `level` and logs them in with a console config of their own.
  void add_technician(const std::string& name, const std::string& level) {
    const auto password_file = dir_ / (name + "-password");
    std::ofstream(password_file) << name << "'s long password\n";
    auto added = run({TETHER_RELAY_BIN, "user", "add", "--data", data_.string(), "--name", name,
                      "--level", level, "--password-file", password_file.string()});
    ASSERT_EQ(added.status, 0) << added.err;
    auto logged_in =
        as(name, {"login", "--relay", "https://" + address_, "--fingerprint", fingerprint_,
                  "--user", name, "--password-file", password_file.string()});
    ASSERT_EQ(logged_in.status, 0) << logged_in.err;
  }

  std::map<std::string, std::string> env_of(const std::string& user) {
    return {{"TETHER_CONFIG_DIR", (dir_ / ("console-" + user)).string()}};
  }

  RunResult as(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), TETHER_CONSOLE_BIN);
    return run(std::move(args), env_of(user));
  }

  json show(const std::string& ticket = "T-1") { return console_json({"ticket", "show", ticket}); }
};

TEST_F(HelpDesk, LifecycleRefusesIllegalMovesAndNamesTheAllowedOnes) {
  start_relay();
  login();
  auto created = console_json({"ticket", "new", "--title", "Printer prints blank pages",
                               "--requester", "Ann Example", "--requester-email", "ann@example.com",
                               "--category", "printing", "--impact", "high", "--urgency", "high",
                               "--device", "PC-042", "--external", "glpi:4711"});
  EXPECT_EQ(created.at("id"), "T-1");
  EXPECT_EQ(created.at("priority"), "P1");
  EXPECT_EQ(created.at("status"), "new");
  EXPECT_EQ(created.at("level"), "L1");
  EXPECT_EQ(created.at("external"), (json{{"system", "glpi"}, {"key", "4711"}}));
  EXPECT_EQ(created.at("sla").at("first_response").at("target_seconds"), 15 * 60);
  EXPECT_EQ(created.at("sla").at("first_response").at("state"), "running");

  auto bad = console({"ticket", "status", "T-1", "closed"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("T-1 is new"), std::string::npos) << bad.err;
  EXPECT_NE(bad.err.find("open"), std::string::npos) << bad.err;

  ASSERT_EQ(console({"ticket", "take", "T-1"}).status, 0);
  auto taken = show();
  EXPECT_EQ(taken.at("status"), "open");
  EXPECT_EQ(taken.at("assignee"), "admin");
  // Taking a ticket is not yet an answer to the requester.
  EXPECT_TRUE(taken.at("first_response_at").is_null());

  // Waiting on the requester answers them and pauses the resolution clock.
  auto pending =
      console_json({"ticket", "status", "T-1", "pending", "--note", "Asked for a photo"});
  EXPECT_EQ(pending.at("status"), "pending");
  EXPECT_EQ(pending.at("sla").at("first_response").at("state"), "met");
  EXPECT_EQ(pending.at("sla").at("resolution").at("state"), "paused");
  EXPECT_TRUE(pending.at("sla").at("resolution").at("due_at").is_null());
  auto resumed = console_json({"ticket", "status", "T-1", "open"});
  EXPECT_EQ(resumed.at("sla").at("resolution").at("state"), "running");

  auto no_note = console({"ticket", "status", "T-1", "resolved"});
  EXPECT_NE(no_note.status, 0);
  EXPECT_NE(no_note.err.find("note"), std::string::npos) << no_note.err;
  auto resolved =
      console_json({"ticket", "status", "T-1", "resolved", "--note", "Replaced the toner"});
  EXPECT_EQ(resolved.at("status"), "resolved");
  EXPECT_EQ(resolved.at("resolution"), "Replaced the toner");
  EXPECT_EQ(resolved.at("sla").at("resolution").at("state"), "met");

  auto back = console({"ticket", "status", "T-1", "open"});
  EXPECT_NE(back.status, 0);
  EXPECT_NE(back.err.find("reopen"), std::string::npos) << back.err;
  ASSERT_EQ(console({"ticket", "status", "T-1", "closed"}).status, 0);
  auto note_on_closed = console({"ticket", "note", "T-1", "one more thing"});
  EXPECT_NE(note_on_closed.status, 0);
  EXPECT_NE(note_on_closed.err.find("closed"), std::string::npos) << note_on_closed.err;

  auto reopened = console_json({"ticket", "reopen", "T-1", "--reason", "Blank pages again"});
  EXPECT_EQ(reopened.at("status"), "open");
  EXPECT_EQ(reopened.at("resolution"), "");
  EXPECT_TRUE(reopened.at("closed_at").is_null());
  EXPECT_EQ(reopened.at("sla").at("resolution").at("state"), "running");

  // Impact and urgency decide the priority; a change says so on the timeline.
  auto edited = console_json({"ticket", "edit", "T-1", "--impact", "low"});
  EXPECT_EQ(edited.at("priority"), "P3");
  EXPECT_EQ(edited.at("sla").at("first_response").at("target_seconds"), 4 * 3600);
  const auto shown = show();
  std::string priority_line;
  for (const auto& e : shown.at("timeline")) {
    if (e.at("kind") == "ticket.priority_changed") priority_line = e.at("summary");
  }
  EXPECT_NE(priority_line.find("P1 → P3"), std::string::npos) << priority_line;
  for (const char* kind : {"ticket.created", "ticket.assigned", "ticket.status", "ticket.reopened",
                           "ticket.updated", "ticket.priority_changed"}) {
    EXPECT_TRUE(has_kind(shown, kind)) << kind;
  }
  // The table shows priority and status; filters narrow it.
  auto open_list = console_json({"ticket", "list", "--status", "open", "--assignee", "me"});
  ASSERT_EQ(open_list.size(), 1u);
  EXPECT_EQ(open_list[0].at("id"), "T-1");
  EXPECT_TRUE(console_json({"ticket", "list", "--status", "closed"}).empty());
  auto bad_filter = console({"ticket", "list", "--level", "L9"});
  EXPECT_NE(bad_filter.status, 0);
}

TEST_F(HelpDesk, EscalationHandsOverAndLevelsDecideWhoMayAct) {
  start_relay();
  login();
  add_technician("lina", "L1");
  add_technician("otto", "L2");
  ASSERT_EQ(
      as("lina", {"ticket", "new", "--title", "VPN drops every hour", "--requester", "Bo"}).status,
      0);
  ASSERT_EQ(as("lina", {"ticket", "take", "T-1"}).status, 0);
  ASSERT_EQ(
      as("lina", {"ticket", "note", "T-1", "Reinstalled the VPN client, no change", "--internal"})
          .status,
      0);
  auto escalated = as(
      "lina", {"ticket", "escalate", "T-1", "--to", "L2", "--reason", "Needs the firewall logs"});
  ASSERT_EQ(escalated.status, 0) << escalated.err;
  // The receiving technician reads what is known without asking.
  EXPECT_NE(escalated.out.find("Needs the firewall logs"), std::string::npos) << escalated.out;
  EXPECT_NE(escalated.out.find("Reinstalled the VPN client"), std::string::npos) << escalated.out;

  auto ticket = show();
  EXPECT_EQ(ticket.at("level"), "L2");
  EXPECT_TRUE(ticket.at("assignee").is_null());
  ASSERT_TRUE(ticket.at("handover").is_object());
  EXPECT_EQ(ticket.at("handover").at("reason"), "Needs the firewall logs");
  EXPECT_EQ(ticket.at("handover").at("to_level"), "L2");

  // L1 may read it but no longer act on it.
  auto refused = as("lina", {"ticket", "note", "T-1", "still there?"});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("L2"), std::string::npos) << refused.err;
  auto cannot_assign = as("otto", {"ticket", "assign", "T-1", "lina"});
  EXPECT_NE(cannot_assign.status, 0);
  EXPECT_NE(cannot_assign.err.find("lina"), std::string::npos) << cannot_assign.err;
  EXPECT_EQ(as("lina", {"ticket", "show", "T-1"}).status, 0);

  ASSERT_EQ(as("otto", {"ticket", "take", "T-1"}).status, 0);
  auto mine =
      run({TETHER_CONSOLE_BIN, "ticket", "list", "--level", "L2", "--assignee", "me", "--json"},
          env_of("otto"));
  ASSERT_EQ(mine.status, 0) << mine.err;
  EXPECT_EQ(json::parse(mine.out).size(), 1u);

  auto sideways = as("otto", {"ticket", "escalate", "T-1", "--to", "L2", "--reason", "x"});
  EXPECT_NE(sideways.status, 0);
  auto down = as("otto", {"ticket", "deescalate", "T-1", "--to", "L1", "--reason",
                          "Firewall rule fixed; please confirm with Bo"});
  ASSERT_EQ(down.status, 0) << down.err;
  EXPECT_EQ(as("lina", {"ticket", "take", "T-1"}).status, 0);
  const auto final_ticket = show();
  EXPECT_TRUE(has_kind(final_ticket, "ticket.escalated"));
  EXPECT_TRUE(has_kind(final_ticket, "ticket.deescalated"));
  EXPECT_EQ(final_ticket.at("assignee"), "lina");
}

TEST_F(HelpDesk, TwoTechniciansNeverLoseEachOthersUpdates) {
  start_relay();
  login();
  add_technician("lina", "L1");
  add_technician("maya", "L1");
  ASSERT_EQ(console({"ticket", "new", "--title", "Shared drive is read-only"}).status, 0);

  // Notes written at the same moment by two technicians all land.
  std::vector<std::unique_ptr<Process>> writers;
  for (int i = 0; i < 6; ++i) {
    for (const char* who : {"lina", "maya"}) {
      writers.push_back(std::make_unique<Process>(
          std::vector<std::string>{TETHER_CONSOLE_BIN, "ticket", "note", "T-1",
                                   std::string(who) + " note " + std::to_string(i)},
          env_of(who)));
    }
  }
  for (auto& w : writers) EXPECT_EQ(w->wait(60s), 0) << w->err();
  int notes = 0;
  const auto noted = show();
  for (const auto& e : noted.at("timeline")) notes += e.at("kind") == "ticket.note" ? 1 : 0;
  EXPECT_EQ(notes, 12) << noted.dump();

  // Both take it at once: exactly one wins, the other is told who has it.
  Process lina({TETHER_CONSOLE_BIN, "ticket", "take", "T-1"}, env_of("lina"));
  Process maya({TETHER_CONSOLE_BIN, "ticket", "take", "T-1"}, env_of("maya"));
  const auto lina_status = lina.wait(60s);
  const auto maya_status = maya.wait(60s);
  ASSERT_TRUE(lina_status && maya_status);
  EXPECT_EQ((*lina_status == 0) + (*maya_status == 0), 1);
  const std::string loser_err = *lina_status == 0 ? maya.err() : lina.err();
  EXPECT_NE(loser_err.find("already assigned"), std::string::npos) << loser_err;

  // A change based on what someone read before another change is refused, not applied.
  const auto version = show().at("version").get<int>();
  ASSERT_EQ(as("lina", {"ticket", "edit", "T-1", "--urgency", "high", "--expect-version",
                        std::to_string(version)})
                .status,
            0);
  auto stale = as("maya", {"ticket", "status", "T-1", "pending", "--note", "asked Bo",
                           "--expect-version", std::to_string(version)});
  EXPECT_NE(stale.status, 0);
  EXPECT_NE(stale.err.find("changed since you read it"), std::string::npos) << stale.err;
  const auto after = show();
  EXPECT_EQ(after.at("status"), "open");
  EXPECT_EQ(after.at("urgency"), "high");
  EXPECT_EQ(after.at("version").get<int>(), version + 1);
}

TEST_F(HelpDesk, ReportTellsTheSessionStoryAndFaqLearnsFromResolvedTickets) {
  auto agent = start_session();
  auto ran = console({"exec", "S-1", "--", "echo", "fixed"});
  ASSERT_EQ(ran.status, 0) << ran.err;
  ASSERT_EQ(console({"session", "end", "S-1", "--note", "Cleared the print queue"}).status, 0);
  ASSERT_EQ(console({"ticket", "edit", "T-1", "--category", "printing"}).status, 0);
  ASSERT_EQ(
      console({"ticket", "status", "T-1", "resolved", "--note", "Restarted the spooler"}).status,
      0);

  auto printed = console({"report", "T-1", "--format", "json"});
  ASSERT_EQ(printed.status, 0) << printed.err;
  const auto report = json::parse(printed.out);
  EXPECT_EQ(report.at("ticket").at("id"), "T-1");
  ASSERT_EQ(report.at("sessions").size(), 1u);
  const auto& session = report.at("sessions")[0];
  EXPECT_EQ(session.at("consent").at("granted"), true);
  EXPECT_FALSE(session.at("consent").at("scopes").empty());
  bool ran_command = false;
  for (const auto& action : session.at("actions")) {
    ran_command = ran_command || action.at("kind") == "command.run";
  }
  EXPECT_TRUE(ran_command) << session.at("actions").dump();
  EXPECT_FALSE(session.at("diagnostics").at("diff").is_null()) << session.dump();
  EXPECT_EQ(report.at("resolution").at("note"), "Restarted the spooler");

  const auto html_file = dir_ / "T-1.html";
  auto html = console({"report", "T-1", "--format", "html", "--out", html_file.string()});
  ASSERT_EQ(html.status, 0) << html.err;
  std::ifstream in(html_file);
  const std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(page.find("<html"), std::string::npos);
  EXPECT_NE(page.find("Restarted the spooler"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);

  // The resolved ticket's category comes back as a draft with the note that closed it.
  auto suggestions = console_json({"faq", "suggest", "--since", "1d"});
  bool found = false;
  for (const auto& s : suggestions.at("suggestions")) {
    if (s.at("kind") == "category" && s.at("key") == "printing") {
      found = true;
      EXPECT_EQ(s.at("count"), 1);
      EXPECT_EQ(s.at("resolutions")[0].at("note"), "Restarted the spooler");
    }
  }
  EXPECT_TRUE(found) << suggestions.dump();

  auto article =
      console_json({"faq", "new", "--title", "Printer queue stuck", "--body",
                    "Restart the spooler: `systemctl restart cups`", "--category", "printing"});
  EXPECT_EQ(article.at("id"), "FAQ-1");
  ASSERT_EQ(console({"faq", "link", "T-1", "FAQ-1"}).status, 0);
  EXPECT_EQ(show().at("faq")[0].at("id"), "FAQ-1");
  auto searched = console_json({"faq", "list", "--search", "SPOOLER"});
  EXPECT_EQ(searched.size(), 1u);
  auto covered = console_json({"faq", "suggest", "--since", "1d"});
  for (const auto& s : covered.at("suggestions")) {
    if (s.at("key") == "printing") EXPECT_EQ(s.at("covered_by")[0].at("id"), "FAQ-1");
  }
}

}  // namespace
}  // namespace tether::testing
