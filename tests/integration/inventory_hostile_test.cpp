// Inventory reports the relay must survive, over real mutual TLS from enrolled devices (keys,
// CSRs and identities made here): a device reporting another device's inventory (by id, or
// by the machine it describes), malformed and oversized reports, markup, and the relay
// killed while it stores a report (nothing half-stored; the device's next report is judged
// against what was kept).
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sqlite3.h>

#include <csignal>
#include <memory>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "relay_fixture.hpp"
#include "tether/protocol/client_stream.hpp"
#include "tether/protocol/limits.hpp"
#include "tether/protocol/message.hpp"

namespace tether::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using json = nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

/// An enrolled device as the relay issued it.
struct Enrolled {
  std::string device;
  std::string certificate;
  std::string key;
};

/// What came back for a conversation: every text message and how the connection ended.
struct Conversation {
  std::vector<json> received;
  unsigned close_code = 0;

  const json* first(const std::string& type) const {
    for (const auto& m : received) {
      if (m.value("type", "") == type) return &m;
    }
    return nullptr;
  }
};

json identity_of(const std::string& uuid, const std::string& serial, const std::string& mac) {
  return {{"hostname", "pc-" + serial},
          {"os", "Debian GNU/Linux 12 (bookworm)"},
          {"machine_id", "0f6c1b3e9a2d4c5e8f7a6b5c4d3e2f" + serial.substr(0, 2)},
          {"smbios_uuid", uuid},
          {"serials", {serial}},
          {"macs", {mac}}};
}

/// The identity section an agent reports for the same machine.
json identity_section(const json& enrolled) {
  return {{"machine_id", enrolled["machine_id"]},
          {"smbios_uuid", enrolled["smbios_uuid"]},
          {"serials", {{"system", enrolled["serials"][0]}}},
          {"macs", enrolled["macs"]}};
}

class InventoryHostile : public RelayFixture {
 protected:
  void SetUp() override {
    RelayFixture::SetUp();
    start_relay();
  }

