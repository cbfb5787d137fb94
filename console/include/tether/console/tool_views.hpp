#pragma once
/// Terminal views of the agent's process, service and log tools: a top-like process table, a
/// systemctl-like service list, journalctl-like log lines and the one-line outcomes of kill and
/// service actions. Input comes from the user's machine over the network, so every function
/// tolerates missing or mistyped fields (shown as "?" or "-"), never throws, and escapes every
/// string it prints: a process name or log line can hold terminal escape sequences.

#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tether::console {

/// `text` safe to print: C0 controls and DEL as "\xNN" (a tab as a space), C1 controls and
/// the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069) as "\uNNNN", bytes
/// that are not UTF-8 as U+FFFD. Everything else, backslashes included, as it is.
std::string terminal_text(std::string_view text);

/// list_processes' JSON → a summary line, then PID USER CPU% MEM% RSS STATE STARTED COMMAND,
/// one row per process in the order given. COMMAND (the command line, or "[name]" for a kernel
/// thread) is cut so a row fits terminal_width columns (0: no limit); USER is cut to 8 with a
/// '+' as top does. STARTED is "HH:MM" for the day of the table, "MonDD" for its year, else the
/// year, in UTC. {"error": …} renders as that line.
std::string render_process_table(const nlohmann::json& table, std::size_t terminal_width);

/// list_services' JSON → UNIT LOAD ACTIVE SUB ENABLED DESCRIPTION like `systemctl list-units`,
/// a "●" before each failed unit, then "N services listed, M failed; system state: S". When
/// systemd is not running or listing failed, that one line.
std::string render_service_table(const nlohmann::json& services);

/// One parse_journal_line entry like `journalctl -o short-iso` in UTC:
/// "2026-11-30T02:55:36Z host sshd[812]: message\n", with "[err]", "[crit]", "[alert]" or
/// "[emerg]" before the message for priority err and worse. A multi-line message continues on
/// lines indented to where the message starts.
std::string render_journal_entry(const nlohmann::json& entry);

/// service_action's JSON → for status, systemctl's own status text; for start, stop and
/// restart "nginx.service: restarted; now active (running)"; on failure
/// "restart nginx.service failed: <error>" followed by systemctl's output, indented.
std::string render_service_action(const nlohmann::json& result);

/// kill_process' JSON → "Sent TERM to process 1234 (sleep)." or
/// "TERM to process 1 not sent: refused: …".
std::string render_kill_result(const nlohmann::json& result);

}  // namespace tether::console
