#pragma once
/// Renders the ticket report JSON (relay's GET /api/v1/tickets/T-n/report, shape documented at
/// build_ticket_report in relay/src/helpdesk/ticket_report.hpp) for people. Input comes from
/// the network: missing or mistyped fields are shown as "?" or left out, never thrown on; all
/// text is escaped for its format.

#include <string>

#include <nlohmann/json.hpp>

namespace tether::protocol {

/// GitHub-flavoured Markdown.
std::string render_ticket_report_markdown(const nlohmann::json& report);
/// One self-contained, printable HTML file (inline CSS, no scripts, no external resources).
std::string render_ticket_report_html(const nlohmann::json& report);

}  // namespace tether::protocol
