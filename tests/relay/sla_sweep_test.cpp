#include "helpdesk/sla_sweep.hpp"

#include <unistd.h>

#include <filesystem>

#include <gtest/gtest.h>

#include "temp_store.hpp"

#include "tether/relay/sqlite_store.hpp"

namespace tether::relay::helpdesk {
namespace {

using namespace std::chrono_literals;

class SlaSweepTest : public TempStoreTest {
 protected:
  Ticket open(const std::string& priority) {
    Ticket fields;
    fields.title = "x";
    fields.priority = priority;
    fields.created_by = "ada";
    TimelineEntry created;
    created.at = t0_;
    created.actor = "ada";
    created.kind = "ticket.created";
    created.summary = "opened";
    return store_->create_ticket(fields, created, t0_);
  }

  std::vector<TimelineEntry> breaches(std::int64_t ticket) {
    std::vector<TimelineEntry> out;
    for (auto& e : store_->timeline(ticket)) {
      if (e.kind == "sla.breached") out.push_back(e);
    }
    return out;
  }

  const TimePoint t0_ = TimePoint(std::chrono::sys_days(std::chrono::year(2026) / 11 / 25));
  SlaPolicy policy_;  // P1: 15 min response, 4 h resolution.
};

TEST_F(SlaSweepTest, EachClockIsAnnouncedOnceWhenItBreaches) {
  const auto ticket = open("P1");
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 14min), 0u);
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 16min), 1u);
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 17min), 0u);
  auto found = breaches(ticket.id);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].detail.at("clock"), "first_response");
  EXPECT_EQ(found[0].detail.at("due_at"), "2026-11-25T00:15:00Z");
  EXPECT_EQ(found[0].actor, "relay");
  EXPECT_NE(found[0].summary.find("15 min"), std::string::npos) << found[0].summary;
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 5h), 1u);
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 6h), 0u);
  found = breaches(ticket.id);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[1].detail.at("clock"), "resolution");
  EXPECT_EQ(store_->find_ticket(ticket.id)->sla_breaches, 3);
}

TEST_F(SlaSweepTest, AnsweredPendingAndResolvedTicketsAreNotBreached) {
  auto answered = open("P1");
  answered.first_response_at = t0_ + 5min;
  ASSERT_TRUE(store_->update_ticket(answered, {}));
  auto waiting = open("P1");
  waiting.first_response_at = t0_ + 1min;
  waiting.status = "pending";
  waiting.pauses = {{t0_ + 1min, std::nullopt}};
  ASSERT_TRUE(store_->update_ticket(waiting, {}));
  auto resolved = open("P1");
  resolved.status = "resolved";
  resolved.resolved_at = t0_ + 2min;
  ASSERT_TRUE(store_->update_ticket(resolved, {}));
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 1h), 0u);
  // Only the pending ticket's resolution clock is paused; the answered one's keeps running.
  EXPECT_EQ(sweep_sla_breaches(*store_, policy_, t0_ + 5h), 1u);
  EXPECT_EQ(breaches(answered.id).size(), 1u);
  EXPECT_TRUE(breaches(waiting.id).empty());
  EXPECT_TRUE(breaches(resolved.id).empty());
}

}  // namespace
}  // namespace tether::relay::helpdesk
