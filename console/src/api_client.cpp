#include "tether/console/api_client.hpp"

namespace tether::console {
namespace {

protocol::RelayUrl parse_url(const std::string& relay) {
  auto url = protocol::RelayUrl::parse(relay);
  if (!url) {
    throw CommandError("--relay must look like https://HOST:PORT (TLS only), got \"" + relay + "\"",
                       2);
  }
  return *url;
}

protocol::TrustAnchor parse_trust(const std::string& fingerprint, const std::string& ca_file) {
  if (!fingerprint.empty()) {
    auto trust = protocol::TrustAnchor::from_fingerprint(fingerprint);
    if (!trust) throw CommandError("--fingerprint must look like SHA256:<64 hex digits>", 2);
    return *trust;
  }
  if (!ca_file.empty()) {
    auto trust = protocol::TrustAnchor::from_ca_file(ca_file);
    if (!trust) throw CommandError("cannot read a CA certificate from " + ca_file, 2);
    return *trust;
  }
  throw CommandError(
      "give the relay's --fingerprint SHA256:… or --ca FILE; Tether never talks to an unverified "
      "relay",
      2);
}

}  // namespace

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    const bool unreserved = (byte >= 'A' && byte <= 'Z') || (byte >= 'a' && byte <= 'z') ||
                            (byte >= '0' && byte <= '9') || byte == '-' || byte == '.' ||
                            byte == '_' || byte == '~' || byte == ',';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0x0f]);
    }
  }
  return out;
}

std::string query_string(const std::vector<std::pair<std::string, std::string>>& query) {
  std::string out;
  for (const auto& [key, value] : query) {
    if (value.empty()) continue;
    out += out.empty() ? "?" : "&";
    out += percent_encode(key) + "=" + percent_encode(value);
  }
  return out;
}

ApiClient::ApiClient(const std::string& relay, const std::string& fingerprint,
                     const std::string& ca_file, std::string token)
    : url_(parse_url(relay)),
      trust_(parse_trust(fingerprint, ca_file)),
      http_(url_, trust_),
      token_(std::move(token)) {}

ApiClient ApiClient::from_saved_credentials() {
  auto saved = load_credentials();
  if (!saved) {
    throw CommandError(
        "not logged in: run `tether login --relay URL --fingerprint SHA256:… --user NAME`");
  }
  return ApiClient(saved->relay, saved->fingerprint, saved->ca_file, saved->token);
}

nlohmann::json ApiClient::get(const std::string& path) {
  return call(boost::beast::http::verb::get, path, std::nullopt, std::chrono::seconds(30));
}

nlohmann::json ApiClient::get(const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& query) {
  return get(path + query_string(query));
}

nlohmann::json ApiClient::patch(const std::string& path, const nlohmann::json& body) {
  return call(boost::beast::http::verb::patch, path, body, std::chrono::seconds(30));
}

std::string ApiClient::get_raw(const std::string& path) {
  auto response = http_.request(boost::beast::http::verb::get, path, std::nullopt, token_,
                                std::chrono::seconds(60));
  if (!response) {
    const bool identity = response.error() == protocol::Error::identity_mismatch;
    throw CommandError(protocol::describe_connection_error(response.error(), url_, trust_),
                       identity ? kExitIdentity : 1);
  }
  if (response->status >= 200 && response->status < 300) return response->body;
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  std::string message = "the relay answered HTTP " + std::to_string(response->status);
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    message = json["error"].value("message", message);
  }
  throw CommandError(message);
}

nlohmann::json ApiClient::post(const std::string& path, const nlohmann::json& body,
                               std::chrono::seconds timeout) {
  return call(boost::beast::http::verb::post, path, body, timeout);
}

nlohmann::json ApiClient::call(boost::beast::http::verb method, const std::string& path,
                               const std::optional<nlohmann::json>& body,
                               std::chrono::seconds timeout) {
  auto response = http_.request(method, "/api/v1" + path,
                                body ? std::optional(body->dump()) : std::nullopt, token_, timeout);
  if (!response) {
    const bool identity = response.error() == protocol::Error::identity_mismatch;
    throw CommandError(protocol::describe_connection_error(response.error(), url_, trust_),
                       identity ? kExitIdentity : 1);
  }
  auto json = nlohmann::json::parse(response->body, nullptr, false);
  if (response->status >= 200 && response->status < 300) {
    if (json.is_discarded()) throw CommandError("the relay sent a response that is not JSON");
    return json;
  }
  std::string message = "the relay answered HTTP " + std::to_string(response->status);
  std::string code;
  if (json.is_object() && json.contains("error") && json["error"].is_object()) {
    const auto& error = json["error"];
    if (error.contains("message") && error["message"].is_string()) {
      message = error["message"].get<std::string>();
    }
    if (error.contains("code") && error["code"].is_string())
      code = error["code"].get<std::string>();
  }
  if (response->status == 401 && path != "/login") {
    message += " (run `tether login` again)";
  }
  throw CommandError(code.empty() ? message : message + " [" + code + "]");
}

}  // namespace tether::console
