// The technician's service tools: unit-name validation, systemctl's JSON (systemd 252 as
// recorded from `systemctl list-units --type=service --all --plain --output=json`), the
// runners over canned systemctl runs, and the real machine.

#include "tether/agent/tools/service_tools.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "program_run_fakes.hpp"

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;
using fakes::exited;

// systemd 252's list-units --plain --output=json: one array on one line; "job" only appears
// while some unit has a pending job, and an empty description is null.
constexpr std::string_view kListUnits =
    R"([{"unit":"cron.service","load":"loaded","active":"active","sub":"running","description":"Regular background program processing daemon"},)"
    R"({"unit":"apache2.service","load":"loaded","active":"failed","sub":"failed","job":"","description":"The Apache HTTP Server"},)"
    R"({"unit":"getty@tty1.service","load":"loaded","active":"active","sub":"running","description":"Getty on tty1"},)"
    R"({"unit":"run-u42.service","load":"loaded","active":"active","sub":"exited","description":null},)"
    R"({"unit":"nfs-server.service","load":"not-found","active":"inactive","sub":"dead","description":"nfs-server.service"},)"
    R"("junk",{"load":"loaded"}])"
    "\n";

// systemd 252's list-unit-files --type=service --output=json.
constexpr std::string_view kUnitFiles =
    R"([{"unit_file":"apache2.service","state":"enabled","preset":"enabled"},)"
    R"({"unit_file":"cron.service","state":"enabled","preset":"enabled"},)"
    R"({"unit_file":"getty@.service","state":"enabled","preset":"enabled"},)"
    R"({"unit_file":"systemd-fsck@.service","state":"static","preset":null}])"
    "\n";

// Canned systemctl: answers by subcommand (the first argument after the options), records argv.
struct FakeSystemctl {
  std::map<std::string, ProgramRun> answers;
  std::vector<std::vector<std::string>> calls;

  ProgramRunner runner() {
    return [this](const std::vector<std::string>& argv, const RunLimits& limits) {
      calls.push_back(argv);
      EXPECT_GT(limits.timeout.count(), 0);
      for (std::size_t i = 1; i < argv.size(); ++i) {
        if (argv[i].starts_with("-")) continue;
        if (const auto it = answers.find(argv[i]); it != answers.end()) return it->second;
        break;
      }
      ProgramRun missing;
      missing.outcome = RunOutcome::failed_to_start;
      missing.error = "no canned answer";
      return missing;
    };
  }
};

Deadline soon() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

bool has(const std::vector<std::string>& argv, std::string_view word) {
  return std::find(argv.begin(), argv.end(), word) != argv.end();
}

TEST(ServiceTools, ValidUnitNamesAreCompletedWithService) {
  const std::pair<std::string, std::string> cases[] = {
      {"nginx", "nginx.service"},
      {"ssh.service", "ssh.service"},
      {"getty@tty1", "getty@tty1.service"},
      {"getty@.service", "getty@.service"},
      {"systemd-fsck@dev-disk-by\\x2duuid-12.service",
       "systemd-fsck@dev-disk-by\\x2duuid-12.service"},
      {"docker.socket", "docker.socket"},
      {"apt-daily.timer", "apt-daily.timer"},
      {"session-3.scope", "session-3.scope"},
      {"foo.bar", "foo.bar.service"},
      {"a:b_c", "a:b_c.service"},
      {std::string(248, 'x'), std::string(248, 'x') + ".service"},
  };
  for (const auto& [input, expected] : cases) {
    const auto unit = normalize_unit_name(input);
    ASSERT_TRUE(unit.has_value()) << input << ": " << unit.error().message;
    EXPECT_EQ(*unit, expected);
  }
}

