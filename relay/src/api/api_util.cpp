#include "api/api_util.hpp"

namespace tether::relay::api {

using json = nlohmann::json;
using protocol::Error;

std::optional<std::string> optional_text(const json& body, const char* key, std::size_t max) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_string()) fail(Error::bad_request, std::string("\"") + key + "\" must be a string");
  auto value = it->get<std::string>();
  if (value.size() > max) {
    fail(Error::message_too_large,
         std::string("\"") + key + "\" is longer than " + std::to_string(max) + " bytes");
  }
  return value;
}

std::string text_field(const json& body, const char* key, bool required, std::size_t max) {
  auto value = optional_text(body, key, max);
  if (!value) {
    if (required) fail(Error::bad_request, std::string("missing field \"") + key + "\"");
    return {};
  }
  if (required && value->find_first_not_of(" \t\r\n") == std::string::npos) {
    fail(Error::bad_request, std::string("\"") + key + "\" must not be empty");
  }
  return *value;
}

bool bool_field(const json& body, const char* key, bool fallback) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    fail(Error::bad_request, std::string("\"") + key + "\" must be true or false");
  return it->get<bool>();
}

std::optional<std::int64_t> expected_version(const json& body) {
  auto it = body.find("version");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer() || it->get<std::int64_t>() < 1) {
    fail(Error::bad_request, "\"version\" must be the ticket's version number, as read");
  }
  return it->get<std::int64_t>();
}

TimelineEntry ticket_entry(std::int64_t ticket_id, std::string actor, std::string kind,
                           std::string summary, json detail) {
  TimelineEntry entry;
  entry.ticket_id = ticket_id;
  entry.at = now();
  entry.actor = std::move(actor);
  entry.kind = std::move(kind);
  entry.summary = std::move(summary);
  entry.detail = std::move(detail);
  return entry;
}

TimelineEntry session_entry(const SessionRecord& session, std::string actor, std::string kind,
                            std::string summary, json detail) {
  auto entry = ticket_entry(session.ticket_id, std::move(actor), std::move(kind),
                            std::move(summary), std::move(detail));
  entry.session_id = session.id;
  return entry;
}

std::string shorten(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "…";
}

}  // namespace tether::relay::api
