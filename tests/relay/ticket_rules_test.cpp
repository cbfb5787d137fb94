#include "helpdesk/ticket_rules.hpp"

#include <array>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::relay::helpdesk {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::array<Status, 5> kAll{Status::new_, Status::open, Status::pending, Status::resolved,
                                     Status::closed};
const std::array<std::string, 5> kNames{"new", "open", "pending", "resolved", "closed"};

// The lifecycle, written out by hand rather than derived from allowed_next.
// Rows: from; columns: to; both in the order new, open, pending, resolved, closed.
//   Y  allowed
//   N  allowed with a note (resolving needs a resolution note)
//   R  allowed with a reason (reopen)
//   W  allowed with a reason while the reopen window is open (reopening a closed ticket)
//   -  refused whatever comes with it
constexpr std::array<std::string_view, 5> kSetStatus{
    /* new      */ "-Y---",
    /* open     */ "--YN-",
    /* pending  */ "-Y-N-",
    /* resolved */ "----Y",
    /* closed   */ "-----",
};
constexpr std::array<std::string_view, 5> kReopen{
    /* new      */ "-----",
    /* open     */ "-----",
    /* pending  */ "-----",
    /* resolved */ "-R---",
    /* closed   */ "-W---",
};
// What a refusal of a plain change must name: the statuses reachable from each row.
const std::array<std::vector<std::string>, 5> kNext{{
    {"open"},
    {"pending", "resolved"},
    {"open", "resolved"},
    {"closed"},
    {},
}};

TEST(TicketRules, EveryTransitionFollowsTheTable) {
  int checked = 0;
  for (std::size_t f = 0; f < kAll.size(); ++f) {
    for (std::size_t t = 0; t < kAll.size(); ++t) {
      for (const auto kind : {ChangeKind::set_status, ChangeKind::reopen}) {
        const char cell = (kind == ChangeKind::set_status ? kSetStatus : kReopen)[f][t];
        for (const bool note : {false, true}) {
          for (const bool window : {false, true}) {
            const bool expect_allowed = cell == 'Y' || ((cell == 'N' || cell == 'R') && note) ||
                                        (cell == 'W' && note && window);
            const auto refusal = check_change("T-1", kAll[f], kAll[t], kind, note, window);
            SCOPED_TRACE(kNames[f] + " -> " + kNames[t] +
                         (kind == ChangeKind::reopen ? " (reopen)" : " (status)") +
                         (note ? " with note" : " without note") +
                         (window ? ", window open" : ", window closed"));
            ++checked;
            if (expect_allowed) {
              EXPECT_FALSE(refusal.has_value()) << *refusal;
              continue;
            }
            ASSERT_TRUE(refusal.has_value());
            EXPECT_FALSE(refusal->empty());
            if (cell == 'N') {
              EXPECT_EQ(*refusal,
                        "Resolving T-1 needs a resolution note (--note TEXT): what fixed it?");
            } else if ((cell == 'R' || cell == 'W') && (window || cell == 'R')) {
              EXPECT_EQ(*refusal,
                        "Reopening T-1 needs a reason (--reason TEXT): what is still wrong?");
            } else if (cell == 'W') {
              EXPECT_THAT(*refusal, HasSubstr("reopen window has passed"));
            } else if (kind == ChangeKind::set_status) {
              // A refused plain change says where the ticket is and names every way on.
              const std::string where =
                  f == t ? "T-1 is already " + kNames[f] : "T-1 is " + kNames[f];
              EXPECT_THAT(*refusal, StartsWith(where));
              for (const auto& next : kNext[f]) EXPECT_THAT(*refusal, HasSubstr(next));
              if (f == 3 || (f == 4 && window)) {
                EXPECT_THAT(*refusal, HasSubstr("tether ticket reopen T-1"));
              }
            } else {
              EXPECT_THAT(*refusal, HasSubstr("T-1"));
            }
          }
        }
      }
    }
  }
  EXPECT_EQ(checked, 5 * 5 * 2 * 4);
}

