// Managed-device enrollment end to end: `tether-relay token create`, `tether-agent enroll`
// against a real relay over pinned TLS, and the bad cases the issue names (a replayed token,
// an expired one, fifty agents racing for one single-use token).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <fstream>
#include <memory>

#include <gtest/gtest.h>

#include "relay_fixture.hpp"

namespace tether::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kRefused =
    "the enrollment token is not valid (unknown, expired or already used)";

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;

std::string read(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

CertPtr read_certificate(const fs::path& file) {
  std::unique_ptr<FILE, decltype(&fclose)> f(fopen(file.c_str(), "r"), fclose);
  return CertPtr(f ? PEM_read_X509(f.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

class Enroll : public RelayFixture {
 protected:
  /// `tether-relay token create --json ARGS…`; the token.
  std::string create_token(std::vector<std::string> args = {}) {
    std::vector<std::string> argv{TETHER_RELAY_BIN, "token",        "create",
                                  "--data",         data_.string(), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run(argv);
    EXPECT_EQ(result.status, 0) << result.err;
    const auto out = json::parse(result.out, nullptr, false);
    EXPECT_TRUE(out.is_object()) << result.out;
    return out.is_object() ? out.value("token", "") : "";
  }

  std::vector<std::string> enroll_argv(const std::string& token, const fs::path& state,
                                       std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{TETHER_AGENT_BIN, "enroll",      "--relay", "wss://" + address_,
                                  "--fingerprint",  fingerprint_,  "--token", token,
                                  "--state-dir",    state.string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  }

  RunResult enroll(const std::string& token, const fs::path& state,
                   std::vector<std::string> extra = {}) {
    return run(enroll_argv(token, state, std::move(extra)));
  }

  std::int64_t count_devices() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2((data_ / "tether.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
              SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM devices", -1, &stmt, nullptr);
    std::int64_t count = -1;
    if (sqlite3_step(stmt) == SQLITE_ROW) count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return count;
  }
};

TEST_F(Enroll, ATokenBecomesADeviceWithAPrivateStateDirAndAVerifiedCertificate) {
  start_relay();
  const auto token = create_token({"--group", "lab-2"});
  ASSERT_EQ(token.rfind("tt_", 0), 0u) << token;
  const auto state = dir_ / "agent-state";
  const auto result = enroll(token, state);
  ASSERT_EQ(result.status, 0) << result.err;
  EXPECT_NE(result.out.find("enrolled as D-1 (group lab-2); certificate valid until 20"),
            std::string::npos)
      << result.out;

  // Files and permissions.
  EXPECT_EQ(mode_of(state), 0700u);
  for (const char* name : {"device.key", "device.pem", "ca.pem", "agent.json"}) {
    EXPECT_EQ(mode_of(state / name), 0600u) << name;
  }
  const auto agent = json::parse(read(state / "agent.json"));
  EXPECT_EQ(agent["relay"], "wss://" + address_);
  EXPECT_EQ(agent["fingerprint"], fingerprint_);
  EXPECT_EQ(agent["device"], "D-1");
  EXPECT_EQ(agent["group"], "lab-2");
  EXPECT_EQ(read(state / "ca.pem"), read(data_ / "ca.pem"));

  // The certificate: issued by DATA/ca.pem for client authentication, to this device's key.
  auto certificate = read_certificate(state / "device.pem");
  auto ca = read_certificate(data_ / "ca.pem");
  ASSERT_TRUE(certificate && ca);
  std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca.get());
  std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
      X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), certificate.get(), nullptr);
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  EXPECT_EQ(X509_verify_cert(ctx.get()), 1)
      << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
  char cn[32] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()), NID_commonName, cn,
                            sizeof cn);
  EXPECT_STREQ(cn, "D-1");
  auto* san = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(san, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(san), 1);
  const auto* uri = sk_GENERAL_NAME_value(san, 0);
  ASSERT_EQ(uri->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri->d.ia5))),
            "urn:tether:device:D-1");
  GENERAL_NAMES_free(san);
  std::unique_ptr<FILE, decltype(&fclose)> key_file(fopen((state / "device.key").c_str(), "r"),
                                                    fclose);
  ASSERT_TRUE(key_file);
  KeyPtr key(PEM_read_PrivateKey(key_file.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(certificate.get(), key.get()), 1);

  // The private key never left the device: nothing of it is in the relay's data.
  const auto key_pem = read(state / "device.key");
  // The second line of base64: past the fixed ASN.1 header every EC key shares.
  const auto key_body = key_pem.substr(key_pem.find('\n') + 1 + 65, 40);
  ASSERT_EQ(key_body.size(), 40u);
  for (const auto& entry : fs::recursive_directory_iterator(data_)) {
    if (entry.is_regular_file()) {
      EXPECT_EQ(read(entry.path()).find(key_body), std::string::npos) << entry.path();
    }
  }
  EXPECT_EQ(count_devices(), 1);
  EXPECT_NE(relay_->err().find("in group lab-2 from 127.0.0.1"), std::string::npos)
      << relay_->err();
}

