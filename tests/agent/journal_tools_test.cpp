// The technician's log tool: journalctl's argv from a validated query, the JSON lines it
// prints (as systemd 252's `journalctl -o json` writes them), and the runner.

#include "tether/agent/tools/journal_tools.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "tether/protocol/utf8.hpp"

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;

const std::vector<std::string> kBase{
    "journalctl",
    "--no-pager",
    "--quiet",
    "--all",
    "--output=json",
    "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER,_COMM,_PID,SYSLOG_PID,"
    "_HOSTNAME"};

std::vector<std::string> with_base(std::vector<std::string> rest) {
  auto argv = kBase;
  argv.insert(argv.end(), rest.begin(), rest.end());
  return argv;
}

// The value of the argument that starts with `prefix` ("--since="), or "none".
std::string argument(const std::vector<std::string>& argv, std::string_view prefix) {
  for (const auto& word : argv) {
    if (word.starts_with(prefix)) return word.substr(prefix.size());
  }
  return "none";
}

// The --since argument built for `since`, or the error.
std::string since_argument(const std::string& since) {
  const auto argv = journalctl_argv(LogQuery{.since = since});
  if (!argv) return "error: " + argv.error().message;
  return argument(*argv, "--since=");
}

bool valid_utf8(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const auto length = protocol::utf8_sequence_length(text, i);
    if (length == 0) return false;
    i += length;
  }
  return true;
}

TEST(JournalTools, DefaultQueryIsTheNewest200AsJsonWalkingBack) {
  const auto argv = journalctl_argv(LogQuery{});
  ASSERT_TRUE(argv.has_value()) << argv.error().message;
  EXPECT_EQ(*argv, with_base({"--lines=200", "--reverse"}));
}

TEST(JournalTools, EveryFieldBecomesItsOwnArgument) {
  const auto argv =
      journalctl_argv(LogQuery{.unit = "ssh", .since = "30m", .lines = 50, .priority = "err"});
  ASSERT_TRUE(argv.has_value()) << argv.error().message;
  // Forward from --since, journalctl would print the first 50 after it: walk back instead.
  EXPECT_EQ(*argv, with_base({"--lines=50", "--since=-30min", "--priority=3", "--unit=ssh.service",
                              "--reverse"}));
}

TEST(JournalTools, FollowStartsFromTheNewestLinesAndRefusesSince) {
  const auto argv = journalctl_argv(LogQuery{.unit = "cron", .lines = 20, .follow = true});
  ASSERT_TRUE(argv.has_value()) << argv.error().message;
  EXPECT_EQ(*argv, with_base({"--lines=20", "--unit=cron.service", "--follow"}));

  const auto both = journalctl_argv(LogQuery{.since = "1h", .follow = true});
  ASSERT_FALSE(both.has_value());
  EXPECT_EQ(both.error().message,
            "since cannot be combined with follow: follow starts from the newest lines");
}

TEST(JournalTools, SinceAcceptsDurationsAndIsoTimesInUtc) {
  const std::pair<std::string, std::string> cases[] = {
      {"45s", "-45s"},
      {"30m", "-30min"},
      {"1h", "-1h"},
      {"2d", "-2d"},
      {"1w", "-1w"},
      {"3650d", "-3650d"},
      {"2026-11-30", "2026-11-30 00:00:00 UTC"},
      {"2026-11-30T02:55", "2026-11-30 02:55:00 UTC"},
      {"2026-11-30T02:55:36Z", "2026-11-30 02:55:36 UTC"},
      {"2026-11-30 02:55:36", "2026-11-30 02:55:36 UTC"},
      {"2026-11-30 02:55:36 UTC", "2026-11-30 02:55:36 UTC"},
      {"2026-11-30 02:55:36+01:00", "2026-11-30 01:55:36 UTC"},
      {"2026-11-30T00:30:00-0500", "2026-11-30 05:30:00 UTC"},
      {"2026-03-01T00:30+01:00", "2026-02-28 23:30:00 UTC"},
      {"2028-02-29", "2028-02-29 00:00:00 UTC"},
  };
  for (const auto& [since, expected] : cases) EXPECT_EQ(since_argument(since), expected) << since;
  EXPECT_EQ(since_argument(""), "none");
}

