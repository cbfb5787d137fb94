// tether-relay: `init` creates a data directory, `serve` runs the relay over it.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <pwd.h>
#include <unistd.h>

#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tether/protocol/time_format.hpp"
#include "tether/relay/api_routes.hpp"
#include "tether/relay/data_dir.hpp"
#include "tether/relay/relay_config.hpp"
#include "tether/relay/relay_server.hpp"

namespace {

std::string read_secret_file(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw tether::relay::ConfigError("cannot read password file " + file);
  std::string line;
  std::getline(in, line);
  if (line.empty()) throw tether::relay::ConfigError("password file " + file + " is empty");
  return line;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"tether-relay: the Tether relay (agents, technicians, tickets)"};
  app.set_version_flag("--version", std::string(TETHER_VERSION));
  app.require_subcommand(1);

  tether::relay::InitOptions init;
  std::string password_file;
  auto* init_cmd =
      app.add_subcommand("init", "Create a data directory: config, database, CA, admin");
  init_cmd->add_option("--data", init.data_dir, "Data directory to create")->required();
  init_cmd->add_option("--hostname", init.hostname, "Name clients use, added to the certificate");
  init_cmd->add_option("--admin-user", init.admin_user, "Name of the first technician (admin)");
  init_cmd->add_option("--admin-password-file", password_file,
                       "Read the admin password from this file (else one is generated)");
  init_cmd->add_option("--listen", init.listen, "Default listen address ADDR:PORT");

  std::string data_dir, listen;
  auto* serve_cmd = app.add_subcommand("serve", "Run the relay");
  serve_cmd->add_option("--data", data_dir, "Data directory made by init")->required();
  serve_cmd->add_option("--listen", listen, "ADDR:PORT to listen on (port 0: any free port)");

  auto* user_cmd = app.add_subcommand("user", "Manage technicians");
  user_cmd->require_subcommand(1);
  std::string user_name, user_role = "technician", user_level;
  auto* user_add = user_cmd->add_subcommand("add", "Add a technician");
  user_add->add_option("--data", data_dir, "Data directory made by init")->required();
  user_add->add_option("--name", user_name, "User name")->required();
  user_add->add_option("--role", user_role, "technician (default) or admin");
  user_add->add_option("--level", user_level,
                       "Support level the technician works at: L1 (default), L2, L3 "
                       "(admins: L3)");

  auto* token_cmd = app.add_subcommand("token", "Enrollment tokens for managed devices");
  token_cmd->require_subcommand(1);
  tether::relay::EnrollmentTokenOptions token_options;
  std::string token_ttl = "30m";
  bool token_json = false;
  auto* token_create =
      token_cmd->add_subcommand("create", "Make a token for `tether-agent enroll` (shown once)");
  token_create->add_option("--data", data_dir, "Data directory made by init")->required();
  token_create->add_option("--ttl", token_ttl, "How long it is valid: 1m to 30d (default 30m)");
  token_create->add_option("--uses", token_options.uses,
                           "How many devices may enroll with it: 1 (default) to 10000");
  token_create->add_option("--group", token_options.group,
                           "Group the devices join: [a-z0-9._-], default \"default\"");
  token_create->add_flag("--json", token_json, "Print {token, expires_at, uses, group}");

  auto* routes_cmd = app.add_subcommand("routes", "Print the REST API's routes (for tooling)");
  bool routes_json = false;
  routes_cmd->add_flag("--json", routes_json, "Print a JSON array of {method, path}");
  user_add->add_option("--password-file", password_file,
                       "Read the password from this file (else one is generated)");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_default_logger(spdlog::stderr_logger_mt("relay"));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %l %v");
  try {
    if (*init_cmd) {
      if (!password_file.empty()) init.admin_password = read_secret_file(password_file);
      const auto result = tether::relay::init_data_dir(init);
      std::cout << "initialized " << init.data_dir.string() << "\n"
                << "fingerprint: " << result.fingerprint << "\n"
                << "admin user: " << result.admin_user << "\n";
      if (!result.admin_password.empty()) {
        std::cout << "admin password: " << result.admin_password << "  (shown once; store it)\n";
      }
      return 0;
    }
    if (*user_add) {
      std::optional<std::string> password;
      if (!password_file.empty()) password = read_secret_file(password_file);
      const auto generated =
          tether::relay::add_user(data_dir, user_name, user_role, password, user_level);
      std::cout << "added " << user_role << " " << user_name
                << (user_level.empty() ? "" : " at " + user_level) << "\n";
      if (!generated.empty()) {
        std::cout << "password: " << generated << "  (shown once; store it)\n";
      }
      return 0;
    }
    if (*token_create) {
      const auto ttl = tether::protocol::parse_duration(token_ttl, std::chrono::minutes(1));
      if (!ttl) throw tether::relay::ConfigError("--ttl must be a duration like 30m, 12h or 7d");
      token_options.ttl = *ttl;
      const passwd* login = ::getpwuid(::geteuid());
      token_options.created_by = std::string("cli:") + (login ? login->pw_name : "unknown");
      const auto token = tether::relay::create_enrollment_token(data_dir, token_options);
      const auto expires_at = tether::protocol::format_time(token.expires_at);
      if (token_json) {
        std::cout << nlohmann::json{{"token", token.token},
                                    {"expires_at", expires_at},
                                    {"uses", token.uses},
                                    {"group", token.group}}
                         .dump(2)
                  << "\n";
      } else {
        std::cout << "enrollment token: " << token.token << "  (shown once)\n"
                  << "valid until " << expires_at << " for " << token.uses
                  << (token.uses == 1 ? " device" : " devices") << " in group " << token.group
                  << "\n";
      }
      return 0;
    }
    if (*routes_cmd) {
      const auto routes = tether::relay::api_routes();
      if (routes_json) {
        auto out = nlohmann::json::array();
        for (const auto& r : routes) out.push_back({{"method", r.method}, {"path", r.path}});
        std::cout << out.dump(2) << "\n";
      } else {
        for (const auto& r : routes) std::cout << r.method << " " << r.path << "\n";
      }
      return 0;
    }
    auto config = tether::relay::RelayConfig::load(data_dir);
    if (!listen.empty()) config.listen = listen;
    tether::relay::RelayServer server(config);
    std::cout << "listening on " << server.bind() << std::endl;
    server.run();
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "tether-relay: " << e.what() << "\n";
    return 1;
  }
}
