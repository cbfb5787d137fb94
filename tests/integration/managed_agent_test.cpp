// Managed agents end to end: `tether-agent service` over mutual TLS to a real relay, presence
// (online, last seen), reconnecting after the relay is killed, and the certificates the relay
// must refuse: none, another CA's, a device revoked, one no longer current, another device's
// identity claimed in the hello. Then what the service does for the relay: inventory reports
// (a delta on the next connection), unattended sessions as the group's consent policy says,
// and renewing its certificate.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

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
#include "tether/protocol/error.hpp"

namespace tether::testing {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
namespace beast = boost::beast;
using json = nlohmann::json;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string pem_of(X509* cert) {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(EVP_PKEY* key) {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

/// A certificate for `subject_cn` (with URI:urn:tether:device:<cn>) signed by `issuer_key`
/// (self-signed when `issuer` is null).
CertPtr make_certificate(const std::string& subject_cn, EVP_PKEY* key, X509* issuer,
                         EVP_PKEY* issuer_key, bool ca, long not_after_seconds = 3600) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -7200);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), not_after_seconds);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(subject_cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  };
  if (ca) {
    add(NID_basic_constraints, "critical,CA:TRUE");
    add(NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    add(NID_basic_constraints, "critical,CA:FALSE");
    add(NID_ext_key_usage, "clientAuth");
    add(NID_subject_alt_name, "URI:urn:tether:device:" + subject_cn);
  }
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write(const fs::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
  fs::permissions(file, fs::perms::owner_read | fs::perms::owner_write);
}

/// What the relay answered a managed hello sent over a raw WebSocket.
struct Answer {
  std::string type;     ///< "welcome" or "error"
  std::string code;     ///< The error's code.
  std::string message;  ///< The error's message.
  unsigned close_code = 0;
};

class ManagedAgent : public RelayFixture {
 protected:
  std::string create_token() {
    auto result = run({TETHER_RELAY_BIN, "token", "create", "--data", data_.string(), "--json"});
    EXPECT_EQ(result.status, 0) << result.err;
    const auto out = json::parse(result.out, nullptr, false);
    return out.is_object() ? out.value("token", "") : "";
  }

  /// Enrolls a state directory under the test dir; returns its path.
  fs::path enroll(const std::string& name) {
    const auto state = dir_ / name;
    // Each name a machine of its own, whatever this host's ids (the relay would otherwise
    // re-enroll the same machine as the same device).
    auto result = run({TETHER_AGENT_BIN, "enroll", "--relay", "wss://" + address_, "--fingerprint",
                       fingerprint_, "--token", create_token(), "--state-dir", state.string(),
                       "--root", machine_root(dir_, name).string()});
    EXPECT_EQ(result.status, 0) << result.err;
    return state;
  }

  /// `tether-agent service` on `state` with `extra` arguments, its log (stderr) read as its
  /// output lines.
  std::unique_ptr<Process> start_service(const fs::path& state,
                                         const std::vector<std::string>& extra = {}) {
    std::string command = std::string("exec '") + TETHER_AGENT_BIN +
                          "' service --max-retry-delay-ms 2000 --state-dir '" + state.string() +
                          "'";
    for (const auto& arg : extra) command += " '" + arg + "'";
    command += " 2>&1";
    return std::make_unique<Process>(std::vector<std::string>{"/bin/sh", "-c", command});
  }

  /// A REST call as the admin: the status and the parsed body (null when it is not JSON).
  std::pair<unsigned, json> api(beast::http::verb verb, const std::string& target,
                                std::optional<json> body = std::nullopt) {
    protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                               protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    if (token_.empty()) {
      auto login = http.request(beast::http::verb::post, "/api/v1/login",
                                json{{"user", "admin"}, {"password", kAdminPassword}}.dump(), "",
                                std::chrono::seconds(10));
      EXPECT_TRUE(login && login->status == 200);
      if (!login || login->status != 200) return {0, nullptr};
      token_ = json::parse(login->body).value("token", "");
    }
    auto response = http.request(verb, target, body ? std::optional(body->dump()) : std::nullopt,
                                 token_, std::chrono::seconds(60));
    EXPECT_TRUE(response) << target << ": " << response.error().message();
    if (!response) return {0, nullptr};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  /// The device's stored inventory, waiting (with a deadline) until it has `reports` reports.
  json inventory_after(const std::string& device, std::int64_t reports) {
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    for (;;) {
      auto [status, body] = api(beast::http::verb::get, "/api/v1/devices/" + device + "/inventory");
      if (status == 200 && body.value("reports", std::int64_t{0}) >= reports) return body;
      if (std::chrono::steady_clock::now() > deadline) {
        ADD_FAILURE() << "no inventory with " << reports << " reports: " << status << " "
                      << body.dump();
        return body;
      }
      std::this_thread::sleep_for(100ms);  // Polling interval, not synchronisation.
    }
  }

  /// A utmp file holding login records of `users` (none: an empty file), as login(1) writes it.
  fs::path utmp_with(const std::string& name, const std::vector<std::string>& users) {
    const auto file = dir_ / name;
    std::ofstream(file).flush();
    EXPECT_EQ(utmpxname(file.c_str()), 0);
    setutxent();
    int n = 0;
    for (const auto& user : users) {
      utmpx entry{};
      entry.ut_type = USER_PROCESS;
      entry.ut_pid = getpid();
      const auto line = "pts/" + std::to_string(n++);
      std::strncpy(entry.ut_line, line.c_str(), sizeof entry.ut_line);
      std::strncpy(entry.ut_id, line.c_str() + 4, sizeof entry.ut_id);
      std::strncpy(entry.ut_user, user.c_str(), sizeof entry.ut_user);
      EXPECT_NE(pututxline(&entry), nullptr);
    }
    endutxent();
    return file;
  }

  /// "inventory: sent N of M sections (...)": N and M.
  static std::pair<int, int> sent_of(const std::string& line) {
    std::smatch match;
    if (!std::regex_search(line, match, std::regex("sent (\\d+) of (\\d+) sections"))) {
      ADD_FAILURE() << line;
      return {-1, -1};
    }
    return {std::stoi(match[1]), std::stoi(match[2])};
  }

  /// relay.json "groups" letting every device (no group, "default", any other) be joined
  /// unattended with `consent`.
  static json unattended_policy(const std::string& consent) {
    const json policy = {{"unattended", true}, {"consent", consent}};
    return {{"", policy}, {"default", policy}, {"*", policy}};
  }

  std::string token_;

  /// devices.last_seen_at of `id` (seconds since the epoch), or -1 while it is NULL.
  std::int64_t last_seen(std::int64_t id) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((data_ / "tether.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT last_seen_at FROM devices WHERE id = ?", -1, &stmt, nullptr);
    sqlite3_bind_int64(stmt, 1, id);
    std::int64_t seen = -2;
    if (sqlite3_step(stmt) == SQLITE_ROW) {
      seen = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return seen;
  }

  /// Connects to the managed endpoint with `certificate_pem`/`key_pem` (none when empty),
  /// sends a managed hello claiming `device`, and returns the relay's answer.
  Answer raw_hello(const std::string& device, const std::string& certificate_pem = {},
                   const std::string& key_pem = {},
                   std::string_view path = protocol::kManagedAgentPath) {
    asio::io_context io;
    auto tls = protocol::make_client_context(
        protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    if (!certificate_pem.empty()) {
      tls.use_certificate_chain(asio::buffer(certificate_pem));
      tls.use_private_key(asio::buffer(key_pem), asio::ssl::context::pem);
    }
    Answer answer;
    auto client = [&]() -> asio::awaitable<void> {
      protocol::WsStream ws(io, tls);
      co_await protocol::connect_agent_websocket(
          ws, protocol::RelayUrl::parse("wss://" + address_).value(), std::chrono::seconds(10),
          path);
      const auto hello =
          json{{"type", "hello"},  {"version", 1},
               {"role", "agent"},  {"mode", "managed"},
               {"device", device}, {"agent", {{"version", "t"}, {"hostname", "h"}, {"os", "o"}}}};
      co_await ws.async_write(asio::buffer(hello.dump()), asio::use_awaitable);
      beast::flat_buffer buffer;
      for (;;) {
        buffer.clear();
        auto [ec, n] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        auto message = json::parse(beast::buffers_to_string(buffer.data()), nullptr, false);
        if (!message.is_object()) continue;
        answer.type = message.value("type", "");
        answer.code = message.value("code", "");
        answer.message = message.value("message", "");
        if (answer.type == "welcome") {
          co_await ws.async_close(beast::websocket::close_code::normal, asio::use_awaitable);
          co_return;
        }
      }
      answer.close_code = ws.reason().code;
    };
    auto done = asio::co_spawn(io, client(), asio::use_future);
    io.run();
    done.get();
    return answer;
  }
};

TEST_F(ManagedAgent, TheServiceConnectsStaysAndRecordsWhenTheDeviceWasLastSeen) {
  start_relay();
  const auto state = enroll("pc-1");
  EXPECT_EQ(last_seen(1), -1);
  auto service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("connected to relay " + address_ + " as D-1"))
      << service->out() << relay_->err();
  // Connecting recorded last_seen_at (written within the relay's one-second batch).
  const auto written_by = std::chrono::steady_clock::now() + 10s;
  while (last_seen(1) <= 0 && std::chrono::steady_clock::now() < written_by) {
    std::this_thread::sleep_for(50ms);  // Polling interval, not synchronisation.
  }
  const auto connected_at = last_seen(1);
  EXPECT_GT(connected_at, 0);

  // A newer connection of the same device replaces the older one, which reconnects.
  EXPECT_EQ(raw_hello("D-1", read(state / "device.pem"), read(state / "device.key")).type,
            "welcome");
  EXPECT_TRUE(service->wait_for_line(
      "the relay refused D-1: conflict: replaced by a newer connection of the device"))
      << service->out();
  EXPECT_TRUE(service->wait_for_line("connected to relay " + address_ + " as D-1"))
      << service->out();

  service->signal(SIGTERM);
  EXPECT_EQ(service->wait(10s), 0) << service->out();
  EXPECT_NE(service->out().find("SIGTERM; stopping"), std::string::npos) << service->out();
  // The relay records the disconnection as it sees the close.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (relay_->err().find("device D-1 (") == std::string::npos ||
         relay_->err().find(") disconnected") == std::string::npos) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << relay_->err();
    relay_->wait(50ms);
  }
  // And the disconnection, by the next batch at the latest.
  const auto disconnected_by = std::chrono::steady_clock::now() + 10s;
  while (last_seen(1) <= connected_at && std::chrono::steady_clock::now() < disconnected_by) {
    std::this_thread::sleep_for(50ms);  // Polling interval, not synchronisation.
  }
  EXPECT_GT(last_seen(1), connected_at);
}

TEST_F(ManagedAgent, TechniciansSeeWhoIsOnlineAndRevokingDisconnectsAtOnce) {
  start_relay();
  login();
  const auto state = enroll("pc-1");
  enroll("pc-2");
  auto devices = console_json({"devices"}).at("devices");
  ASSERT_EQ(devices.size(), 2u) << devices;
  EXPECT_EQ(devices[0].at("online"), false);
  EXPECT_TRUE(devices[0].at("last_seen").is_null());

  auto service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  devices = console_json({"devices", "--online"}).at("devices");
  ASSERT_EQ(devices.size(), 1u) << devices;
  EXPECT_EQ(devices[0].at("id"), "D-1");
  EXPECT_EQ(devices[0].at("status"), "active");
  EXPECT_TRUE(devices[0].at("last_seen").is_string());
  EXPECT_TRUE(devices[0].at("certificate_not_after").is_string());
  devices = console_json({"devices", "--offline"}).at("devices");
  ASSERT_EQ(devices.size(), 1u) << devices;
  EXPECT_EQ(devices[0].at("id"), "D-2");
  EXPECT_EQ(console_json({"devices", "--group", "no-such-group"}).at("devices").size(), 0u);
  EXPECT_EQ(console_json({"devices", "--search", "D-2"}).at("devices").size(), 1u);
  auto text = console({"devices"});
  EXPECT_NE(text.out.find("D-1  "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("online"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("offline, last seen never"), std::string::npos) << text.out;

  // Killed without a word: the relay notices the connection end and records it.
  service->signal(SIGKILL);
  service->wait(10s);
  const auto deadline = std::chrono::steady_clock::now() + 70s;
  for (;;) {
    auto shown = console_json({"device", "show", "D-1"});
    if (shown.at("online") == false) {
      EXPECT_TRUE(shown.at("last_seen").is_string()) << shown;
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << shown;
  }

  // Revoking a connected device disconnects it at once; it cannot come back.
  service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  auto missing_reason = console({"device", "revoke", "D-1"});
  EXPECT_NE(missing_reason.status, 0);
  auto revoked = console({"device", "revoke", "D-1", "--reason", "laptop stolen"});
  ASSERT_EQ(revoked.status, 0) << revoked.err;
  EXPECT_NE(revoked.out.find("D-1 revoked and disconnected."), std::string::npos) << revoked.out;
  EXPECT_TRUE(service->wait_for_line("the relay refused D-1: forbidden: device D-1 is revoked"))
      << service->out();
  EXPECT_TRUE(service->wait_for_line("the relay refused D-1: forbidden: device D-1 is revoked"))
      << "the reconnection is refused too: " << service->out();
  auto shown = console_json({"device", "show", "D-1"});
  EXPECT_EQ(shown.at("status"), "revoked");
  EXPECT_EQ(shown.at("revoked_reason"), "laptop stolen");
  EXPECT_EQ(shown.at("online"), false);
  auto again = console({"device", "revoke", "D-1", "--reason", "twice"});
  EXPECT_NE(again.status, 0);
  EXPECT_NE(again.err.find("already revoked"), std::string::npos) << again.err;
}

TEST_F(ManagedAgent, TheServiceReconnectsByItselfAfterTheRelayIsKilled) {
  start_relay();
  const auto state = enroll("pc-1");
  auto service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  const auto address = address_;
  relay_->signal(SIGKILL);
  relay_->wait(10s);
  relay_.reset();
  ASSERT_TRUE(service->wait_for_line("retrying in")) << service->out();
  start_relay(address);
  ASSERT_EQ(address_, address);
  EXPECT_TRUE(service->wait_for_line("connected to relay " + address + " as D-1", 30s))
      << service->out();
  EXPECT_FALSE(service->wait(0ms).has_value());
}

TEST_F(ManagedAgent, ARevokedDeviceIsRefusedAndKeepsTrying) {
  start_relay();
  const auto state = enroll("pc-1");
  sql("UPDATE devices SET status = 'revoked', revoked_reason = 'stolen', revoked_at = 1 "
      "WHERE id = 1");
  auto service = start_service(state);
  EXPECT_TRUE(service->wait_for_line("the relay refused D-1: forbidden: device D-1 is revoked"))
      << service->out();
  // It keeps trying (a mistaken revocation is undone on the relay, not on every PC).
  EXPECT_TRUE(service->wait_for_line("retrying in")) << service->out();
  service->signal(SIGINT);
  EXPECT_EQ(service->wait(10s), 0);
  EXPECT_EQ(last_seen(1), -1);
}

TEST_F(ManagedAgent, TheManagedEndpointRefusesMissingForeignAndStaleCertificates) {
  start_relay();
  const auto state = enroll("pc-1");
  const auto certificate = read(state / "device.pem");
  const auto key = read(state / "device.key");

  // The real certificate and hello are welcome.
  auto good = raw_hello("D-1", certificate, key);
  EXPECT_EQ(good.type, "welcome") << good.message;

  // No certificate.
  auto none = raw_hello("D-1");
  EXPECT_EQ(none.code, "unauthorized");
  EXPECT_NE(none.message.find("no client certificate"), std::string::npos) << none.message;
  EXPECT_EQ(none.close_code, protocol::close_code(protocol::Error::unauthorized));

  // A certificate for D-1 from another CA.
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  KeyPtr leaf_key(EVP_EC_gen("P-256"));
  auto ca = make_certificate("Not Tether CA", ca_key.get(), nullptr, ca_key.get(), true);
  auto leaf = make_certificate("D-1", leaf_key.get(), ca.get(), ca_key.get(), false);
  auto foreign = raw_hello("D-1", pem_of(leaf.get()), pem_of(leaf_key.get()));
  EXPECT_EQ(foreign.code, "unauthorized");
  EXPECT_NE(foreign.message.find("not issued by this relay's CA"), std::string::npos)
      << foreign.message;
  EXPECT_EQ(foreign.close_code, protocol::close_code(protocol::Error::unauthorized));

  // A certificate for D-1 from the relay's own CA that expired an hour ago.
  {
    std::unique_ptr<FILE, decltype(&fclose)> f(fopen((data_ / "ca.key").c_str(), "r"), fclose);
    ASSERT_TRUE(f);
    KeyPtr relay_ca_key(PEM_read_PrivateKey(f.get(), nullptr, nullptr, nullptr));
    std::unique_ptr<FILE, decltype(&fclose)> g(fopen((data_ / "ca.pem").c_str(), "r"), fclose);
    ASSERT_TRUE(g);
    CertPtr relay_ca(PEM_read_X509(g.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(relay_ca_key && relay_ca);
    auto expired_cert =
        make_certificate("D-1", leaf_key.get(), relay_ca.get(), relay_ca_key.get(), false, -3600);
    auto expired = raw_hello("D-1", pem_of(expired_cert.get()), pem_of(leaf_key.get()));
    EXPECT_EQ(expired.code, "unauthorized");
    EXPECT_NE(expired.message.find("the client certificate has expired"), std::string::npos)
        << expired.message;
    // The same from the relay's CA but valid, for a device it was never issued to: not D-1's
    // current certificate.
    auto unissued_cert =
        make_certificate("D-1", leaf_key.get(), relay_ca.get(), relay_ca_key.get(), false);
    auto unissued = raw_hello("D-1", pem_of(unissued_cert.get()), pem_of(leaf_key.get()));
    EXPECT_EQ(unissued.code, "unauthorized");
    EXPECT_NE(unissued.message.find("not D-1's current certificate"), std::string::npos)
        << unissued.message;
  }

  // D-1's certificate with a hello claiming D-2 (which exists).
  enroll("pc-2");
  auto other = raw_hello("D-2", certificate, key);
  EXPECT_EQ(other.code, "forbidden");
  EXPECT_NE(other.message.find("the certificate is D-1's but the hello claims D-2"),
            std::string::npos)
      << other.message;

  // A malformed claim is not repeated back (nor into the log).
  auto injected = raw_hello("D-1\nforged log line", certificate, key);
  EXPECT_EQ(injected.code, "forbidden");
  EXPECT_NE(injected.message.find("the hello claims a malformed device id"), std::string::npos)
      << injected.message;
  EXPECT_EQ(relay_->err().find("forged log line"), std::string::npos);

  // A certificate that is no longer the device's current one.
  sql("UPDATE devices SET certificate_fingerprint = 'ab' WHERE id = 1");
  auto stale = raw_hello("D-1", certificate, key);
  EXPECT_EQ(stale.code, "unauthorized");
  EXPECT_NE(stale.message.find("not D-1's current certificate"), std::string::npos)
      << stale.message;

  // An unknown device.
  sql("DELETE FROM devices WHERE id = 1");
  auto unknown = raw_hello("D-1", certificate, key);
  EXPECT_EQ(unknown.code, "unauthorized");
  EXPECT_NE(unknown.message.find("unknown device D-1"), std::string::npos) << unknown.message;

  // Each refusal is logged with its reason.
  const auto log = relay_->err();
  EXPECT_NE(log.find("closing: unauthorized (no client certificate"), std::string::npos) << log;
  EXPECT_NE(log.find("(D-1): closing: forbidden (the certificate is D-1's"), std::string::npos)
      << log;
}

TEST_F(ManagedAgent, TheServiceOfADeviceClaimingAnotherIdentityIsRefused) {
  start_relay();
  const auto state = enroll("pc-1");
  enroll("pc-2");
  auto agent = json::parse(read(state / "agent.json"));
  agent["device"] = "D-2";
  write(state / "agent.json", agent.dump());
  auto service = start_service(state);
  EXPECT_TRUE(service->wait_for_line(
      "the relay refused D-2: forbidden: the certificate is D-1's but the hello claims D-2"))
      << service->out();
}

TEST_F(ManagedAgent, AttendedAgentsAndConsolesStillWorkWithoutACertificate) {
  start_relay();
  login();
  std::string code;
  auto agent = start_agent("auto", code);
  EXPECT_EQ(code.size(), 9u);
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Printer"}).value("id", ""), "T-1");
  // A managed hello on the attended endpoint is not taken for a support request.
  auto answer = raw_hello("D-1", {}, {}, protocol::kAgentPath);
  EXPECT_EQ(answer.code, "unexpected_message");
  EXPECT_NE(answer.message.find("managed agents connect on /agent/v1/managed"), std::string::npos)
      << answer.message;
}

TEST_F(ManagedAgent, TheServiceWithoutAnEnrollmentSaysSo) {
  auto result = run({TETHER_AGENT_BIN, "service", "--state-dir", (dir_ / "nothing").string()});
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find("holds no enrollment; run `tether-agent enroll` first"),
            std::string::npos)
      << result.err;
}

TEST_F(ManagedAgent, TheServiceReportsItsInventoryAndLaterOnlyWhatChanged) {
  start_relay();
  const auto state = enroll("pc-1");
  auto service = start_service(state, {"--inventory-interval", "3s"});
  const auto first = service->wait_for_line("inventory: sent ", 60s);
  ASSERT_TRUE(first) << service->out() << relay_->err();
  const auto [sent, total] = sent_of(*first);
  EXPECT_GT(total, 5);
  EXPECT_EQ(sent, total) << "the relay held nothing: " << *first;

  auto stored = inventory_after("D-1", 1);
  EXPECT_EQ(stored.value("device", ""), "D-1");
  ASSERT_TRUE(stored["sections"].is_object()) << stored.dump();
  EXPECT_EQ(static_cast<int>(stored["sections"].size()), total) << stored.dump();
  const auto& doc = stored["inventory"];
  EXPECT_TRUE(doc.contains("software")) << doc.dump().substr(0, 2000);
  // The live figures are merged back: the composed memory section has what is available now.
  EXPECT_TRUE(doc["memory"].contains("total_bytes")) << doc["memory"].dump();
  EXPECT_TRUE(doc["memory"].contains("available_bytes")) << doc["memory"].dump();
  EXPECT_TRUE(doc["findings"].is_array());

  // The scheduled report (3 s ± 10 %) is a delta against what the relay acknowledged.
  const auto scheduled = service->wait_for_line("sections (inv-", 30s);
  ASSERT_TRUE(scheduled) << service->out();
  EXPECT_LT(sent_of(*scheduled).first, total) << *scheduled;
  stored = inventory_after("D-1", 2);

  // A new connection is asked for what the relay does not hold: nothing that did not change.
  service->signal(SIGTERM);
  EXPECT_EQ(service->wait(10s), 0) << service->out();
  service = start_service(state);
  const auto again = service->wait_for_line("inventory: sent ", 60s);
  ASSERT_TRUE(again) << service->out();
  EXPECT_LT(sent_of(*again).first, total) << *again;
  const auto after = inventory_after("D-1", 3);
  // The package list did not change, so it was not sent and not rewritten.
  EXPECT_EQ(after["sections"]["software"], stored["sections"]["software"]) << after.dump();
  EXPECT_EQ(after["sections"]["software"]["hash"], stored["sections"]["software"]["hash"]);
}

TEST_F(ManagedAgent, AnUnattendedSessionRunsToolsAndEndsWithoutStoppingTheService) {
  configure({{"groups", unattended_policy("never")}});
  start_relay();
  login();
  const auto state = enroll("pc-1");
  auto service = start_service(state, {"--utmp", utmp_with("utmp", {"alice"}).string()});
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Disk full"}).value("id", ""), "T-1");

  const auto session = console_json({"session", "open", "--device", "D-1", "--ticket", "T-1"});
  EXPECT_EQ(session.value("id", ""), "S-1") << relay_->err();
  EXPECT_EQ(session.value("joined_by", ""), "device") << session.dump();
  EXPECT_TRUE(
      service->wait_for_line("session S-1 started unattended for admin (ticket T-1), "
                             "consent policy never"))
      << service->out();

  auto exec = console({"exec", "S-1", "--", "echo", "unattended-ok"});
  EXPECT_EQ(exec.status, 0) << exec.err;
  EXPECT_NE(exec.out.find("unattended-ok"), std::string::npos) << exec.out;
  auto diag = console({"diag", "S-1", "--section", "system"});
  EXPECT_EQ(diag.status, 0) << diag.err;
  EXPECT_TRUE(service->wait_for_line("The technician took a diagnostics snapshot."))
      << service->out();

  auto end = console({"session", "end", "S-1", "--note", "cleaned up"});
  EXPECT_EQ(end.status, 0) << end.err;
  EXPECT_TRUE(service->wait_for_line("session S-1 ended by admin")) << service->out();
  // The service stays, connected; the ended session's tools are gone.
  EXPECT_FALSE(service->wait(0ms).has_value());
  EXPECT_NE(console({"exec", "S-1", "--", "true"}).status, 0);
  EXPECT_EQ(console_json({"device", "show", "D-1"}).at("online"), true);
  // Tied to the ticket and on its timeline like any session.
  std::string kinds;
  for (const auto& entry :
       console_json({"ticket", "show", "T-1"}).value("timeline", json::array())) {
    kinds += entry.value("kind", "") + " ";
    if (entry.value("kind", "") == "session.requested") {
      EXPECT_NE(entry.value("summary", "").find("opened an unattended session on"),
                std::string::npos)
          << entry.dump();
    }
  }
  for (const char* kind : {"session.requested", "consent.granted", "command.run",
                           "diagnostics.diff", "session.ended"}) {
    EXPECT_NE(kinds.find(kind), std::string::npos) << kind << " not in " << kinds;
  }
}

TEST_F(ManagedAgent, TheGroupPolicyDecidesWhetherAndWithWhichScopesAnUnattendedSessionOpens) {
  configure({{"groups",
              {{"lab", {{"unattended", true}, {"consent", "never"}, {"scopes", {"diagnostics"}}}},
               {"*", {{"unattended", false}}}}}});
  start_relay();
  login();
  auto token = run(
      {TETHER_RELAY_BIN, "token", "create", "--data", data_.string(), "--group", "lab", "--json"});
  ASSERT_EQ(token.status, 0) << token.err;
  const auto lab = dir_ / "lab-pc";
  ASSERT_EQ(run({TETHER_AGENT_BIN, "enroll", "--relay", "wss://" + address_, "--fingerprint",
                 fingerprint_, "--token", json::parse(token.out).value("token", ""), "--state-dir",
                 lab.string(), "--root", machine_root(dir_, "lab-pc").string()})
                .status,
            0);
  const auto other = enroll("pc-2");  // group "default": no unattended sessions
  auto lab_service = start_service(lab);
  auto other_service = start_service(other);
  ASSERT_TRUE(lab_service->wait_for_line("as D-1")) << lab_service->out();
  ASSERT_TRUE(other_service->wait_for_line("as D-2")) << other_service->out();
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Check"}).value("id", ""), "T-1");

  auto refused = console({"session", "open", "--device", "D-2", "--ticket", "T-1"});
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.err.find("D-2's group \"default\" does not allow unattended sessions"),
            std::string::npos)
      << refused.err;
  auto too_much =
      console({"session", "open", "--device", "D-1", "--ticket", "T-1", "--scopes", "shell"});
  EXPECT_NE(too_much.status, 0);
  EXPECT_NE(too_much.err.find("D-1's group \"lab\" allows only: diagnostics"), std::string::npos)
      << too_much.err;
  // Without --scopes: what the policy allows.
  const auto opened = console_json({"session", "open", "--device", "D-1", "--ticket", "T-1"});
  EXPECT_EQ(opened["consent"]["scopes"], json::array({"diagnostics"})) << opened.dump();
  EXPECT_NE(console({"exec", opened.value("id", ""), "--", "true"}).status, 0);
}

TEST_F(ManagedAgent, AnUnattendedSessionContinuesWhenTheDeviceReconnects) {
  // The relay drops a silent connection after 2 s; the device is stopped for longer.
  configure({{"groups", unattended_policy("never")}, {"idle_timeout_seconds", 2}});
  start_relay();
  login();
  const auto state = enroll("pc-1");
  auto service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Slow"}).value("id", ""), "T-1");
  EXPECT_EQ(console_json({"session", "open", "--device", "D-1", "--ticket", "T-1"}).value("id", ""),
            "S-1");

  service->signal(SIGSTOP);
  std::this_thread::sleep_for(5s);  // Longer than the relay's idle timeout, by design.
  service->signal(SIGCONT);
  ASSERT_TRUE(service->wait_for_line("as D-1", 30s)) << service->out();

  auto exec = console({"exec", "S-1", "--", "echo", "still-here"});
  EXPECT_EQ(exec.status, 0) << exec.err;
  EXPECT_NE(exec.out.find("still-here"), std::string::npos) << exec.out;
  std::string kinds;
  for (const auto& entry :
       console_json({"ticket", "show", "T-1"}).value("timeline", json::array())) {
    kinds += entry.value("kind", "") + " ";
  }
  EXPECT_NE(kinds.find("agent.disconnected"), std::string::npos) << kinds;
  EXPECT_NE(kinds.find("agent.reconnected"), std::string::npos) << kinds;
}

TEST_F(ManagedAgent, ConsentIfUserPresentIsRefusedWithTheReasonWhileSomeoneIsLoggedIn) {
  configure({{"groups", unattended_policy("if_user_present")}});
  start_relay();
  login();
  const auto state = enroll("pc-1");
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Disk full"}).value("id", ""), "T-1");

  auto service = start_service(state, {"--utmp", utmp_with("busy", {"alice"}).string()});
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  auto [status, refusal] =
      api(beast::http::verb::post, "/api/v1/sessions", json{{"device", "D-1"}, {"ticket", "T-1"}});
  EXPECT_GE(status, 400u) << refusal.dump();
  EXPECT_TRUE(service->wait_for_line(
      "consent policy if_user_present: a user is logged in and this device's policy needs their "
      "consent; ask them to run `tether-agent support` for an attended session"))
      << service->out();

  // Nobody logged in: the same policy lets the technician in.
  service->signal(SIGTERM);
  EXPECT_EQ(service->wait(10s), 0);
  service = start_service(state, {"--utmp", utmp_with("idle", {}).string()});
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  auto [granted_status, session] =
      api(beast::http::verb::post, "/api/v1/sessions", json{{"device", "D-1"}, {"ticket", "T-1"}});
  EXPECT_EQ(granted_status, 201u) << session.dump();
  EXPECT_TRUE(
      service->wait_for_line("started unattended for admin (ticket T-1), consent policy "
                             "if_user_present (nobody logged in)"))
      << service->out();
}

TEST_F(ManagedAgent, ConsentAlwaysIsRefusedWithTheReason) {
  configure({{"groups", unattended_policy("always")}});
  start_relay();
  login();
  const auto state = enroll("pc-1");
  EXPECT_EQ(console_json({"ticket", "new", "--title", "Disk full"}).value("id", ""), "T-1");
  auto service = start_service(state, {"--utmp", utmp_with("busy", {"alice"}).string()});
  ASSERT_TRUE(service->wait_for_line("as D-1")) << service->out();
  auto [status, refusal] =
      api(beast::http::verb::post, "/api/v1/sessions", json{{"device", "D-1"}, {"ticket", "T-1"}});
  EXPECT_GE(status, 400u) << refusal.dump();
  EXPECT_TRUE(
      service->wait_for_line("refused session S-1 for admin (ticket T-1), consent policy "
                             "always: a user is logged in"))
      << service->out();
  // The technician reads the device's reason.
  EXPECT_EQ(refusal["error"].value("code", ""), "consent_refused") << refusal.dump();
  EXPECT_NE(refusal["error"].value("message", "").find("ask them to run `tether-agent support`"),
            std::string::npos)
      << refusal.dump();
  EXPECT_NE(console({"exec", "S-1", "--", "true"}).status, 0);
}

TEST_F(ManagedAgent, TheServiceRenewsItsCertificateAndConnectsWithTheNewOne) {
  configure({{"device_certificate_days", 1}});
  start_relay();
  const auto state = enroll("pc-1");
  const auto old_certificate = read(state / "device.pem");
  const auto key = read(state / "device.key");
  // The relay renews only in the last third of a certificate's life: make the stored expiry
  // an hour away. The agent's own rule (a third of the lifetime, unit-tested) is moved by
  // --renew-before: a day's certificate is within two days of its end.
  sql("UPDATE devices SET certificate_not_after = strftime('%s', 'now') + 3600 WHERE id = 1");
  auto service = start_service(state, {"--renew-before", "2"});
  ASSERT_TRUE(service->wait_for_line("certificate: renewed, valid until", 30s))
      << service->out() << relay_->err();
  const auto renewed = read(state / "device.pem");
  EXPECT_NE(renewed, old_certificate);
  EXPECT_EQ(read(state / "device.key"), key) << "the key never changes";
  struct stat info {};
  ASSERT_EQ(::stat((state / "device.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_FALSE(fs::exists(state / ".device.pem.tmp"));

  // The next connection uses it, and from then on the old one is refused.
  service->signal(SIGTERM);
  EXPECT_EQ(service->wait(10s), 0);
  service = start_service(state);
  ASSERT_TRUE(service->wait_for_line("connected to relay " + address_ + " as D-1"))
      << service->out() << relay_->err();
  EXPECT_EQ(service->out().find("certificate: valid until"), std::string::npos)
      << "a fresh certificate is not renewed again: " << service->out();
  auto stale = raw_hello("D-1", old_certificate, key);
  EXPECT_EQ(stale.code, "unauthorized") << stale.message;
}

}  // namespace
}  // namespace tether::testing