TEST(ServiceTools, HostileUnitNamesAreRefused) {
  const std::string hostile[] = {"",
                                 "-x",
                                 "--help",
                                 "a;rm -rf /",
                                 "$(id)",
                                 "`id`",
                                 "../../x",
                                 "/etc/passwd",
                                 "a b",
                                 "nginx\n",
                                 "x\x1b[2J",
                                 "ngi\xc3\xafnx",
                                 "foo*",
                                 "foo?",
                                 "[ab]",
                                 "@foo",
                                 "a@b@c",
                                 ".service",
                                 "..",
                                 "a|b",
                                 "a>b",
                                 "a&b",
                                 std::string(300, 'a'),
                                 std::string(250, 'a'),  // too long once ".service" is added
                                 std::string("a\0b", 3)};
  for (const auto& name : hostile) {
    const auto unit = normalize_unit_name(name);
    EXPECT_FALSE(unit.has_value()) << "accepted: " << name;
    if (!unit) {
      const auto& message = unit.error().message;
      EXPECT_FALSE(message.empty());
      // The refusal is one printable line: it may be shown or logged as it is.
      EXPECT_EQ(message.find_first_of(std::string("\n\r\x1b\0", 4)), std::string::npos) << message;
    }
  }
  EXPECT_EQ(normalize_unit_name("a;rm -rf /").error().message,
            "unit name \"a;rm -rf /\": character 2 \";\" is not allowed (only letters, digits "
            "and : _ . \\ @ -)");
  EXPECT_EQ(normalize_unit_name("-x").error().message, "unit name \"-x\" must not start with '-'");
  EXPECT_EQ(normalize_unit_name(std::string(300, 'a')).error().message,
            "unit name too long: 300 bytes, at most 256");
  EXPECT_EQ(normalize_unit_name("x\x1b[2J").error().message,
            "unit name \"x\\x1b[2J\": character 2 \"\\x1b\" is not allowed (only letters, "
            "digits and : _ . \\ @ -)");
}

TEST(ServiceTools, ListUnitsJsonOfSystemd252) {
  const auto units = parse_list_units_json(kListUnits);
  ASSERT_TRUE(units.has_value()) << units.error().message;
  ASSERT_EQ(units->size(), 5U);
  EXPECT_EQ((*units)[0], (json{{"name", "cron.service"},
                               {"description", "Regular background program processing daemon"},
                               {"load", "loaded"},
                               {"active", "active"},
                               {"sub", "running"}}));
  EXPECT_EQ((*units)[1]["active"], "failed");
  EXPECT_EQ((*units)[3]["description"], "");
  EXPECT_EQ((*units)[4]["load"], "not-found");

  EXPECT_FALSE(parse_list_units_json("UNIT LOAD ACTIVE SUB DESCRIPTION\n").has_value());
  EXPECT_FALSE(parse_list_units_json(R"({"unit":"x"})").has_value());
  EXPECT_EQ(parse_list_units_json("[]")->size(), 0U);
}

TEST(ServiceTools, UnitFileStatesFromJsonOrThePlainTable) {
  const auto states = parse_unit_file_states(kUnitFiles);
  EXPECT_EQ(states.size(), 4U);
  EXPECT_EQ(states.at("cron.service"), "enabled");
  EXPECT_EQ(states.at("systemd-fsck@.service"), "static");

  const auto plain = parse_unit_file_states(
      "cron.service                 enabled   enabled\n"
      "rescue.service               static    -\n"
      "\n"
      "broken\n");
  EXPECT_EQ(plain, (std::map<std::string, std::string>{{"cron.service", "enabled"},
                                                       {"rescue.service", "static"}}));
}

