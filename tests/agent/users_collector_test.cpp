// The "users" section: /etc/passwd and /run/utmp over fixture trees.

#include <gtest/gtest.h>

#include <filesystem>

#include "diag/collectors/users_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

CollectContext fixture(const std::string& name) {
  CollectContext context;
  context.root = std::filesystem::path(TETHER_TEST_DATA_DIR) / name;
  context.real_root = false;
  return context;
}

TEST(Users, PasswdLinesAndWhoIsAPerson) {
  const auto entries = parse_passwd(
      "root:x:0:0:root:/root:/bin/bash\n"
      "alice:x:1000:1000:Alice,,,:/home/alice:/bin/bash\n"
      "svc:x:1002:1002::/srv:/usr/sbin/nologin\n"
      "nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n"
      "dash:x:1003:1003::/home/dash:\n"
      "+@netgroup::::::\n"
      "short:x:1:1\n"
      "bad:x:one:1::/:/bin/sh\n");
  ASSERT_EQ(entries.size(), 5U);
  EXPECT_EQ(entries[1].name, "alice");
  EXPECT_EQ(entries[1].uid, 1000U);
  EXPECT_EQ(entries[1].home, "/home/alice");
  EXPECT_FALSE(is_human_account(entries[0]));  // uid 0
  EXPECT_TRUE(is_human_account(entries[1]));
  EXPECT_FALSE(is_human_account(entries[2]));  // nologin
  EXPECT_FALSE(is_human_account(entries[3]));  // nobody
  EXPECT_TRUE(is_human_account(entries[4]));   // empty shell is /bin/sh
}

TEST(Users, LaptopAccountsAndSessions) {
  const auto section = collect_users(fixture("laptop"));
  std::vector<std::string> names;
  std::vector<std::string> humans;
  for (const auto& user : section["local"]) {
    names.push_back(user["name"]);
    if (user["human"] == true) humans.push_back(user["name"]);
  }
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.size(), 12U);
  EXPECT_EQ(humans, (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(section["local"][0], (json{{"name", "alice"},
                                       {"uid", 1000},
                                       {"gid", 1000},
                                       {"home", "/home/alice"},
                                       {"shell", "/bin/bash"},
                                       {"human", true}}));

  const auto& sessions = section["sessions"];
  ASSERT_EQ(sessions.size(), 3U);  // LOGIN, boot, run level and dead records are not sessions
  EXPECT_EQ(sessions[0], (json{{"user", "alice"},
                               {"tty", "tty2"},
                               {"host", "tty2"},
                               {"login_time", "2024-11-25T06:01:00Z"}}));
  EXPECT_EQ(sessions[1]["host"], "192.168.1.50");
  EXPECT_EQ(sessions[2]["user"], "averyveryverylongusername1234567");  // fills ut_user
  EXPECT_EQ(section["logged_in"], (json{"alice", "averyveryverylongusername1234567"}));
}

TEST(Users, ServerSessionsIgnoreATornRecord) {
  const auto section = collect_users(fixture("server"));
  EXPECT_EQ(section["sessions"].size(), 2U);
  EXPECT_EQ(section["logged_in"], (json{"ops"}));
}

TEST(Users, ContainerWithoutUtmpDoesNotClaimNobodyIsLoggedIn) {
  const auto section = collect_users(fixture("container"));
  EXPECT_EQ(section["local"].size(), 3U);
  EXPECT_TRUE(section["sessions"].is_null());
  EXPECT_TRUE(section["unknown"]["sessions"].get<std::string>().starts_with("not present"));
  EXPECT_TRUE(section["logged_in"].is_null());
}

TEST(Users, GarbageKeepsTheGoodLines) {
  const auto section = collect_users(fixture("garbage"));
  ASSERT_EQ(section["local"].size(), 1U);
  EXPECT_EQ(section["local"][0]["name"], "root");
  EXPECT_TRUE(section["sessions"].is_array());
}

TEST(Users, MissingPasswdSaysWhy) {
  const auto section = collect_users(fixture("fedora40"));
  EXPECT_TRUE(section["local"].is_null());
  EXPECT_TRUE(section["unknown"]["local"].get<std::string>().starts_with("could not read"));
}

}  // namespace
}  // namespace tether::agent::diag
