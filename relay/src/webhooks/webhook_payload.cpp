#include "webhooks/webhook_payload.hpp"

#include <openssl/evp.h>

#include <stdexcept>

#include "tether/protocol/time_format.hpp"

namespace tether::relay {
namespace {

using json = nlohmann::json;

json optional_time(const std::optional<TimePoint>& t) {
  return t ? json(protocol::format_time(*t)) : json(nullptr);
}

json ticket_summary(const Ticket& ticket) {
  json external = nullptr;
  if (!ticket.external_system.empty()) {
    external = {{"system", ticket.external_system}, {"key", ticket.external_key}};
  }
  return {{"id", "T-" + std::to_string(ticket.id)},
          {"title", ticket.title},
          {"status", ticket.status},
          {"priority", ticket.priority},
          {"level", "L" + std::to_string(ticket.level)},
          {"assignee", ticket.assignee.empty() ? json(nullptr) : json(ticket.assignee)},
          {"requester", ticket.requester},
          {"external", external}};
}

}  // namespace

std::string webhook_payload(const TimelineEntry& entry, const std::optional<Ticket>& ticket,
                            std::string_view relay_name) {
  json detail = entry.detail.is_null() ? json::object() : entry.detail;
  // Dumped once to measure; a diagnostics snapshot or a long command output does not belong
  // in a ticketing system's followup, and receivers commonly cap request bodies.
  const auto detail_size = detail.dump(-1, ' ', false, json::error_handler_t::replace).size();
  if (detail_size > kMaxWebhookDetailBytes) {
    detail = {{"truncated", true}, {"bytes", detail_size}};
  }
  const json body = {
      {"id", "evt-" + std::to_string(entry.id)},
      {"event", entry.kind},
      {"at", protocol::format_time(entry.at)},
      {"actor", entry.actor},
      {"summary", entry.summary},
      {"ticket", ticket ? ticket_summary(*ticket) : json(nullptr)},
      {"session",
       entry.session_id ? json("S-" + std::to_string(*entry.session_id)) : json(nullptr)},
      {"detail", std::move(detail)},
      {"relay", std::string(relay_name)},
  };
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string delivery_number(std::int64_t id) {
  return "D-" + std::to_string(id);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view message) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t size = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key.data(), key.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size(), mac,
                sizeof mac, &size) == nullptr) {
    throw std::runtime_error("OpenSSL cannot compute HMAC-SHA256");
  }
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    hex.push_back(kDigits[mac[i] >> 4]);
    hex.push_back(kDigits[mac[i] & 0xf]);
  }
  return hex;
}

std::string webhook_signature(std::string_view secret, std::int64_t unix_seconds,
                              std::string_view body) {
  const auto t = std::to_string(unix_seconds);
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(".").append(body);
  return "t=" + t + ",v1=" + hmac_sha256_hex(secret, message);
}

json webhook_delivery_json(const WebhookDelivery& delivery) {
  const bool pending = delivery.status == "pending";
  return {{"id", delivery_number(delivery.id)},
          {"webhook", delivery.webhook},
          {"event", delivery.event},
          {"ticket", "T-" + std::to_string(delivery.ticket_id)},
          {"entry", delivery.entry_id},
          {"status", delivery.status},
          {"attempts", delivery.attempts},
          {"created_at", protocol::format_time(delivery.created_at)},
          {"next_attempt_at",
           pending ? json(protocol::format_time(delivery.next_attempt_at)) : json(nullptr)},
          {"last_attempt_at", optional_time(delivery.last_attempt_at)},
          {"last_http_status",
           delivery.last_http_status ? json(*delivery.last_http_status) : json(nullptr)},
          {"last_error", delivery.last_error},
          {"delivered_at", optional_time(delivery.delivered_at)}};
}

}  // namespace tether::relay
