// Certificate renewal: when it is due, that the request keeps the device's key, and which
// issued certificates may replace the device's.

#include "managed/certificate_renewal.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include <gtest/gtest.h>

#include "tether/agent/managed/enrollment.hpp"

namespace tether::agent::managed {
namespace {

using namespace std::chrono_literals;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;

template <class Write>
std::string pem(Write write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  write(bio.get());
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(X509* cert) {
  return pem([&](BIO* b) { PEM_write_bio_X509(b, cert); });
}
std::string pem_of(EVP_PKEY* key) {
  return pem(
      [&](BIO* b) { PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr); });
}

KeyPtr key_from(const std::string& text) {
  BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  return KeyPtr(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

/// A certificate for `cn` and `key`, signed by `issuer_key` (self-signed, a CA, without
/// `issuer`), valid from `from` to `to` seconds around now.
CertPtr certificate(const std::string& cn, EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key,
                    long from = -3600, long to = 3600) {
  CertPtr cert(X509_new());
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), from);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), to);
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints,
                                            issuer ? "critical,CA:FALSE" : "critical,CA:TRUE");
  X509_add_ext(cert.get(), ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(cert.get(), issuer_key, EVP_sha256());
  return cert;
}

TEST(CertificateRenewal, DueInTheLastThirdOfItsLifetimeOrWithinRenewBefore) {
  const auto start = std::chrono::system_clock::time_point(std::chrono::hours(24 * 20000));
  const CertificateValidity validity{start, start + 90 * 24h};
  EXPECT_FALSE(renewal_due(validity, start, std::nullopt));
  EXPECT_FALSE(renewal_due(validity, start + 59 * 24h, std::nullopt));
  EXPECT_TRUE(renewal_due(validity, start + 61 * 24h, std::nullopt));
  EXPECT_TRUE(renewal_due(validity, start + 100 * 24h, std::nullopt)) << "expired";
  EXPECT_FALSE(renewal_due(validity, start + 61 * 24h, std::chrono::seconds(7 * 24h)));
  EXPECT_TRUE(renewal_due(validity, start + 84 * 24h, std::chrono::seconds(7 * 24h)));
}

TEST(CertificateRenewal, ReadsTheValidityOfAPemCertificate) {
  KeyPtr key(EVP_EC_gen("P-256"));
  auto cert = certificate("D-1", key.get(), nullptr, key.get(), -100, 86400);
  const auto validity = certificate_validity(pem_of(cert.get()));
  ASSERT_TRUE(validity.has_value());
  const auto now = std::chrono::system_clock::now();
  EXPECT_NEAR(std::chrono::duration<double>(validity->not_before - now).count(), -100, 5);
  EXPECT_NEAR(std::chrono::duration<double>(validity->not_after - now).count(), 86400, 5);
  EXPECT_FALSE(certificate_validity("not a certificate").has_value());
}

TEST(CertificateRenewal, TheRequestIsForTheSameKey) {
  const auto enrolled = make_key_and_request("pc-1");
  const auto csr = make_request_for_key(enrolled.private_key_pem, "pc-1");
  BioPtr bio(BIO_new_mem_buf(csr.data(), static_cast<int>(csr.size())));
  ReqPtr request(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(request);
  auto key = key_from(enrolled.private_key_pem);
  EXPECT_EQ(EVP_PKEY_eq(X509_REQ_get0_pubkey(request.get()), key.get()), 1);
  EXPECT_EQ(X509_REQ_verify(request.get(), key.get()), 1);
  EXPECT_THROW(make_request_for_key("garbage", "pc-1"), std::runtime_error);
}

TEST(CertificateRenewal, OnlyACertificateForOurKeyAndDeviceFromOurCaIsKept) {
  KeyPtr ca_key(EVP_EC_gen("P-256"));
  auto ca = certificate("Tether CA", ca_key.get(), nullptr, ca_key.get(), -3600, 86400 * 365);
  KeyPtr device_key(EVP_EC_gen("P-256"));
  const auto key_pem = pem_of(device_key.get());
  const auto ca_pem = pem_of(ca.get());

  auto good = certificate("D-1", device_key.get(), ca.get(), ca_key.get());
  EXPECT_EQ(check_issued_certificate(pem_of(good.get()), key_pem, ca_pem, "D-1"), "");
  EXPECT_EQ(check_issued_certificate(pem_of(good.get()), key_pem, "", "D-1"), "")
      << "no CA file: the other checks still hold";

  KeyPtr other_key(EVP_EC_gen("P-256"));
  auto other_key_cert = certificate("D-1", other_key.get(), ca.get(), ca_key.get());
  EXPECT_EQ(check_issued_certificate(pem_of(other_key_cert.get()), key_pem, ca_pem, "D-1"),
            "it is not for this device's key");

  auto other_device = certificate("D-2", device_key.get(), ca.get(), ca_key.get());
  EXPECT_EQ(check_issued_certificate(pem_of(other_device.get()), key_pem, ca_pem, "D-1"),
            "it names D-2, not D-1");

  KeyPtr foreign_ca_key(EVP_EC_gen("P-256"));
  auto foreign_ca = certificate("Tether CA", foreign_ca_key.get(), nullptr, foreign_ca_key.get());
  auto foreign = certificate("D-1", device_key.get(), foreign_ca.get(), foreign_ca_key.get());
  EXPECT_NE(check_issued_certificate(pem_of(foreign.get()), key_pem, ca_pem, "D-1")
                .find("does not chain to the relay's CA"),
            std::string::npos);

  auto expired = certificate("D-1", device_key.get(), ca.get(), ca_key.get(), -7200, -3600);
  EXPECT_EQ(check_issued_certificate(pem_of(expired.get()), key_pem, ca_pem, "D-1"),
            "it is not valid now");

  EXPECT_EQ(check_issued_certificate("garbage", key_pem, ca_pem, "D-1"),
            "it is not a PEM certificate");
}

}  // namespace
}  // namespace tether::agent::managed
