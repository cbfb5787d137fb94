#include "tether/console/tool_views.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace tether::console {
namespace {

using nlohmann::json;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

std::size_t characters(const std::string& text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) & 0xc0) != 0x80 ? 1 : 0;
  return count;
}

bool has_control(const std::string& text, bool allow_newline = true) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && !(allow_newline && c == '\n')) || byte == 0x7f) return true;
  }
  return false;
}

TEST(ToolViews, TerminalTextEscapesWhatATerminalWouldObey) {
  EXPECT_EQ(terminal_text("plain text, é and 漢字"), "plain text, é and 漢字");
  EXPECT_EQ(terminal_text("\x1b[2J\x1b]0;owned\x07"), "\\x1b[2J\\x1b]0;owned\\x07");
  EXPECT_EQ(terminal_text("a\nb\rc\x7f"), "a\\x0ab\\x0dc\\x7f");
  EXPECT_EQ(terminal_text(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(terminal_text("tab\there"), "tab here");
  EXPECT_EQ(terminal_text("\xc2\x9b"
                          "31m"),
            "\\u009b31m");  // C1 CSI
  EXPECT_EQ(terminal_text("evil\xe2\x80\xae"
                          "txt.exe"),
            "evil\\u202etxt.exe");  // RLO
  EXPECT_EQ(terminal_text("\xe2\x81\xa6x"), "\\u2066x");
  EXPECT_EQ(terminal_text("bad\xff\x9b"), "bad\xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_EQ(terminal_text("back\\slash"), "back\\slash");
}

const json kProcesses = json::parse(R"json({
  "count": 3, "truncated": false, "total_memory_bytes": 17179869184, "cpu_sample_ms": 200,
  "sort": "cpu", "taken_at": "2026-11-30T02:55:36Z",
  "processes": [
    {"pid": 4242, "ppid": 1, "user": "alice", "name": "firefox", "state": "R", "cpu_pct": 12.5,
     "rss_bytes": 50331648, "vsz_bytes": 3000000000, "threads": 80,
     "started_at": "2026-11-30T01:02:03Z",
     "command": "/usr/lib/firefox/firefox -contentproc -childID 12 -isForBrowser -prefsLen 31337 -prefMapSize 244 -jsInitLen 234220 -parentBuildID 20261101 -appDir /usr/lib/firefox/browser 4242 true tab"},
    {"pid": 2, "ppid": 0, "user": "root", "name": "kthreadd", "state": "S", "cpu_pct": 0.0,
     "rss_bytes": 0, "vsz_bytes": 0, "threads": 1, "started_at": "2025-11-02T07:00:00Z",
     "command": ""},
    {"pid": 777, "ppid": 1, "user": "averyveryverylongusername", "name": "\u001b[2J", "state": "S",
     "cpu_pct": null, "rss_bytes": 800000, "vsz_bytes": 0, "threads": 1,
     "started_at": "2026-11-29T23:00:00Z", "command": ""}
  ]})json");

TEST(ToolViews, ProcessTableLooksLikeTop) {
  const auto text = render_process_table(kProcesses, 100);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 5U) << text;
  EXPECT_EQ(lines[0],
            "Processes: 3, sorted by cpu, CPU over 200 ms, memory 16.0G, at 2026-11-30T02:55:36Z");
  EXPECT_EQ(lines[1], "    PID USER      CPU%  MEM%    RSS STATE STARTED COMMAND");
  EXPECT_TRUE(
      lines[2].starts_with("   4242 alice     12.5   0.3  48.0M R     01:02   "
                           "/usr/lib/firefox/firefox -contentproc"))
      << lines[2];
  EXPECT_EQ(lines[3], "      2 root       0.0   0.0     0K S     2025    [kthreadd]");
  EXPECT_EQ(lines[4], "    777 averyve+     ?   0.0   781K S     Nov29   [\\x1b[2J]");
  for (const auto& line : lines) EXPECT_LE(characters(line), 100U) << line;
  EXPECT_FALSE(has_control(text));
}

TEST(ToolViews, ProcessTableWidthZeroKeepsTheWholeCommandAndErrorsAreOneLine) {
  const auto text = render_process_table(kProcesses, 0);
  EXPECT_NE(text.find("4242 true tab\n"), std::string::npos) << text;
  // A narrow terminal still shows the start of every command.
  for (const auto& line : lines_of(render_process_table(kProcesses, 20))) {
    if (line.find("4242 alice") != std::string::npos) {
      EXPECT_TRUE(line.ends_with("/usr/lib/f")) << line;
    }
  }
  EXPECT_EQ(render_process_table(json{{"error", "unknown sort \"x\": use cpu, mem or pid"}}, 80),
            "unknown sort \"x\": use cpu, mem or pid\n");
}

TEST(ToolViews, ProcessTableMarksTruncation) {
  auto table = kProcesses;
  table["count"] = 9000;
  table["truncated"] = true;
  EXPECT_TRUE(render_process_table(table, 80).starts_with("Processes: 9000 (3 listed), "));
}

const json kServices = json::parse(R"json({
  "systemd_available": true, "system_state": "degraded",
  "counts": {"total": 3, "active": 1, "failed": 1},
  "services": [
    {"name": "apache2.service", "description": "The Apache HTTP Server", "load": "loaded",
     "active": "failed", "sub": "failed", "enabled": "enabled"},
    {"name": "cron.service", "description": "Regular background program processing daemon",
     "load": "loaded", "active": "active", "sub": "running", "enabled": "enabled"},
    {"name": "run-u42.service", "description": "evil \u001b[31m red", "load": "loaded",
     "active": "active", "sub": "exited", "enabled": null}
  ]})json");