TEST(ServiceTools, ListServicesJoinsUnitsWithTheirEnabledState) {
  FakeSystemctl systemctl;
  systemctl.answers["is-system-running"] = exited(1, "degraded\n");
  systemctl.answers["list-units"] = exited(0, std::string(kListUnits));
  systemctl.answers["list-unit-files"] = exited(0, std::string(kUnitFiles));
  const auto list = list_services(false, soon(), systemctl.runner());
  ASSERT_FALSE(list.contains("error")) << list.dump();
  EXPECT_EQ(list["systemd_available"], true);
  EXPECT_EQ(list["system_state"], "degraded");
  EXPECT_EQ(list["counts"], (json{{"total", 5}, {"active", 3}, {"failed", 1}}));
  const auto& services = list["services"];
  ASSERT_EQ(services.size(), 5U);
  std::vector<std::string> names;
  for (const auto& service : services) names.push_back(service["name"]);
  EXPECT_EQ(names,
            (std::vector<std::string>{"apache2.service", "cron.service", "getty@tty1.service",
                                      "nfs-server.service", "run-u42.service"}));
  EXPECT_EQ(services[0]["enabled"], "enabled");
  EXPECT_EQ(services[0]["active"], "failed");
  EXPECT_EQ(services[2]["enabled"], "enabled");   // through its template, getty@.service
  EXPECT_TRUE(services[3]["enabled"].is_null());  // no unit file
  EXPECT_TRUE(services[4]["enabled"].is_null());  // transient

  ASSERT_EQ(systemctl.calls.size(), 3U);
  const auto& units_argv = systemctl.calls[1];
  EXPECT_EQ(units_argv[0], "systemctl");
  for (const auto* word :
       {"list-units", "--type=service", "--all", "--plain", "--no-pager", "--output=json"}) {
    EXPECT_TRUE(has(units_argv, word)) << word;
  }
  EXPECT_FALSE(has(units_argv, "--state=failed"));
}

TEST(ServiceTools, FailedOnlyAsksSystemdForFailedUnits) {
  FakeSystemctl systemctl;
  systemctl.answers["is-system-running"] = exited(1, "degraded\n");
  systemctl.answers["list-units"] = exited(0, std::string(kListUnits));
  systemctl.answers["list-unit-files"] = exited(0, std::string(kUnitFiles));
  const auto list = list_services(true, soon(), systemctl.runner());
  ASSERT_EQ(list["services"].size(), 1U) << list.dump();
  EXPECT_EQ(list["services"][0]["name"], "apache2.service");
  EXPECT_EQ(list["counts"], (json{{"total", 1}, {"active", 0}, {"failed", 1}}));
  EXPECT_TRUE(has(systemctl.calls[1], "--state=failed"));
}

TEST(ServiceTools, AnOlderSystemctlsPlainTableStillLists) {
  FakeSystemctl systemctl;
  systemctl.answers["is-system-running"] = exited(0, "running\n");
  systemctl.answers["list-units"] =
      exited(0,
             "cron.service loaded active running Regular background program processing daemon\n"
             "\xe2\x97\x8f apache2.service loaded failed failed The Apache HTTP Server\n");
  systemctl.answers["list-unit-files"] =
      exited(0, "cron.service enabled\napache2.service disabled\n");
  const auto list = list_services(false, soon(), systemctl.runner());
  ASSERT_EQ(list["services"].size(), 2U) << list.dump();
  EXPECT_EQ(list["services"][0]["name"], "apache2.service");
  EXPECT_EQ(list["services"][0]["enabled"], "disabled");
  EXPECT_EQ(list["services"][1]["description"], "Regular background program processing daemon");
}

TEST(ServiceTools, NoSystemdIsSaidOnceAndNothingElseRuns) {
  FakeSystemctl offline;
  offline.answers["is-system-running"] =
      exited(1, "offline\n",
             "System has not been booted with systemd as init system (PID 1). Can't operate.\n");
  const auto list = list_services(false, soon(), offline.runner());
  EXPECT_EQ(
      list,
      (json{{"systemd_available", false},
            {"error", "systemd is not running on this machine (it is not the init system)"}}));
  EXPECT_EQ(offline.calls.size(), 1U);

  FakeSystemctl missing;
  ProgramRun none;
  none.outcome = RunOutcome::tool_missing;
  missing.answers["is-system-running"] = none;
  EXPECT_EQ(list_services(false, soon(), missing.runner())["error"],
            "systemd is not running on this machine (systemctl is not installed)");

  FakeSystemctl late;
  const auto past = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  const auto timed_out = list_services(false, past, late.runner());
  EXPECT_EQ(timed_out["error"], "systemctl is-system-running did not finish in time");
  EXPECT_TRUE(late.calls.empty());
}

