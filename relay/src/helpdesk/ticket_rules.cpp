#include "helpdesk/ticket_rules.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace tether::relay::helpdesk {
namespace {

constexpr std::array<Status, 5> kStatuses{Status::new_, Status::open, Status::pending,
                                          Status::resolved, Status::closed};

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string str(std::string_view text) {
  return std::string(text);
}

/// "open", "open or resolved", "open, pending or resolved".
std::string join_or(const std::vector<Status>& statuses) {
  std::string out;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (i > 0) out += i + 1 == statuses.size() ? " or " : ", ";
    out += to_string(statuses[i]);
  }
  return out;
}

/// Who may act at `level`: "an L3 technician or an admin", "an L2 or L3 technician or an admin".
std::string who_works_at(int level) {
  std::string levels;
  for (int l = std::max(level, 1); l <= 3; ++l) {
    if (!levels.empty()) levels += l == 3 ? " or " : ", ";
    levels += support_level_name(l);
  }
  if (levels.empty()) return "an admin";
  return "an " + levels + " technician or an admin";
}

/// The refusal of a plain status change that the table does not allow: where the ticket is
/// and every change it can make from there, including a reopen where one is possible.
std::string describe_allowed(std::string_view ticket, Status from, bool reopen_window_open,
                             bool already) {
  const std::string head = str(ticket) + (already ? " is already " : " is ") + str(to_string(from));
  const auto next = allowed_next(from);
  switch (from) {
    case Status::resolved:
      return head + "; it can go to " + join_or(next) + ", or back to open with `tether ticket " +
             "reopen " + str(ticket) + " --reason TEXT`";
    case Status::closed:
      if (reopen_window_open) {
        return head + "; it can only go back to open, with `tether ticket reopen " + str(ticket) +
               " --reason TEXT`";
      }
      return head + " and can no longer be reopened (its reopen window has passed); open a new " +
             "ticket that mentions " + str(ticket);
    default:
      return head + "; it can go to " + join_or(next);
  }
}

}  // namespace

std::optional<Status> parse_status(std::string_view text) {
  for (const auto status : kStatuses) {
    if (equals_ignoring_case(text, to_string(status))) return status;
  }
  return std::nullopt;
}

std::string_view to_string(Status status) {
  switch (status) {
    case Status::new_:
      return "new";
    case Status::open:
      return "open";
    case Status::pending:
      return "pending";
    case Status::resolved:
      return "resolved";
    case Status::closed:
      return "closed";
  }
  return "unknown";
}

std::vector<Status> allowed_next(Status from) {
  switch (from) {
    case Status::new_:
      return {Status::open};
    case Status::open:
      return {Status::pending, Status::resolved};
    case Status::pending:
      return {Status::open, Status::resolved};
    case Status::resolved:
      return {Status::closed};
    case Status::closed:
      return {};
  }
  return {};
}

std::optional<std::string> check_change(std::string_view ticket_number, Status from, Status to,
                                        ChangeKind kind, bool has_note, bool reopen_window_open) {
  const std::string ticket = str(ticket_number);
  if (kind == ChangeKind::reopen) {
    if (from != Status::resolved && from != Status::closed) {
      return ticket + " is " + str(to_string(from)) +
             "; only a resolved or closed ticket can be reopened";
    }
    if (to != Status::open) {
      return "Reopening " + ticket + " sets it to open, not to " + str(to_string(to));
    }
    if (from == Status::closed && !reopen_window_open) {
      return describe_allowed(ticket_number, from, false, false);
    }
    if (!has_note) {
      return "Reopening " + ticket + " needs a reason (--reason TEXT): what is still wrong?";
    }
    return std::nullopt;
  }

  // Setting the current status again is refused rather than ignored, so that a technician
  // who thinks they changed something learns that nothing happened.
  const auto next = allowed_next(from);
  if (std::find(next.begin(), next.end(), to) == next.end()) {
    return describe_allowed(ticket_number, from, reopen_window_open, from == to);
  }
  if (to == Status::resolved && !has_note) {
    return "Resolving " + ticket + " needs a resolution note (--note TEXT): what fixed it?";
  }
  return std::nullopt;
}

