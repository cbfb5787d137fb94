// build_ticket_report: the ticket's story as one JSON document, compared byte for byte with a
// golden file. After an intended change to the report, regenerate the golden file with
//   TETHER_UPDATE_GOLDEN=1 relay_tests --gtest_filter='TicketReport.*'
// and review its diff before committing it.

#include "helpdesk/ticket_report.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "api/rest_api.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::helpdesk {
namespace {

using json = nlohmann::json;

const std::string kDir = TETHER_TEST_DATA_DIR "/report/";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TimePoint time_of(const json& value) {
  auto parsed = protocol::parse_time(value.get<std::string>());
  EXPECT_TRUE(parsed.has_value()) << value;
  return parsed.has_value() ? *parsed : TimePoint{};
}

std::optional<TimePoint> optional_time(const json& value) {
  if (value.is_null()) return std::nullopt;
  return time_of(value);
}

std::int64_t id_of(const json& value, std::string_view prefix) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  return parse_object_id(value.get<std::string>(), prefix).value_or(0);
}

/// The fixture's API-shaped JSON read back into the store's records.
ReportInput input_from(const json& doc) {
  ReportInput input;
  const auto& t = doc["ticket"];
  Ticket& ticket = input.ticket;
  ticket.id = id_of(t["id"], "T");
  ticket.title = t["title"];
  ticket.description = t["description"];
  ticket.requester = t["requester"];
  ticket.requester_email = t["requester_email"];
  ticket.category = t["category"];
  ticket.impact = t["impact"];
  ticket.urgency = t["urgency"];
  ticket.priority = t["priority"];
  ticket.level = t["level"].get<std::string>().back() - '0';
  ticket.assignee = t["assignee"].is_string() ? t["assignee"].get<std::string>() : "";
  ticket.device = t["device"];
  if (t["external"].is_object()) {
    ticket.external_system = t["external"]["system"];
    ticket.external_key = t["external"]["key"];
  }
  ticket.status = t["status"];
  ticket.resolution = t["resolution"];
  ticket.created_by = t["created_by"];
  ticket.created_at = time_of(t["created_at"]);
  ticket.updated_at = time_of(t["updated_at"]);
  ticket.first_response_at = optional_time(t["first_response_at"]);
  ticket.resolved_at = optional_time(t["resolved_at"]);
  ticket.closed_at = optional_time(t["closed_at"]);
  ticket.version = t["version"];
  input.ticket_json = t;

  for (const auto& s : doc["sessions"]) {
    SessionRecord session;
    session.id = id_of(s["id"], "S");
    session.ticket_id = ticket.id;
    session.technician = s["technician"];
    session.joined_by = s["joined_by"];
    session.device = s["device"];
    session.status = s["status"];
    session.consent = s["consent"];
    session.started_at = time_of(s["started_at"]);
    session.ended_at = optional_time(s["ended_at"]);
    session.end_note = s["end_note"];
    input.sessions.push_back(session);
  }
  std::int64_t next_id = 1;
  for (const auto& e : doc["timeline"]) {
    TimelineEntry entry;
    entry.id = next_id++;
    entry.ticket_id = ticket.id;
    if (!e["session"].is_null()) entry.session_id = id_of(e["session"], "S");
    entry.at = time_of(e["at"]);
    entry.actor = e["actor"];
    entry.kind = e["kind"];
    entry.summary = e["summary"];
    entry.detail = e["detail"];
    input.timeline.push_back(entry);
  }
  for (const auto& s : doc["snapshots"]) {
    input.snapshots.push_back(
        Snapshot{s["id"], id_of(s["session"], "S"), time_of(s["taken_at"]), s["data"]});
  }
  for (const auto& r : doc["recordings"]) {
    input.recordings.push_back(
        RecordingInfo{id_of(r["session"], "S"), r["name"], r["bytes"], r["url"]});
  }
  for (const auto& a : doc["faq"]) {
    FaqArticle article;
    article.id = id_of(a["id"], "FAQ");
    article.title = a["title"];
    input.faq.push_back(article);
  }
  input.generated_at = time_of(doc["generated_at"]);
  return input;
}

ReportInput fixture() {
  return input_from(json::parse(read_text(kDir + "input.json")));
}

const json* entry_of_session(const json& report, const std::string& id) {
  for (const auto& s : report["sessions"]) {
    if (s["id"] == id) return &s;
  }
  return nullptr;
}

TEST(TicketReport, MatchesTheGoldenFileExactly) {
  const auto text = build_ticket_report(fixture()).dump(2) + "\n";
  const std::string golden_path = kDir + "ticket_report.json";
  if (const char* update = std::getenv("TETHER_UPDATE_GOLDEN"); update && *update == '1') {
    std::ofstream(golden_path, std::ios::binary) << text;
    GTEST_SKIP() << "wrote " << golden_path;
  }
  const auto golden = read_text(golden_path);
  ASSERT_FALSE(golden.empty()) << golden_path << " is missing; run with TETHER_UPDATE_GOLDEN=1";
  EXPECT_EQ(text, golden) << "the report changed; if that is intended, regenerate with "
                             "TETHER_UPDATE_GOLDEN=1 and review the diff";
}

