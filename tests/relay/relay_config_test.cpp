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

TEST_F(RelayConfigTest, SlaPolicyAndWebhooksAreCheckedWhenTheFileIsRead) {
  write(R"({"sla": {"targets": {"P1": {"first_response_minutes": 5}}},
            "webhooks": [{"name": "glpi", "url": "https://glpi.example.com/hook",
                          "secret": "0123456789abcdef0123"}],
            "sla_check_interval_seconds": 5})");
  const auto loaded = RelayConfig::load(dir_);
  EXPECT_EQ(loaded.sla_check_interval, std::chrono::seconds(5));
  EXPECT_EQ(loaded.sla.at("targets").at("P1").at("first_response_minutes"), 5);
  EXPECT_EQ(loaded.webhooks.size(), 1u);
  // The loaded file round-trips, policy and receivers included.
  write(loaded.to_json().dump());
  EXPECT_EQ(RelayConfig::load(dir_).sla, loaded.sla);

  write(R"({"sla": {"business_hours": {"days": {"mon": "25:00-26:00"}}}})");
  const auto bad_hours = load_error();
  EXPECT_NE(bad_hours.find("sla.business_hours.days.mon"), std::string::npos) << bad_hours;
  EXPECT_EQ(bad_hours.find("sla: sla."), std::string::npos) << bad_hours;
  write(R"({"webhooks": [{"name": "glpi", "url": "ftp://x", "secret": "0123456789abcdef0123"}]})");
  EXPECT_NE(load_error().find("webhooks[0]"), std::string::npos) << load_error();
}

TEST_F(RelayConfigTest, DeviceCertificateDaysDefaultsToNinetyAndIsBounded) {
  EXPECT_EQ(RelayConfig{}.device_certificate_validity, std::chrono::days(90));
  write(R"({"device_certificate_days": 30})");
  const auto loaded = RelayConfig::load(dir_);
  EXPECT_EQ(loaded.device_certificate_validity, std::chrono::days(30));
  write(loaded.to_json().dump());
  EXPECT_EQ(RelayConfig::load(dir_).device_certificate_validity, std::chrono::days(30));
  for (const char* bad :
       {R"({"device_certificate_days": 0})", R"({"device_certificate_days": 826})",
        R"({"device_certificate_days": "90"})"}) {
    write(bad);
    EXPECT_NE(load_error().find("device_certificate_days must be"), std::string::npos) << bad;
  }
}

TEST_F(RelayConfigTest, GroupPoliciesNameTheirGroupOrTheDefaultAndRoundTrip) {
  // Without any entry no group allows unattended sessions.
  EXPECT_EQ(RelayConfig{}.policy_for("lab"), GroupPolicy{});
  EXPECT_FALSE(GroupPolicy{}.unattended);
  EXPECT_EQ(GroupPolicy{}.consent, "always");
  EXPECT_EQ(GroupPolicy{}.scopes, all_scopes());

  write(R"({"groups": {"servers": {"unattended": true, "consent": "never",
                                   "scopes": ["shell", "diagnostics", "shell"]},
                       "*": {"unattended": true, "consent": "if_user_present"}}})");
  const auto loaded = RelayConfig::load(dir_);
  const auto servers = loaded.policy_for("servers");
  EXPECT_TRUE(servers.unattended);
  EXPECT_EQ(servers.consent, "never");
  EXPECT_EQ(servers.scopes, (std::vector<std::string>{"shell", "diagnostics"}));
  const auto other = loaded.policy_for("lab");  // not named: "*"
  EXPECT_TRUE(other.unattended);
  EXPECT_EQ(other.consent, "if_user_present");
  EXPECT_EQ(other.scopes, all_scopes());
  EXPECT_EQ(loaded.policy_for(""), other);

  write(loaded.to_json().dump());
  EXPECT_EQ(RelayConfig::load(dir_).groups, loaded.groups);
}

TEST_F(RelayConfigTest, BadGroupPoliciesAreRefusedWithTheGroupNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"groups": []})", "groups must be an object"},
      {R"({"groups": {"lab": true}})", "groups[\"lab\"] must be an object"},
      {R"({"groups": {"lab": {"unattended": "yes"}}})", "groups[\"lab\"].unattended must be"},
      {R"({"groups": {"lab": {"consent": "sometimes"}}})", "groups[\"lab\"].consent must be"},
      {R"({"groups": {"lab": {"scopes": ["root"]}}})", "groups[\"lab\"].scopes: use some of"},
      {R"({"groups": {"lab": {"unatended": true}}})", "groups[\"lab\"]: unknown key \"unatended\""},
  };
  for (const auto& [text, expected] : cases) {
    write(text);
    EXPECT_NE(load_error().find(expected), std::string::npos) << text << ": " << load_error();
  }
}

}  // namespace
}  // namespace tether::relay
