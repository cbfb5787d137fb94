#pragma once
// Small helpers the REST handlers share: failing with an ApiError, object numbers, bounded
// fields of a request body, timeline entries.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "api/rest_api.hpp"
#include "relay_context.hpp"
#include "tether/protocol/limits.hpp"

namespace tether::relay::api {

[[noreturn]] inline void fail(protocol::Error code, std::string message) {
  throw ApiError{code, std::move(message)};
}

inline std::string ticket_number(std::int64_t id) {
  return "T-" + std::to_string(id);
}
inline std::string session_number(std::int64_t id) {
  return "S-" + std::to_string(id);
}
inline std::string faq_number(std::int64_t id) {
  return "FAQ-" + std::to_string(id);
}

/// A string field of a request body, bounded in length; nullopt when absent or null.
/// Throws bad_request for another type, message_too_large when longer than `max`.
std::optional<std::string> optional_text(const nlohmann::json& body, const char* key,
                                         std::size_t max = protocol::kMaxTextField);

/// A required or optional string field; required ones must not be blank.
std::string text_field(const nlohmann::json& body, const char* key, bool required,
                       std::size_t max = protocol::kMaxTextField);

/// A boolean field; `fallback` when absent.
bool bool_field(const nlohmann::json& body, const char* key, bool fallback);

/// The "version" a client read, when it sent one (a positive integer).
std::optional<std::int64_t> expected_version(const nlohmann::json& body);

TimelineEntry ticket_entry(std::int64_t ticket_id, std::string actor, std::string kind,
                           std::string summary, nlohmann::json detail = nlohmann::json::object());

TimelineEntry session_entry(const SessionRecord& session, std::string actor, std::string kind,
                            std::string summary, nlohmann::json detail = nlohmann::json::object());

/// `text` cut to `max` bytes at a UTF-8 boundary, with "…" when cut.
std::string shorten(std::string_view text, std::size_t max);

}  // namespace tether::relay::api