TEST_F(Enroll, ASingleUseTokenReplayedIsRefusedAndWritesNothing) {
  start_relay();
  const auto token = create_token();
  const auto first = enroll(token, dir_ / "first");
  ASSERT_EQ(first.status, 0) << first.err;
  const auto replay = enroll(token, dir_ / "second");
  EXPECT_EQ(replay.status, 1);
  EXPECT_NE(replay.err.find(kRefused), std::string::npos) << replay.err;
  EXPECT_FALSE(fs::exists(dir_ / "second" / "agent.json"));
  EXPECT_FALSE(fs::exists(dir_ / "second" / "device.key"));
  EXPECT_EQ(count_devices(), 1);
  const auto log = relay_->err();
  EXPECT_NE(log.find("enrolled D-1 ("), std::string::npos) << log;
  EXPECT_NE(log.find("refused enrollment"), std::string::npos) << log;
}

TEST_F(Enroll, AnExpiredTokenIsRefusedWithTheSameAnswerAsAnUnknownOne) {
  start_relay();
  const auto token = create_token({"--ttl", "1m", "--uses", "5"});
  // The token expired a second ago (written as another relay sharing the database would).
  sql("UPDATE enrollment_tokens SET expires_at = CAST(strftime('%s','now') AS INTEGER) * 1000 "
      "- 1000 WHERE hash = '" +
      sha256_hex(token) + "'");
  const auto expired = enroll(token, dir_ / "expired");
  EXPECT_EQ(expired.status, 1);
  EXPECT_NE(expired.err.find(kRefused), std::string::npos) << expired.err;
  const auto unknown = enroll("tt_" + std::string(52, 'a'), dir_ / "unknown");
  EXPECT_EQ(unknown.status, 1);
  // Expired or unknown: the caller cannot tell which.
  EXPECT_EQ(expired.err, unknown.err);
  EXPECT_FALSE(fs::exists(dir_ / "expired" / "agent.json"));
  EXPECT_EQ(count_devices(), 0);
}

