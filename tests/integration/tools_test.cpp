// The technician's tools through real processes: a relay, an agent with the user's consent,
// and the `tether` console. Commands, consent scopes, who may use a session, and what lands
// on the ticket.

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "relay_fixture.hpp"

namespace tether::testing {
namespace {

using nlohmann::json;

class Tools : public RelayFixture {
 protected:
  // Timeline entries of T-1 of one kind.
  std::vector<json> timeline(const std::string& kind) {
    std::vector<json> out;
    auto ticket = console_json({"ticket", "show", "T-1"});
    for (const auto& entry : ticket.at("timeline")) {
      if (entry.at("kind") == kind) out.push_back(entry);
    }
    return out;
  }

  // Runs the console as another technician, with a config directory of its own.
  RunResult console_as(const std::string& user, std::vector<std::string> args) {
    args.insert(args.begin(), TETHER_CONSOLE_BIN);
    return run(std::move(args), {{"TETHER_CONFIG_DIR", (dir_ / ("console-" + user)).string()}});
  }
};

bool process_exists(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno != ESRCH;
}

TEST_F(Tools, ExecKeepsStdoutAndStderrApartAndReturnsTheExitCode) {
  auto agent = start_session();
  auto result = console({"exec", "S-1", "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 3"});
  EXPECT_EQ(result.status, 3) << result.err;
  EXPECT_EQ(result.out, "to-out\n");
  EXPECT_NE(result.err.find("to-err"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("to-out"), std::string::npos) << result.err;

  // Standard input reaches the command when it is not a terminal.
  auto echoed = run({TETHER_CONSOLE_BIN, "exec", "S-1", "--", "tr", "a-z", "A-Z"},
                    {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}}, 60s, "hello\n");
  EXPECT_EQ(echoed.status, 0) << echoed.err;
  EXPECT_EQ(echoed.out, "HELLO\n");

  auto missing = console({"exec", "S-1", "--", "no-such-command-anywhere"});
  EXPECT_EQ(missing.status, 127);
  EXPECT_NE(missing.err.find("no-such-command-anywhere"), std::string::npos) << missing.err;

  auto runs = timeline("command.run");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_NE(runs[0].at("summary").get<std::string>().find("exit 3"), std::string::npos) << runs[0];
  EXPECT_EQ(runs[0].at("detail").at("result").at("exit_code"), 3);
  EXPECT_EQ(runs[0].at("detail").at("params").at("argv").size(), 3u);
  EXPECT_EQ(timeline("action.failed").size(), 1u);
}

TEST_F(Tools, ACommandThatNeverEndsIsStoppedWithEverythingItStarted) {
  auto agent = start_session();
  // The shell starts a background sleep and prints its pid, then waits forever.
  auto result = console(
      {"exec", "S-1", "--timeout", "1s", "--", "sh", "-c", "sleep 1000 & echo $!; sleep 1000"});
  EXPECT_EQ(result.status, 124) << result.err;
  EXPECT_NE(result.err.find("did not finish within 1s"), std::string::npos) << result.err;
  const pid_t grandchild = std::stoi(result.out);
  ASSERT_GT(grandchild, 1);
  // Stopped with its whole session: the background sleep is gone too (or a zombie being reaped).
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (process_exists(grandchild) && std::chrono::steady_clock::now() < deadline) {
    std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
    std::string pid, comm, state;
    stat >> pid >> comm >> state;
    if (state == "Z" || !stat) break;
    usleep(20000);
  }
  std::ifstream stat("/proc/" + std::to_string(grandchild) + "/stat");
  std::string pid, comm, state;
  stat >> pid >> comm >> state;
  EXPECT_TRUE(!stat || state == "Z") << "grandchild " << grandchild << " still runs: " << state;
  auto runs = timeline("command.run");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].at("detail").at("result").at("timed_out"), true);
  EXPECT_NE(runs[0].at("summary").get<std::string>().find("timed out"), std::string::npos);
}

TEST_F(Tools, ACommandPrintingWithoutEndIsCutAtTheLimitAndTheTechnicianIsTold) {
  auto agent = start_session();
  auto result = console({"exec", "S-1", "--max-output", "1M", "--", "sh", "-c", "yes tether"});
  EXPECT_EQ(result.out.size(), 1024u * 1024u);
  EXPECT_NE(result.err.find("cut"), std::string::npos) << result.err;
  auto runs = timeline("command.run");
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].at("detail").at("result").at("output_truncated"), true);
  // The agent is still there for the next command.
  EXPECT_EQ(console({"exec", "S-1", "--", "true"}).status, 0);
}

