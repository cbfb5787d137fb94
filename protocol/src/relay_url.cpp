#include "tether/protocol/relay_url.hpp"

#include <charconv>

namespace tether::protocol {

std::string RelayUrl::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

Result<RelayUrl> RelayUrl::parse(std::string_view text) {
  std::string_view rest;
  for (std::string_view scheme : {"wss://", "https://"}) {
    if (text.starts_with(scheme)) rest = text.substr(scheme.size());
  }
  if (rest.empty()) return make_error_code(Error::bad_request);
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find('/') != std::string_view::npos) return make_error_code(Error::bad_request);

  RelayUrl url;
  std::string_view port;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return make_error_code(Error::bad_request);
    url.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (rest.starts_with(':'))
      port = rest.substr(1);
    else if (!rest.empty())
      return make_error_code(Error::bad_request);
  } else {
    const auto colon = rest.rfind(':');
    url.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (url.host.empty()) return make_error_code(Error::bad_request);
  if (port.empty()) {
    url.port = "443";
    return url;
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
    return make_error_code(Error::bad_request);
  }
  url.port = std::to_string(value);
  return url;
}

}  // namespace tether::protocol
