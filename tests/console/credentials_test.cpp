#include "tether/console/credentials.hpp"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tether::console {
namespace {

class CredentialsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("tether-cred-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ::setenv("TETHER_CONFIG_DIR", (dir_ / "cfg").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("TETHER_CONFIG_DIR");
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(CredentialsTest, SavedPrivatelyAndLoadedBack) {
  EXPECT_FALSE(load_credentials());
  Credentials c{"https://127.0.0.1:8443", "SHA256:" + std::string(64, 'a'), "", "ada", "tok",
                "2026-11-25T22:00:00Z"};
  save_credentials(c);
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "cfg" / "credentials.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat((dir_ / "cfg").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  auto loaded = load_credentials();
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->relay, c.relay);
  EXPECT_EQ(loaded->token, "tok");
  EXPECT_EQ(loaded->user, "ada");
}

TEST_F(CredentialsTest, DamagedFileIsTreatedAsLoggedOut) {
  std::filesystem::create_directories(dir_ / "cfg");
  std::ofstream(dir_ / "cfg" / "credentials.json") << "{\"relay\": 5";
  EXPECT_FALSE(load_credentials());
}

}  // namespace
}  // namespace tether::console