TEST(JournalTools, SinceRefusesEverythingElse) {
  const std::string bad[] = {"yesterday",
                             "1 h",
                             "-1h",
                             "+1h",
                             "1y",
                             "1H",
                             "h",
                             "0h",
                             "3651d",
                             "9999999h",
                             "1h; rm -rf /",
                             "$(date)",
                             "2026-02-30",
                             "2027-02-29",
                             "2026-13-01",
                             "2026-11-30T25:00",
                             "2026-11-30T02:60",
                             "2026-11-30T02:55:61",
                             "2026-11-30T02:55:36+15:00",
                             "2026-11-30T02:55:36+01",
                             "2026-11-30T",
                             "2026-11-30X",
                             "1969-12-31",
                             "26-11-30",
                             "2026-1-30",
                             "2026-11-30T02:55:36.5Z",
                             "--since=1h",
                             "\x1b[2J"};
  for (const auto& since : bad) {
    const auto argv = journalctl_argv(LogQuery{.since = since});
    EXPECT_FALSE(argv.has_value()) << "accepted: " << since;
    if (!argv) EXPECT_TRUE(argv.error().message.starts_with("since \"")) << argv.error().message;
  }
  EXPECT_EQ(journalctl_argv(LogQuery{.since = "0h"}).error().message,
            "since \"0h\": from 1 second to 10 years back");
  EXPECT_EQ(journalctl_argv(LogQuery{.since = "\x1b[2J"}).error().message,
            "since \"\\x1b[2J\": use a duration back from now (45s, 30m, 1h, 2d, 1w) or an ISO "
            "time (2026-11-30, 2026-11-30T02:55:36Z, 2026-11-30 02:55+01:00)");
}

TEST(JournalTools, LinesPriorityAndUnitAreChecked) {
  for (const int lines : {0, -1, 10001, 1 << 30}) {
    const auto argv = journalctl_argv(LogQuery{.lines = lines});
    ASSERT_FALSE(argv.has_value()) << lines;
    EXPECT_EQ(argv.error().message, "lines " + std::to_string(lines) + ": ask for 1 to 10000");
  }
  EXPECT_TRUE(journalctl_argv(LogQuery{.lines = 1}).has_value());
  EXPECT_TRUE(journalctl_argv(LogQuery{.lines = 10000}).has_value());

  const std::pair<std::string, std::string> priorities[] = {
      {"emerg", "0"},   {"alert", "1"},  {"crit", "2"}, {"err", "3"},
      {"warning", "4"}, {"notice", "5"}, {"info", "6"}, {"debug", "7"},
      {"ERR", "3"},     {"0", "0"},      {"7", "7"}};
  for (const auto& [priority, number] : priorities) {
    const auto argv = journalctl_argv(LogQuery{.priority = priority});
    ASSERT_TRUE(argv.has_value()) << priority;
    EXPECT_EQ(argument(*argv, "--priority="), number);
  }
  for (const std::string priority : {"8", "-1", "error", "warn", "3;id", "err ", "03"}) {
    const auto argv = journalctl_argv(LogQuery{.priority = priority});
    ASSERT_FALSE(argv.has_value()) << priority;
    EXPECT_TRUE(argv.error().message.starts_with("priority \"")) << argv.error().message;
  }

  for (const std::string unit : {"-x", "a;rm -rf /", "$(id)", "../../x", "a b", "*"}) {
    const auto argv = journalctl_argv(LogQuery{.unit = unit});
    ASSERT_FALSE(argv.has_value()) << unit;
    EXPECT_TRUE(argv.error().message.starts_with("unit name")) << argv.error().message;
  }
  EXPECT_EQ(argument(*journalctl_argv(LogQuery{.unit = "docker.socket"}), "--unit="),
            "docker.socket");
}

