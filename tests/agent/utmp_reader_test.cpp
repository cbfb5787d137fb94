// utmp records: the parser's fixed offsets checked against glibc's own struct utmpx.

#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include <utmpx.h>

#include "diag/collectors/utmp_reader.hpp"

namespace tether::agent::diag {
namespace {

static_assert(sizeof(struct utmpx) == kUtmpRecordSize, "utmp layout differs on this platform");

std::string record(short type, pid_t pid, const char* line, const char* user, const char* host,
                   int seconds) {
  struct utmpx entry {};
  entry.ut_type = type;
  entry.ut_pid = pid;
  std::strncpy(entry.ut_line, line, sizeof entry.ut_line);
  std::strncpy(entry.ut_user, user, sizeof entry.ut_user);
  std::strncpy(entry.ut_host, host, sizeof entry.ut_host);
  entry.ut_tv.tv_sec = seconds;
  return std::string(reinterpret_cast<const char*>(&entry), sizeof entry);
}

TEST(Utmp, UserProcessRecordsOnly) {
  const std::string bytes = record(BOOT_TIME, 0, "~", "reboot", "6.8.0", 1732514400) +
                            record(LOGIN_PROCESS, 1201, "tty2", "LOGIN", "", 1732514420) +
                            record(USER_PROCESS, 2301, "tty2", "alice", "", 1732514460) +
                            record(DEAD_PROCESS, 3999, "pts/2", "", "", 1732519000) +
                            record(USER_PROCESS, 4410, "pts/0", "bob", "192.168.1.50", 1732520000);
  const auto sessions = parse_utmp(bytes);
  ASSERT_EQ(sessions.size(), 2U);
  EXPECT_EQ(sessions[0].user, "alice");
  EXPECT_EQ(sessions[0].tty, "tty2");
  EXPECT_EQ(sessions[0].host, "");
  EXPECT_EQ(sessions[0].pid, 2301);
  EXPECT_EQ(sessions[0].login_seconds, 1732514460);
  EXPECT_EQ(sessions[1].user, "bob");
  EXPECT_EQ(sessions[1].tty, "pts/0");
  EXPECT_EQ(sessions[1].host, "192.168.1.50");
}

TEST(Utmp, FullFixedSizeFieldsHaveNoTerminator) {
  const std::string user(32, 'u');
  const std::string line(32, 'l');
  const std::string bytes = record(USER_PROCESS, 1, line.c_str(), user.c_str(), "h", 5);
  const auto sessions = parse_utmp(bytes);
  ASSERT_EQ(sessions.size(), 1U);
  EXPECT_EQ(sessions[0].user, user);
  EXPECT_EQ(sessions[0].tty, line);
  EXPECT_EQ(sessions[0].host, "h");
}

TEST(Utmp, TornTailAndJunkAreIgnored) {
  std::string bytes = record(USER_PROCESS, 7, "pts/3", "carol", "", 100);
  bytes += bytes.substr(0, 200);  // a record cut short
  EXPECT_EQ(parse_utmp(bytes).size(), 1U);
  EXPECT_TRUE(parse_utmp("").empty());
  EXPECT_TRUE(parse_utmp(std::string(384, '\xff')).empty());
}

}  // namespace
}  // namespace tether::agent::diag
