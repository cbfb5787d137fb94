#pragma once
/// The relay's configuration: DIR/relay.json, written by `tether-relay init` and read by
/// `tether-relay serve`. Every limit and wait the relay applies is here, with a safe default.

#include <chrono>
#include <cstddef>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The scopes a technician can ask for, in their usual order.
const std::vector<std::string>& all_scopes();

/// What a group of managed devices allows (relay.json "groups"; README "Group policy").
struct GroupPolicy {
  /// Technicians may open sessions on the group's devices without a support code.
  bool unattended = false;
  /// Whose consent an unattended session needs: "always" (a logged-in user's, so none
  /// starts while nobody can answer), "if_user_present" (a logged-in user's, none when
  /// nobody is logged in) or "never".
  std::string consent = "always";
  /// The most a session on the group's devices may be granted; all_scopes() by default.
  std::vector<std::string> scopes = all_scopes();
  bool operator==(const GroupPolicy&) const = default;
};

struct RelayConfig {
  std::filesystem::path data_dir;
  std::string listen = "127.0.0.1:8443";  ///< ADDR:PORT; port 0 picks a free port.
  std::string hostname = "localhost";     ///< Name in the server certificate besides localhost.
  std::chrono::seconds support_code_ttl{600};
  std::chrono::seconds token_ttl{12 * 3600};
  std::chrono::milliseconds handshake_timeout{10000};
  std::chrono::seconds idle_timeout{60};
  std::chrono::seconds consent_timeout{120};
  std::chrono::seconds agent_request_timeout{30};
  std::size_t max_connections = 10000;
  /// Failed support-code joins allowed per technician and per client address in the window.
  int join_failure_limit = 10;
  /// Failed logins allowed per user name and per client address in the window.
  int login_failure_limit = 10;
  std::chrono::seconds failure_window{300};
  int threads = 0;  ///< 0: one per core.
  /// SLA policy (targets per priority, business hours, holidays, reopen window); see
  /// README "SLA policy". Empty: the defaults.
  nlohmann::json sla = nlohmann::json::object();
  /// Webhook receivers (docs/integrations.md). Empty: none.
  nlohmann::json webhooks = nlohmann::json::array();
  /// How often the relay looks for SLA breaches to put on the timeline.
  std::chrono::seconds sla_check_interval{15};
  /// How long a managed device's client certificate is valid ("device_certificate_days",
  /// 1 to 825; agents renew after two thirds of it).
  std::chrono::days device_certificate_validity{90};
  /// Policy per device group; "*" applies to groups not named (and to devices without one).
  /// Without an entry: GroupPolicy's defaults (no unattended sessions).
  std::map<std::string, GroupPolicy> groups;

  /// The policy of `group`: its entry, else "*", else the defaults.
  GroupPolicy policy_for(const std::string& group) const;

  std::filesystem::path config_file() const { return data_dir / "relay.json"; }
  std::filesystem::path database_file() const { return data_dir / "tether.db"; }
  std::filesystem::path ca_certificate_file() const { return data_dir / "ca.pem"; }
  std::filesystem::path ca_key_file() const { return data_dir / "ca.key"; }
  std::filesystem::path server_chain_file() const { return data_dir / "server.pem"; }
  std::filesystem::path server_key_file() const { return data_dir / "server.key"; }
  std::filesystem::path address_file() const { return data_dir / "relay.addr"; }

  /// Reads DIR/relay.json. Unknown keys, wrong types and out-of-range values throw
  /// ConfigError with a message naming the key and the file.
  static RelayConfig load(const std::filesystem::path& data_dir);
  nlohmann::json to_json() const;
};

}  // namespace tether::relay
