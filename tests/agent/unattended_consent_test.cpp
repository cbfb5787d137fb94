// Unattended sessions: who is logged in (a utmp file crafted with glibc's own writer) and the
// consent policy's decision table.

#include "managed/unattended_consent.hpp"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmpx.h>

#include <cstring>
#include <fstream>

#include <gtest/gtest.h>

namespace tether::agent::managed {
namespace {

namespace fs = std::filesystem;

class UtmpFile : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/tether-utmp-XXXXXX";
    ASSERT_NE(mkdtemp(pattern), nullptr);
    dir_ = pattern;
    file_ = dir_ / "utmp";
    std::ofstream(file_).flush();  // pututxline does not create the file.
  }
  void TearDown() override { fs::remove_all(dir_); }

  void add(short type, const char* user, const char* line) {
    ASSERT_EQ(utmpxname(file_.c_str()), 0);
    setutxent();
    utmpx entry{};
    entry.ut_type = type;
    entry.ut_pid = getpid();
    std::strncpy(entry.ut_line, line, sizeof entry.ut_line);
    std::strncpy(entry.ut_id, line + std::strlen(line) - 1, sizeof entry.ut_id);
    std::strncpy(entry.ut_user, user, sizeof entry.ut_user);
    ASSERT_NE(pututxline(&entry), nullptr) << std::strerror(errno);
    endutxent();
  }

  fs::path dir_;
  fs::path file_;
};

TEST_F(UtmpFile, NobodyWhenOnlyBootAndLoginRecords) {
  add(BOOT_TIME, "reboot", "~");
  add(LOGIN_PROCESS, "LOGIN", "tty2");
  add(DEAD_PROCESS, "", "pts/3");
  auto users = logged_in_users(file_);
  ASSERT_TRUE(users.has_value());
  EXPECT_TRUE(users->empty());
}

TEST_F(UtmpFile, UserProcessRecordsAreLoggedInUsers) {
  add(BOOT_TIME, "reboot", "~");
  add(USER_PROCESS, "alice", "tty1");
  add(USER_PROCESS, "bob", "pts/0");
  auto users = logged_in_users(file_);
  ASSERT_TRUE(users.has_value());
  EXPECT_EQ(*users, (std::vector<std::string>{"alice", "bob"}));
}

TEST_F(UtmpFile, AMissingFileIsNobodyAnUnreadableOneIsUnknown) {
  auto missing = logged_in_users(dir_ / "no-such-utmp");
  ASSERT_TRUE(missing.has_value());
  EXPECT_TRUE(missing->empty());
  EXPECT_FALSE(logged_in_users(dir_).has_value()) << "a directory is not a utmp file";
  add(USER_PROCESS, "alice", "tty1");
  ASSERT_EQ(chmod(file_.c_str(), 0), 0);
  if (geteuid() != 0) {
    EXPECT_FALSE(logged_in_users(file_).has_value());
    return;
  }
  // Root reads any file: ask as an unprivileged user, in a child that drops to nobody.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (setgid(65534) != 0 || setuid(65534) != 0) _exit(2);
    _exit(logged_in_users(file_).has_value() ? 1 : 0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: an unreadable utmp read as nobody logged in; 2: setuid";
}

using Users = std::optional<std::vector<std::string>>;
const Users kNobody = std::vector<std::string>{};
const Users kAlice = std::vector<std::string>{"alice"};
const Users kUnknown = std::nullopt;

TEST(UnattendedDecision, PolicyTable) {
  struct Row {
    std::optional<std::string> consent;
    Users users;
    bool granted;
  };
  const Row rows[] = {
      {"never", kNobody, true},           {"never", kAlice, true},
      {"never", kUnknown, true},          {"if_user_present", kNobody, true},
      {"if_user_present", kAlice, false}, {"if_user_present", kUnknown, false},
      {"always", kNobody, false},         {"always", kAlice, false},
      {"always", kUnknown, false},        {std::nullopt, kNobody, false},
      {"sometimes", kNobody, false},
  };
  for (const auto& row : rows) {
    const auto decision = decide_unattended(row.consent, row.users);
    const auto label = row.consent.value_or("(none)") + " with " +
                       (row.users ? std::to_string(row.users->size()) + " users" : "unknown");
    EXPECT_EQ(decision.granted, row.granted) << label;
    if (decision.granted) {
      EXPECT_EQ(decision.by, "policy (unattended)") << label;
      EXPECT_TRUE(decision.reason.empty()) << label;
    } else {
      EXPECT_FALSE(decision.reason.empty()) << label;
    }
  }
}

TEST(UnattendedDecision, ALoggedInUserIsToldToStartAnAttendedSession) {
  for (const char* policy : {"if_user_present", "always"}) {
    const auto decision = decide_unattended(std::string(policy), kAlice);
    EXPECT_EQ(decision.reason,
              "a user is logged in and this device's policy needs their consent; ask them to run "
              "`tether-agent support` for an attended session")
        << policy;
  }
  EXPECT_NE(decide_unattended(std::nullopt, kNobody).reason.find("without the device's consent"),
            std::string::npos);
  EXPECT_NE(decide_unattended(std::string("always"), kNobody).reason.find("nobody is logged in"),
            std::string::npos);
}

}  // namespace
}  // namespace tether::agent::managed
