// The fleet inventory end to end: inventories stored in the relay's database (seeded through
// the Store before the relay starts, as the relay itself stores agents' reports), then read
// through the REST API and the console: a device's inventory and history, queries with their
// errors, and the CSV and JSON exports, with hostile values from devices.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/beast/http/verb.hpp>

#include "relay_fixture.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/time_format.hpp"
#include "tether/relay/sqlite_store.hpp"

namespace tether::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using relay::TimePoint;

constexpr const char* kFormula = "=cmd|' /C calc'!A0";
constexpr const char* kMarkup = "<script>alert(1)</script>";

relay::InventorySection section(json content, TimePoint at) {
  return {"sha256:" + std::string(64, '0'), std::move(content), at};
}

json packages(std::initializer_list<std::pair<const char*, const char*>> list) {
  json out = json::array();
  for (const auto& [name, version] : list) out.push_back({{"name", name}, {"version", version}});
  return {{"packages", out}};
}

class FleetApi : public RelayFixture {
 protected:
  void SetUp() override {
    RelayFixture::SetUp();
    if (HasFatalFailure()) return;
    seed();
    start_relay();
    login();
  }

  // D-1 pc-anna (sales): old openssl, root filesystem 95 % full (a live figure), a critical
  //     finding, three reports and so three history lines.
  // D-2 a formula as host name (support): current openssl, plenty of space.
  // D-3 markup and a terminal escape in its host name and CPU model.
  // D-4 enrolled, never reported.
  void seed() {
    auto store = relay::SqliteStore::open(data_ / "tether.db");
    const auto now = std::chrono::system_clock::now();
    auto make = [&](const std::string& host, const std::string& group,
                    json flags = json::object()) {
      relay::Device d;
      d.identity_flags = std::move(flags);
      d.hostname = host;
      d.group_name = group;
      d.os = "Debian GNU/Linux 12 (bookworm)";
      d.enrolled_at = now - std::chrono::hours(48);
      d.last_seen_at = now - std::chrono::hours(1);
      return store->create_device(d).id;
    };
    const auto anna = make("pc-anna", "sales");
    // Enrolled from a clone of D-1's disk image, as identity matching flags it.
    const auto formula =
        make(kFormula, "support",
             {{"possible_clone", true}, {"related", {"D-1"}}, {"reasons", {"machine-id"}}});
    const auto markup = make(std::string(kMarkup) + "\x1b[31m", "");
    make("pc-new", "sales");

    auto report = [&](std::int64_t device, json sections, json live, std::string kind,
                      std::string summary, TimePoint at) {
      relay::InventoryUpdate u;
      u.device_id = device;
      u.collected_at = at;
      u.reported_at = at;
      u.full = true;
      for (auto& [name, content] : sections.items()) u.changed[name] = section(content, at);
      u.live = std::move(live);
      relay::InventoryChange change;
      change.section = kind.substr(0, kind.find('.'));
      change.kind = kind;
      change.summary = std::move(summary);
      u.changes.push_back(change);
      store->apply_inventory(u);
    };
    const json debian = {
        {"hostname", "pc-anna"},
        {"os", {{"id", "debian"}, {"version_id", "12"}, {"pretty_name", "Debian GNU/Linux 12"}}}};
    const json storage = {
        {"filesystems", json::array({{{"mount_point", "/"}, {"read_only", false}}})}};
    report(anna, {{"system", debian}, {"software", packages({{"openssl", "3.0.9-1"}})}}, {},
           "inventory.first", "First inventory", now - std::chrono::hours(30));
    report(anna, {{"software", packages({{"openssl", "3.0.9-1"}, {"zoom", "5.16"}})}}, {},
           "software.installed", "Installed zoom 5.16", now - std::chrono::hours(20));
    report(anna, {{"software", packages({{"openssl", "3.0.11-1~deb12u2"}})}, {"storage", storage}},
           {{"overlay", {{"storage", {{"filesystems", json::array({{{"used_pct", 95}}})}}}}},
            {"findings", json::array({{{"id", "disk.space"}, {"severity", "critical"}}})}},
           "software.removed", "Removed zoom 5.16", now - std::chrono::hours(10));
    report(formula,
           {{"system", {{"hostname", kFormula}}},
            {"software", packages({{"openssl", "3.0.15-1~deb12u1"}})},
            {"storage", storage}},
           {{"overlay", {{"storage", {{"filesystems", json::array({{{"used_pct", 40}}})}}}}}},
           "inventory.first", "First inventory", now - std::chrono::hours(5));
    report(markup,
           {{"system", {{"hostname", kMarkup}}},
            {"cpu", {{"model", std::string(kMarkup) + "\x1b]0;owned\x07"}}}},
           {}, "inventory.first", "First inventory of <b>bold</b>\x1b[2J",
           now - std::chrono::hours(2));
  }

