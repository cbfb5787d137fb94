#include "tether/relay/relay_config.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "api/rest_api.hpp"

namespace tether::relay {
namespace {

class RelayConfigTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tether-config-" + std::to_string(::getpid()) + "-" +
            testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& text) { std::ofstream(dir_ / "relay.json") << text; }
  std::string load_error() {
    try {
      RelayConfig::load(dir_);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  }
  std::filesystem::path dir_;
};

TEST_F(RelayConfigTest, DefaultsRoundTripThroughTheFile) {
  RelayConfig config;
  config.data_dir = dir_;
  config.support_code_ttl = std::chrono::seconds(90);
  write(config.to_json().dump());
  const auto loaded = RelayConfig::load(dir_);
  EXPECT_EQ(loaded.support_code_ttl, std::chrono::seconds(90));
  EXPECT_EQ(loaded.listen, "127.0.0.1:8443");
  EXPECT_EQ(loaded.data_dir, dir_);
}

TEST_F(RelayConfigTest, BadFilesAreRefusedWithTheKeyNamed) {
  write(R"({"support_code_ttl_seconds": 600, "suport_code_ttl": 5})");
  EXPECT_NE(load_error().find("unknown key \"suport_code_ttl\""), std::string::npos)
      << load_error();
  write(R"({"support_code_ttl_seconds": -1})");
  EXPECT_NE(load_error().find("support_code_ttl_seconds must be"), std::string::npos)
      << load_error();
  write(R"({"join_failure_limit": "ten"})");
  EXPECT_NE(load_error().find("join_failure_limit"), std::string::npos) << load_error();
  write("{not json");
  EXPECT_FALSE(load_error().empty());
  write("[]");
  EXPECT_NE(load_error().find("not a JSON object"), std::string::npos) << load_error();
  std::filesystem::remove(dir_ / "relay.json");
  EXPECT_NE(load_error().find("cannot read"), std::string::npos) << load_error();
}

TEST(ParseObjectId, AcceptsTheDisplayedFormOnly) {
  EXPECT_EQ(parse_object_id("T-12", 'T'), 12);
  EXPECT_EQ(parse_object_id("t-12", 'T'), 12);
  EXPECT_EQ(parse_object_id("12", 'T'), 12);
  EXPECT_EQ(parse_object_id("S-3", 'S'), 3);
  for (const char* bad :
       {"", "T-", "S-12", "T-0", "T--1", "T-1x", "T-99999999999999999999", "T 1"}) {
    EXPECT_FALSE(parse_object_id(bad, 'T')) << bad;
  }
}

}  // namespace
}  // namespace tether::relay
