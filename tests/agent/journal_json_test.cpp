// journalctl -o json lines, including byte-array messages and junk.

#include <gtest/gtest.h>

#include "diag/collectors/journal_json.hpp"

namespace tether::agent::diag {
namespace {

// Captured from `journalctl -b -p err -o json --output-fields=…` on Ubuntu 24.04; the second
// line's MESSAGE held invalid UTF-8 ("caf\xe9"), which journalctl writes as bytes.
constexpr const char* kJournal =
    R"({"__CURSOR":"s=1;i=2","__REALTIME_TIMESTAMP":"1732522812345678","__MONOTONIC_TIMESTAMP":"612345678","_BOOT_ID":"0123456789abcdef0123456789abcdef","PRIORITY":"3","_SYSTEMD_UNIT":"NetworkManager.service","SYSLOG_IDENTIFIER":"NetworkManager","MESSAGE":"<error> [1732522812.3456] device (wlp2s0): Activation: failed for connection 'Office'\n"})"
    "\n"
    R"({"__REALTIME_TIMESTAMP":"1732522900000000","PRIORITY":"2","SYSLOG_IDENTIFIER":"kernel","MESSAGE":[99,97,102,233,32,101,114,114,111,114]})"
    "\n"
    "this is not json\n"
    R"({"__REALTIME_TIMESTAMP":"1732523000000000","PRIORITY":"3","SYSLOG_IDENTIFIER":["gnome-shell","gnome-shell"],"MESSAGE":null})"
    "\n"
    R"({"PRIORITY":"x","MESSAGE":"no time"})"
    "\n"
    R"({"__REALTIME_TIMESTAMP":"17325)";

TEST(Journal, EntriesInOrderWithUnitFallingBackToIdentifier) {
  const auto entries = parse_journal_json(kJournal, 50);
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[0].realtime_usec, 1732522812345678);
  EXPECT_EQ(entries[0].priority, 3);
  EXPECT_EQ(entries[0].unit, "NetworkManager.service");
  // The trailing newline is dropped: one line per entry in a report.
  EXPECT_EQ(entries[0].message,
            "<error> [1732522812.3456] device (wlp2s0): Activation: failed for connection "
            "'Office'");
  EXPECT_EQ(entries[1].unit, "kernel");
  EXPECT_EQ(entries[2].unit, "gnome-shell");  // a field logged twice is an array
}

TEST(Journal, ByteArrayMessageKeepsItsBytes) {
  const auto entries = parse_journal_json(kJournal, 50);
  ASSERT_GE(entries.size(), 2U);
  EXPECT_EQ(entries[1].message, "caf\xe9 error");
  EXPECT_EQ(entries[1].priority, 2);
}

TEST(Journal, NullMessageAndMissingFieldsStayEmpty) {
  const auto entries = parse_journal_json(kJournal, 50);
  ASSERT_EQ(entries.size(), 4U);
  EXPECT_EQ(entries[2].message, "");
  EXPECT_FALSE(entries[3].realtime_usec.has_value());
  EXPECT_FALSE(entries[3].priority.has_value());
  EXPECT_EQ(entries[3].message, "no time");
}

TEST(Journal, LimitAndJunk) {
  EXPECT_EQ(parse_journal_json(kJournal, 1).size(), 1U);
  EXPECT_TRUE(parse_journal_json("", 50).empty());
  EXPECT_TRUE(parse_journal_json("[1,2,3]\n{\"MESSAGE\":[300]}x\n", 50).empty());
  // Bytes out of range make the field unreadable, not the entry.
  const auto entry = parse_journal_line(R"({"MESSAGE":[300,1]})");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->message, "");
}

TEST(Journal, OomKillMessages) {
  auto victim = parse_oom_kill(
      "Out of memory: Killed process 4242 (Web Content) total-vm:2829460kB, anon-rss:1873528kB, "
      "file-rss:0kB, shmem-rss:212kB, UID:1000 pgtables:4508kB oom_score_adj:167");
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->pid, 4242);
  EXPECT_EQ(victim->process, "Web Content");

  victim = parse_oom_kill("Memory cgroup out of memory: Killed process 77 (java) total-vm:1kB");
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->process, "java");

  victim = parse_oom_kill("Out of memory: Kill process 1234 (a)b) score 900 or sacrifice child");
  ASSERT_TRUE(victim.has_value());
  EXPECT_EQ(victim->pid, 1234);
  EXPECT_EQ(victim->process, "a)b");

  EXPECT_FALSE(parse_oom_kill("oom-kill:constraint=CONSTRAINT_NONE").has_value());
  EXPECT_FALSE(parse_oom_kill("Out of memory: Killed process x").has_value());
}

}  // namespace
}  // namespace tether::agent::diag