  Enrolled enroll(const json& identity) {
    std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>> key(EVP_EC_gen("P-256"));
    std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>> request(X509_REQ_new());
    X509_REQ_set_pubkey(request.get(), key.get());
    X509_REQ_sign(request.get(), key.get(), EVP_sha256());
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> csr(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_REQ(csr.get(), request.get());
    std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> key_pem(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(key_pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);

    auto token = run({TETHER_RELAY_BIN, "token", "create", "--data", data_.string(), "--json"});
    EXPECT_EQ(token.status, 0) << token.err;
    protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                               protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    const json body = {{"token", json::parse(token.out).value("token", "")},
                       {"csr", bio_text(csr.get())},
                       {"identity", identity}};
    auto response = http.request(beast::http::verb::post, "/api/v1/enroll", body.dump(), "",
                                 std::chrono::seconds(30));
    EXPECT_TRUE(response && response->status == 201) << (response ? response->body : "");
    const auto answer = json::parse(response->body);
    return {answer["device"], answer["certificate"], bio_text(key_pem.get())};
  }

  /// Connects as `device`, says hello, reads the welcome and the inventory_request, sends
  /// `messages` (each after the previous one's answer when `wait_for_answers`), and reads
  /// until `expected` more messages arrived or the relay closed.
  Conversation converse(const Enrolled& device, const std::vector<std::string>& messages,
                        std::size_t expected) {
    asio::io_context io;
    auto tls = protocol::make_client_context(
        protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    tls.use_certificate_chain(asio::buffer(device.certificate));
    tls.use_private_key(asio::buffer(device.key), asio::ssl::context::pem);
    Conversation conversation;
    auto client = [&]() -> asio::awaitable<void> {
      protocol::WsStream ws(io, tls);
      co_await protocol::connect_agent_websocket(
          ws, protocol::RelayUrl::parse("wss://" + address_).value(), std::chrono::seconds(10),
          protocol::kManagedAgentPath);
      ws.read_message_max(protocol::kMaxControlMessageBytes * 2);
      const json hello = {
          {"type", "hello"},         {"version", 1},
          {"role", "agent"},         {"mode", "managed"},
          {"device", device.device}, {"agent", {{"version", "t"}, {"hostname", "h"}, {"os", "o"}}}};
      co_await ws.async_write(asio::buffer(hello.dump()), asio::use_awaitable);
      beast::flat_buffer buffer;
      auto read_one = [&]() -> asio::awaitable<bool> {
        buffer.clear();
        auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        if (ec) {
          conversation.close_code = ws.reason().code;
          co_return false;
        }
        conversation.received.push_back(
            json::parse(beast::buffers_to_string(buffer.data()), nullptr, false));
        co_return true;
      };
      // welcome, inventory_request
      for (int i = 0; i < 2; ++i) {
        if (!co_await read_one()) co_return;
      }
      for (const auto& message : messages) {
        auto [ec, n] =
            co_await ws.async_write(asio::buffer(message), asio::as_tuple(asio::use_awaitable));
        if (ec) break;
      }
      const auto before = conversation.received.size();
      while (conversation.received.size() < before + expected) {
        if (!co_await read_one()) co_return;
      }
      co_await ws.async_close(beast::websocket::close_code::normal,
                              asio::as_tuple(asio::use_awaitable));
    };
    auto done = asio::co_spawn(io, client(), asio::use_future);
    io.run();
    done.get();
    return conversation;
  }

  static std::string report(const std::string& device, const json& sections, bool full = true,
                            const std::string& id = "r1") {
    protocol::InventoryReport message;
    message.id = id;
    message.device = device;
    message.collected_at = "2026-11-30T09:00:00Z";
    message.full = full;
    for (const auto& [name, content] : sections.items()) {
      message.hashes[name] = protocol::inventory_section_hash(content);
      message.sections[name] = content;
    }
    message.live = {{"findings", json::array()}};
    return protocol::encode(message);
  }

  /// Rows of `query` (one text column) from the relay's database.
  std::vector<std::string> rows(const std::string& query) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((data_ / "tether.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, query.c_str(), -1, &stmt, nullptr), SQLITE_OK) << query;
    std::vector<std::string> out;
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      const auto* text = sqlite3_column_text(stmt, 0);
      out.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return out;
  }
};

const json kLaptop =
    identity_of("4c4c4544-0042-3510-8052-b4c04f4e3432", "5CG1234XYZ", "3c:52:82:1a:2b:3c");
const json kDesktop =
    identity_of("6b1f0c3a-2d4e-4f5a-8b9c-0d1e2f3a4b5c", "8CC2031ABC", "a4:bb:6d:10:20:30");

json software(int packages) {
  json list = json::array();
  for (int i = 0; i < packages; ++i) {
    list.push_back(
        {{"name", "package-" + std::to_string(i)}, {"version", "1.0-" + std::to_string(i)}});
  }
  return {{"manager", "dpkg"}, {"packages", list}};
}

TEST_F(InventoryHostile, ADeviceCannotReportAnotherDevicesInventory) {
  const auto laptop = enroll(kLaptop);
  const auto desktop = enroll(kDesktop);
  ASSERT_EQ(desktop.device, "D-2");
  // D-2's connection claiming to report for D-1.
  auto claimed = converse(desktop, {report("D-1", {{"memory", {{"total_bytes", 1}}}})}, 1);
  ASSERT_EQ(claimed.received.size(), 3u);
  EXPECT_EQ(claimed.received[2]["type"], "error");
  EXPECT_EQ(claimed.received[2]["code"], "forbidden");
  EXPECT_EQ(claimed.received[2]["message"],
            "this connection is D-2's; it cannot report D-1's inventory");
  // D-2 sending D-1's machine as its own: the identity section describes the laptop.
  auto copied = converse(desktop, {report("D-2", {{"identity", identity_section(kLaptop)}})}, 1);
  ASSERT_EQ(copied.received.size(), 3u);
  EXPECT_EQ(copied.received[2]["code"], "forbidden");
  EXPECT_TRUE(copied.received[2]["message"].get<std::string>().starts_with(
      "the inventory describes the machine enrolled as D-1"))
      << copied.received[2].dump();
  EXPECT_TRUE(rows("SELECT name FROM inventory_sections").empty());
  // Its own machine is fine.
  auto own = converse(desktop, {report("D-2", {{"identity", identity_section(kDesktop)}})}, 1);
  ASSERT_EQ(own.received.size(), 3u);
  EXPECT_EQ(own.received[2]["type"], "inventory_ack") << own.received[2].dump();
  EXPECT_EQ(rows("SELECT device_id || ':' || name FROM inventory_sections"),
            std::vector<std::string>{"2:identity"});
  (void)laptop;
}

TEST_F(InventoryHostile, MalformedReportsAreRefusedAndStoreNothing) {
  const auto laptop = enroll(kLaptop);
  // A section that is not what its hash says.
  auto tampered = json::parse(report("D-1", {{"memory", {{"total_bytes", 8}}}}));
  tampered["sections"]["memory"]["total_bytes"] = 16;
  auto answer = converse(laptop, {tampered.dump()}, 1);
  ASSERT_EQ(answer.received.size(), 3u);
  EXPECT_EQ(answer.received[2]["code"], "bad_message");
  EXPECT_EQ(answer.received[2]["message"], "section \"memory\" does not match its hash");
  // A delta against sections the relay never stored: refused, and a full report is asked for.
  auto delta = json::parse(report("D-1", json::object(), false));
  delta["hashes"]["software"] = protocol::inventory_section_hash(software(3));
  answer = converse(laptop, {delta.dump()}, 2);
  ASSERT_EQ(answer.received.size(), 4u);
  EXPECT_EQ(answer.received[2]["type"], "error");
  EXPECT_EQ(answer.received[3]["type"], "inventory_request");
  EXPECT_EQ(answer.received[3]["full"], true);
  // Not JSON at all: the connection is closed with the reason.
  answer = converse(laptop, {"{\"type\":\"inventory_report\", oops"}, 1);
  ASSERT_GE(answer.received.size(), 3u);
  EXPECT_EQ(answer.received[2]["code"], "bad_json");
  EXPECT_TRUE(rows("SELECT name FROM inventory_sections").empty());
  EXPECT_TRUE(rows("SELECT device_id FROM inventories").empty());
}

TEST_F(InventoryHostile, AnEnormousReportIsRefusedAndALongOneIsCutWithANote) {
  const auto laptop = enroll(kLaptop);
  // Over the 4 MiB message limit: refused with message_too_large, nothing kept.
  const json huge = {{"blob", std::string(5 << 20, 'x')}};
  auto answer = converse(laptop, {report("D-1", {{"software", huge}})}, 1);
  // The relay stops reading at the limit and drops the connection (a WebSocket close "message
  // too big" that a peer still writing may not get to read); the agent itself never sends
  // more than the limit (it leaves its largest sections out and says so).
  ASSERT_LE(answer.received.size(), 3u);
  if (answer.received.size() == 3u) EXPECT_EQ(answer.received[2]["code"], "message_too_large");
  EXPECT_NE(relay_->err().find("device D-1 (h) disconnected"), std::string::npos);
  EXPECT_TRUE(rows("SELECT name FROM inventory_sections").empty());
  // Under the limit but with more packages than the relay keeps: stored, cut, and said so.
  answer = converse(laptop, {report("D-1", {{"software", software(25000)}})}, 1);
  ASSERT_EQ(answer.received.size(), 3u);
  EXPECT_EQ(answer.received[2]["type"], "inventory_ack") << answer.received[2].dump();
  const auto live = json::parse(rows("SELECT live FROM inventories").at(0));
  EXPECT_EQ(live["relay_notes"],
            json::array({"software.packages: 25000 items, kept the first 20000"}));
  const auto stored = json::parse(rows("SELECT content FROM inventory_sections").at(0));
  EXPECT_EQ(stored["packages"].size(), 20000u);
}

TEST_F(InventoryHostile, MarkupIsKeptAsTextAndComesBackEscaped) {
  const auto laptop = enroll(kLaptop);
  const std::string markup = "<script>alert('x')</script>\x1b[2J=cmd|' /C calc'!A0";
  auto answer =
      converse(laptop, {report("D-1", {{"firmware", {{"system", {{"product", markup}}}}}})}, 1);
  ASSERT_EQ(answer.received.size(), 3u);
  EXPECT_EQ(answer.received[2]["type"], "inventory_ack");
  login();
  // The export returns it as a JSON string ...
  auto shown = console({"inventory", "export", "--format", "json"});
  ASSERT_EQ(shown.status, 0) << shown.err;
  // ... with control characters made spaces.
  const auto exported = json::parse(shown.out);
  EXPECT_EQ(exported.at(0)["model"], "<script>alert('x')</script> [2J=cmd|' /C calc'!A0");
  // ... the CSV cell cannot start a formula, and the terminal never gets the escape byte.
  auto csv = console({"inventory", "export", "--format", "csv"});
  ASSERT_EQ(csv.status, 0) << csv.err;
  EXPECT_EQ(csv.out.find('\x1b'), std::string::npos);
  EXPECT_NE(csv.out.find("<script>alert('x')</script>"), std::string::npos) << csv.out;
  auto listed = console({"inventory", "query", "id=D-1"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_EQ(listed.out.find('\x1b'), std::string::npos) << listed.out;
}

TEST_F(InventoryHostile, ARelayKilledWhileStoringKeepsAWholeReportOrNone) {
  const auto laptop = enroll(kLaptop);
  json sections = json::object();
  for (int i = 0; i < 12; ++i) sections["s" + std::to_string(i)] = software(400);
  const auto message = report("D-1", sections);
  for (int attempt = 0; attempt < 4; ++attempt) {
    // Send the report and kill the relay without waiting for its answer: the write may not
    // have started, be under way, or be done.
    std::thread sender([&]() {
      try {
        converse(laptop, {message}, 0);
      } catch (const std::exception&) {
        // The relay may be gone before the connection is made: that is one of the moments.
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(40 * attempt));  // Varies the moment.
    const auto address = address_;
    relay_->signal(SIGKILL);
    relay_->wait(10s);
    relay_.reset();
    sender.join();
    const auto stored = rows("SELECT name FROM inventory_sections");
    const auto reports = rows("SELECT reports FROM inventories");
    EXPECT_TRUE(stored.empty() || stored.size() == 12u)
        << "attempt " << attempt << ": " << stored.size() << " sections";
    EXPECT_EQ(reports.empty(), stored.empty());
    start_relay(address);
  }
  // Whatever was kept, the next report is answered by what the relay holds: a delta on the
  // full set is accepted only if all of it was stored, else a full report is asked for.
  auto delta = json::parse(message);
  delta["full"] = false;
  delta["sections"] = json::object();
  auto answer = converse(laptop, {delta.dump()}, 1);
  ASSERT_EQ(answer.received.size(), 3u);
  const bool kept = rows("SELECT name FROM inventory_sections").size() == 12u;
  EXPECT_EQ(answer.received[2]["type"], kept ? "inventory_ack" : "error")
      << answer.received[2].dump();
  // And the full report always lands.
  answer = converse(laptop, {message}, 1);
  ASSERT_EQ(answer.received.size(), 3u);
  EXPECT_EQ(answer.received[2]["type"], "inventory_ack");
  EXPECT_EQ(rows("SELECT name FROM inventory_sections").size(), 12u);
}

}  // namespace
}  // namespace tether::testing
