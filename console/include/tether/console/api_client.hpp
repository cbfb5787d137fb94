#pragma once
/// The console's view of the relay's REST API (docs/api.md): JSON in, JSON out, and every
/// failure turned into one line a technician can act on.

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/console/credentials.hpp"
#include "tether/protocol/client_stream.hpp"

namespace tether::console {

/// A failed command: the message for stderr and the process exit status.
class CommandError : public std::runtime_error {
 public:
  CommandError(const std::string& message, int exit_code = 1)
      : std::runtime_error(message), exit_code_(exit_code) {}
  int exit_code() const { return exit_code_; }

 private:
  int exit_code_;
};

/// `text` percent-encoded for a URL query value: everything but the unreserved characters
/// A-Z a-z 0-9 - . _ ~ and the list separator "," as %XX (upper-case hex), so "a b&c" becomes
/// "a%20b%26c" and "open,pending" stays as it is (the relay splits lists on ",").
std::string percent_encode(std::string_view text);

/// "?k1=v1&k2=v2" with every key and value percent-encoded, pairs with an empty value left
/// out; "" when nothing is left.
std::string query_string(const std::vector<std::pair<std::string, std::string>>& query);

/// Exit status when the relay's identity does not match the pin.
inline constexpr int kExitIdentity = 3;

class ApiClient {
 public:
  /// From explicit connection settings (login). Throws CommandError on bad settings.
  ApiClient(const std::string& relay, const std::string& fingerprint, const std::string& ca_file,
            std::string token = {});
  /// From saved credentials; throws CommandError telling the user to log in when there are none.
  static ApiClient from_saved_credentials();

  nlohmann::json get(const std::string& path);
  /// GET `path` with a query string built by query_string() from `query`.
  nlohmann::json get(const std::string& path,
                     const std::vector<std::pair<std::string, std::string>>& query);
  /// GET returning the body as it is (recordings); same error handling as get().
  std::string get_raw(const std::string& path);

  const protocol::RelayUrl& url() const { return url_; }
  const protocol::TrustAnchor& trust() const { return trust_; }
  const std::string& token() const { return token_; }
  nlohmann::json post(const std::string& path, const nlohmann::json& body,
                      std::chrono::seconds timeout = std::chrono::seconds(30));
  /// PATCH with a JSON body (partial updates); same error handling as get().
  nlohmann::json patch(const std::string& path, const nlohmann::json& body);

 private:
  nlohmann::json call(boost::beast::http::verb method, const std::string& path,
                      const std::optional<nlohmann::json>& body, std::chrono::seconds timeout);

  protocol::RelayUrl url_;
  protocol::TrustAnchor trust_;
  protocol::HttpsClient http_;
  std::string token_;
};

}  // namespace tether::console
