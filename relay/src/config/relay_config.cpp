#include "tether/relay/relay_config.hpp"

#include <algorithm>
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

GroupPolicy parse_group_policy(const std::string& name, const nlohmann::json& value) {
  const std::string where = "groups[\"" + name + "\"]";
  if (!value.is_object()) throw ConfigError(where + " must be an object");
  GroupPolicy policy;
  for (const auto& [key, field] : value.items()) {
    if (key == "unattended") {
      if (!field.is_boolean()) throw ConfigError(where + ".unattended must be true or false");
      policy.unattended = field.get<bool>();
    } else if (key == "consent") {
      if (!field.is_string() ||
          (field != "always" && field != "if_user_present" && field != "never")) {
        throw ConfigError(where + ".consent must be \"always\", \"if_user_present\" or \"never\"");
      }
      policy.consent = field.get<std::string>();
    } else if (key == "scopes") {
      if (!field.is_array()) throw ConfigError(where + ".scopes must be a list");
      policy.scopes.clear();
      for (const auto& scope : field) {
        const auto& known = all_scopes();
        if (!scope.is_string() ||
            std::find(known.begin(), known.end(), scope.get<std::string>()) == known.end()) {
          throw ConfigError(where +
                            ".scopes: use some of diagnostics, shell, files, processes, logs");
        }
        if (std::find(policy.scopes.begin(), policy.scopes.end(), scope.get<std::string>()) ==
            policy.scopes.end()) {
          policy.scopes.push_back(scope.get<std::string>());
        }
      }
    } else {
      throw ConfigError(where + ": unknown key \"" + key + "\"");
    }
  }
  return policy;
}

nlohmann::json group_policy_json(const GroupPolicy& policy) {
  return {
      {"unattended", policy.unattended}, {"consent", policy.consent}, {"scopes", policy.scopes}};
}

}  // namespace

const std::vector<std::string>& all_scopes() {
  static const std::vector<std::string> kAll = {"diagnostics", "shell", "files", "processes",
                                                "logs"};
  return kAll;
}

GroupPolicy RelayConfig::policy_for(const std::string& group) const {
  if (auto it = groups.find(group); it != groups.end()) return it->second;
  if (auto it = groups.find("*"); it != groups.end()) return it->second;
  return {};
}

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
      {"groups",
       [&config](const nlohmann::json& value) {
         if (!value.is_object()) throw ConfigError("groups must be an object of group policies");
         for (const auto& [name, policy] : value.items()) {
           config.groups[name] = parse_group_policy(name, policy);
         }
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
      {"groups",
       [this]() {
         nlohmann::json out = nlohmann::json::object();
         for (const auto& [name, policy] : groups) out[name] = group_policy_json(policy);
         return out;
       }()},
  };
}

}  // namespace tether::relay
