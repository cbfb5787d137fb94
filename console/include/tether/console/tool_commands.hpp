#pragma once
/// The technician's tools on the command line (`tether shell|exec|put|get|ps|kill|services|
/// service|logs S-1 …`, `tether session replay`). Each family registers its subcommands; a
/// callback sets `action`, which run_cli runs after parsing. Files: console/src/*_commands.cpp.

#include <functional>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

namespace tether::console {

/// Thrown by a command that ends with a status of its own and nothing more to print (the
/// exit code of a remote command, a shell's exit). run_cli returns `status`.
struct CommandExit {
  int status = 0;
};

/// `tether shell S-1`, and `tether session replay S-1` under `session`.
void add_shell_commands(CLI::App& app, CLI::App& session, std::function<void()>& action);
/// `tether exec S-1 [--timeout 30s] -- CMD [ARG…]`.
void add_exec_command(CLI::App& app, std::function<void()>& action);
/// `tether put S-1 LOCAL REMOTE`, `tether get S-1 REMOTE LOCAL`.
void add_file_commands(CLI::App& app, std::function<void()>& action);
/// `tether ps`, `kill`, `services`, `service`, `logs`.
void add_process_commands(CLI::App& app, std::function<void()>& action);
/// `tether ticket new|list|show|edit|assign|take|escalate|deescalate|note|status|reopen`
/// (console/src/ticket_commands.cpp).
void add_ticket_commands(CLI::App& app, std::function<void()>& action);
/// `tether sla`, `tether report T-1`, `tether faq suggest|new|list|show|edit|link`,
/// `tether webhooks log` (console/src/helpdesk_commands.cpp).
void add_helpdesk_commands(CLI::App& app, std::function<void()>& action);
/// `tether devices`, `tether device show|history|revoke D-1` (console/src/device_commands.cpp).
void add_device_commands(CLI::App& app, std::function<void()>& action);
/// `tether inventory query FILTER`, `tether inventory export` (console/src/fleet_commands.cpp).
void add_fleet_commands(CLI::App& app, std::function<void()>& action);

/// When stdin is a terminal: writes `question` to stderr and returns the line typed (without
/// its end). Nothing when stdin is not a terminal (scripts) or at end of input.
std::optional<std::string> prompt_line(const std::string& question);

/// Columns of the terminal on stdout, else kTableWidth (ticket_view.hpp).
std::size_t output_width();

}  // namespace tether::console
