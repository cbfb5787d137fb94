#include "tether/protocol/error.hpp"

#include <array>

namespace tether::protocol {
namespace {

struct ErrorInfo {
  Error code;
  std::string_view name;
  std::string_view description;
  int http_status;
};

constexpr std::array kErrors{
    ErrorInfo{Error::ok, "ok", "no error", 200},
    ErrorInfo{Error::bad_json, "bad_json", "the message is not valid JSON", 400},
    ErrorInfo{Error::bad_message, "bad_message", "the message has a missing or invalid field", 400},
    ErrorInfo{Error::unknown_type, "unknown_type", "the message type is unknown", 400},
    ErrorInfo{Error::unsupported_version, "unsupported_version",
              "the peer speaks an unsupported protocol version", 400},
    ErrorInfo{Error::message_too_large, "message_too_large", "the message is over the size limit",
              413},
    ErrorInfo{Error::handshake_timeout, "handshake_timeout",
              "the connection handshake did not finish in time", 408},
    ErrorInfo{Error::idle_timeout, "idle_timeout", "the peer was silent for too long", 408},
    ErrorInfo{Error::unexpected_message, "unexpected_message",
              "the message is not allowed at this point of the conversation", 400},
    ErrorInfo{Error::unauthorized, "unauthorized", "missing, expired or invalid credentials", 401},
    ErrorInfo{Error::forbidden, "forbidden", "not allowed for this user", 403},
    ErrorInfo{Error::not_found, "not_found", "no such object", 404},
    ErrorInfo{Error::code_invalid, "code_invalid", "the support code is not valid", 404},
    ErrorInfo{Error::code_expired, "code_expired", "the support code has expired", 410},
    ErrorInfo{Error::code_used, "code_used", "the support code was already used", 409},
    ErrorInfo{Error::rate_limited, "rate_limited", "too many attempts; wait and try again", 429},
    ErrorInfo{Error::consent_refused, "consent_refused", "the user refused the session", 403},
    ErrorInfo{Error::consent_timeout, "consent_timeout", "the user did not answer in time", 408},
    ErrorInfo{Error::agent_offline, "agent_offline", "the agent is not connected", 409},
    ErrorInfo{Error::session_ended, "session_ended", "the session has ended", 409},
    ErrorInfo{Error::agent_timeout, "agent_timeout", "the agent did not answer in time", 504},
    ErrorInfo{Error::bad_request, "bad_request", "the request is malformed", 400},
    ErrorInfo{Error::conflict, "conflict", "the object changed; reload and try again", 409},
    ErrorInfo{Error::channel_error, "channel_error", "invalid channel frame", 400},
    ErrorInfo{Error::internal, "internal", "internal relay error (see the relay's log)", 500},
    ErrorInfo{Error::shutting_down, "shutting_down", "the relay is shutting down", 503},
    ErrorInfo{Error::identity_mismatch, "identity_mismatch",
              "the peer's identity did not match the pinned certificate", 495},
    ErrorInfo{Error::method_not_allowed, "method_not_allowed",
              "this endpoint does not take that HTTP method", 405},
};

const ErrorInfo& info(Error e) noexcept {
  for (const auto& i : kErrors) {
    if (i.code == e) return i;
  }
  return kErrors[static_cast<int>(Error::internal)];
}

class Category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "tether"; }
  std::string message(int ev) const override {
    return std::string(describe(static_cast<Error>(ev)));
  }
};

}  // namespace

std::string_view to_string(Error e) noexcept {
  return info(e).name;
}
std::string_view describe(Error e) noexcept {
  return info(e).description;
}
int http_status(Error e) noexcept {
  return info(e).http_status;
}

Error error_from_string(std::string_view name) noexcept {
  for (const auto& i : kErrors) {
    if (i.name == name) return i.code;
  }
  return Error::internal;
}

const std::error_category& error_category() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace tether::protocol