TEST(TicketRules, RefusalsReadAsSentences) {
  EXPECT_EQ(
      check_change("T-1", Status::pending, Status::closed, ChangeKind::set_status, true, true),
      "T-1 is pending; it can go to open or resolved");
  EXPECT_EQ(check_change("T-1", Status::new_, Status::resolved, ChangeKind::set_status, true, true),
            "T-1 is new; it can go to open");
  EXPECT_EQ(check_change("T-2", Status::open, Status::closed, ChangeKind::set_status, true, true),
            "T-2 is open; it can go to pending or resolved");
  EXPECT_EQ(
      check_change("T-1", Status::pending, Status::pending, ChangeKind::set_status, true, true),
      "T-1 is already pending; it can go to open or resolved");
  EXPECT_EQ(check_change("T-3", Status::resolved, Status::open, ChangeKind::set_status, true, true),
            "T-3 is resolved; it can go to closed, or back to open with `tether ticket reopen T-3 "
            "--reason TEXT`");
  EXPECT_EQ(check_change("T-3", Status::closed, Status::open, ChangeKind::set_status, true, true),
            "T-3 is closed; it can only go back to open, with `tether ticket reopen T-3 --reason "
            "TEXT`");
  EXPECT_EQ(check_change("T-3", Status::closed, Status::open, ChangeKind::reopen, true, false),
            "T-3 is closed and can no longer be reopened (its reopen window has passed); open a "
            "new ticket that mentions T-3");
  EXPECT_EQ(check_change("T-5", Status::pending, Status::open, ChangeKind::reopen, true, true),
            "T-5 is pending; only a resolved or closed ticket can be reopened");
  EXPECT_EQ(check_change("T-5", Status::closed, Status::closed, ChangeKind::set_status, true, true),
            "T-5 is already closed; it can only go back to open, with `tether ticket reopen T-5 "
            "--reason TEXT`");
}

TEST(TicketRules, AllowedNextInLifecycleOrder) {
  EXPECT_EQ(allowed_next(Status::new_), std::vector<Status>{Status::open});
  EXPECT_EQ(allowed_next(Status::open), (std::vector<Status>{Status::pending, Status::resolved}));
  EXPECT_EQ(allowed_next(Status::pending), (std::vector<Status>{Status::open, Status::resolved}));
  EXPECT_EQ(allowed_next(Status::resolved), std::vector<Status>{Status::closed});
  EXPECT_TRUE(allowed_next(Status::closed).empty());
}

TEST(TicketRules, StatusNamesRoundTrip) {
  for (std::size_t i = 0; i < kAll.size(); ++i) {
    EXPECT_EQ(to_string(kAll[i]), kNames[i]);
    EXPECT_EQ(parse_status(kNames[i]), kAll[i]);
  }
  EXPECT_EQ(parse_status("Pending"), Status::pending);
  EXPECT_EQ(parse_status("new_"), std::nullopt);
  EXPECT_EQ(parse_status(""), std::nullopt);
  EXPECT_EQ(parse_status("opened"), std::nullopt);
  EXPECT_EQ(parse_status(" open"), std::nullopt);
}

TEST(TicketRules, PriorityMatrixIsItil) {
  struct Row {
    Level3 impact;
    Level3 urgency;
    const char* priority;
  };
  const Row rows[] = {
      {Level3::high, Level3::high, "P1"},     {Level3::high, Level3::medium, "P2"},
      {Level3::medium, Level3::high, "P2"},   {Level3::high, Level3::low, "P3"},
      {Level3::medium, Level3::medium, "P3"}, {Level3::low, Level3::high, "P3"},
      {Level3::medium, Level3::low, "P4"},    {Level3::low, Level3::medium, "P4"},
      {Level3::low, Level3::low, "P4"},
  };
  for (const auto& row : rows) {
    EXPECT_EQ(priority_for(row.impact, row.urgency), row.priority)
        << "impact " << to_string(row.impact) << ", urgency " << to_string(row.urgency);
  }
}

TEST(TicketRules, ImpactAndUrgencyParse) {
  EXPECT_EQ(parse_level3("low"), Level3::low);
  EXPECT_EQ(parse_level3("medium"), Level3::medium);
  EXPECT_EQ(parse_level3("HIGH"), Level3::high);
  EXPECT_EQ(parse_level3("med"), std::nullopt);
  EXPECT_EQ(parse_level3(""), std::nullopt);
  for (const auto value : {Level3::low, Level3::medium, Level3::high}) {
    EXPECT_EQ(parse_level3(to_string(value)), value);
  }
}