TEST(JournalTools, ParsesAServiceLine) {
  const auto entry = parse_journal_line(
      R"({"__CURSOR":"s=6f1c9d0e2b7a4c1f8e3d5a6b7c8d9e0f;i=1a2b3;b=0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a;m=2a1b3c4d;t=62f1a2b3c4d5e;x=9f8e7d6c5b4a3921",)"
      R"("__REALTIME_TIMESTAMP":"1796007336123456","__MONOTONIC_TIMESTAMP":"708424013",)"
      R"("_BOOT_ID":"0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a","PRIORITY":"3","_SYSTEMD_UNIT":"ssh.service",)"
      R"("SYSLOG_IDENTIFIER":"sshd","_COMM":"sshd","_PID":"812","_HOSTNAME":"pc42",)"
      R"("MESSAGE":"error: maximum authentication attempts exceeded for root from 203.0.113.9 port 52144 ssh2 [preauth]"})");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(*entry, (json{{"time", "2026-11-30T02:55:36Z"},
                          {"priority", 3},
                          {"unit", "ssh.service"},
                          {"identifier", "sshd"},
                          {"pid", 812},
                          {"host", "pc42"},
                          {"message",
                           "error: maximum authentication attempts exceeded for root from "
                           "203.0.113.9 port 52144 ssh2 [preauth]"}}));
}

TEST(JournalTools, ParsesKernelAndSyslogLines) {
  const auto kernel = parse_journal_line(
      R"({"__REALTIME_TIMESTAMP":"1796007336000000","PRIORITY":"4","SYSLOG_IDENTIFIER":"kernel",)"
      R"("_HOSTNAME":"pc42","MESSAGE":"usb 1-2: device descriptor read/64, error -71\n"})");
  ASSERT_TRUE(kernel.has_value());
  EXPECT_EQ((*kernel)["identifier"], "kernel");
  EXPECT_EQ((*kernel)["unit"], "");
  EXPECT_TRUE((*kernel)["pid"].is_null());
  EXPECT_EQ((*kernel)["message"], "usb 1-2: device descriptor read/64, error -71");

  const auto syslog = parse_journal_line(
      R"({"__REALTIME_TIMESTAMP":"1796007336000000","_COMM":"cupsd","SYSLOG_PID":"90","MESSAGE":"x"})");
  ASSERT_TRUE(syslog.has_value());
  EXPECT_EQ((*syslog)["identifier"], "cupsd");
  EXPECT_EQ((*syslog)["pid"], 90);
  EXPECT_TRUE((*syslog)["priority"].is_null());
  EXPECT_EQ((*syslog)["host"], "");
}

TEST(JournalTools, BinaryAndRepeatedFieldsAreDecoded) {
  // journald stores a MESSAGE with control characters or bad UTF-8 as a byte array.
  const auto binary = parse_journal_line(
      R"({"__REALTIME_TIMESTAMP":"1796007336000000","PRIORITY":"6","MESSAGE":[72,105,27,91,50,74,255,32,195,169,10]})");
  ASSERT_TRUE(binary.has_value());
  EXPECT_EQ((*binary)["message"], "Hi\x1b[2J\xef\xbf\xbd \xc3\xa9");

  const auto repeated = parse_journal_line(
      R"({"MESSAGE":["first","second"],"_PID":["12","13"],"SYSLOG_IDENTIFIER":[[97,98],[99]]})");
  ASSERT_TRUE(repeated.has_value());
  EXPECT_EQ((*repeated)["message"], "first");
  EXPECT_EQ((*repeated)["pid"], 12);
  EXPECT_EQ((*repeated)["identifier"], "ab");
  EXPECT_TRUE((*repeated)["time"].is_null());

  // journalctl writes null for a value it left out; and junk byte values are not bytes.
  const auto odd = parse_journal_line(R"({"MESSAGE":null,"PRIORITY":"9","_PID":"-4"})");
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ((*odd)["message"], "");
  EXPECT_TRUE((*odd)["priority"].is_null());
  EXPECT_TRUE((*odd)["pid"].is_null());
  EXPECT_EQ((*parse_journal_line(R"({"MESSAGE":[72,300]})"))["message"], "");
}

