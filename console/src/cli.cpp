#include "tether/console/cli.hpp"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tether/console/api_client.hpp"
#include "tether/console/credentials.hpp"
#include "tether/console/ticket_view.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/diag_report.hpp"

namespace tether::console {
namespace {

using json = nlohmann::json;

/// Password from --password-file, $TETHER_PASSWORD, or a prompt that does not echo.
std::string read_password(const std::string& file) {
  if (!file.empty()) {
    std::ifstream in(file);
    std::string line;
    if (!in || !std::getline(in, line) || line.empty()) {
      throw CommandError("cannot read a password from " + file);
    }
    return line;
  }
  if (const char* env = std::getenv("TETHER_PASSWORD"); env != nullptr && *env != '\0') return env;
  if (!isatty(STDIN_FILENO)) {
    throw CommandError("no password: use --password-file FILE or $TETHER_PASSWORD");
  }
  std::cerr << "Password: " << std::flush;
  termios saved{};
  tcgetattr(STDIN_FILENO, &saved);
  termios quiet = saved;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string line;
  std::getline(std::cin, line);
  tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  std::cerr << "\n";
  return line;
}

void print(const json& value, bool as_json, const std::function<std::string(const json&)>& human) {
  if (as_json) {
    std::cout << value.dump(2) << "\n";
  } else {
    std::cout << human(value);
  }
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"tether: the Tether technician console"};
  app.set_version_flag("--version", std::string(TETHER_VERSION));
  app.require_subcommand(1);
  std::function<void()> action;
  bool as_json = false;

  // tether login
  std::string relay, fingerprint, ca_file, user, password_file;
  auto* login = app.add_subcommand("login", "Log in to a relay and remember the token");
  login->add_option("--relay", relay, "Relay address, https://HOST:PORT")->required();
  login->add_option("--fingerprint", fingerprint, "Relay CA fingerprint, SHA256:<hex>");
  login->add_option("--ca", ca_file, "Relay CA certificate file (PEM)");
  login->add_option("--user", user, "Technician name")->required();
  login->add_option("--password-file", password_file, "Read the password from this file");
  login->callback([&] {
    action = [&] {
      const auto ca = ca_file.empty() ? std::string() : std::filesystem::absolute(ca_file).string();
      ApiClient client(relay, fingerprint, ca);
      const auto reply =
          client.post("/login", {{"user", user}, {"password", read_password(password_file)}});
      save_credentials(
          {relay, fingerprint, ca, user, reply.value("token", ""), reply.value("expires_at", "")});
      std::cout << "Logged in to " << relay << " as " << user << " (token valid until "
                << reply.value("expires_at", "?") << ").\n";
    };
  });

  // tether ticket … (console/src/ticket_commands.cpp)
  add_ticket_commands(app, action);
  std::string ticket_id;

  // tether session …
  auto* session = app.add_subcommand("session", "Remote sessions");
  session->require_subcommand(1);
  std::string code, device, session_id, note;
  std::vector<std::string> scopes;
  // join (support code) and open (managed device) ask the relay the same way and print the
  // same answer.
  auto start = [&](json body, const char* waiting) {
    std::cerr << waiting << std::endl;
    body["ticket"] = ticket_id;
    if (!scopes.empty()) body["scopes"] = scopes;
    // The relay holds the request while the user or the device decides (up to its consent
    // timeout).
    const auto s =
        ApiClient::from_saved_credentials().post("/sessions", body, std::chrono::seconds(3700));
    print(s, as_json, [](const json& v) {
      std::string granted;
      for (const auto& scope : v["consent"].value("scopes", json::array())) {
        granted += (granted.empty() ? "" : ", ") + scope.get<std::string>();
      }
      return v.value("id", "?") + " started on " + v.value("device", "?") + " for " +
             v.value("ticket", "?") + " (allowed: " + granted + ")\n";
    });
  };
  auto add_start_options = [&](CLI::App* command) {
    command->add_option("--ticket", ticket_id, "Ticket the session belongs to, e.g. T-1")
        ->required();
    command->add_flag("--json", as_json, "Print JSON");
    command
        ->add_option("--scopes", scopes,
                     "What to ask for (default all the policy allows): diagnostics, shell, "
                     "files, processes, logs")
        ->delimiter(',')
        ->check(CLI::IsMember({"diagnostics", "shell", "files", "processes", "logs"}));
  };
  auto* join = session->add_subcommand("join", "Join the user's PC by support code");
  join->add_option("CODE", code, "The support code the user reads out")->required();
  add_start_options(join);
  join->callback([&] {
    action = [&] { start({{"code", code}}, "Waiting for the user to accept the session..."); };
  });
  auto* open = session->add_subcommand(
      "open", "Open an unattended session on a managed device, when its group's policy allows");
  open->add_option("--device", device, "The managed device, e.g. D-1")->required();
  add_start_options(open);
  open->callback([&] { action = [&] { start({{"device", device}}, "Asking the device..."); }; });
  auto* end = session->add_subcommand("end", "End a session");
  end->add_option("SESSION", session_id, "Session, e.g. S-1")->required();
  auto* end_note = end->add_option(
      "--note", note, "What was done, for the ticket (asked for when stdin is a terminal)");
  end->add_flag("--json", as_json, "Print JSON");
  end->callback([&, end_note] {
    action = [&, end_note] {
      // A technician at a terminal is asked; a script without --note ends with no note.
      if (end_note->count() == 0) {
        if (auto typed = prompt_line("Note for the ticket (what was done): ")) note = *typed;
      }
      const auto s = ApiClient::from_saved_credentials().post("/sessions/" + session_id + "/end",
                                                              {{"note", note}});
      print(s, as_json, [](const json& v) { return v.value("id", "?") + " ended.\n"; });
    };
  });
  auto* show = session->add_subcommand("show", "Show a session");
  show->add_option("SESSION", session_id, "Session, e.g. S-1")->required();
  show->add_flag("--json", as_json, "Print JSON");
  show->callback([&] {
    action = [&] {
      print(ApiClient::from_saved_credentials().get("/sessions/" + session_id), as_json,
            render_session);
    };
  });

  // tether diag S-1
  std::vector<std::string> sections;
  auto* diag = app.add_subcommand("diag", "Take a diagnostics snapshot of the session's PC");
  diag->add_option("SESSION", session_id, "Session, e.g. S-1")->required();
  diag->add_option("--section", sections, "Only these sections (repeatable)");
  diag->add_flag("--json", as_json, "Print JSON");
  diag->callback([&] {
    action = [&] {
      json body = json::object();
      if (!sections.empty()) body["sections"] = sections;
      const auto reply = ApiClient::from_saved_credentials().post(
          "/sessions/" + session_id + "/diagnostics", body);
      print(reply, as_json, [](const json& v) {
        const auto snapshot = v.value("snapshot", json::object());
        // Articles whose finding ids match, from the relay ("faq"), after the shared report.
        return protocol::render_diagnostics_text(snapshot) +
               render_diag_faq(v.value("faq", json()), snapshot);
      });
    };
  });

  add_helpdesk_commands(app, action);
  add_device_commands(app, action);
  add_fleet_commands(app, action);
  add_shell_commands(app, *session, action);
  add_exec_command(app, action);
  add_file_commands(app, action);
  add_process_commands(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    if (action) action();
    return 0;
  } catch (const CommandExit& e) {
    return e.status;
  } catch (const CommandError& e) {
    std::cerr << "tether: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "tether: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tether::console
