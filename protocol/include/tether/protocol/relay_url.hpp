#pragma once
/// The address of a relay as users type it: wss://HOST[:PORT] or https://HOST[:PORT].

#include <string>
#include <string_view>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

struct RelayUrl {
  std::string host;  ///< Name or IP address, without IPv6 brackets.
  std::string port;  ///< Decimal port; 443 when the URL names none.

  /// "host:port" with brackets around IPv6 addresses, for the HTTP Host header and messages.
  std::string authority() const;

  /// Accepts wss:// and https:// (both reach the same listener). Plain ws:// and http:// are
  /// refused: Tether never talks to a relay without TLS. A trailing "/" is allowed.
  static Result<RelayUrl> parse(std::string_view text);
};

}  // namespace tether::protocol