TEST(ServiceTools, ListingFailureIsOneLine) {
  FakeSystemctl systemctl;
  systemctl.answers["is-system-running"] = exited(0, "running\n");
  systemctl.answers["list-units"] = exited(1, "", "Failed to list units: Connection timed out\n");
  const auto list = list_services(false, soon(), systemctl.runner());
  EXPECT_EQ(list["systemd_available"], true);
  EXPECT_EQ(
      list["error"],
      "systemctl list-units failed: exit status 1: Failed to list units: Connection timed out");
}

TEST(ServiceTools, StartRunsSystemctlWithoutShellOrPasswordPromptThenReadsTheState) {
  FakeSystemctl systemctl;
  systemctl.answers["start"] = exited(0, "");
  systemctl.answers["show"] = exited(0, "LoadState=loaded\nActiveState=active\nSubState=running\n");
  const auto result = service_action("start", "nginx", soon(), systemctl.runner());
  EXPECT_EQ(result, (json{{"ok", true},
                          {"action", "start"},
                          {"name", "nginx.service"},
                          {"exit_code", 0},
                          {"active", "active"},
                          {"sub", "running"},
                          {"output", ""}}));
  ASSERT_EQ(systemctl.calls.size(), 2U);
  EXPECT_EQ(systemctl.calls[0],
            (std::vector<std::string>{"systemctl", "--no-ask-password", "--no-pager", "start", "--",
                                      "nginx.service"}));
  EXPECT_EQ(systemctl.calls[1].back(), "nginx.service");
}

TEST(ServiceTools, PermissionAndMissingUnitsReadAsATechnicianWouldSayThem) {
  FakeSystemctl denied;
  denied.answers["restart"] =
      exited(1, "",
             "Failed to restart cups.service: Interactive authentication required.\n"
             "See system logs and 'systemctl status cups.service' for details.\n");
  denied.answers["show"] = exited(0, "LoadState=loaded\nActiveState=active\nSubState=running\n");
  const auto refused = service_action("restart", "cups", soon(), denied.runner());
  EXPECT_EQ(refused["ok"], false);
  EXPECT_EQ(refused["error"], "permission denied: restarting units needs root or polkit");
  EXPECT_EQ(refused["exit_code"], 1);
  EXPECT_NE(refused["output"].get<std::string>().find("Interactive authentication required"),
            std::string::npos);
  EXPECT_EQ(refused["active"], "active");

  FakeSystemctl polkit;
  polkit.answers["stop"] = exited(1, "", "Failed to stop cups.service: Access denied\n");
  EXPECT_EQ(service_action("stop", "cups", soon(), polkit.runner())["error"],
            "permission denied: stopping units needs root or polkit");

  FakeSystemctl unknown;
  unknown.answers["status"] = exited(4, "", "Unit nope.service could not be found.\n");
  unknown.answers["show"] = exited(0, "LoadState=not-found\nActiveState=inactive\nSubState=dead\n");
  const auto missing = service_action("status", "nope", soon(), unknown.runner());
  EXPECT_EQ(missing["ok"], false);
  EXPECT_EQ(missing["error"], "no such service: nope.service");
  EXPECT_EQ(missing["exit_code"], 4);
}

TEST(ServiceTools, StatusOfAStoppedServiceIsAnAnswerNotAFailure) {
  FakeSystemctl systemctl;
  const std::string text =
      "\xe2\x97\x8b cups.service - CUPS Scheduler\n"
      "     Loaded: loaded (/lib/systemd/system/cups.service; enabled; preset: enabled)\n"
      "     Active: inactive (dead) since Sun 2026-11-30 02:55:36 UTC; 3min ago\n";
  systemctl.answers["status"] = exited(3, text);
  systemctl.answers["show"] = exited(0, "LoadState=loaded\nActiveState=inactive\nSubState=dead\n");
  const auto result = service_action("status", "cups.service", soon(), systemctl.runner());
  EXPECT_EQ(result["ok"], true);
  EXPECT_FALSE(result.contains("error"));
  EXPECT_EQ(result["exit_code"], 3);
  EXPECT_EQ(result["output"], text);
  EXPECT_EQ(result["active"], "inactive");
  EXPECT_EQ(result["sub"], "dead");
  EXPECT_TRUE(has(systemctl.calls[0], "--full"));
}

