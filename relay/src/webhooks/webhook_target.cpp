#include "webhooks/webhook_target.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <stdexcept>

namespace tether::relay {
namespace {

using json = nlohmann::json;

[[noreturn]] void invalid(const std::string& where, const std::string& what) {
  throw std::invalid_argument(where + " " + what);
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

// An exact kind or the part before ".*": lower-case words separated by dots.
bool valid_kind(std::string_view kind) {
  if (kind.empty() || kind.size() > 64 || kind.front() == '.' || kind.back() == '.') return false;
  return std::all_of(kind.begin(), kind.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
  });
}

bool valid_pattern(std::string_view pattern) {
  if (pattern == "*") return true;
  if (pattern.ends_with(".*")) return valid_kind(pattern.substr(0, pattern.size() - 2));
  return valid_kind(pattern);
}

long integer(const json& entry, const char* key, long fallback, long min, long max,
             const std::string& where) {
  const auto it = entry.find(key);
  if (it == entry.end()) return fallback;
  if (!it->is_number_integer() || it->get<long>() < min || it->get<long>() > max) {
    invalid(where + "." + key,
            "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return it->get<long>();
}

std::string string_value(const json& entry, const char* key, const std::string& where) {
  const auto it = entry.find(key);
  if (it == entry.end()) return {};
  if (!it->is_string() || it->get<std::string>().empty()) {
    invalid(where + "." + key, "must be a non-empty string");
  }
  return it->get<std::string>();
}

// Splits http(s)://HOST[:PORT][/PATH[?QUERY]] into the target's fields. User info and
// fragments are refused: credentials belong in the secret, and a fragment is never sent.
void parse_url(const std::string& url, WebhookTarget& target, const std::string& where) {
  std::string_view rest = url;
  if (rest.starts_with("https://")) {
    target.tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    target.tls = false;
    rest.remove_prefix(7);
  } else {
    invalid(where, "must start with https:// or http://, got \"" + url + "\"");
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      invalid(where, "must not contain spaces or control characters");
    }
  }
  if (url.find('#') != std::string::npos) invalid(where, "must not contain a fragment (#)");
  const auto path_start = rest.find_first_of("/?");
  auto authority = rest.substr(0, path_start);
  if (path_start != std::string_view::npos) {
    target.target = std::string(rest.substr(path_start));
    if (target.target.front() == '?') target.target.insert(0, "/");
  } else {
    target.target = "/";
  }
  if (authority.find('@') != std::string_view::npos) {
    invalid(where, "must not contain user information (put credentials in the secret)");
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) invalid(where, "has an unclosed [ in its host");
    target.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (after.starts_with(':')) {
      port = after.substr(1);
    } else if (!after.empty()) {
      invalid(where, "has text after the IPv6 address");
    }
  } else {
    const auto colon = authority.rfind(':');
    target.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (target.host.empty()) invalid(where, "names no host");
  if (port.empty()) {
    target.port = target.tls ? "443" : "80";
    return;
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535) {
    invalid(where, "has a bad port \"" + std::string(port) + "\"");
  }
  target.port = std::to_string(value);
}

std::filesystem::path resolve(const std::filesystem::path& data_dir, const std::string& file) {
  std::filesystem::path path(file);
  return path.is_absolute() ? path : data_dir / path;
}

std::string read_secret(const std::filesystem::path& file, const std::string& where) {
  std::ifstream in(file, std::ios::binary);
  if (!in) invalid(where, "cannot be read: " + file.string());
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

WebhookTarget parse_target(const json& entry, const std::filesystem::path& data_dir,
                           const std::string& where) {
  static const std::set<std::string> kKeys = {
      "name",       "url",          "secret",        "secret_file",  "events",
      "timeout_ms", "max_attempts", "retry_base_ms", "retry_max_ms", "ca_file"};
  if (!entry.is_object()) invalid(where, "must be an object");
  for (const auto& [key, value] : entry.items()) {
    if (!kKeys.contains(key)) invalid(where, "has an unknown key \"" + key + "\"");
  }
  WebhookTarget target;
  target.name = string_value(entry, "name", where);
  if (!valid_name(target.name)) {
    invalid(where + ".name", "must be 1 to 32 of a-z, 0-9, _ and -");
  }
  target.url = string_value(entry, "url", where);
  if (target.url.empty()) invalid(where + ".url", "is required");
  parse_url(target.url, target, where + ".url");

  const auto secret = string_value(entry, "secret", where);
  const auto secret_file = string_value(entry, "secret_file", where);
  if (secret.empty() == secret_file.empty()) {
    invalid(where, "needs exactly one of \"secret\" and \"secret_file\"");
  }
  if (!secret.empty()) {
    target.secret = secret;
    if (target.secret.size() < 16) invalid(where + ".secret", "must be at least 16 characters");
  } else {
    target.secret = read_secret(resolve(data_dir, secret_file), where + ".secret_file");
    if (target.secret.size() < 16) {
      invalid(where + ".secret_file",
              "must hold a secret of at least 16 characters on its "
              "first line: " +
                  resolve(data_dir, secret_file).string());
    }
  }

  if (const auto events = entry.find("events"); events != entry.end()) {
    if (!events->is_array() || events->empty()) {
      invalid(where + ".events", "must be a non-empty array of event patterns");
    }
    target.events.clear();
    for (std::size_t i = 0; i < events->size(); ++i) {
      const auto& pattern = (*events)[i];
      if (!pattern.is_string() || !valid_pattern(pattern.get<std::string>())) {
        invalid(where + ".events[" + std::to_string(i) + "]",
                "must be \"*\", \"prefix.*\" or an event name such as \"ticket.created\"");
      }
      target.events.push_back(pattern.get<std::string>());
    }
  }
  target.timeout = std::chrono::milliseconds(integer(entry, "timeout_ms", 5000, 100, 60000, where));
  target.max_attempts = static_cast<int>(integer(entry, "max_attempts", 10, 1, 100, where));
  target.retry_base =
      std::chrono::milliseconds(integer(entry, "retry_base_ms", 2000, 100, 3600000, where));
  target.retry_max = std::chrono::milliseconds(
      integer(entry, "retry_max_ms", std::max<long>(600000, target.retry_base.count()),
              target.retry_base.count(), 86400000, where));

  if (const auto ca = string_value(entry, "ca_file", where); !ca.empty()) {
    if (!target.tls) invalid(where + ".ca_file", "only applies to https:// URLs");
    target.ca_file = resolve(data_dir, ca);
  }
  return target;
}

}  // namespace

std::string WebhookTarget::authority() const {
  const bool ipv6 = host.find(':') != std::string::npos;
  return (ipv6 ? "[" + host + "]" : host) + ":" + port;
}

bool WebhookTarget::wants(std::string_view kind) const {
  return std::any_of(events.begin(), events.end(),
                     [kind](const std::string& pattern) { return event_matches(pattern, kind); });
}

bool event_matches(std::string_view pattern, std::string_view kind) {
  if (pattern == "*") return true;
  if (pattern.ends_with(".*")) {
    const auto prefix = pattern.substr(0, pattern.size() - 1);  // Keeps the dot.
    return kind.size() > prefix.size() && kind.starts_with(prefix);
  }
  return pattern == kind;
}

std::vector<WebhookTarget> parse_webhook_targets(const nlohmann::json& webhooks,
                                                 const std::filesystem::path& data_dir) {
  std::vector<WebhookTarget> targets;
  if (webhooks.is_null()) return targets;
  if (!webhooks.is_array()) throw std::invalid_argument("webhooks must be an array of objects");
  std::set<std::string> names;
  for (std::size_t i = 0; i < webhooks.size(); ++i) {
    const auto where = "webhooks[" + std::to_string(i) + "]";
    auto target = parse_target(webhooks[i], data_dir, where);
    if (!names.insert(target.name).second) {
      invalid(where + ".name", "\"" + target.name + "\" is used by an earlier webhook");
    }
    targets.push_back(std::move(target));
  }
  return targets;
}

std::chrono::milliseconds retry_ceiling(const WebhookTarget& target, int attempts) {
  auto ceiling = target.retry_base;
  for (int i = 1; i < attempts && ceiling < target.retry_max; ++i) ceiling *= 2;
  return std::min(ceiling, target.retry_max);
}

std::chrono::milliseconds retry_delay(const WebhookTarget& target, int attempts,
                                      std::mt19937_64& random) {
  std::uniform_int_distribution<std::int64_t> pick(0, retry_ceiling(target, attempts).count());
  return std::chrono::milliseconds(pick(random));
}

}  // namespace tether::relay