std::optional<Level3> parse_level3(std::string_view text) {
  for (const auto value : {Level3::low, Level3::medium, Level3::high}) {
    if (equals_ignoring_case(text, to_string(value))) return value;
  }
  return std::nullopt;
}

std::string_view to_string(Level3 value) {
  switch (value) {
    case Level3::low:
      return "low";
    case Level3::medium:
      return "medium";
    case Level3::high:
      return "high";
  }
  return "unknown";
}

std::string priority_for(Level3 impact, Level3 urgency) {
  // With low = 0, medium = 1, high = 2 the ITIL matrix is a function of the sum: 4 → P1,
  // 3 → P2, 2 → P3, below → P4.
  const int sum = static_cast<int>(impact) + static_cast<int>(urgency);
  if (sum >= 4) return "P1";
  if (sum == 3) return "P2";
  if (sum == 2) return "P3";
  return "P4";
}

std::optional<int> parse_support_level(std::string_view text) {
  if (text.size() != 2 || (text[0] != 'L' && text[0] != 'l')) return std::nullopt;
  if (text[1] < '1' || text[1] > '3') return std::nullopt;
  return text[1] - '0';
}

std::string support_level_name(int level) {
  return "L" + std::to_string(level);
}

std::optional<std::string> check_may_act(std::string_view ticket_number, int ticket_level,
                                         std::string_view user_name, std::string_view user_role,
                                         int user_level) {
  if (user_role == "admin") return std::nullopt;
  if (user_role != "technician") {
    return str(user_name) + " has the role \"" + str(user_role) +
           "\", which may read tickets but not change them; ask a technician or an admin";
  }
  if (ticket_level <= user_level) return std::nullopt;
  return str(ticket_number) + " is at " + support_level_name(ticket_level) + "; " + str(user_name) +
         " works at " + support_level_name(user_level) + " — ask " + who_works_at(ticket_level);
}

std::optional<std::string> check_escalation(std::string_view ticket_number, int from_level,
                                            int to_level, bool upwards) {
  const std::string ticket = str(ticket_number);
  if (to_level < 1 || to_level > 3) {
    return "There is no support level " + support_level_name(to_level) +
           "; the levels are L1, L2 and L3";
  }
  const std::string at = ticket + " is at " + support_level_name(from_level);
  if (upwards) {
    if (to_level > from_level) return std::nullopt;
    if (from_level >= 3) return at + ", the highest level; it cannot be escalated further";
    if (to_level == from_level) return at + " already; escalate it to a higher level";
    return at + "; escalating goes up (to L" + std::to_string(from_level + 1) +
           (from_level + 1 < 3 ? " or L3" : "") + "); to move it down to " +
           support_level_name(to_level) + " use `tether ticket deescalate`";
  }
  if (to_level < from_level) return std::nullopt;
  if (from_level <= 1) return at + ", the first level; it cannot be de-escalated further";
  if (to_level == from_level) return at + " already; de-escalate it to a lower level";
  return at + "; de-escalating goes down (to " + (from_level - 1 > 1 ? "L1 or " : "") +
         support_level_name(from_level - 1) + "); to move it up to " +
         support_level_name(to_level) + " use `tether ticket escalate`";
}

std::optional<std::string> check_assignee(std::string_view ticket_number, int ticket_level,
                                          std::string_view assignee, int assignee_level,
                                          std::string_view assignee_role) {
  if (assignee.empty()) return "Name the technician to assign " + str(ticket_number) + " to";
  if (assignee_role == "admin") return std::nullopt;
  if (assignee_role != "technician") {
    return str(assignee) + " has the role \"" + str(assignee_role) +
           "\" and cannot be assigned tickets; assign " + who_works_at(ticket_level);
  }
  if (assignee_level >= ticket_level) return std::nullopt;
  return str(assignee) + " works at " + support_level_name(assignee_level) + " and cannot take " +
         str(ticket_number) + ", which is at " + support_level_name(ticket_level) + "; assign " +
         who_works_at(ticket_level);
}

}  // namespace tether::relay::helpdesk
