#pragma once
// The help-desk rules that do not need a database: ticket statuses and which changes between
// them are allowed, the ITIL priority matrix, support levels and who may act at which level.
// Pure functions; every refusal is a sentence a technician can act on.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tether::relay::helpdesk {

/// new → open → pending ⇄ open → resolved → closed; reopen from resolved (and from closed
/// within the configured window) goes back to open.
enum class Status { new_, open, pending, resolved, closed };
std::optional<Status> parse_status(std::string_view text);
std::string_view to_string(Status status);

/// How a status change is asked for: a plain `ticket status` change, or `ticket reopen`.
enum class ChangeKind { set_status, reopen };

/// The statuses reachable from `from` by a plain status change (not reopen), in lifecycle
/// order; empty for closed.
std::vector<Status> allowed_next(Status from);

/// Why a change is refused, or nullopt when it is allowed. `has_note`: a non-blank note came
/// with the change (resolving needs one; reopening needs a reason).
/// `reopen_window_open`: for reopening a closed ticket, whether it closed recently enough.
/// A plain change must follow allowed_next (setting the current status again is refused:
/// "T-1 is already pending; …"); a reopen goes from resolved, or from closed while the window
/// is open, to open. Messages name the allowed changes, e.g.
/// "T-1 is pending; it can go to open or resolved",
/// "T-1 is resolved; it can go to closed, or back to open with `tether ticket reopen T-1
/// --reason TEXT`".
std::optional<std::string> check_change(std::string_view ticket_number, Status from, Status to,
                                        ChangeKind kind, bool has_note, bool reopen_window_open);

enum class Level3 { low, medium, high };                    // impact and urgency share the scale
std::optional<Level3> parse_level3(std::string_view text);  // "low" | "medium" | "high"
std::string_view to_string(Level3 value);

/// ITIL matrix: high×high P1; high×medium, medium×high P2; high×low, medium×medium, low×high
/// P3; everything lower P4. Returns "P1".."P4".
std::string priority_for(Level3 impact, Level3 urgency);

/// Support levels "L1" < "L2" < "L3".
std::optional<int> parse_support_level(std::string_view text);  // "L2" or "l2" → 2
std::string support_level_name(int level);                      // 2 → "L2"

/// A technician may act on a ticket (note, status, assign, sessions) when the ticket's level
/// is at most the technician's own; admins act everywhere. Reading is open to everyone.
/// Returns why not, or nullopt.
std::optional<std::string> check_may_act(std::string_view ticket_number, int ticket_level,
                                         std::string_view user_name, std::string_view user_role,
                                         int user_level);
/// Escalation goes strictly up, de-escalation strictly down; the target must exist (1..3).
std::optional<std::string> check_escalation(std::string_view ticket_number, int from_level,
                                            int to_level, bool upwards);
/// An assignee must work at the ticket's level or above.
std::optional<std::string> check_assignee(std::string_view ticket_number, int ticket_level,
                                          std::string_view assignee, int assignee_level,
                                          std::string_view assignee_role);

}  // namespace tether::relay::helpdesk
