#pragma once
/// Error codes shared by the wire protocol, the REST API and the command-line tools.
///
/// Every code has a stable snake_case name that travels on the wire (`"code": "bad_json"`),
/// a WebSocket close code (4000 + value) and an HTTP status for the REST API.

#include <string_view>
#include <system_error>

namespace tether::protocol {

enum class Error {
  ok = 0,
  bad_json = 1,             ///< Text frame or body is not valid JSON.
  bad_message = 2,          ///< Valid JSON but not a valid message (missing/mistyped field).
  unknown_type = 3,         ///< Message "type" is not one this version knows.
  unsupported_version = 4,  ///< Peer speaks a protocol version we do not.
  message_too_large = 5,    ///< Frame, message or body over its limit.
  handshake_timeout = 6,    ///< Peer did not finish TLS/WebSocket/hello in time.
  idle_timeout = 7,         ///< Peer sent nothing (not even a pong) for too long.
  unexpected_message = 8,   ///< Message valid but not allowed in the current state.
  unauthorized = 9,         ///< Missing, expired or forged credentials.
  forbidden = 10,           ///< Authenticated but not allowed.
  not_found = 11,           ///< Ticket, session or route does not exist.
  code_invalid = 12,        ///< Support code malformed (check digit) or unknown.
  code_expired = 13,        ///< Support code existed but expired.
  code_used = 14,           ///< Support code already used by a session.
  rate_limited = 15,        ///< Too many attempts; retry later.
  consent_refused = 16,     ///< The end user refused the session.
  consent_timeout = 17,     ///< The end user did not answer in time.
  agent_offline = 18,       ///< The agent holding the code/session is not connected.
  session_ended = 19,       ///< The session is over.
  agent_timeout = 20,       ///< The agent did not answer a request in time.
  bad_request = 21,         ///< HTTP request malformed (bad route parameters, wrong method).
  conflict = 22,            ///< State changed under the request.
  channel_error = 23,       ///< Channel frame for an unknown channel, or window overrun.
  internal = 24,            ///< Bug or storage failure on the relay; logged there.
  shutting_down = 25,       ///< The relay is stopping; reconnect later.
  identity_mismatch = 26,   ///< Peer's TLS identity did not match the pinned one.
  method_not_allowed = 27,  ///< The route exists but not for this HTTP method.
};

/// Stable wire name, e.g. "bad_json". Never empty.
std::string_view to_string(Error e) noexcept;

/// Parses a wire name; returns Error::internal for names this version does not know.
Error error_from_string(std::string_view name) noexcept;

/// One-line human explanation of the code, for users.
std::string_view describe(Error e) noexcept;

/// HTTP status used by the REST API for this code.
int http_status(Error e) noexcept;

/// WebSocket close code (4000 + value) used when a peer is closed for this error.
inline constexpr unsigned short close_code(Error e) noexcept {
  return static_cast<unsigned short>(4000 + static_cast<int>(e));
}

const std::error_category& error_category() noexcept;
std::error_code make_error_code(Error e) noexcept;

}  // namespace tether::protocol

template <>
struct std::is_error_code_enum<tether::protocol::Error> : std::true_type {};