TEST(TicketRules, SupportLevelsParse) {
  EXPECT_EQ(parse_support_level("L1"), 1);
  EXPECT_EQ(parse_support_level("l2"), 2);
  EXPECT_EQ(parse_support_level("L3"), 3);
  for (const char* bad : {"L0", "L4", "L", "2", "L12", " L1", "L1 ", "", "X2", "l-1"}) {
    EXPECT_EQ(parse_support_level(bad), std::nullopt) << bad;
  }
  EXPECT_EQ(support_level_name(1), "L1");
  EXPECT_EQ(support_level_name(3), "L3");
}

TEST(TicketRules, TechniciansActUpToTheirOwnLevelAdminsEverywhere) {
  for (int ticket = 1; ticket <= 3; ++ticket) {
    for (int own = 1; own <= 3; ++own) {
      const auto refusal = check_may_act("T-4", ticket, "alice", "technician", own);
      EXPECT_EQ(refusal.has_value(), ticket > own) << "ticket L" << ticket << ", alice L" << own;
      EXPECT_FALSE(check_may_act("T-4", ticket, "root", "admin", own).has_value());
    }
  }
  EXPECT_EQ(check_may_act("T-4", 3, "alice", "technician", 2),
            "T-4 is at L3; alice works at L2 — ask an L3 technician or an admin");
  EXPECT_EQ(check_may_act("T-4", 2, "bob", "technician", 1),
            "T-4 is at L2; bob works at L1 — ask an L2 or L3 technician or an admin");
  const auto viewer = check_may_act("T-4", 1, "eve", "viewer", 3);
  ASSERT_TRUE(viewer.has_value());
  EXPECT_THAT(*viewer, HasSubstr("eve"));
  EXPECT_THAT(*viewer, HasSubstr("viewer"));
}

TEST(TicketRules, EscalationGoesStrictlyUpDeEscalationStrictlyDown) {
  for (int from = 1; from <= 3; ++from) {
    for (int to = 0; to <= 4; ++to) {
      const bool exists = to >= 1 && to <= 3;
      SCOPED_TRACE("L" + std::to_string(from) + " -> L" + std::to_string(to));
      const auto up = check_escalation("T-1", from, to, true);
      const auto down = check_escalation("T-1", from, to, false);
      EXPECT_EQ(!up.has_value(), exists && to > from) << up.value_or("");
      EXPECT_EQ(!down.has_value(), exists && to < from) << down.value_or("");
      if (!exists) {
        ASSERT_TRUE(up && down);
        EXPECT_THAT(*up, HasSubstr("no support level L" + std::to_string(to)));
        EXPECT_EQ(*up, *down);
      }
    }
  }
  EXPECT_EQ(check_escalation("T-1", 3, 3, true),
            "T-1 is at L3, the highest level; it cannot be escalated further");
  EXPECT_EQ(check_escalation("T-1", 1, 1, false),
            "T-1 is at L1, the first level; it cannot be de-escalated further");
  EXPECT_EQ(check_escalation("T-1", 2, 2, true),
            "T-1 is at L2 already; escalate it to a higher level");
  EXPECT_EQ(check_escalation("T-1", 2, 1, true),
            "T-1 is at L2; escalating goes up (to L3); to move it down to L1 use `tether ticket "
            "deescalate`");
  EXPECT_EQ(check_escalation("T-1", 2, 3, false),
            "T-1 is at L2; de-escalating goes down (to L1); to move it up to L3 use `tether "
            "ticket escalate`");
  EXPECT_EQ(check_escalation("T-1", 1, 4, true),
            "There is no support level L4; the levels are L1, L2 and L3");
}

TEST(TicketRules, AssigneeMustWorkAtTheTicketsLevel) {
  for (int ticket = 1; ticket <= 3; ++ticket) {
    for (int own = 1; own <= 3; ++own) {
      EXPECT_EQ(check_assignee("T-7", ticket, "carol", own, "technician").has_value(), own < ticket)
          << "ticket L" << ticket << ", carol L" << own;
      EXPECT_FALSE(check_assignee("T-7", ticket, "root", own, "admin").has_value());
    }
  }
  EXPECT_EQ(check_assignee("T-7", 3, "carol", 1, "technician"),
            "carol works at L1 and cannot take T-7, which is at L3; assign an L3 technician or "
            "an admin");
  EXPECT_TRUE(check_assignee("T-7", 1, "", 3, "technician").has_value());
  EXPECT_TRUE(check_assignee("T-7", 1, "eve", 3, "viewer").has_value());
}

}  // namespace
}  // namespace tether::relay::helpdesk
