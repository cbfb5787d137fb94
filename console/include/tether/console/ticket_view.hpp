#pragma once
/// Human-readable views of the help-desk API's JSON for the terminal (docs/api.md): tickets,
/// SLA clocks, escalation handovers, FAQ articles and the webhook delivery log. Input comes
/// from the network, so every function tolerates missing or mistyped fields (shown as "?" or
/// "-"), never throws, and keeps control characters from the network off the terminal.
/// Pure functions of their input: relative times ("in 25 min") come from the relay's own
/// remaining/overdue seconds, never from this machine's clock.

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

namespace tether::console {

/// Tables are cut to fit this many columns unless told otherwise.
inline constexpr std::size_t kTableWidth = 100;

/// "2026-11-30 06:14Z" from an API time ("2026-11-30T06:14:14Z"); another string as it is
/// (made printable); "-" for null or a missing value.
std::string format_short_time(const nlohmann::json& time);

/// A duration the way a technician reads it: "45 s", "25 min", "1 h 05 min", "3 d 4 h".
/// "?" when negative.
std::string format_duration(long long seconds);

/// One SLA clock ({state, target_seconds, remaining_seconds, overdue_seconds, due_at,
/// stopped_at, breached}) in words: "in 25 min (due 2026-11-30 06:14Z)",
/// "breached 1 h 05 min ago", "paused, 25 min left", "met at 2026-11-30 06:14Z",
/// "met at 2026-11-30 06:14Z, 10 min late". "-" when it is not a clock.
std::string describe_sla_clock(const nlohmann::json& clock);

/// The one SLA cell of a ticket table, from the ticket's "sla": the most urgent of its two
/// clocks ("breached 25 min ago", "in 25 min"), else "paused", else "met" or "missed" for the
/// resolution, else "-".
std::string sla_cell(const nlohmann::json& sla);

/// A table of tickets: ID, PRIO, LVL, STATUS, ASSIGNEE, SLA, TITLE, in the order given; the
/// title is cut ("…") so rows fit `width` columns. "No tickets." for an empty list.
std::string render_ticket_list(const nlohmann::json& tickets, std::size_t width = kTableWidth);

/// A ticket (GET /tickets/T-1): its fields, priority and level, both SLA clocks, sessions,
/// timeline in order, linked and suggested FAQ articles and the latest handover.
std::string render_ticket(const nlohmann::json& ticket);

/// One line for a session: id, status, device, technician, consent, end.
std::string render_session(const nlohmann::json& session);

/// One line after a change: "T-1  P2  L1  open  alice  Printer offline".
std::string render_ticket_line(const nlohmann::json& ticket);

/// An escalation summary: its "text" when the relay wrote one, else built from its fields
/// (levels and reason, findings, actions tried, notes, sessions).
std::string render_handover(const nlohmann::json& handover);

/// GET /sla: the tickets breached or due soon (most urgent first, as given), then open,
/// breached and due-soon counts per technician and per level.
std::string render_sla_overview(const nlohmann::json& sla, std::size_t width = kTableWidth);

/// GET /faq's "articles": ID, TITLE, CATEGORIES, FINDINGS. "No articles." when empty.
std::string render_faq_list(const nlohmann::json& articles, std::size_t width = kTableWidth);

/// One article: title, categories, finding ids, who and when, linked tickets, then its body.
std::string render_faq_article(const nlohmann::json& article);

/// GET /faq/suggestions: the recurring findings and categories, most frequent first, with
/// their tickets, the resolution notes that closed them and the articles that cover them.
std::string render_faq_suggestions(const nlohmann::json& reply);

/// GET /webhooks/deliveries' "deliveries": ID, STATUS, EVENT, TICKET, WEBHOOK, TRIES, WHEN
/// (delivered, next attempt or last attempt) and the last error. "No deliveries." when empty.
std::string render_delivery_log(const nlohmann::json& deliveries, std::size_t width = kTableWidth);

/// The "Knowledge base" block after a diagnostics report: for each finding id in `faq`
/// ({"<finding id>": [{"id","title"}]}), the finding's summary from `snapshot` and
/// "  → FAQ-3: title" per article. "" when no finding has an article.
std::string render_diag_faq(const nlohmann::json& faq, const nlohmann::json& snapshot);

}  // namespace tether::console