TEST(ServiceTools, BadActionsAndNamesNeverReachSystemctl) {
  FakeSystemctl systemctl;
  const auto action = service_action("enable; reboot", "nginx", soon(), systemctl.runner());
  EXPECT_EQ(action["ok"], false);
  EXPECT_EQ(action["error"],
            "unknown action \"enable; reboot\": use start, stop, restart or status");
  const auto name = service_action("stop", "$(reboot)", soon(), systemctl.runner());
  EXPECT_EQ(name["ok"], false);
  EXPECT_TRUE(name["error"].get<std::string>().starts_with("unit name \"$(reboot)\": character 1"));
  EXPECT_TRUE(systemctl.calls.empty());
  EXPECT_NO_THROW((void)service_action("st\xffop", "n\xfe", soon(), systemctl.runner()).dump());
}

TEST(ServiceTools, TheAgentsOwnUnitsAreFoundInItsCgroup) {
  EXPECT_EQ(enclosing_service_units("0::/system.slice/tether-agent.service\n"),
            (std::vector<std::string>{"tether-agent.service"}));
  EXPECT_EQ(enclosing_service_units(
                "0::/user.slice/user-1000.slice/user@1000.service/app.slice/tether.service\n"),
            (std::vector<std::string>{"user@1000.service", "tether.service"}));
  // cgroup v1: systemd's named hierarchy.
  EXPECT_EQ(enclosing_service_units("12:pids:/system.slice/x.service\n"
                                    "1:name=systemd:/system.slice/tether-agent.service\n"),
            (std::vector<std::string>{"tether-agent.service"}));
  EXPECT_TRUE(enclosing_service_units("0::/user.slice/user-1000.slice/session-3.scope\n").empty());
  EXPECT_TRUE(enclosing_service_units("0::/\n").empty());
  EXPECT_TRUE(enclosing_service_units("").empty());

  // Whatever this test runs in cannot be stopped or restarted through the tool.
  const auto own = enclosing_service_units([] {
    std::ifstream in("/proc/self/cgroup");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }());
  for (const auto& unit : own) {
    FakeSystemctl systemctl;
    const auto result = service_action("restart", unit, soon(), systemctl.runner());
    EXPECT_EQ(result["error"],
              "refused: " + unit + " runs the Tether agent; restarting it would end this session");
    EXPECT_TRUE(systemctl.calls.empty());
  }
}

TEST(ServiceTools, OutputIsBoundedAndValidUtf8) {
  FakeSystemctl systemctl;
  systemctl.answers["status"] = exited(0, std::string(100 * 1024, 'x') + "\xff", "warn\xfe\n");
  systemctl.answers["show"] = exited(0, "ActiveState=active\n");
  const auto result = service_action("status", "big", soon(), systemctl.runner());
  EXPECT_LE(result["output"].get<std::string>().size(), 64U * 1024);
  EXPECT_NO_THROW((void)result.dump());
}

TEST(ServiceTools, NoSystemdOnTheRealMachineIsAcceptedOnlyWhenItIsTrue) {
  const bool booted = std::filesystem::is_directory("/run/systemd/system");
  const auto list = list_services(false, soon());
  const auto status = service_action("status", "cron", soon());
  if (!booted) {
    EXPECT_EQ(list["systemd_available"], false) << list.dump();
    EXPECT_TRUE(
        list["error"].get<std::string>().starts_with("systemd is not running on this machine"));
    EXPECT_EQ(status["ok"], false);
    EXPECT_TRUE(
        status["error"].get<std::string>().starts_with("systemd is not running on this machine"))
        << status.dump();
  } else {
    EXPECT_EQ(list["systemd_available"], true) << list.dump();
    ASSERT_FALSE(list.contains("error")) << list.dump();
    EXPECT_GT(list["services"].size(), 0U);
    EXPECT_TRUE(status["exit_code"].is_number()) << status.dump();
  }
}

}  // namespace
}  // namespace tether::agent::tools
