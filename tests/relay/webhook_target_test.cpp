#include "webhooks/webhook_target.hpp"

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

constexpr const char* kSecret = "0123456789abcdef";

json minimal(json extra = json::object()) {
  json entry = {{"name", "glpi"}, {"url", "https://glpi.example.com/hook"}, {"secret", kSecret}};
  entry.update(extra);
  return entry;
}

// The message of the std::invalid_argument thrown for `webhooks`, or "" when accepted.
std::string error_of(const json& webhooks, const std::filesystem::path& dir = "/nonexistent") {
  try {
    parse_webhook_targets(webhooks, dir);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(WebhookTargetTest, DefaultsAndUrlParts) {
  const auto targets = parse_webhook_targets(json::array({minimal()}), "/data");
  ASSERT_EQ(targets.size(), 1u);
  const auto& t = targets[0];
  EXPECT_EQ(t.name, "glpi");
  EXPECT_TRUE(t.tls);
  EXPECT_EQ(t.host, "glpi.example.com");
  EXPECT_EQ(t.port, "443");
  EXPECT_EQ(t.target, "/hook");
  EXPECT_EQ(t.secret, kSecret);
  EXPECT_EQ(t.events, std::vector<std::string>{"*"});
  EXPECT_EQ(t.timeout, milliseconds(5000));
  EXPECT_EQ(t.max_attempts, 10);
  EXPECT_EQ(t.retry_base, milliseconds(2000));
  EXPECT_EQ(t.retry_max, milliseconds(600000));
  EXPECT_TRUE(t.ca_file.empty());
}

TEST(WebhookTargetTest, EveryFieldIsRead) {
  const auto targets =
      parse_webhook_targets(json::array({minimal({{"url", "http://[::1]:8080/a/b?x=1"},
                                                  {"events", {"ticket.*", "sla.breached"}},
                                                  {"timeout_ms", 100},
                                                  {"max_attempts", 1},
                                                  {"retry_base_ms", 250},
                                                  {"retry_max_ms", 1000}}),
                                         {{"name", "zammad-2"},
                                          {"url", "https://10.0.0.5:8443?only=query"},
                                          {"secret", kSecret},
                                          {"ca_file", "zammad-ca.pem"}}}),
                            "/data");
  ASSERT_EQ(targets.size(), 2u);
  EXPECT_FALSE(targets[0].tls);
  EXPECT_EQ(targets[0].host, "::1");
  EXPECT_EQ(targets[0].port, "8080");
  EXPECT_EQ(targets[0].authority(), "[::1]:8080");
  EXPECT_EQ(targets[0].target, "/a/b?x=1");
  EXPECT_EQ(targets[0].events, (std::vector<std::string>{"ticket.*", "sla.breached"}));
  EXPECT_EQ(targets[0].timeout, milliseconds(100));
  EXPECT_EQ(targets[0].max_attempts, 1);
  EXPECT_EQ(targets[0].retry_base, milliseconds(250));
  EXPECT_EQ(targets[0].retry_max, milliseconds(1000));
  EXPECT_EQ(targets[1].host, "10.0.0.5");
  EXPECT_EQ(targets[1].port, "8443");
  EXPECT_EQ(targets[1].target, "/?only=query");
  EXPECT_EQ(targets[1].ca_file, std::filesystem::path("/data/zammad-ca.pem"));
}

TEST(WebhookTargetTest, AbsentOrNullMeansNoWebhooks) {
  EXPECT_TRUE(parse_webhook_targets(json(nullptr), "/data").empty());
  EXPECT_TRUE(parse_webhook_targets(json::array(), "/data").empty());
}

TEST(WebhookTargetTest, SecretFileIsReadRelativeToTheDataDirectory) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tether-webhook-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "glpi.secret") << "a-secret-of-twenty-chars\n";
  std::ofstream(dir / "short.secret") << "short\n";
  json entry = {{"name", "glpi"}, {"url", "http://127.0.0.1:1/"}, {"secret_file", "glpi.secret"}};
  const auto targets = parse_webhook_targets(json::array({entry}), dir);
  ASSERT_EQ(targets.size(), 1u);
  EXPECT_EQ(targets[0].secret, "a-secret-of-twenty-chars");

  entry["secret_file"] = (dir / "short.secret").string();
  EXPECT_NE(error_of(json::array({entry}), dir).find("webhooks[0].secret_file must hold"),
            std::string::npos)
      << error_of(json::array({entry}), dir);
  entry["secret_file"] = "missing.secret";
  EXPECT_NE(error_of(json::array({entry}), dir).find("cannot be read"), std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST(WebhookTargetTest, BadEntriesAreRefusedNamingTheKeyAndIndex) {
  struct Case {
    json webhooks;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {json::object(), "webhooks must be an array"},
      {json::array({"glpi"}), "webhooks[0] must be an object"},
      {json::array({minimal({{"extra", 1}})}), "webhooks[0] has an unknown key \"extra\""},
      {json::array({minimal({{"name", "GLPI"}})}), "webhooks[0].name must be 1 to 32"},
      {json::array({minimal({{"name", std::string(33, 'a')}})}), "webhooks[0].name must be"},
      {json::array({minimal({{"name", 5}})}), "webhooks[0].name must be a non-empty string"},
      {json::array({minimal(), minimal()}), "webhooks[1].name \"glpi\" is used by an earlier"},
      {json::array({json{{"name", "a"}, {"secret", kSecret}}}), "webhooks[0].url is required"},
      {json::array({minimal({{"url", "ftp://x/"}})}), "webhooks[0].url must start with https://"},
      {json::array({minimal({{"url", "https://"}})}), "webhooks[0].url names no host"},
      {json::array({minimal({{"url", "https://u:p@host/"}})}),
       "webhooks[0].url must not contain user"},
      {json::array({minimal({{"url", "https://host:0/"}})}), "webhooks[0].url has a bad port"},
      {json::array({minimal({{"url", "https://host:70000/"}})}), "has a bad port"},
      {json::array({minimal({{"url", "https://host/a b"}})}), "must not contain spaces"},
      {json::array({minimal({{"url", "https://host/#frag"}})}), "must not contain a fragment"},
      {json::array({minimal({{"secret", "too-short"}})}), "webhooks[0].secret must be at least 16"},
      {json::array({minimal({{"secret_file", "/x"}})}), "needs exactly one of \"secret\""},
      {json::array({json{{"name", "a"}, {"url", "https://h/"}}}), "needs exactly one of"},
      {json::array({minimal({{"events", json::array()}})}),
       "webhooks[0].events must be a non-empty"},
      {json::array({minimal({{"events", "ticket.*"}})}), "webhooks[0].events must be"},
      {json::array({minimal({{"events", {"ticket.*", "Ticket"}}})}),
       "webhooks[0].events[1] must be"},
      {json::array({minimal({{"events", {"ticket*"}}})}), "webhooks[0].events[0] must be"},
      {json::array({minimal({{"events", {".*"}}})}), "webhooks[0].events[0] must be"},
      {json::array({minimal({{"timeout_ms", 99}})}),
       "webhooks[0].timeout_ms must be a whole number from 100 to 60000"},
      {json::array({minimal({{"timeout_ms", 60001}})}), "timeout_ms must be"},
      {json::array({minimal({{"timeout_ms", "5000"}})}), "timeout_ms must be"},
      {json::array({minimal({{"max_attempts", 0}})}),
       "webhooks[0].max_attempts must be a whole number from 1 to 100"},
      {json::array({minimal({{"max_attempts", 101}})}), "max_attempts must be"},
      {json::array({minimal({{"retry_base_ms", 5}})}), "webhooks[0].retry_base_ms must be"},
      {json::array({minimal({{"retry_base_ms", 5000}, {"retry_max_ms", 4000}})}),
       "webhooks[0].retry_max_ms must be a whole number from 5000"},
      {json::array({minimal({{"url", "http://h/"}, {"ca_file", "ca.pem"}})}),
       "webhooks[0].ca_file only applies to https://"},
  };
  for (const auto& c : cases) {
    const auto error = error_of(c.webhooks);
    EXPECT_NE(error.find(c.expected), std::string::npos)
        << c.webhooks.dump() << " gave \"" << error << "\", expected \"" << c.expected << "\"";
  }
}

TEST(WebhookTargetTest, EventPatterns) {
  EXPECT_TRUE(event_matches("*", "ticket.created"));
  EXPECT_TRUE(event_matches("ticket.*", "ticket.created"));
  EXPECT_TRUE(event_matches("ticket.*", "ticket.priority_changed"));
  EXPECT_FALSE(event_matches("ticket.*", "ticket"));
  EXPECT_FALSE(event_matches("ticket.*", "ticket."));
  EXPECT_FALSE(event_matches("ticket.*", "tickets.created"));
  EXPECT_FALSE(event_matches("ticket.*", "sla.breached"));
  EXPECT_TRUE(event_matches("sla.breached", "sla.breached"));
  EXPECT_FALSE(event_matches("sla.breached", "sla.breached.twice"));
  EXPECT_FALSE(event_matches("session.ended", "session.requested"));

  WebhookTarget target;
  target.events = {"ticket.*", "session.*", "sla.breached"};
  EXPECT_TRUE(target.wants("ticket.note"));
  EXPECT_TRUE(target.wants("session.ended"));
  EXPECT_TRUE(target.wants("sla.breached"));
  EXPECT_FALSE(target.wants("consent.granted"));
  EXPECT_FALSE(target.wants("command.run"));
}

TEST(WebhookTargetTest, RetryCeilingDoublesUpToTheCap) {
  WebhookTarget target;
  target.retry_base = milliseconds(2000);
  target.retry_max = milliseconds(600000);
  EXPECT_EQ(retry_ceiling(target, 1), milliseconds(2000));
  EXPECT_EQ(retry_ceiling(target, 2), milliseconds(4000));
  EXPECT_EQ(retry_ceiling(target, 3), milliseconds(8000));
  EXPECT_EQ(retry_ceiling(target, 9), milliseconds(512000));
  EXPECT_EQ(retry_ceiling(target, 10), milliseconds(600000));
  // No overflow however many attempts a row has behind it.
  EXPECT_EQ(retry_ceiling(target, 100), milliseconds(600000));
  EXPECT_EQ(retry_ceiling(target, std::numeric_limits<int>::max()), milliseconds(600000));

  target.retry_max = target.retry_base;
  EXPECT_EQ(retry_ceiling(target, 1), milliseconds(2000));
  EXPECT_EQ(retry_ceiling(target, 5), milliseconds(2000));
}

TEST(WebhookTargetTest, RetryDelayIsFullJitterWithinTheCeiling) {
  WebhookTarget target;
  target.retry_base = milliseconds(1000);
  target.retry_max = milliseconds(8000);
  std::mt19937_64 random(42);
  for (int attempts = 1; attempts <= 12; ++attempts) {
    milliseconds low = milliseconds::max(), high = milliseconds::zero();
    for (int i = 0; i < 2000; ++i) {
      const auto delay = retry_delay(target, attempts, random);
      ASSERT_GE(delay, milliseconds(0));
      ASSERT_LE(delay, retry_ceiling(target, attempts)) << "attempt " << attempts;
      low = std::min(low, delay);
      high = std::max(high, delay);
    }
    // Full jitter: the draws spread over the whole range, not just near the ceiling.
    EXPECT_LT(low, retry_ceiling(target, attempts) / 10) << "attempt " << attempts;
    EXPECT_GT(high, retry_ceiling(target, attempts) * 9 / 10) << "attempt " << attempts;
  }
}

}  // namespace
}  // namespace tether::relay