TEST(JournalTools, LongMessagesAreCutAtACharacterBoundary) {
  std::string accents;
  for (int i = 0; i < 12000; ++i) accents += "\xc3\xa9";
  const auto text = parse_journal_line(json{{"MESSAGE", accents}}.dump());
  ASSERT_TRUE(text.has_value());
  const auto& message = (*text)["message"].get_ref<const std::string&>();
  EXPECT_EQ(message.size(), kMaxLogMessage);
  EXPECT_TRUE(valid_utf8(message));

  json bytes = json::array();
  for (int i = 0; i < 40000; ++i)
    bytes.push_back(0xe2);  // lone lead bytes: 3 bytes each once replaced
  const auto binary = parse_journal_line(json{{"MESSAGE", bytes}}.dump());
  ASSERT_TRUE(binary.has_value());
  EXPECT_LE((*binary)["message"].get<std::string>().size(), kMaxLogMessage);
  EXPECT_TRUE(valid_utf8((*binary)["message"].get<std::string>()));
}

TEST(JournalTools, ParsesLinesRecordedFromJournald252) {
  // `journalctl --output=json --output-fields=… --reverse` against systemd-journald 252, after
  // `printf 'bin\x1b[2J\xff end\n' | systemd-cat -t tether-bin -p warning`.
  const auto binary = parse_journal_line(
      R"({"_BOOT_ID":"cc195e89a6964a7a8f21e8e9fd66ef60","SYSLOG_IDENTIFIER":"tether-bin","__REALTIME_TIMESTAMP":"1796008423876406","PRIORITY":"4","_HOSTNAME":"vm","__MONOTONIC_TIMESTAMP":"1455931929","_PID":"17396","MESSAGE":[98,105,110,27,91,50,74,255,32,101,110,100],"__CURSOR":"s=a9029a21ce89499c9ee8fd711f1aee92;i=2a6;b=cc195e89a6964a7a8f21e8e9fd66ef60;m=56c7c219;t=66175cc1e6736;x=f56da919aeb8b067"})");
  ASSERT_TRUE(binary.has_value());
  EXPECT_EQ(*binary, (json{{"time", "2026-11-30T03:13:43Z"},
                           {"priority", 4},
                           {"unit", ""},
                           {"identifier", "tether-bin"},
                           {"pid", 17396},
                           {"host", "vm"},
                           {"message", "bin\x1b[2J\xef\xbf\xbd end"}}));

  const auto daemon = parse_journal_line(
      R"({"__MONOTONIC_TIMESTAMP":"1455829390","_COMM":"systemd-journal","__CURSOR":"s=a9029a21ce89499c9ee8fd711f1aee92;i=2a4;b=cc195e89a6964a7a8f21e8e9fd66ef60;m=56c6318e;t=66175cc1cd6ac;x=76d6528fc69bbfdf","__REALTIME_TIMESTAMP":"1796008423773868","_HOSTNAME":"vm","MESSAGE":"Runtime Journal (/run/log/journal/3d1219c7c4c5404aaa1f6d2a48adfda4) is 8.0M, max 4.0G, 3.9G free.","_PID":"17390","_BOOT_ID":"cc195e89a6964a7a8f21e8e9fd66ef60","SYSLOG_IDENTIFIER":"systemd-journald","PRIORITY":"6"})");
  ASSERT_TRUE(daemon.has_value());
  EXPECT_EQ((*daemon)["identifier"], "systemd-journald");
  EXPECT_EQ((*daemon)["priority"], 6);
}