TEST(ToolViews, ServiceTableLooksLikeSystemctl) {
  const auto text = render_service_table(kServices);
  const auto lines = lines_of(text);
  ASSERT_EQ(lines.size(), 6U) << text;
  EXPECT_EQ(lines[0], "  UNIT            LOAD   ACTIVE SUB     ENABLED DESCRIPTION");
  EXPECT_EQ(lines[1],
            "\xe2\x97\x8f apache2.service loaded failed failed  enabled The Apache HTTP Server");
  EXPECT_EQ(lines[2],
            "  cron.service    loaded active running enabled Regular background program processing "
            "daemon");
  EXPECT_EQ(lines[3], "  run-u42.service loaded active exited  -       evil \\x1b[31m red");
  EXPECT_EQ(lines[4], "");
  EXPECT_EQ(lines[5], "3 services listed, 1 failed; system state: degraded");
  EXPECT_FALSE(has_control(text));
}

TEST(ToolViews, ServiceTableWithoutSystemdIsItsReason) {
  EXPECT_EQ(render_service_table(json{
                {"systemd_available", false},
                {"error", "systemd is not running on this machine (it is not the init system)"}}),
            "systemd is not running on this machine (it is not the init system)\n");
  EXPECT_EQ(render_service_table(json{{"systemd_available", true}, {"services", json::array()}}),
            "  UNIT LOAD ACTIVE SUB ENABLED DESCRIPTION\n\n0 services listed, 0 failed\n");
}

TEST(ToolViews, JournalEntryLooksLikeShortIso) {
  const json entry{{"time", "2026-11-30T02:55:36Z"},
                   {"priority", 3},
                   {"unit", "ssh.service"},
                   {"identifier", "sshd"},
                   {"pid", 812},
                   {"host", "pc42"},
                   {"message", "error: maximum authentication attempts exceeded"}};
  EXPECT_EQ(render_journal_entry(entry),
            "2026-11-30T02:55:36Z pc42 sshd[812]: [err] error: maximum authentication attempts "
            "exceeded\n");

  auto info = entry;
  info["priority"] = 6;
  info["pid"] = nullptr;
  info["identifier"] = "";
  EXPECT_EQ(render_journal_entry(info),
            "2026-11-30T02:55:36Z pc42 ssh.service: error: maximum authentication attempts "
            "exceeded\n");

  auto crit = entry;
  crit["priority"] = 2;
  crit["message"] = "first line\nsecond \x1b[2J line\n";
  EXPECT_EQ(render_journal_entry(crit),
            "2026-11-30T02:55:36Z pc42 sshd[812]: [crit] first line\n"
            "                                            second \\x1b[2J line\n");

  EXPECT_EQ(render_journal_entry(json::object()), "- -: \n");
  EXPECT_EQ(render_journal_entry(json(nullptr)), "- -: \n");
}