TEST_F(Tools, ActionsOutsideTheGrantedScopesAreRefusedAndRecorded) {
  auto agent = start_session({"--grant", "diagnostics"});
  auto result = console({"exec", "S-1", "--", "id"});
  EXPECT_EQ(result.status, 4) << result.err;
  EXPECT_NE(result.err.find("not permitted by the user"), std::string::npos) << result.err;
  EXPECT_TRUE(result.out.empty());
  auto refused = timeline("action.refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_NE(refused[0].at("summary").get<std::string>().find("id"), std::string::npos);
  EXPECT_EQ(refused[0].at("detail").at("result").at("scope"), "shell");
  EXPECT_TRUE(timeline("command.run").empty());
  // Diagnostics were granted and still work.
  EXPECT_EQ(console({"diag", "S-1", "--section", "system"}).status, 0);
}

TEST_F(Tools, TheUserGrantsOnlySomeScopesAtThePrompt) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Printer offline"});
  std::string code;
  auto agent = start_agent("ask", code);
  Process join({TETHER_CONSOLE_BIN, "session", "join", code, "--ticket", "T-1", "--scopes",
                "diagnostics,shell,logs", "--json"},
               {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}});
  ASSERT_TRUE(agent->wait_for_line("3. logs: read the system logs"));
  EXPECT_NE(agent->out().find("2. shell: open a terminal and run commands as you"),
            std::string::npos)
      << agent->out();
  agent->write_stdin("maybe\n");  // Not understood: asked again.
  agent->write_stdin("2\n");      // Only the shell.
  ASSERT_EQ(join.wait(30s), 0) << join.err();
  auto session = json::parse(join.out());
  EXPECT_EQ(session.at("consent").at("scopes"), json::array({"shell"}));
  EXPECT_NE(agent->out().find("Please answer y, n, or the numbers"), std::string::npos);
  EXPECT_EQ(console({"exec", "S-1", "--", "true"}).status, 0);
  auto diag = console({"diag", "S-1"});
  EXPECT_NE(diag.status, 0);
  EXPECT_NE(diag.err.find("not permitted by the user"), std::string::npos) << diag.err;
}

TEST_F(Tools, AnotherTechnicianCannotUseASessionTheyDidNotJoin) {
  auto agent = start_session();
  std::ofstream(dir_ / "bob-password") << "bob's long password\n";
  auto added = run({TETHER_RELAY_BIN, "user", "add", "--data", data_.string(), "--name", "bob",
                    "--password-file", (dir_ / "bob-password").string()});
  ASSERT_EQ(added.status, 0) << added.err;
  auto login =
      console_as("bob", {"login", "--relay", "https://" + address_, "--fingerprint", fingerprint_,
                         "--user", "bob", "--password-file", (dir_ / "bob-password").string()});
  ASSERT_EQ(login.status, 0) << login.err;
  auto result = console_as("bob", {"exec", "S-1", "--", "id"});
  EXPECT_EQ(result.status, 4) << result.err;
  EXPECT_NE(result.err.find("belongs to admin"), std::string::npos) << result.err;
  EXPECT_TRUE(timeline("command.run").empty());
}

TEST_F(Tools, EndingTheSessionOrLosingTheAgentStopsRunningCommands) {
  auto agent = start_session();
  Process running({TETHER_CONSOLE_BIN, "exec", "S-1", "--timeout", "10m", "--", "sh", "-c",
                   "echo started; exec sleep 600"},
                  {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}});
  ASSERT_TRUE(running.wait_for_line("started"));
  agent->signal(SIGKILL);
  const auto status = running.wait(15s);
  ASSERT_TRUE(status.has_value()) << "the console kept waiting for a dead agent";
  EXPECT_EQ(*status, 5) << running.err();
  EXPECT_NE(running.err().find("agent disconnected"), std::string::npos) << running.err();
}

TEST_F(Tools, TheUserEndingTheSessionClosesEveryChannelAtOnce) {
  auto agent = start_session();
  Process running({TETHER_CONSOLE_BIN, "exec", "S-1", "--timeout", "10m", "--", "sh", "-c",
                   "echo started; exec sleep 600"},
                  {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}});
  ASSERT_TRUE(running.wait_for_line("started"));
  agent->signal(SIGINT);  // Ctrl-C at the agent.
  EXPECT_EQ(agent->wait(15s), 0);
  const auto status = running.wait(15s);
  ASSERT_TRUE(status.has_value());
  EXPECT_NE(*status, 0);
  auto ended = timeline("session.ended");
  ASSERT_EQ(ended.size(), 1u);
}