  /// GET /api/v1`target` with a fresh admin token: status and parsed body (null when not JSON).
  std::pair<int, json> get(const std::string& target, std::string* raw = nullptr) {
    protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                               protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    if (token_.empty()) {
      auto login = http.request(boost::beast::http::verb::post, "/api/v1/login",
                                json{{"user", "admin"}, {"password", kAdminPassword}}.dump(), "",
                                std::chrono::seconds(10));
      EXPECT_TRUE(login && login->status == 200);
      if (login) token_ = json::parse(login->body).value("token", "");
    }
    auto response = http.request(boost::beast::http::verb::get, "/api/v1" + target, std::nullopt,
                                 token_, std::chrono::seconds(30));
    EXPECT_TRUE(response) << target;
    if (!response) return {0, nullptr};
    if (raw != nullptr) *raw = response->body;
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  std::string token_;
};

TEST_F(FleetApi, DeviceInventoryIsTheComposedDocument) {
  auto [status, body] = get("/devices/D-1/inventory");
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body["device"], "D-1");
  EXPECT_EQ(body["reports"], 3);
  EXPECT_TRUE(body["sections"].contains("software"));
  EXPECT_TRUE(body["sections"]["software"]["hash"].get<std::string>().starts_with("sha256:"));
  // The live figure is merged into the stored section; findings come from the live part.
  EXPECT_EQ(body["inventory"]["storage"]["filesystems"][0]["mount_point"], "/");
  EXPECT_EQ(body["inventory"]["storage"]["filesystems"][0]["used_pct"], 95);
  EXPECT_EQ(body["inventory"]["findings"][0]["severity"], "critical");
  EXPECT_EQ(body["inventory"]["collected_at"], body["collected_at"]);

  std::tie(status, body) = get("/devices/D-4/inventory");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["message"], "D-4 has not reported an inventory yet");
  std::tie(status, body) = get("/devices/D-99/inventory");
  EXPECT_EQ(status, 404);
  EXPECT_EQ(body["error"]["message"], "no such device D-99");
  std::tie(status, body) = get("/devices/D-99/history");
  EXPECT_EQ(status, 404);
}

