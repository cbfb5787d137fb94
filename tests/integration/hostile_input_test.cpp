// Bad input the relay, the agent and the console must survive, each against real processes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include "relay_fixture.hpp"
#include "tether/protocol/client_stream.hpp"

namespace tether::testing {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using json = nlohmann::json;

/// A raw TCP socket to the relay, for clients that do not speak TLS or stop half-way.
class RawSocket {
 public:
  explicit RawSocket(const std::string& address) {
    const auto colon = address.rfind(':');
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(std::stoi(address.substr(colon + 1))));
    inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawSocket() { close(fd_); }
  bool connected() const { return connected_; }
  void send(const std::string& bytes) { ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL); }
  /// Reads until the peer closes (or 10 s pass); returns what arrived and whether it closed.
  std::pair<std::string, bool> read_until_closed() {
    std::string data;
    char buffer[4096];
    for (;;) {
      const ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n == 0) return {data, true};
      if (n < 0) return {data, false};
      data.append(buffer, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

/// What a hostile WebSocket client saw: the relay's error message and close code.
struct WsOutcome {
  std::string error_code;
  unsigned close_code = 0;
  bool write_cut_off = false;  // The relay closed while the payload was still being sent.
};

WsOutcome send_raw_agent_message(const std::string& address, const std::string& fingerprint,
                                 const std::string& payload, bool send_hello_first = false) {
  asio::io_context io;
  auto trust = protocol::TrustAnchor::from_fingerprint(fingerprint).value();
  auto tls = protocol::make_client_context(trust);
  WsOutcome outcome;
  auto client = [&]() -> asio::awaitable<void> {
    protocol::WsStream ws(io, tls);
    co_await protocol::connect_agent_websocket(
        ws, protocol::RelayUrl::parse("wss://" + address).value(), std::chrono::seconds(10));
    ws.write_buffer_bytes(8192);
    if (send_hello_first) {
      const std::string hello = R"({"type":"hello","version":1,"role":"agent","mode":"attended",)"
                                R"("agent":{"version":"t","hostname":"h","os":"o"}})";
      co_await ws.async_write(asio::buffer(hello), asio::use_awaitable);
      beast::flat_buffer welcome;
      co_await ws.async_read(welcome, asio::use_awaitable);
    }
    auto [write_ec, written] =
        co_await ws.async_write(asio::buffer(payload), asio::as_tuple(asio::use_awaitable));
    if (write_ec) {
      outcome.write_cut_off = true;
      co_return;
    }
    beast::flat_buffer buffer;
    for (;;) {
      buffer.clear();
      auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
      if (ec) break;
      auto message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
      if (message.is_object() && message.value("type", "") == "error") {
        outcome.error_code = message.value("code", "");
      }
    }
    outcome.close_code = ws.reason().code;
  };
  auto done = asio::co_spawn(io, client(), asio::use_future);
  io.run();
  done.get();
  return outcome;
}

class HostileInput : public RelayFixture {};

TEST_F(HostileInput, WrongFingerprintIsRefusedByAgentAndConsole) {
  start_relay();
  const std::string wrong = "SHA256:" + std::string(64, 'a');
  auto agent = run({TETHER_AGENT_BIN, "support", "--relay", "wss://" + address_, "--fingerprint",
                    wrong, "--consent", "auto"});
  EXPECT_EQ(agent.status, 3) << agent.out << agent.err;
  EXPECT_NE(agent.out.find("not the one you were told to trust"), std::string::npos) << agent.out;

  auto login = console({"login", "--relay", "https://" + address_, "--fingerprint", wrong, "--user",
                        "admin", "--password-file", (dir_ / "admin-password").string()});
  EXPECT_EQ(login.status, 3);
  EXPECT_NE(login.err.find("did not match"), std::string::npos) << login.err;
}

TEST_F(HostileInput, AnotherRelaysCaIsRefused) {
  start_relay();
  auto other = run({TETHER_RELAY_BIN, "init", "--data", (dir_ / "other").string()});
  ASSERT_EQ(other.status, 0);
  const auto foreign_ca = (dir_ / "other" / "ca.pem").string();
  auto login = console({"login", "--relay", "https://" + address_, "--ca", foreign_ca, "--user",
                        "admin", "--password-file", (dir_ / "admin-password").string()});
  EXPECT_EQ(login.status, 3) << login.err;
  // The relay's own CA file works.
  auto good =
      console({"login", "--relay", "https://" + address_, "--ca", (data_ / "ca.pem").string(),
               "--user", "admin", "--password-file", (dir_ / "admin-password").string()});
  EXPECT_EQ(good.status, 0) << good.err;
}

TEST_F(HostileInput, NoTrustAnchorMeansNoConnection) {
  start_relay();
  auto agent = run({TETHER_AGENT_BIN, "support", "--relay", "wss://" + address_});
  EXPECT_EQ(agent.status, 2);
  EXPECT_NE(agent.err.find("never connects to an unverified relay"), std::string::npos);
  auto plain = run(
      {TETHER_AGENT_BIN, "support", "--relay", "ws://" + address_, "--fingerprint", fingerprint_});
  EXPECT_EQ(plain.status, 2);
  EXPECT_NE(plain.err.find("TLS only"), std::string::npos) << plain.err;
}

TEST_F(HostileInput, PlainHttpIsRejectedAndTheRelayKeepsServing) {
  start_relay();
  {
    RawSocket socket(address_);
    ASSERT_TRUE(socket.connected());
    socket.send("GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n");
    auto [reply, closed] = socket.read_until_closed();
    EXPECT_TRUE(closed);
    EXPECT_NE(reply.find("400 Bad Request"), std::string::npos) << reply;
    EXPECT_NE(reply.find("TLS only"), std::string::npos) << reply;
  }
  {
    RawSocket garbage(address_);
    garbage.send(std::string("\x16\x03\x01\x00\x05garbagegarbage", 19));
    auto [reply, closed] = garbage.read_until_closed();
    EXPECT_TRUE(closed);
  }
  login();
}

TEST_F(HostileInput, ClientsThatNeverFinishTheirHandshakeAreClosed) {
  configure({{"handshake_timeout_ms", 300}});
  start_relay();
  RawSocket silent(address_);
  ASSERT_TRUE(silent.connected());
  auto [nothing, closed] = silent.read_until_closed();
  EXPECT_TRUE(closed) << "a silent TCP client must be closed after the handshake timeout";

  // TLS completes, then half a WebSocket upgrade request, then silence.
  asio::io_context io;
  auto tls =
      protocol::make_client_context(protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
  bool closed_by_relay = false;
  auto client = [&]() -> asio::awaitable<void> {
    protocol::TlsStream stream(io, tls);
    co_await protocol::connect_tls(stream, protocol::RelayUrl::parse("wss://" + address_).value(),
                                   std::chrono::seconds(10));
    const std::string partial =
        "GET /agent/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";
    co_await asio::async_write(stream, asio::buffer(partial), asio::use_awaitable);
    char byte;
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(&byte, 1),
                                                   asio::as_tuple(asio::use_awaitable));
    closed_by_relay = ec && ec != beast::error::timeout;
  };
  auto done = asio::co_spawn(io, client(), asio::use_future);
  io.run();
  done.get();
  EXPECT_TRUE(closed_by_relay);
  login();
}

TEST_F(HostileInput, MalformedAgentMessagesCloseOnlyThatPeer) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Survivor"});
  std::string code;
  auto survivor = start_agent("auto", code);

  struct Case {
    std::string payload;
    bool after_hello;
    std::string expected;
  };
  const std::vector<Case> cases{
      {"this is not json", false, "bad_json"},
      {R"({"type":"hello","version":1})", false, "bad_message"},
      {R"({"type":"teleport","x":1})", false, "unknown_type"},
      {R"({"type":"hello","version":99,"role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"o"}})",
       false, "unsupported_version"},
      {R"({"type":"diag_request","id":"1","session":"S-1"})", false, "unexpected_message"},
      {"[1,2,3]", true, "bad_message"},
      {R"({"type":"welcome","version":1,"support_code":"123456789","expires_at":"2026-01-01T00:00:00Z","resumed":false})",
       true, "unexpected_message"},
  };
  for (const auto& c : cases) {
    auto outcome = send_raw_agent_message(address_, fingerprint_, c.payload, c.after_hello);
    EXPECT_EQ(outcome.error_code, c.expected) << c.payload.substr(0, 80);
    EXPECT_EQ(outcome.close_code, protocol::close_code(protocol::error_from_string(c.expected)))
        << c.payload.substr(0, 80);
  }
  // A message over the limit is not read at all: the WebSocket layer closes with the
  // standard 1009 "message too big" (protocol/SPEC.md, limits).
  auto oversized =
      send_raw_agent_message(address_, fingerprint_, std::string(5 * 1024 * 1024, 'x'), true);
  // The relay stops reading at the limit and closes; a client still sending the rest may see
  // its connection reset before the close frame, which is the same refusal.
  EXPECT_TRUE(oversized.close_code == 1009u || oversized.write_cut_off)
      << "close code " << oversized.close_code;

  // The well-behaved agent's session is unaffected.
  auto session = console_json({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(session.at("status"), "active");
  EXPECT_TRUE(console_json({"diag", "S-1"}).at("snapshot").contains("system"));
}

TEST_F(HostileInput, ClientThatDisconnectsMidMessageDoesNotHurtTheRelay) {
  start_relay();
  asio::io_context io;
  auto tls =
      protocol::make_client_context(protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
  auto client = [&]() -> asio::awaitable<void> {
    protocol::WsStream ws(io, tls);
    co_await protocol::connect_agent_websocket(
        ws, protocol::RelayUrl::parse("wss://" + address_).value(), std::chrono::seconds(10));
    // A masked text frame header announcing 1000 bytes, then only 10 of them, then gone.
    std::string frame = "\x81\xfe\x03\xe8";
    frame += std::string("\x01\x02\x03\x04", 4);
    frame += std::string(10, 'a');
    co_await asio::async_write(ws.next_layer(), asio::buffer(frame), asio::use_awaitable);
    beast::get_lowest_layer(ws).close();
  };
  auto done = asio::co_spawn(io, client(), asio::use_future);
  io.run();
  done.get();
  login();
  EXPECT_EQ(console_json({"ticket", "list"}).size(), 0u);
}

TEST_F(HostileInput, BadCredentialsGetAClear401) {
  start_relay();
  std::ofstream(dir_ / "wrong-password") << "not the password\n";
  auto wrong = console({"login", "--relay", "https://" + address_, "--fingerprint", fingerprint_,
                        "--user", "admin", "--password-file", (dir_ / "wrong-password").string()});
  EXPECT_EQ(wrong.status, 1);
  EXPECT_NE(wrong.err.find("wrong user name or password"), std::string::npos) << wrong.err;

  auto not_logged_in = console({"ticket", "list"});
  EXPECT_EQ(not_logged_in.status, 1);
  EXPECT_NE(not_logged_in.err.find("not logged in"), std::string::npos) << not_logged_in.err;

  protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                             protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
  for (const std::string token : {"", "forged-token-value"}) {
    auto response = http.request(beast::http::verb::get, "/api/v1/tickets", std::nullopt, token,
                                 std::chrono::seconds(10));
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 401);
    EXPECT_EQ(json::parse(response->body).at("error").at("code"), "unauthorized");
  }

  // A forged token in the saved credentials.
  login();
  auto saved = json::parse(std::ifstream(dir_ / "console" / "credentials.json"));
  saved["token"] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
  std::ofstream(dir_ / "console" / "credentials.json") << saved.dump();
  auto forged = console({"ticket", "list"});
  EXPECT_EQ(forged.status, 1);
  EXPECT_NE(forged.err.find("invalid or expired"), std::string::npos) << forged.err;
}

TEST_F(HostileInput, WrongUsedAndMalformedSupportCodes) {
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Codes"});
  auto malformed = console({"session", "join", "12345", "--ticket", "T-1"});
  EXPECT_EQ(malformed.status, 1);
  EXPECT_NE(malformed.err.find("code_invalid"), std::string::npos) << malformed.err;

  std::string code;
  auto agent = start_agent("auto", code);
  // Same digits with the last two swapped: the check digit catches it.
  std::string swapped = code;
  std::swap(swapped[7], swapped[8]);
  if (swapped != code) {
    auto typo = console({"session", "join", swapped, "--ticket", "T-1"});
    EXPECT_NE(typo.err.find("code_invalid"), std::string::npos) << typo.err;
  }
  auto missing_ticket = console({"session", "join", code, "--ticket", "T-99"});
  EXPECT_NE(missing_ticket.err.find("no such ticket"), std::string::npos) << missing_ticket.err;

  console_json({"session", "join", code, "--ticket", "T-1"});
  auto reused = console({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(reused.status, 1);
  EXPECT_NE(reused.err.find("code_used"), std::string::npos) << reused.err;
}

TEST_F(HostileInput, ExpiredCodeIsRefusedAndTheAgentIsTold) {
  configure({{"support_code_ttl_seconds", 1}});
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Expiry"});
  std::string code;
  auto agent = start_agent("auto", code);
  ASSERT_TRUE(agent->wait_for_line("expired", 20s)) << agent->out();
  EXPECT_EQ(agent->wait(10s), 1);
  auto join = console({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(join.status, 1);
  EXPECT_NE(join.err.find("code_expired"), std::string::npos) << join.err;
}

TEST_F(HostileInput, GuessingSupportCodesIsRateLimited) {
  configure({{"join_failure_limit", 3}});
  start_relay();
  login();
  console_json({"ticket", "new", "--title", "Guessing"});
  std::string code;
  auto agent = start_agent("auto", code);
  // Valid-looking codes that no agent holds (check digit right, digits wrong).
  int failures = 0;
  for (const char* guess : {"000000000", "111111111", "222222222", "333333333", "444444444"}) {
    auto attempt = console({"session", "join", guess, "--ticket", "T-1"});
    if (attempt.status != 0) ++failures;
  }
  EXPECT_EQ(failures, 5);
  auto blocked = console({"session", "join", code, "--ticket", "T-1"});
  EXPECT_EQ(blocked.status, 1);
  EXPECT_NE(blocked.err.find("rate_limited"), std::string::npos) << blocked.err;
}

}  // namespace
}  // namespace tether::testing