TEST_F(Tools, ProcessesAreListedAndKilledByNameOnTheTicket) {
  auto agent = start_session();
  auto table = console_json({"ps", "S-1", "--sort", "mem"});
  bool agent_listed = false;
  for (const auto& p : table.at("processes")) {
    if (p.at("pid") == agent->pid()) agent_listed = p.at("name") == "tether-agent";
  }
  EXPECT_TRUE(agent_listed) << "the agent's own process is not in the table";
  auto human = console({"ps", "S-1"});
  EXPECT_EQ(human.status, 0) << human.err;
  EXPECT_NE(human.out.find("PID"), std::string::npos);

  Process victim({"/bin/sleep", "300"});
  auto killed = console({"kill", "S-1", std::to_string(victim.pid()), "--signal", "KILL"});
  EXPECT_EQ(killed.status, 0) << killed.err;
  EXPECT_EQ(victim.wait(10s), 128 + SIGKILL);
  auto refused = console({"kill", "S-1", "1"});
  EXPECT_EQ(refused.status, 1);
  EXPECT_NE(refused.out.find("init system"), std::string::npos) << refused.out;

  auto kills = timeline("process.killed");
  ASSERT_EQ(kills.size(), 2u) << console({"ticket", "show", "T-1"}).out;
  EXPECT_NE(kills[0].at("summary").get<std::string>().find(
                "SIGKILL to process " + std::to_string(victim.pid()) + " (sleep)"),
            std::string::npos)
      << kills[0];
  EXPECT_EQ(timeline("processes.listed").size(), 2u);
}

TEST_F(Tools, LogsAndServicesSayWhatTheMachineHas) {
  auto agent = start_session();
  auto logs = console({"logs", "S-1", "-n", "5", "--json"});
  if (access("/usr/bin/journalctl", X_OK) == 0 || access("/bin/journalctl", X_OK) == 0) {
    EXPECT_EQ(logs.status, 0) << logs.err;
    std::size_t lines = 0;
    std::istringstream in(logs.out);
    for (std::string line; std::getline(in, line);) {
      auto entry = json::parse(line, nullptr, false);
      ASSERT_FALSE(entry.is_discarded()) << line;
      EXPECT_TRUE(entry.contains("message"));
      ++lines;
    }
    EXPECT_LE(lines, 5u);
    EXPECT_EQ(timeline("logs.read").size(), 1u);
  } else {
    EXPECT_NE(logs.status, 0);
    EXPECT_NE(logs.err.find("journalctl not available"), std::string::npos) << logs.err;
  }
  auto bad = console({"logs", "S-1", "--since", "yesterday-ish"});
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("since"), std::string::npos) << bad.err;

  auto services = console({"services", "S-1", "--json"});
  if (access("/run/systemd/system", F_OK) == 0) {
    EXPECT_EQ(services.status, 0) << services.err;
    EXPECT_TRUE(json::parse(services.out).at("services").is_array());
  } else {
    EXPECT_NE(services.status, 0);
    EXPECT_NE(services.err.find("systemd is not running"), std::string::npos) << services.err;
  }
  auto hostile = console({"service", "S-1", "restart", "a;rm -rf /"});
  EXPECT_NE(hostile.status, 0);
  EXPECT_EQ(timeline("service.restart").size(), 0u);
}

// Resident memory of a process, in bytes (VmRSS).
std::uint64_t resident_bytes(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

TEST_F(Tools, ATechnicianWhoStopsReadingSlowsOnlyTheirOwnChannel) {
  auto agent = start_session();
  ASSERT_EQ(console({"exec", "S-1", "--", "true"}).status, 0);  // Warm up the relay.
  const auto relay_before = resident_bytes(relay_->pid());
  Process stalled({TETHER_CONSOLE_BIN, "exec", "S-1", "--timeout", "10m", "--max-output", "1G",
                   "--", "sh", "-c", "echo first; exec yes tether"},
                  {{"TETHER_CONFIG_DIR", (dir_ / "console").string()}});
  ASSERT_TRUE(stalled.wait_for_line("first"));
  stalled.signal(SIGSTOP);  // The technician's console stops reading.
  // While that channel is stuck, the same session answers other tools at once.
  auto other = console({"exec", "S-1", "--", "echo", "still-responsive"}, 20s);
  EXPECT_EQ(other.status, 0) << other.err;
  EXPECT_EQ(other.out, "still-responsive\n");
  // However long the producer keeps trying, the relay holds no more than about a window.
  std::uint64_t relay_peak = 0;
  for (int i = 0; i < 20; ++i) {
    relay_peak = std::max(relay_peak, resident_bytes(relay_->pid()));
    usleep(100000);
  }
  EXPECT_LT(relay_peak, relay_before + 32 * 1024 * 1024)
      << "relay grew from " << relay_before << " to " << relay_peak << " bytes";
  stalled.signal(SIGKILL);
  stalled.wait(10s);
  // The stuck command was stopped when its technician went away.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  bool recorded = false;
  while (!recorded && std::chrono::steady_clock::now() < deadline) {
    for (const auto& entry : timeline("action.failed")) {
      recorded = recorded || entry.at("detail").at("code") == "interrupted";
    }
    if (!recorded) usleep(50000);
  }
  EXPECT_TRUE(recorded) << "the interrupted command is not on the ticket";
}

}  // namespace
}  // namespace tether::testing
