#include "webhooks/webhook_payload.hpp"

#include <gtest/gtest.h>

#include "tether/protocol/time_format.hpp"

namespace tether::relay {
namespace {

using json = nlohmann::json;

TimePoint at(const char* text) {
  return protocol::parse_time(text).value();
}

TimelineEntry escalation_entry() {
  TimelineEntry entry;
  entry.id = 117;
  entry.ticket_id = 12;
  entry.session_id = 3;
  entry.at = at("2026-11-30T06:14:14Z");
  entry.actor = "alice";
  entry.kind = "ticket.escalated";
  entry.summary = "escalated to L2: driver needs admin rights";
  entry.detail = {{"from", "L1"}, {"to", "L2"}, {"reason", "driver needs admin rights"}};
  return entry;
}

Ticket printer_ticket() {
  Ticket ticket;
  ticket.id = 12;
  ticket.title = "Printer offline";
  ticket.status = "open";
  ticket.priority = "P2";
  ticket.level = 2;
  ticket.assignee = "bob";
  ticket.requester = "Ann Example";
  ticket.external_system = "glpi";
  ticket.external_key = "1234";
  ticket.description = "not sent";
  return ticket;
}

TEST(WebhookPayloadTest, HmacSha256MatchesRfc4231) {
  // RFC 4231, test case 2.
  EXPECT_EQ(hmac_sha256_hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(WebhookPayloadTest, SignatureCoversTimestampDotBody) {
  // Expected value from Python: hmac.new(secret, b'1796019254.{"id":"evt-1"}', sha256).
  EXPECT_EQ(webhook_signature("whsec_0123456789abcdef", 1796019254, R"({"id":"evt-1"})"),
            "t=1796019254,v1=f1ffd39f73855e9df513ee00b21e28e524e85920798e5b85de2a1e4eece8b2f5");
  // Any change to the body, the time or the secret changes the signature.
  const auto base = webhook_signature("whsec_0123456789abcdef", 1796019254, R"({"id":"evt-1"})");
  EXPECT_NE(webhook_signature("whsec_0123456789abcdef", 1796019254, R"({"id":"evt-2"})"), base);
  EXPECT_NE(webhook_signature("whsec_0123456789abcdef", 1796019255, R"({"id":"evt-1"})"), base);
  EXPECT_NE(webhook_signature("whsec_0123456789abcdeF", 1796019254, R"({"id":"evt-1"})"), base);
}

TEST(WebhookPayloadTest, PayloadHasTheDocumentedShape) {
  const auto body = webhook_payload(escalation_entry(), printer_ticket(), "relay.example.com");
  const auto payload = json::parse(body);
  const json expected = {
      {"id", "evt-117"},
      {"event", "ticket.escalated"},
      {"at", "2026-11-30T06:14:14Z"},
      {"actor", "alice"},
      {"summary", "escalated to L2: driver needs admin rights"},
      {"ticket",
       {{"id", "T-12"},
        {"title", "Printer offline"},
        {"status", "open"},
        {"priority", "P2"},
        {"level", "L2"},
        {"assignee", "bob"},
        {"requester", "Ann Example"},
        {"external", {{"system", "glpi"}, {"key", "1234"}}}}},
      {"session", "S-3"},
      {"detail", {{"from", "L1"}, {"to", "L2"}, {"reason", "driver needs admin rights"}}},
      {"relay", "relay.example.com"},
  };
  EXPECT_EQ(payload, expected) << payload.dump(2);
  // Compact, one line: what is signed is exactly what is sent.
  EXPECT_EQ(body.find('\n'), std::string::npos);
}

TEST(WebhookPayloadTest, AbsentValuesAreNull) {
  auto entry = escalation_entry();
  entry.session_id.reset();
  entry.detail = nullptr;
  auto ticket = printer_ticket();
  ticket.assignee.clear();
  ticket.external_system.clear();
  ticket.external_key.clear();
  auto payload = json::parse(webhook_payload(entry, ticket, "r"));
  EXPECT_TRUE(payload["session"].is_null());
  EXPECT_TRUE(payload["ticket"]["assignee"].is_null());
  EXPECT_TRUE(payload["ticket"]["external"].is_null());
  EXPECT_EQ(payload["detail"], json::object());

  payload = json::parse(webhook_payload(entry, std::nullopt, "r"));
  EXPECT_TRUE(payload["ticket"].is_null());
}

TEST(WebhookPayloadTest, HugeDetailIsTruncatedAndBadUtf8Replaced) {
  auto entry = escalation_entry();
  entry.detail = {{"output", std::string(kMaxWebhookDetailBytes, 'x')}};
  entry.summary = "bad \xff byte";
  const auto body = webhook_payload(entry, printer_ticket(), "r");
  EXPECT_LT(body.size(), 4096u);
  const auto payload = json::parse(body);  // Valid JSON despite the invalid UTF-8.
  EXPECT_EQ(payload["detail"]["truncated"], true);
  EXPECT_GT(payload["detail"]["bytes"].get<std::size_t>(), kMaxWebhookDetailBytes);
  EXPECT_EQ(payload["summary"], "bad \xEF\xBF\xBD byte");
}

TEST(WebhookPayloadTest, DeliveryLogRow) {
  WebhookDelivery delivery;
  delivery.id = 42;
  delivery.webhook = "glpi";
  delivery.entry_id = 117;
  delivery.ticket_id = 12;
  delivery.event = "ticket.created";
  delivery.payload = "{}";
  delivery.status = "pending";
  delivery.attempts = 2;
  delivery.created_at = at("2026-11-30T06:00:00Z");
  delivery.next_attempt_at = at("2026-11-30T06:00:09Z");
  delivery.last_attempt_at = at("2026-11-30T06:00:05Z");
  delivery.last_http_status = 500;
  delivery.last_error = "HTTP 500 Internal Server Error";
  EXPECT_EQ(webhook_delivery_json(delivery), (json{{"id", "D-42"},
                                                   {"webhook", "glpi"},
                                                   {"event", "ticket.created"},
                                                   {"ticket", "T-12"},
                                                   {"entry", 117},
                                                   {"status", "pending"},
                                                   {"attempts", 2},
                                                   {"created_at", "2026-11-30T06:00:00Z"},
                                                   {"next_attempt_at", "2026-11-30T06:00:09Z"},
                                                   {"last_attempt_at", "2026-11-30T06:00:05Z"},
                                                   {"last_http_status", 500},
                                                   {"last_error", "HTTP 500 Internal Server Error"},
                                                   {"delivered_at", nullptr}}));

  delivery.status = "delivered";
  delivery.attempts = 3;
  delivery.last_http_status = 204;
  delivery.last_error.clear();
  delivery.delivered_at = at("2026-11-30T06:00:10Z");
  const auto row = webhook_delivery_json(delivery);
  EXPECT_TRUE(row["next_attempt_at"].is_null());
  EXPECT_EQ(row["delivered_at"], "2026-11-30T06:00:10Z");
  EXPECT_EQ(row["last_http_status"], 204);

  WebhookDelivery fresh;
  fresh.id = 1;
  const auto first = webhook_delivery_json(fresh);
  EXPECT_TRUE(first["last_attempt_at"].is_null());
  EXPECT_TRUE(first["last_http_status"].is_null());
  EXPECT_EQ(delivery_number(7), "D-7");
}

}  // namespace
}  // namespace tether::relay