TEST(TicketReport, SameInputSameBytes) {
  EXPECT_EQ(build_ticket_report(fixture()).dump(), build_ticket_report(fixture()).dump());
}

TEST(TicketReport, TheStoryOfTheFixture) {
  const auto report = build_ticket_report(fixture());
  EXPECT_EQ(report["report_version"], 1);
  EXPECT_EQ(report["generated_at"], "2026-12-01T09:00:00Z");
  EXPECT_EQ(report["ticket"]["id"], "T-7");
  EXPECT_EQ(report["requester"], json({{"name", "Ann Example"}, {"email", "ann@example.com"}}));
  // The resolution clock was met late: the outcome is a breach.
  EXPECT_EQ(report["sla_outcome"], "breached");
  EXPECT_EQ(report["sla"]["resolution"]["overdue_seconds"], 1800);

  ASSERT_EQ(report["sessions"].size(), 2u);
  const auto& s3 = *entry_of_session(report, "S-3");
  EXPECT_EQ(s3["technician"], "alice");
  EXPECT_EQ(s3["duration_seconds"], 21 * 60 + 5);
  EXPECT_EQ(s3["consent"]["scopes"], json({"diagnostics", "shell", "files", "processes"}));
  EXPECT_EQ(s3["consent"]["by"], "Ann Example");
  // Every action, none of the bookkeeping (request, consent, end, diff).
  std::vector<std::string> kinds;
  for (const auto& a : s3["actions"]) kinds.push_back(a["kind"]);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"diagnostics.snapshot", "services.listed", "service.restart",
                                      "command.run", "file.downloaded", "action.refused",
                                      "shell.closed", "shell.closed", "diagnostics.snapshot"}));
  ASSERT_EQ(s3["files"].size(), 1u);
  EXPECT_EQ(s3["files"][0]["direction"], "download");
  EXPECT_EQ(s3["files"][0]["path"], "/var/log/cups/error_log");
  EXPECT_EQ(s3["files"][0]["bytes"], 48213);
  EXPECT_EQ(s3["files"][0]["sha256"],
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  // One recording is still stored; the other only named on the timeline.
  ASSERT_EQ(s3["recordings"].size(), 2u);
  EXPECT_EQ(s3["recordings"][0]["url"], "/api/v1/recordings/S-3/shell-1.cast");
  EXPECT_EQ(s3["recordings"][0]["available"], true);
  EXPECT_EQ(s3["recordings"][1]["name"], "shell-2.cast");
  EXPECT_EQ(s3["recordings"][1]["available"], false);
  EXPECT_EQ(s3["diagnostics"]["before"]["snapshot"], 11);
  EXPECT_EQ(s3["diagnostics"]["before"]["counts"]["critical"], 1);
  EXPECT_EQ(s3["diagnostics"]["after"]["snapshot"], 12);
  EXPECT_EQ(s3["diagnostics"]["diff"]["services"]["restarted"], json({"cups"}));

  // S-4's record has no consent: the receipt comes from its consent.granted entry.
  const auto& s4 = *entry_of_session(report, "S-4");
  EXPECT_EQ(s4["consent"]["scopes"], json({"diagnostics", "files"}));
  EXPECT_EQ(s4["consent"]["at"], "2026-11-30T09:10:20Z");
  EXPECT_EQ(s4["files"][0]["direction"], "upload");

  // Findings of the newest snapshot (14): only the warning that remained.
  EXPECT_EQ(
      report["findings"],
      json::parse(R"([{"id":"disk.root_low","severity":"warning","summary":"/ is 91% full"}])"));
  ASSERT_EQ(report["escalations"].size(), 2u);
  EXPECT_EQ(report["escalations"][0]["direction"], "up");
  EXPECT_EQ(report["escalations"][0]["to"], "L2");
  EXPECT_EQ(report["escalations"][1]["direction"], "down");
  ASSERT_EQ(report["notes"].size(), 2u);
  EXPECT_EQ(report["notes"][0]["internal"], true);
  EXPECT_EQ(report["notes"][1]["internal"], false);
  // Resolved, reopened, resolved again: the second resolution counts.
  EXPECT_EQ(report["resolution"]["at"], "2026-11-30T16:30:00Z");
  EXPECT_EQ(report["resolution"]["by"], "bob");
  EXPECT_EQ(report["faq"],
            json::parse(R"([{"id":"FAQ-2","title":"Print queue stuck after driver update"}])"));
  EXPECT_EQ(report["timeline"].size(), fixture().timeline.size());
  EXPECT_EQ(report["timeline"][0], timeline_json(fixture().timeline[0]));
  const std::string summary = report["summary"];
  EXPECT_NE(summary.find("Ann Example asked for help"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Priority P2"), std::string::npos) << summary;
  EXPECT_NE(summary.find("2 remote sessions by alice and bob"), std::string::npos) << summary;
  EXPECT_NE(summary.find("Escalated 1 time"), std::string::npos) << summary;
}

TEST(TicketReport, AReopenAfterTheLastResolutionLeavesItUnresolved) {
  auto input = fixture();
  input.ticket.status = "open";
  input.ticket.resolution.clear();
  TimelineEntry reopened;
  reopened.ticket_id = input.ticket.id;
  reopened.at = input.timeline.back().at + std::chrono::hours(1);
  reopened.actor = "ann";
  reopened.kind = "ticket.reopened";
  reopened.detail = {{"from", "closed"}, {"reason", "again"}};
  input.timeline.push_back(reopened);
  const auto report = build_ticket_report(input);
  EXPECT_TRUE(report["resolution"].is_null());
  EXPECT_NE(report["summary"].get<std::string>().find("Status: open."), std::string::npos);
}

TEST(TicketReport, NothingYetIsStillAReport) {
  ReportInput input;
  input.ticket.id = 1;
  input.ticket.title = "New";
  input.ticket_json = json::object();
  const auto report = build_ticket_report(input);
  EXPECT_EQ(report["sla_outcome"], "unknown");
  EXPECT_TRUE(report["sla"].is_null());
  EXPECT_TRUE(report["sessions"].empty());
  EXPECT_TRUE(report["findings"].empty());
  EXPECT_TRUE(report["findings_at"].is_null());
  EXPECT_TRUE(report["resolution"].is_null());
  EXPECT_NE(report["summary"].get<std::string>().find(
                "Someone asked for help with \xe2\x80\x9cNew\xe2\x80\x9d. "),
            std::string::npos)
      << report["summary"];
  EXPECT_NE(report["summary"].get<std::string>().find("No remote session."), std::string::npos);
}

TEST(TicketReport, MistypedDetailsFromAgentsAreSkippedNotThrownOn) {
  auto input = fixture();
  for (auto& entry : input.timeline) {
    if (entry.kind == "file.downloaded") entry.detail = {{"result", "not an object"}, {"path", 7}};
    if (entry.kind == "file.uploaded") entry.detail = json::array({1, 2});
    if (entry.kind == "shell.closed") entry.detail = {{"result", {{"recording", 42}}}};
    if (entry.kind == "consent.granted") entry.detail = "yes";
    if (entry.kind == "diagnostics.diff") entry.detail = {{"before", "11"}, {"diff", 3}};
    if (entry.kind == "ticket.escalated") entry.detail = nullptr;
    if (entry.kind == "ticket.note") entry.detail = {{"text", json::object()}, {"internal", "yes"}};
  }
  for (auto& session : input.sessions) session.consent = {{"granted", "yes"}, {"scopes", "all"}};
  input.snapshots.back().data = json::array();
  input.ticket_json["sla"] = {{"first_response", 5}, {"resolution", "late"}};
  json report;
  ASSERT_NO_THROW(report = build_ticket_report(input));
  const auto& s3 = *entry_of_session(report, "S-3");
  EXPECT_EQ(s3["files"][0]["path"], "");
  EXPECT_TRUE(s3["files"][0]["bytes"].is_null());
  EXPECT_TRUE(s3["files"][0]["sha256"].is_null());
  EXPECT_EQ(s3["consent"]["granted"], false);
  EXPECT_EQ(s3["consent"]["scopes"], json::array());
  // The diff names no usable snapshots: the session's own first and last are used.
  EXPECT_EQ(s3["diagnostics"]["before"]["snapshot"], 11);
  EXPECT_TRUE(s3["diagnostics"]["diff"].is_null());
  EXPECT_EQ(s3["recordings"].size(), 1u);
  EXPECT_TRUE(report["escalations"][0]["from"].is_null());
  EXPECT_EQ(report["notes"][0]["text"], "");
  EXPECT_EQ(report["notes"][0]["internal"], false);
  EXPECT_TRUE(report["findings"].empty());
  EXPECT_EQ(report["sla_outcome"], "unknown");
}

TEST(TicketReport, FindingsComeFromTheNewestSnapshotWhateverTheOrder) {
  auto input = fixture();
  std::reverse(input.snapshots.begin(), input.snapshots.end());
  const auto report = build_ticket_report(input);
  EXPECT_EQ(report["findings_at"], "2026-11-30T09:45:01Z");
  ASSERT_EQ(report["findings"].size(), 1u);
  EXPECT_EQ(report["findings"][0]["id"], "disk.root_low");
}

TEST(TicketReport, ASessionStillRunningHasNoDuration) {
  auto input = fixture();
  input.sessions.back().ended_at.reset();
  input.sessions.back().status = "active";
  const auto report = build_ticket_report(input);
  EXPECT_TRUE(entry_of_session(report, "S-4")->at("duration_seconds").is_null());
  EXPECT_TRUE(entry_of_session(report, "S-4")->at("ended_at").is_null());
}

}  // namespace
}  // namespace tether::relay::helpdesk
