#include "tether/console/ticket_view.hpp"

#include <gtest/gtest.h>

namespace tether::console {
namespace {

using nlohmann::json;

const json kTicket = json::parse(R"json({
  "id": "T-1", "title": "Printer offline", "status": "new", "requester": "Alice",
  "description": "Jams", "created_by": "ada", "created_at": "2026-11-25T10:00:00Z",
  "updated_at": "2026-11-25T10:05:00Z",
  "sessions": [{"id": "S-1", "status": "ended", "device": "pc-1 (Debian)", "technician": "ada",
                "consent": {"granted": true, "by": "alice"}, "ended_at": "2026-11-25T10:05:00Z"}],
  "timeline": [
    {"at": "2026-11-25T10:00:00Z", "actor": "ada", "kind": "ticket.created", "summary": "Ticket T-1 opened"},
    {"at": "2026-11-25T10:01:00Z", "actor": "ada", "kind": "session.requested", "summary": "ada joined"},
    {"at": "2026-11-25T10:05:00Z", "actor": "ada", "kind": "session.ended", "summary": "Session S-1 ended"}
  ]})json");

TEST(TicketView, ShowsFieldsSessionsAndTimelineInOrder) {
  const auto text = render_ticket(kTicket);
  EXPECT_NE(text.find("T-1  Printer offline"), std::string::npos) << text;
  EXPECT_NE(text.find("Alice"), std::string::npos);
  EXPECT_NE(text.find("S-1  ended  pc-1 (Debian)"), std::string::npos) << text;
  const auto created = text.find("ticket.created");
  const auto requested = text.find("session.requested");
  const auto ended = text.find("session.ended");
  ASSERT_NE(ended, std::string::npos);
  EXPECT_LT(created, requested);
  EXPECT_LT(requested, ended);
}

TEST(TicketView, ListIsATableWithAHeader) {
  const auto text = render_ticket_list(json::array({kTicket}));
  EXPECT_EQ(text.substr(0, 2), "ID");
  EXPECT_NE(text.find("T-1"), std::string::npos);
  EXPECT_EQ(render_ticket_list(json::array()), "No tickets.\n");
}

TEST(TicketView, ControlCharactersFromTheNetworkAreNeutralised) {
  auto evil = kTicket;
  evil["title"] = "\x1b]0;pwned\x07\x1b[2J";
  const auto text = render_ticket(evil);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_EQ(text.find('\x07'), std::string::npos);
}

TEST(TicketView, OddInputNeverThrows) {
  for (const auto& odd : {json(), json::array(), json(42), json::parse(R"({"id": 5})"),
                          json::parse(R"({"sessions": "x", "timeline": [1, null, {}]})"),
                          json::parse(R"({"sessions": [null, 3, {"consent": "yes"}]})")}) {
    EXPECT_NO_THROW(render_ticket(odd)) << odd;
    EXPECT_NO_THROW(render_ticket_list(odd)) << odd;
    EXPECT_NO_THROW(render_session(odd)) << odd;
  }
}

}  // namespace
}  // namespace tether::console