TEST_F(FleetApi, HistoryNewestFirstWithLimitAndBefore) {
  auto [status, body] = get("/devices/D-1/history");
  ASSERT_EQ(status, 200) << body;
  ASSERT_EQ(body["changes"].size(), 3u);
  EXPECT_EQ(body["changes"][0]["kind"], "software.removed");
  EXPECT_EQ(body["changes"][1]["kind"], "software.installed");
  EXPECT_EQ(body["changes"][2]["kind"], "inventory.first");
  EXPECT_GT(body["changes"][0]["id"], body["changes"][1]["id"]);

  std::tie(status, body) = get("/devices/D-1/history?limit=2");
  ASSERT_EQ(body["changes"].size(), 2u);
  const auto second = body["changes"][1]["id"].get<std::int64_t>();
  std::tie(status, body) = get("/devices/D-1/history?before=" + std::to_string(second));
  ASSERT_EQ(body["changes"].size(), 1u);
  EXPECT_EQ(body["changes"][0]["kind"], "inventory.first");
  std::tie(status, body) = get("/devices/D-4/history");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body["changes"], json::array());

  for (const char* bad : {"?limit=0", "?limit=1001", "?limit=ten", "?before=-3", "?since=1"}) {
    std::tie(status, body) = get(std::string("/devices/D-1/history") + bad);
    EXPECT_EQ(status, 400) << bad;
  }

  // The console: WHEN SECTION CHANGE, human times, and where to find older changes.
  auto table = console({"device", "history", "D-1", "--limit", "2"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("WHEN"), std::string::npos) << table.out;
  EXPECT_LT(table.out.find("Removed zoom 5.16"), table.out.find("Installed zoom 5.16"));
  EXPECT_EQ(table.out.find("First inventory"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("--before " + std::to_string(second)), std::string::npos);
  EXPECT_TRUE(
      std::regex_search(table.out, std::regex("\\n\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\dZ  software ")))
      << table.out;  // "2026-11-30 06:14Z", not the API's ISO time
  auto as_json = console_json({"device", "history", "D-1", "--limit", "1"});
  EXPECT_EQ(as_json["changes"].size(), 1u);
  auto unknown = console({"device", "history", "D-99"});
  EXPECT_EQ(unknown.status, 1);
  EXPECT_NE(unknown.err.find("no such device D-99"), std::string::npos) << unknown.err;
}

TEST_F(FleetApi, QueriesHitAndMiss) {
  auto hit =
      console_json({"inventory", "query", "software.name=openssl and software.version<3.0.14"});
  ASSERT_EQ(hit["count"], 1);
  EXPECT_EQ(hit["devices"][0]["id"], "D-1");
  EXPECT_EQ(hit["query"], "software.name=openssl and software.version<3.0.14");

  // Free space lives only in the live overlay.
  auto table = console({"inventory", "query", "storage.free_pct<10"});
  ASSERT_EQ(table.status, 0) << table.err;
  EXPECT_NE(table.out.find("DEVICE"), std::string::npos);
  EXPECT_NE(table.out.find("D-1  "), std::string::npos) << table.out;
  EXPECT_EQ(table.out.find("D-2"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("1 device matches storage.free_pct<10"), std::string::npos);

  auto miss = console({"inventory", "query", "hardware.vendor=dell"});
  ASSERT_EQ(miss.status, 0) << miss.err;
  EXPECT_NE(miss.out.find("No device matches hardware.vendor=dell"), std::string::npos) << miss.out;

  // Record fields match devices without an inventory too.
  auto sales = console_json({"inventory", "query", "group=sales"});
  EXPECT_EQ(sales["count"], 2);
  auto offline = console_json({"inventory", "query", "online=false and last_seen<1d"});
  EXPECT_EQ(offline["count"], 4);
}

TEST_F(FleetApi, ABadQueryIsShownWithACaret) {
  auto typo = console({"inventory", "query", "sofware.name=openssl"});
  EXPECT_EQ(typo.status, 2);
  EXPECT_NE(typo.err.find("unknown field \"sofware.name\" at column 1; did you mean "
                          "software.name?\n  sofware.name=openssl\n  ^\n"),
            std::string::npos)
      << typo.err;
  auto operator_missing = console({"inventory", "query", "os.name debian"});
  EXPECT_EQ(operator_missing.status, 2);
  EXPECT_NE(operator_missing.err.find("at column 9"), std::string::npos) << operator_missing.err;
  EXPECT_NE(operator_missing.err.find("\n  os.name debian\n          ^\n"), std::string::npos)
      << operator_missing.err;
  auto in_export = console({"inventory", "export", "--query", "cpu.cores~4"});
  EXPECT_EQ(in_export.status, 2);
  EXPECT_NE(in_export.err.find("\n  cpu.cores~4\n           ^\n"), std::string::npos)
      << in_export.err;

  // The API: 400, the parser's message and its column.
  auto [status, body] = get("/inventory?q=os.name%20debian");
  EXPECT_EQ(status, 400);
  EXPECT_EQ(body["error"]["code"], "bad_request");
  EXPECT_EQ(body["error"]["column"], 9);
  std::tie(status, body) = get("/inventory");
  EXPECT_EQ(status, 400);
  std::tie(status, body) = get("/inventory?q=" + std::string(4097, 'a'));
  EXPECT_EQ(status, 400);
  std::tie(status, body) = get("/inventory/export?format=xml");
  EXPECT_EQ(status, 400);
}

TEST_F(FleetApi, ExportsCsvAndJson) {
  const auto csv_file = dir_ / "fleet.csv";
  auto written = console({"inventory", "export", "--format", "csv", "--out", csv_file.string()});
  ASSERT_EQ(written.status, 0) << written.err;
  EXPECT_NE(written.out.find("Wrote 4 devices to"), std::string::npos) << written.out;
  struct stat info {};
  ASSERT_EQ(::stat(csv_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644);
  std::ifstream in(csv_file, std::ios::binary);
  const std::string csv((std::istreambuf_iterator<char>(in)), {});
  EXPECT_TRUE(csv.starts_with("id,hostname,group,online,last_seen,")) << csv;
  // The formula is a text cell with a quote in front: a spreadsheet shows it, never runs it.
  EXPECT_NE(csv.find("\r\nD-2,'=cmd|' /C calc'!A0,support,false,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find(",=cmd"), std::string::npos) << csv;
  EXPECT_EQ(csv.find('\x1b'), std::string::npos);

  auto json_out = console({"inventory", "export", "--format", "json"});
  ASSERT_EQ(json_out.status, 0) << json_out.err;
  const auto rows = json::parse(json_out.out);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[1]["hostname"], kFormula);  // JSON is not a spreadsheet: exactly as reported
  EXPECT_EQ(rows[0]["disk_free_pct_min"], 5.0);
  EXPECT_EQ(rows[0]["critical_findings"], 1);
  EXPECT_TRUE(rows[3]["os"].is_null());  // D-4 never reported
  EXPECT_NE(json_out.err.find("Exported 4 devices (json)"), std::string::npos);

  const auto glpi_file = dir_ / "fleet-glpi.json";
  auto glpi = console({"inventory", "export", "--format", "glpi", "--query", "group=sales", "--out",
                       glpi_file.string()});
  ASSERT_EQ(glpi.status, 0) << glpi.err;
  EXPECT_NE(glpi.out.find("Wrote 2 devices to"), std::string::npos) << glpi.out;
  const auto documents = json::parse(std::ifstream(glpi_file));
  ASSERT_EQ(documents.size(), 2u);
  EXPECT_EQ(documents[0]["deviceid"], "pc-anna-D-1");
  EXPECT_EQ(documents[0]["itemtype"], "Computer");
  EXPECT_EQ(documents[1]["deviceid"], "pc-new-D-4");

  // One file per device, as GLPI's injector takes them; each is the document above.
  const auto glpi_dir = dir_ / "glpi";
  auto split = console({"inventory", "export", "--format", "glpi", "--query", "group=sales",
                        "--out-dir", glpi_dir.string()});
  ASSERT_EQ(split.status, 0) << split.err;
  EXPECT_NE(split.out.find("Wrote 2 devices to"), std::string::npos) << split.out;
  EXPECT_EQ(json::parse(std::ifstream(glpi_dir / "pc-anna-D-1.json")), documents[0]);
  EXPECT_EQ(json::parse(std::ifstream(glpi_dir / "pc-new-D-4.json")), documents[1]);
  EXPECT_EQ(
      console({"inventory", "export", "--format", "csv", "--out-dir", glpi_dir.string()}).status,
      2);

  auto filtered = console({"inventory", "export", "--format", "json", "--query", "group=support"});
  ASSERT_EQ(filtered.status, 0) << filtered.err;
  EXPECT_EQ(json::parse(filtered.out).size(), 1u);
}

TEST_F(FleetApi, MarkupFromDevicesIsPlainTextAndEscapedJson) {
  std::string raw;
  auto [status, body] = get("/devices/D-3/inventory", &raw);
  ASSERT_EQ(status, 200);
  EXPECT_EQ(body["inventory"]["system"]["hostname"], kMarkup);
  EXPECT_EQ(raw.find('\x1b'), std::string::npos) << "control characters are \\u-escaped";
  EXPECT_NE(raw.find("\\u001b]0;owned\\u0007"), std::string::npos) << raw;
  std::tie(status, body) = get("/devices/D-3/history", &raw);
  EXPECT_EQ(raw.find('\x1b'), std::string::npos);

  auto show = console({"device", "show", "D-3"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_NE(show.out.find(kMarkup), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find('\x1b'), std::string::npos) << show.out;
  EXPECT_EQ(show.out.find('\x07'), std::string::npos) << show.out;
  auto history = console({"device", "history", "D-3"});
  ASSERT_EQ(history.status, 0) << history.err;
  EXPECT_NE(history.out.find("First inventory of <b>bold</b>"), std::string::npos);
  EXPECT_EQ(history.out.find('\x1b'), std::string::npos) << history.out;
  auto query = console({"inventory", "query", "hostname~script"});
  ASSERT_EQ(query.status, 0) << query.err;
  EXPECT_NE(query.out.find(kMarkup), std::string::npos) << query.out;
  EXPECT_EQ(query.out.find('\x1b'), std::string::npos) << query.out;
}

TEST_F(FleetApi, DeviceShowHasAnInventoryBlock) {
  auto show = console({"device", "show", "D-1"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_NE(show.out.find("inventory:    reported "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("(3 reports)"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("os:         Debian GNU/Linux 12"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("findings:   1 critical"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("/ 95% used"), std::string::npos) << show.out;

  EXPECT_EQ(show.out.find("identity:"), std::string::npos) << show.out;
  auto clone = console({"device", "show", "D-2"});
  ASSERT_EQ(clone.status, 0) << clone.err;
  EXPECT_NE(clone.out.find("identity:   possible clone of D-1\n"), std::string::npos) << clone.out;

  auto fresh = console({"device", "show", "D-4"});
  ASSERT_EQ(fresh.status, 0) << fresh.err;
  EXPECT_NE(fresh.out.find("inventory:    none reported yet"), std::string::npos) << fresh.out;
  auto as_json = console_json({"device", "show", "D-4"});
  EXPECT_TRUE(as_json["inventory"].is_null());
  EXPECT_EQ(console_json({"device", "show", "D-1"})["inventory"]["reports"], 3);
}

// A real agent's inventory, reported over its managed connection, is queried like the
// seeded ones: the relay's intake and this API agree on the stored shape.
TEST_F(FleetApi, ARealServiceReportsAnInventoryThatQueriesSee) {
  auto token = run({TETHER_RELAY_BIN, "token", "create", "--data", data_.string(), "--json"});
  ASSERT_EQ(token.status, 0) << token.err;
  const auto state = dir_ / "agent-state";
  auto enroll = run({TETHER_AGENT_BIN, "enroll", "--relay", "wss://" + address_, "--fingerprint",
                     fingerprint_, "--token", json::parse(token.out).at("token"), "--state-dir",
                     state.string()});
  ASSERT_EQ(enroll.status, 0) << enroll.err;
  Process service({"/bin/sh", "-c",
                   std::string("exec '") + TETHER_AGENT_BIN + "' service --state-dir '" +
                       state.string() + "' 2>&1"});
  ASSERT_TRUE(service.wait_for_line("inventory: sent ", 60s)) << service.out();

  // This machine's OS id, as the agent reads it.
  std::string os_id;
  std::ifstream release("/etc/os-release");
  for (std::string line; std::getline(release, line);) {
    if (line.starts_with("ID=")) os_id = line.substr(3);
  }
  std::erase(os_id, '"');
  ASSERT_FALSE(os_id.empty());
  // The report is acknowledged after it is stored; the log line may come first.
  json found;
  for (const auto deadline = std::chrono::steady_clock::now() + 30s;
       std::chrono::steady_clock::now() < deadline;) {
    found = console_json({"inventory", "query", "id=D-5 and online=true and os.id=" + os_id});
    if (found["count"] == 1) break;
    std::this_thread::sleep_for(100ms);  // Polling interval, not synchronisation.
  }
  ASSERT_EQ(found["count"], 1) << found.dump();
  EXPECT_EQ(found["devices"][0]["id"], "D-5");
  EXPECT_FALSE(found["devices"][0]["os"].is_null());
  EXPECT_EQ(console_json({"inventory", "query", "id=D-5 and os.id!=" + os_id})["count"], 0);
  auto show = console({"device", "show", "D-5"});
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_NE(show.out.find("inventory:    reported "), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("    cpu:        "), std::string::npos) << show.out;
  auto history = console_json({"device", "history", "D-5"});
  EXPECT_FALSE(history["changes"].empty()) << history.dump();
}

}  // namespace
}  // namespace tether::testing
