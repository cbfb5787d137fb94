// `tether-relay token create`: durations, group names, bounds, and what lands in the store.
#include <unistd.h>

#include <filesystem>
#include <regex>

#include <gtest/gtest.h>

#include "tether/relay/data_dir.hpp"
#include "tether/relay/password_hasher.hpp"
#include "tether/relay/relay_config.hpp"
#include "tether/relay/sqlite_store.hpp"

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

TEST(GroupName, LowerCaseLettersDigitsDotUnderscoreDash) {
  EXPECT_TRUE(valid_group_name("default"));
  EXPECT_TRUE(valid_group_name("lab-2.floor_1"));
  EXPECT_TRUE(valid_group_name(std::string(64, 'a')));
  for (const std::string& bad : {std::string(), std::string(65, 'a'), std::string("Lab"),
                                 std::string("a b"), std::string("x/y"), std::string("é")}) {
    EXPECT_FALSE(valid_group_name(bad)) << bad;
  }
}

class EnrollmentTokenTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-token-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    InitOptions init;
    init.data_dir = dir_;
    init.admin_password = "a long admin password";
    init_data_dir(init);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string error_of(const EnrollmentTokenOptions& options) {
    try {
      create_enrollment_token(dir_, options);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }

  std::filesystem::path dir_;
};

TEST_F(EnrollmentTokenTest, TheTokenIsShownOnceAndOnlyItsHashIsStored) {
  EnrollmentTokenOptions options;
  options.uses = 2;
  options.group = "lab";
  options.created_by = "cli:alice";
  const auto before = std::chrono::system_clock::now();
  const auto created = create_enrollment_token(dir_, options);
  // 256 bits in base32: 52 characters.
  EXPECT_TRUE(std::regex_match(created.token, std::regex("tt_[a-z2-7]{52}"))) << created.token;
  EXPECT_EQ(created.uses, 2);
  EXPECT_EQ(created.group, "lab");
  EXPECT_GE(created.expires_at, before + 30min);
  EXPECT_LE(created.expires_at, std::chrono::system_clock::now() + 30min);
  EXPECT_NE(create_enrollment_token(dir_, options).token, created.token);

  auto store = SqliteStore::open(RelayConfig::load(dir_).database_file());
  EXPECT_FALSE(store->claim_enrollment_token(created.token, created.expires_at - 1min));
  auto claimed =
      store->claim_enrollment_token(sha256_hex(created.token), created.expires_at - 1min);
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->group_name, "lab");
  EXPECT_EQ(claimed->created_by, "cli:alice");
  EXPECT_EQ(claimed->uses_left, 1);
}

TEST_F(EnrollmentTokenTest, OptionsOutOfRangeAreRefusedByName) {
  EnrollmentTokenOptions options;
  options.ttl = 59s;
  EXPECT_NE(error_of(options).find("--ttl"), std::string::npos);
  options.ttl = 24h * 30 + 1s;
  EXPECT_NE(error_of(options).find("--ttl"), std::string::npos);
  options = {};
  options.uses = 0;
  EXPECT_NE(error_of(options).find("--uses"), std::string::npos);
  options.uses = 10001;
  EXPECT_NE(error_of(options).find("--uses"), std::string::npos);
  options = {};
  options.group = "Not Valid";
  EXPECT_NE(error_of(options).find("--group"), std::string::npos);
  options = {};
  options.ttl = 24h * 30;
  options.uses = 10000;
  EXPECT_EQ(error_of(options), "");
}

TEST_F(EnrollmentTokenTest, AMissingDataDirectoryIsAConfigError) {
  EXPECT_THROW(create_enrollment_token(dir_ / "nope", {}), ConfigError);
}

}  // namespace
}  // namespace tether::relay
