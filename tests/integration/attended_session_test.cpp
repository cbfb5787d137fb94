// The attended-support flow end to end with the real binaries: relay, agent, console.
#include <unistd.h>

#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace tether::testing {
namespace {

using json = nlohmann::json;

std::vector<std::string> kinds_of(const json& ticket) {
  std::vector<std::string> kinds;
  for (const auto& entry : ticket.at("timeline")) kinds.push_back(entry.at("kind"));
  return kinds;
}

class AttendedSession : public RelayFixture {};

TEST_F(AttendedSession, TicketJoinDiagnosticsEndLandOnTheTimelineInOrder) {
  start_relay();
  login();
  auto ticket =
      console_json({"ticket", "new", "--title", "Laptop is slow", "--requester", "Alice"});
  ASSERT_EQ(ticket.at("id"), "T-1");
  EXPECT_EQ(ticket.at("status"), "new");

  std::string code;
  auto agent = start_agent("auto", code);
  ASSERT_EQ(code.size(), 9u);

  auto session = console_json({"session", "join", code, "--ticket", "T-1"});
  ASSERT_EQ(session.at("id"), "S-1");
  EXPECT_EQ(session.at("status"), "active");
  EXPECT_EQ(session.at("consent").at("granted"), true);
  ASSERT_TRUE(agent->wait_for_line("Consent granted automatically"));

  auto diag = console_json({"diag", "S-1"});
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  EXPECT_EQ(diag.at("snapshot").at("system").at("hostname"), host);
  EXPECT_GT(diag.at("snapshot").at("memory").at("total_bytes").get<long long>(), 0);
  // Through the relay the technician gets the same report the agent writes offline.
  const auto offline = run({TETHER_AGENT_BIN, "diag", "--format", "json"});
  ASSERT_EQ(offline.status, 0) << offline.err;
  std::vector<std::string> offline_keys, relayed_keys;
  for (const auto& [key, value] : nlohmann::json::parse(offline.out).items()) {
    offline_keys.push_back(key);
  }
  for (const auto& [key, value] : diag.at("snapshot").items()) relayed_keys.push_back(key);
  EXPECT_EQ(relayed_keys, offline_keys);
  EXPECT_TRUE(diag.at("snapshot").at("findings").is_array());

  // A section name the agent cannot use is refused by the relay; the agent stays connected.
  auto bad_section = console({"diag", "S-1", "--section", ""});
  EXPECT_NE(bad_section.status, 0);
  EXPECT_NE(bad_section.err.find("section"), std::string::npos) << bad_section.err;

  auto human = console({"diag", "S-1"});
  ASSERT_EQ(human.status, 0) << human.err;
  EXPECT_NE(human.out.find(host), std::string::npos) << human.out;

  auto ended = console_json({"session", "end", "S-1", "--note", "Cleared the temp folder"});
  EXPECT_EQ(ended.at("status"), "ended");
  EXPECT_EQ(agent->wait(10s), 0) << agent->out() << agent->err();
  EXPECT_NE(agent->out().find("ended by admin"), std::string::npos) << agent->out();

  auto shown = console_json({"ticket", "show", "T-1"});
  // The relay takes a snapshot when consent arrives and one before the session ends, and
  // puts their difference on the ticket; the two in between are the technician's.
  EXPECT_EQ(kinds_of(shown),
            (std::vector<std::string>{
                "ticket.created", "session.requested", "consent.granted", "ticket.assigned",
                "diagnostics.snapshot", "diagnostics.snapshot", "diagnostics.snapshot",
                "diagnostics.snapshot", "diagnostics.diff", "session.ended"}));
  ASSERT_EQ(shown.at("sessions").size(), 1u);
  EXPECT_EQ(shown.at("sessions")[0].at("end_note"), "Cleared the temp folder");
  // Joining a new, unassigned ticket takes it and counts as the first response.
  EXPECT_EQ(shown.at("status"), "open");
  EXPECT_EQ(shown.at("assignee"), "admin");
  EXPECT_TRUE(shown.at("first_response_at").is_string()) << shown.dump();
  const auto& timeline = shown.at("timeline");
  EXPECT_EQ(timeline[4].at("detail").at("moment"), "At session start") << timeline[4].dump();
  EXPECT_EQ(timeline[7].at("detail").at("moment"), "At session end") << timeline[7].dump();
  const auto& diff = timeline[8].at("detail");
  EXPECT_EQ(diff.at("before"), timeline[4].at("detail").at("snapshot"));
  EXPECT_EQ(diff.at("after"), timeline[7].at("detail").at("snapshot"));
  EXPECT_TRUE(diff.at("diff").at("summary").is_string()) << diff.dump();
  // The snapshot's entry on the timeline carries its findings summary.
  const auto& snapshot_entry = timeline[5];
  const auto summary = snapshot_entry.at("summary").get<std::string>();
  EXPECT_TRUE(summary.find("checks passed") != std::string::npos ||
              summary.find("critical") != std::string::npos)
      << summary;
  EXPECT_TRUE(snapshot_entry.at("detail").at("findings").contains("critical"))
      << snapshot_entry.dump();

  auto text = console({"ticket", "show", "T-1"});
  ASSERT_EQ(text.status, 0);
  for (const char* kind :
       {"consent.granted", "diagnostics.snapshot", "diagnostics.diff", "session.ended"}) {
    EXPECT_NE(text.out.find(kind), std::string::npos) << text.out;
  }
  auto list = console({"ticket", "list"});
  EXPECT_NE(list.out.find("Laptop is slow"), std::string::npos) << list.out;
}

TEST_F(AttendedSession, RefusedConsentSharesNothing) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Printer"});
  std::string code;
  auto agent = start_agent("ask", code);
  agent->write_stdin("n\n");
  auto join = console({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(join.status, 1);
  EXPECT_NE(join.err.find("refused"), std::string::npos) << join.err;
  ASSERT_TRUE(agent->wait_for_line("You refused the session"));
  // The code is spent: the agent is told the session will not happen and stops.
  ASSERT_TRUE(agent->wait_for_line("did not start: consent refused")) << agent->out();
  EXPECT_EQ(agent->wait(10s), 1);

  auto diag = console({"diag", "S-1"});
  EXPECT_NE(diag.status, 0);
  EXPECT_NE(diag.err.find("S-1 is"), std::string::npos) << diag.err;
  auto shown = console_json({"ticket", "show", "T-1"});
  EXPECT_EQ(kinds_of(shown),
            (std::vector<std::string>{"ticket.created", "session.requested", "consent.refused"}));
  EXPECT_EQ(shown.at("sessions")[0].at("status"), "refused");
}

TEST_F(AttendedSession, UserEndsTheSessionFromTheAgent) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "VPN"});
  std::string code;
  auto agent = start_agent("ask", code);
  agent->write_stdin("y\n");
  console_json({"session", "join", code, "--ticket", "T-1"});
  agent->signal(SIGINT);
  EXPECT_EQ(agent->wait(10s), 0) << agent->out();
  // The relay records the user's end; wait for it through the API, bounded.
  json shown;
  for (int i = 0; i < 100; ++i) {
    shown = console_json({"ticket", "show", "T-1"});
    if (shown.at("sessions")[0].at("status") == "ended") break;
    usleep(50000);
  }
  EXPECT_EQ(shown.at("sessions")[0].at("status"), "ended");
  EXPECT_EQ(kinds_of(shown).back(), "session.ended");
}

TEST_F(AttendedSession, AgentReconnectsAfterRelayRestartAndItsCodeStillWorks) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Restart"});
  std::string code;
  auto agent = start_agent("auto", code);
  const auto address = address_;
  stop_relay();
  ASSERT_TRUE(agent->wait_for_line("reconnecting"));
  start_relay(address);
  ASSERT_TRUE(agent->wait_for_line("Reconnected to the relay", 40s)) << agent->err();
  auto session = console_json({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(session.at("status"), "active");
  auto diag = console_json({"diag", "S-1"});
  EXPECT_TRUE(diag.at("snapshot").contains("system"));
  console_json({"session", "end", "S-1"});
  EXPECT_EQ(agent->wait(10s), 0);
}

}  // namespace
}  // namespace tether::testing