TEST(JournalTools, GarbageLinesAreNotEntries) {
  for (const std::string line : {"", "   ", "-- No entries --", "[1,2]", "{\"MESSAGE\":", "null",
                                 "{\"MESSAGE\":\"\xff\"}"}) {
    EXPECT_FALSE(parse_journal_line(line).has_value()) << line;
  }
}

Deadline soon() {
  return std::chrono::steady_clock::now() + std::chrono::seconds(10);
}

TEST(JournalTools, ReadJournalRunsTheBuiltArgvAndParsesEachLine) {
  std::vector<std::vector<std::string>> calls;
  const auto canned = [&](ProgramRun answer) {
    return [&calls, answer](const std::vector<std::string>& argv, const RunLimits&) {
      calls.push_back(argv);
      return answer;
    };
  };
  // --reverse: newest first; the output limit cut the oldest line short.
  const std::string out =
      R"({"__REALTIME_TIMESTAMP":"1796007337000000","PRIORITY":"3","SYSLOG_IDENTIFIER":"cron","_PID":"7","MESSAGE":"two"})"
      "\n"
      R"({"__REALTIME_TIMESTAMP":"1796007336000000","PRIORITY":"6","SYSLOG_IDENTIFIER":"cron","_PID":"7","MESSAGE":"one"})"
      "\n{\"__REALTIME_TIMESTAMP\":\"17960";
  const LogQuery query{.unit = "cron", .lines = 3};
  const auto result = read_journal(
      query, soon(), canned({.outcome = RunOutcome::exited, .exit_code = 0, .out = out}));
  ASSERT_FALSE(result.contains("error")) << result.dump();
  ASSERT_EQ(result["entries"].size(), 2U);
  EXPECT_EQ(result["entries"][0]["message"], "one");
  EXPECT_EQ(result["entries"][1]["time"], "2026-11-30T02:55:37Z");
  EXPECT_EQ(result["truncated"], false);
  ASSERT_EQ(calls.size(), 1U);
  EXPECT_EQ(calls[0], *journalctl_argv(query));

  ProgramRun missing;
  missing.outcome = RunOutcome::tool_missing;
  EXPECT_EQ(read_journal(query, soon(), canned(missing))["error"],
            "journalctl not available: this machine has no systemd journal");
  EXPECT_EQ(read_journal(query, soon(),
                         canned({.outcome = RunOutcome::exited,
                                 .exit_code = 1,
                                 .err = "Failed to open journal: Bad message\n"}))["error"],
            "journalctl failed: exit status 1: Failed to open journal: Bad message");

  calls.clear();
  EXPECT_TRUE(
      read_journal(LogQuery{.lines = 0}, soon(),
                   canned(ProgramRun{.outcome = RunOutcome::exited, .exit_code = 0}))["error"]
          .get<std::string>()
          .starts_with("lines 0"));
  EXPECT_TRUE(
      read_journal(LogQuery{.follow = true}, soon(),
                   canned(ProgramRun{.outcome = RunOutcome::exited, .exit_code = 0}))["error"]
          .get<std::string>()
          .starts_with("follow needs a streaming reader"));
  EXPECT_TRUE(calls.empty());
}

TEST(JournalTools, TheRealJournalctlAnswers) {
  const auto result = read_journal(LogQuery{.lines = 5, .priority = "info"}, soon());
  if (result.contains("error")) {
    // Only a machine without journalctl may say so.
    EXPECT_EQ(result["error"], "journalctl not available: this machine has no systemd journal");
    EXPECT_NE(std::system("command -v journalctl >/dev/null 2>&1"), 0);
  } else {
    EXPECT_LE(result["entries"].size(), 5U);
    for (const auto& entry : result["entries"]) EXPECT_TRUE(entry.contains("message"));
  }
}

}  // namespace
}  // namespace tether::agent::tools
