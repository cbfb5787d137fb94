// One machine, one device: enrollments posted to a real relay with the identities machines
// report (a key and CSR made here, as the agent makes them). The same machine enrolled again
// keeps its device and its old certificate stops counting; a cloned image becomes a new
// device flagged as a possible clone; machines with only placeholder ids are never merged; a
// revoked machine comes back as a new device.
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include <gtest/gtest.h>

#include "relay_fixture.hpp"
#include "tether/protocol/client_stream.hpp"

namespace tether::testing {
namespace {

namespace beast = boost::beast;
using json = nlohmann::json;

std::string csr_pem() {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> request(X509_REQ_new(), X509_REQ_free);
  X509_REQ_set_version(request.get(), 0);
  X509_REQ_set_pubkey(request.get(), key.get());
  X509_REQ_sign(request.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free_all)> bio(BIO_new(BIO_s_mem()), BIO_free_all);
  PEM_write_bio_X509_REQ(bio.get(), request.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

class EnrollIdentity : public RelayFixture {
 protected:
  void SetUp() override {
    RelayFixture::SetUp();
    start_relay();
  }

  std::string token(int uses = 1) {
    auto result = run({TETHER_RELAY_BIN, "token", "create", "--data", data_.string(), "--uses",
                       std::to_string(uses), "--json"});
    EXPECT_EQ(result.status, 0) << result.err;
    return json::parse(result.out, nullptr, false).value("token", "");
  }

  std::pair<unsigned, json> call(beast::http::verb verb, const std::string& target,
                                 const std::optional<json>& body, const std::string& bearer) {
    protocol::HttpsClient http(protocol::RelayUrl::parse("https://" + address_).value(),
                               protocol::TrustAnchor::from_fingerprint(fingerprint_).value());
    auto response = http.request(verb, target, body ? std::optional(body->dump()) : std::nullopt,
                                 bearer, std::chrono::seconds(30));
    EXPECT_TRUE(response) << target;
    if (!response) return {0, nullptr};
    return {response->status, json::parse(response->body, nullptr, false)};
  }

  json enroll(const json& identity) {
    auto [status, body] =
        call(beast::http::verb::post, "/api/v1/enroll",
             json{{"token", token()}, {"csr", csr_pem()}, {"identity", identity}}, "");
    EXPECT_EQ(status, 201u) << body.dump();
    return body;
  }

  std::string admin_token() {
    auto [status, body] = call(beast::http::verb::post, "/api/v1/login",
                               json{{"user", "admin"}, {"password", kAdminPassword}}, "");
    EXPECT_EQ(status, 200u);
    return body.value("token", "");
  }
};

json laptop() {
  return {{"hostname", "anna-laptop"},
          {"os", "Debian GNU/Linux 12 (bookworm)"},
          {"machine_id", "0f6c1b3e9a2d4c5e8f7a6b5c4d3e2f1a"},
          {"smbios_uuid", "4c4c4544-0042-3510-8052-b4c04f4e3432"},
          {"serials", {"5CG1234XYZ", "PFKXL0A8J1C4TZ"}},
          {"macs", {"3c:52:82:1a:2b:3c"}}};
}

TEST_F(EnrollIdentity, TheSameMachineEnrolledAgainKeepsItsDevice) {
  const auto first = enroll(laptop());
  EXPECT_EQ(first["device"], "D-1");
  EXPECT_EQ(first["reenrolled"], false);
  EXPECT_EQ(first["identity_flags"], json::object());

  // Re-installed: a new machine-id, same firmware.
  auto reinstalled = laptop();
  reinstalled["machine_id"] = "99999999aaaabbbbccccddddeeeeffff";
  const auto again = enroll(reinstalled);
  EXPECT_EQ(again["device"], "D-1");
  EXPECT_EQ(again["reenrolled"], true);
  EXPECT_GE(again["identity_flags"].value("confidence", 0), 85);
  EXPECT_NE(again["certificate"], first["certificate"]);

  auto [status, devices] =
      call(beast::http::verb::get, "/api/v1/devices", std::nullopt, admin_token());
  ASSERT_EQ(status, 200u);
  EXPECT_EQ(devices["devices"].size(), 1u) << devices.dump();
}

TEST_F(EnrollIdentity, AClonedImageBecomesANewDeviceFlaggedAsAPossibleClone) {
  EXPECT_EQ(enroll(laptop())["device"], "D-1");
  // The same disk image on other hardware: same machine-id, other firmware ids and NIC.
  auto clone = laptop();
  clone["hostname"] = "anna-laptop";
  clone["smbios_uuid"] = "4c4c4544-0042-3510-8052-c7c04f4e9999";
  clone["serials"] = {"5CG9999ABC", "PFKXL0A8J9999"};
  clone["macs"] = {"3c:52:82:99:88:77"};
  const auto second = enroll(clone);
  EXPECT_EQ(second["device"], "D-2");
  EXPECT_EQ(second["reenrolled"], false);
  EXPECT_EQ(second["identity_flags"].value("possible_clone", false), true) << second.dump();
  EXPECT_EQ(second["identity_flags"]["related"], json::array({"D-1"}));
}

TEST_F(EnrollIdentity, MachinesWithOnlyPlaceholderIdsAreNeverMerged) {
  const json blank = {{"hostname", "desktop"},
                      {"os", "Debian GNU/Linux 12 (bookworm)"},
                      {"machine_id", ""},
                      {"smbios_uuid", "03000200-0400-0500-0006-000700080009"},
                      {"serials", {"To be filled by O.E.M.", "Default string"}},
                      {"macs", json::array()}};
  EXPECT_EQ(enroll(blank)["device"], "D-1");
  const auto second = enroll(blank);
  EXPECT_EQ(second["device"], "D-2");
  EXPECT_EQ(second["reenrolled"], false);
}

TEST_F(EnrollIdentity, ARevokedMachineEnrollingAgainGetsANewDevice) {
  EXPECT_EQ(enroll(laptop())["device"], "D-1");
  auto [status, revoked] = call(beast::http::verb::post, "/api/v1/devices/D-1/revoke",
                                json{{"reason", "stolen"}}, admin_token());
  ASSERT_EQ(status, 200u) << revoked.dump();
  const auto again = enroll(laptop());
  EXPECT_EQ(again["device"], "D-2");
  EXPECT_EQ(again["reenrolled"], false);
}

}  // namespace
}  // namespace tether::testing