TEST_F(Enroll, FiftyAgentsRacingForOneSingleUseTokenMakeExactlyOneDevice) {
  // Every loser is refused for the token, not for the failure limit.
  configure({{"join_failure_limit", 100}});
  start_relay();
  const auto token = create_token();
  constexpr int kAgents = 50;
  std::vector<std::unique_ptr<Process>> agents;
  for (int i = 0; i < kAgents; ++i) {
    agents.push_back(
        std::make_unique<Process>(enroll_argv(token, dir_ / ("racer-" + std::to_string(i)))));
  }
  int winners = 0, refused = 0;
  for (int i = 0; i < kAgents; ++i) {
    const auto status = agents[i]->wait(120s);
    ASSERT_TRUE(status) << "agent " << i << " did not finish";
    if (*status == 0) {
      ++winners;
      EXPECT_NE(agents[i]->out().find("enrolled as D-1"), std::string::npos);
      EXPECT_TRUE(fs::exists(dir_ / ("racer-" + std::to_string(i)) / "agent.json"));
    } else {
      EXPECT_EQ(*status, 1) << agents[i]->err();
      EXPECT_NE(agents[i]->err().find(kRefused), std::string::npos) << agents[i]->err();
      EXPECT_FALSE(fs::exists(dir_ / ("racer-" + std::to_string(i)) / "agent.json"));
      ++refused;
    }
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(refused, kAgents - 1);
  EXPECT_EQ(count_devices(), 1);
}

TEST_F(Enroll, RepeatedBadTokensFromOneAddressAreRateLimited) {
  configure({{"join_failure_limit", 3}});
  start_relay();
  for (int i = 0; i < 3; ++i) {
    const auto wrong = enroll("tt_wrong" + std::to_string(i), dir_ / "wrong");
    EXPECT_NE(wrong.err.find(kRefused), std::string::npos) << wrong.err;
  }
  // Now even a good token waits: the address is blocked before any token is looked at.
  const auto token = create_token();
  const auto blocked = enroll(token, dir_ / "blocked");
  EXPECT_EQ(blocked.status, 1);
  EXPECT_NE(blocked.err.find("too many failed enrollments from this address"), std::string::npos)
      << blocked.err;
  EXPECT_EQ(count_devices(), 0);
}

TEST_F(Enroll, AnEnrolledStateDirIsReplacedOnlyWithForceAndTheMachineKeepsItsDevice) {
  start_relay();
  const auto state = dir_ / "state";
  const auto root = machine_root(dir_, "pc");
  ASSERT_EQ(enroll(create_token(), state, {"--root", root.string()}).status, 0);
  const auto key_before = read(state / "device.key");
  const auto again = enroll(create_token(), state, {"--root", root.string()});
  EXPECT_EQ(again.status, 2);
  EXPECT_NE(again.err.find("already holds an enrollment; use --force"), std::string::npos)
      << again.err;
  EXPECT_EQ(read(state / "device.key"), key_before);
  // The same machine enrolled again: the relay gives it its device back, with the new key.
  const auto forced = enroll(create_token(), state, {"--force", "--root", root.string()});
  ASSERT_EQ(forced.status, 0) << forced.err;
  EXPECT_NE(forced.out.find("re-enrolled as D-1"), std::string::npos) << forced.out;
  EXPECT_NE(forced.out.find("its earlier certificate no longer works"), std::string::npos);
  EXPECT_NE(read(state / "device.key"), key_before);
  EXPECT_EQ(json::parse(read(state / "agent.json"))["device"], "D-1");
  // Another machine is another device.
  const auto other =
      enroll(create_token(), dir_ / "other", {"--root", machine_root(dir_, "pc-2").string()});
  ASSERT_EQ(other.status, 0) << other.err;
  EXPECT_NE(other.out.find("enrolled as D-2"), std::string::npos) << other.out;
}

TEST_F(Enroll, ACaFileInsteadOfAFingerprintIsRememberedInAgentJson) {
  start_relay();
  const auto state = dir_ / "by-ca";
  const auto result =
      run({TETHER_AGENT_BIN, "enroll", "--relay", "wss://" + address_, "--ca",
           (data_ / "ca.pem").string(), "--token", create_token(), "--state-dir", state.string()});
  ASSERT_EQ(result.status, 0) << result.err;
  const auto agent = json::parse(read(state / "agent.json"));
  EXPECT_EQ(agent["ca"], (data_ / "ca.pem").string());
  EXPECT_FALSE(agent.contains("fingerprint"));
  EXPECT_EQ(agent["device"], "D-1");
}

TEST_F(Enroll, AWrongRelayFingerprintSendsNothingAndSavesNothing) {
  start_relay();
  const auto token = create_token();
  auto argv = enroll_argv(token, dir_ / "pinned");
  for (auto& arg : argv) {
    if (arg == fingerprint_) arg = "SHA256:" + std::string(64, '0');
  }
  const auto result = run(argv);
  EXPECT_EQ(result.status, 3) << result.err;
  EXPECT_FALSE(fs::exists(dir_ / "pinned" / "agent.json"));
  // The token was never presented, so it still works.
  EXPECT_EQ(enroll(token, dir_ / "after").status, 0);
}

}  // namespace
}  // namespace tether::testing