TEST(ToolViews, ServiceActionsSayWhatHappened) {
  EXPECT_EQ(render_service_action(json{{"ok", true},
                                       {"action", "restart"},
                                       {"name", "nginx.service"},
                                       {"exit_code", 0},
                                       {"active", "active"},
                                       {"sub", "running"},
                                       {"output", ""}}),
            "nginx.service: restarted; now active (running)\n");
  EXPECT_EQ(render_service_action(json{{"ok", true},
                                       {"action", "stop"},
                                       {"name", "cups.service"},
                                       {"active", "inactive"},
                                       {"sub", "dead"}}),
            "cups.service: stopped; now inactive (dead)\n");
  EXPECT_EQ(
      render_service_action(json{
          {"ok", false},
          {"action", "restart"},
          {"name", "cups.service"},
          {"exit_code", 1},
          {"error", "permission denied: restarting units needs root or polkit"},
          {"output", "Failed to restart cups.service: Interactive authentication required.\n"}}),
      "restart cups.service failed: permission denied: restarting units needs root or "
      "polkit\n  Failed to restart cups.service: Interactive authentication required.\n");
  EXPECT_EQ(render_service_action(json{{"ok", true},
                                       {"action", "status"},
                                       {"name", "cups.service"},
                                       {"output",
                                        "\xe2\x97\x8b cups.service - CUPS\n     Active: inactive "
                                        "(dead)\x1b[0m\n"}}),
            "\xe2\x97\x8b cups.service - CUPS\n     Active: inactive (dead)\\x1b[0m\n");
  EXPECT_EQ(render_service_action(json::array()), "? ? failed: unknown error\n");
}

TEST(ToolViews, KillResultsNameTheProcess) {
  EXPECT_EQ(
      render_kill_result(json{{"ok", true}, {"pid", 4242}, {"name", "sleep"}, {"signal", "TERM"}}),
      "Sent TERM to process 4242 (sleep).\n");
  EXPECT_EQ(render_kill_result(json{{"ok", false},
                                    {"pid", 1},
                                    {"name", ""},
                                    {"signal", "KILL"},
                                    {"error",
                                     "refused: pid 1 is the init system; signalling it "
                                     "can bring the machine down"}}),
            "KILL to process 1 not sent: refused: pid 1 is the init system; signalling it can "
            "bring the machine down\n");
  EXPECT_EQ(render_kill_result(
                json{{"ok", false},
                     {"pid", 9},
                     {"name", "x\x1b[8m"},
                     {"signal", "TERM"},
                     {"error", "permission denied: process 9 (x\x1b[8m) belongs to user root"}}),
            "TERM to process 9 (x\\x1b[8m) not sent: permission denied: process 9 (x\\x1b[8m) "
            "belongs to user root\n");
}

TEST(ToolViews, MistypedInputNeverThrows) {
  for (const auto& input : {json(nullptr), json::array(), json("text"), json{{"processes", 3}},
                            json{{"services", json::array({1, "x", nullptr})}}}) {
    EXPECT_NO_THROW((void)render_process_table(input, 80));
    EXPECT_NO_THROW((void)render_service_table(input));
    EXPECT_NO_THROW((void)render_journal_entry(input));
    EXPECT_NO_THROW((void)render_service_action(input));
    EXPECT_NO_THROW((void)render_kill_result(input));
  }
  EXPECT_NO_THROW((void)render_process_table(
      json{{"processes", json::array({json{{"pid", "x"}, {"started_at", 5}}, json(3)})}}, 80));
}

}  // namespace
}  // namespace tether::console
