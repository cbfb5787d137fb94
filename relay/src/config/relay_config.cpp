#include "tether/relay/relay_config.hpp"

#include <fstream>
#include <functional>
#include <map>

#include "helpdesk/sla.hpp"
#include "webhooks/webhook_target.hpp"

namespace tether::relay {
namespace {

template <class Duration>
std::function<void(const nlohmann::json&)> duration_setter(Duration& target, long min, long max,
                                                           const std::string& key) {
  return [&target, min, max, key](const nlohmann::json& value) {
    if (!value.is_number_integer() || value.get<long>() < min || value.get<long>() > max) {
      throw ConfigError(key + " must be a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max));
    }
    target = Duration(value.get<long>());
  };
}

template <class Int>
std::function<void(const nlohmann::json&)> int_setter(Int& target, long min, long max,
                                                      const std::string& key) {
  return [&target, min, max, key](const nlohmann::json& value) {
    if (!value.is_number_integer() || value.get<long>() < min || value.get<long>() > max) {
      throw ConfigError(key + " must be a whole number from " + std::to_string(min) + " to " +
                        std::to_string(max));
    }
    target = static_cast<Int>(value.get<long>());
  };
}

std::function<void(const nlohmann::json&)> string_setter(std::string& target,
                                                         const std::string& key) {
  return [&target, key](const nlohmann::json& value) {
    if (!value.is_string() || value.get<std::string>().empty()) {
      throw ConfigError(key + " must be a non-empty string");
    }
    target = value.get<std::string>();
  };
}

}  // namespace

RelayConfig RelayConfig::load(const std::filesystem::path& data_dir) {
  RelayConfig config;
  config.data_dir = data_dir;
  const auto file = config.config_file();
  std::ifstream in(file);
  if (!in) {
    throw ConfigError("cannot read " + file.string() + " (run `tether-relay init --data " +
                      data_dir.string() + "` first)");
  }
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    throw ConfigError(file.string() + " is not a JSON object");
  }
  const std::map<std::string, std::function<void(const nlohmann::json&)>> setters{
      {"listen", string_setter(config.listen, "listen")},
      {"hostname", string_setter(config.hostname, "hostname")},
      {"support_code_ttl_seconds",
       duration_setter(config.support_code_ttl, 1, 86400, "support_code_ttl_seconds")},
      {"token_ttl_seconds", duration_setter(config.token_ttl, 60, 30 * 86400, "token_ttl_seconds")},
      {"handshake_timeout_ms",
       duration_setter(config.handshake_timeout, 100, 120000, "handshake_timeout_ms")},
      {"idle_timeout_seconds",
       duration_setter(config.idle_timeout, 2, 3600, "idle_timeout_seconds")},
      {"consent_timeout_seconds",
       duration_setter(config.consent_timeout, 1, 3600, "consent_timeout_seconds")},
      {"agent_request_timeout_seconds",
       duration_setter(config.agent_request_timeout, 1, 600, "agent_request_timeout_seconds")},
      {"max_connections", int_setter(config.max_connections, 1, 1000000, "max_connections")},
      {"join_failure_limit", int_setter(config.join_failure_limit, 1, 1000, "join_failure_limit")},
      {"login_failure_limit",
       int_setter(config.login_failure_limit, 1, 1000, "login_failure_limit")},
      {"failure_window_seconds",
       duration_setter(config.failure_window, 1, 86400, "failure_window_seconds")},
      {"threads", int_setter(config.threads, 0, 256, "threads")},
      {"sla_check_interval_seconds",
       duration_setter(config.sla_check_interval, 1, 3600, "sla_check_interval_seconds")},
      {"device_certificate_days",
       duration_setter(config.device_certificate_validity, 1, 825, "device_certificate_days")},
      {"sla",
       [&config](const nlohmann::json& value) {
         try {
           (void)helpdesk::SlaPolicy::from_json(value);
         } catch (const std::invalid_argument& e) {
           throw ConfigError(e.what());
         }
         config.sla = value;
       }},
      {"webhooks",
       [&config](const nlohmann::json& value) {
         try {
           (void)parse_webhook_targets(value, config.data_dir);
         } catch (const std::invalid_argument& e) {
           throw ConfigError(e.what());
         }
         config.webhooks = value;
       }},
  };
  for (const auto& [key, value] : json.items()) {
    const auto setter = setters.find(key);
    if (setter == setters.end()) throw ConfigError(file.string() + ": unknown key \"" + key + "\"");
    try {
      setter->second(value);
    } catch (const ConfigError& e) {
      throw ConfigError(file.string() + ": " + e.what());
    }
  }
  return config;
}

nlohmann::json RelayConfig::to_json() const {
  return {
      {"listen", listen},
      {"hostname", hostname},
      {"support_code_ttl_seconds", support_code_ttl.count()},
      {"token_ttl_seconds", token_ttl.count()},
      {"handshake_timeout_ms", handshake_timeout.count()},
      {"idle_timeout_seconds", idle_timeout.count()},
      {"consent_timeout_seconds", consent_timeout.count()},
      {"agent_request_timeout_seconds", agent_request_timeout.count()},
      {"max_connections", max_connections},
      {"join_failure_limit", join_failure_limit},
      {"login_failure_limit", login_failure_limit},
      {"failure_window_seconds", failure_window.count()},
      {"threads", threads},
      {"sla_check_interval_seconds", sla_check_interval.count()},
      {"device_certificate_days", device_certificate_validity.count()},
      {"sla", sla},
      {"webhooks", webhooks},
  };
}

}  // namespace tether::relay
