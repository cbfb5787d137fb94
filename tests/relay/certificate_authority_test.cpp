// The relay CA signing managed devices' client certificates, checked with real OpenSSL.
#include "tether/relay/certificate_authority.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <memory>

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

using namespace std::chrono_literals;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;

KeyPtr ec_key(const char* curve) {
  return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
KeyPtr rsa_key(std::size_t bits) {
  return KeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits));
}

std::string pem_of(X509_REQ* req) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

// A request for `key`'s public half, signed by `signer` (normally the same key). Its subject
// and extensions ask for things the CA must not grant.
std::string csr(EVP_PKEY* key, EVP_PKEY* signer) {
  ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  X509_REQ_set_pubkey(req.get(), key);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("evil.example.com"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Evil"), -1, -1, 0);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(
      exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_basic_constraints, "critical,CA:TRUE"));
  sk_X509_EXTENSION_push(
      exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:relay.example.com"));
  sk_X509_EXTENSION_push(exts,
                         X509V3_EXT_conf_nid(nullptr, nullptr, NID_ext_key_usage, "serverAuth"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), signer, EVP_sha256());
  return pem_of(req.get());
}

CertPtr parse_cert(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string csr_error(const PemCertificate& ca, const std::string& request) {
  try {
    issue_client_certificate(ca, request, "D-7", 24h);
  } catch (const CsrError& e) {
    return e.what();
  }
  return "";
}

class ClientCertificateTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    ca_ = new PemCertificate(create_certificate_authority("test", 24h * 365));
  }
  static void TearDownTestSuite() { delete ca_; }
  static PemCertificate* ca_;
};
PemCertificate* ClientCertificateTest::ca_ = nullptr;

TEST_F(ClientCertificateTest, TheIssuedCertificateVerifiesAgainstTheCaForClientAuthOnly) {
  auto key = ec_key("P-256");
  const auto issued = issue_client_certificate(*ca_, csr(key.get(), key.get()), "D-7", 24h * 90);
  auto cert = parse_cert(issued.certificate_pem);
  ASSERT_TRUE(cert);
  auto ca_cert = parse_cert(ca_->certificate_pem);

  std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>> store(X509_STORE_new());
  X509_STORE_add_cert(store.get(), ca_cert.get());
  auto verify = [&](int purpose) {
    std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>> ctx(
        X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), cert.get(), nullptr);
    X509_STORE_CTX_set_purpose(ctx.get(), purpose);
    return X509_verify_cert(ctx.get()) == 1;
  };
  EXPECT_TRUE(verify(X509_PURPOSE_SSL_CLIENT));
  EXPECT_FALSE(verify(X509_PURPOSE_SSL_SERVER));

  // The device's key, not one the CA made.
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(cert.get()), key.get()), 1);
}

TEST_F(ClientCertificateTest, ItCarriesExactlyTheFieldsTheCaChoosesNotTheRequests) {
  auto key = ec_key("P-256");
  const auto before = std::chrono::system_clock::now();
  const auto issued = issue_client_certificate(*ca_, csr(key.get(), key.get()), "D-7", 24h * 90);
  auto cert = parse_cert(issued.certificate_pem);
  ASSERT_TRUE(cert);

  // Subject: CN=D-7 and nothing else.
  X509_NAME* subject = X509_get_subject_name(cert.get());
  ASSERT_EQ(X509_NAME_entry_count(subject), 1);
  char cn[64] = {};
  X509_NAME_get_text_by_NID(subject, NID_commonName, cn, sizeof cn);
  EXPECT_STREQ(cn, "D-7");

  // subjectAltName: one URI.
  auto* san = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(san, nullptr);
  ASSERT_EQ(sk_GENERAL_NAME_num(san), 1);
  const GENERAL_NAME* uri = sk_GENERAL_NAME_value(san, 0);
  ASSERT_EQ(uri->type, GEN_URI);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri->d.ia5)),
                        static_cast<std::size_t>(ASN1_STRING_length(uri->d.ia5))),
            "urn:tether:device:D-7");
  GENERAL_NAMES_free(san);

  // extendedKeyUsage: clientAuth only; not a CA.
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()), static_cast<std::uint32_t>(XKU_SSL_CLIENT));
  int critical = 0;
  auto* constraints = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cert.get(), NID_basic_constraints, &critical, nullptr));
  ASSERT_NE(constraints, nullptr);
  EXPECT_FALSE(constraints->ca);
  EXPECT_EQ(critical, 1);
  BASIC_CONSTRAINTS_free(constraints);
  EXPECT_EQ(X509_check_ca(cert.get()), 0);

  // A positive serial of at most 128 bits, as reported.
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert.get());
  std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>> bn(ASN1_INTEGER_to_BN(serial, nullptr));
  EXPECT_FALSE(BN_is_negative(bn.get()));
  EXPECT_LE(BN_num_bits(bn.get()), 128);
  EXPECT_GT(BN_num_bits(bn.get()), 64);  // 2^-64 odds of a false failure.
  char* hex = BN_bn2hex(bn.get());
  std::string serial_hex(hex);
  OPENSSL_free(hex);
  for (auto& c : serial_hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(issued.serial_hex, serial_hex);

  // Valid from five minutes ago for 90 days, as reported.
  const auto not_before = before - 5min;
  int days = 0, seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(cert.get()),
                           X509_get0_notAfter(cert.get())),
            1);
  EXPECT_EQ(days, 90);
  EXPECT_EQ(seconds, 300);
  EXPECT_LE(std::chrono::abs(issued.not_before - not_before), 5s);
  EXPECT_EQ(issued.not_after - issued.not_before, 24h * 90 + 5min);
  EXPECT_EQ(X509_cmp_time(X509_get0_notBefore(cert.get()), nullptr), -1);

  // The fingerprint is the SHA-256 of the DER.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  X509_digest(cert.get(), EVP_sha256(), digest, &size);
  ASSERT_EQ(size, 32u);
  ASSERT_EQ(issued.fingerprint_hex.size(), 64u);
  char first[3];
  std::snprintf(first, sizeof first, "%02x", digest[0]);
  EXPECT_EQ(issued.fingerprint_hex.substr(0, 2), first);
}

TEST_F(ClientCertificateTest, TwoCertificatesHaveDifferentSerials) {
  auto key = ec_key("P-256");
  const auto request = csr(key.get(), key.get());
  EXPECT_NE(issue_client_certificate(*ca_, request, "D-1", 24h).serial_hex,
            issue_client_certificate(*ca_, request, "D-1", 24h).serial_hex);
}

TEST_F(ClientCertificateTest, Rsa2048IsAccepted) {
  auto key = rsa_key(2048);
  auto cert = parse_cert(
      issue_client_certificate(*ca_, csr(key.get(), key.get()), "D-12", 24h).certificate_pem);
  ASSERT_TRUE(cert);
  EXPECT_EQ(EVP_PKEY_get_bits(X509_get0_pubkey(cert.get())), 2048);
}

TEST_F(ClientCertificateTest, ABrokenSelfSignatureIsRefused) {
  auto key = ec_key("P-256");
  auto other = ec_key("P-256");
  EXPECT_NE(csr_error(*ca_, csr(key.get(), other.get())).find("signature does not verify"),
            std::string::npos);
}

TEST_F(ClientCertificateTest, WrongKeyTypesAndSizesAreRefused) {
  auto p384 = ec_key("P-384");
  EXPECT_NE(csr_error(*ca_, csr(p384.get(), p384.get())).find("P-256"), std::string::npos);
  auto small = rsa_key(1024);
  EXPECT_NE(csr_error(*ca_, csr(small.get(), small.get())).find("1024 bits"), std::string::npos);
  KeyPtr ed(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), ed.get());
  X509_REQ_sign(req.get(), ed.get(), nullptr);
  EXPECT_NE(csr_error(*ca_, pem_of(req.get())).find("key type"), std::string::npos);
}

TEST_F(ClientCertificateTest, GarbageIsRefusedAsNotACertificateRequest) {
  for (const std::string& garbage :
       {std::string(), std::string("hello"),
        std::string(
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"),
        ca_->certificate_pem, std::string(5000, '\xff')}) {
    EXPECT_NE(csr_error(*ca_, garbage).find("not a PEM certificate request"), std::string::npos)
        << garbage.substr(0, 40);
  }
}

TEST_F(ClientCertificateTest, OnlyDeviceIdsAreCertified) {
  auto key = ec_key("P-256");
  const auto request = csr(key.get(), key.get());
  for (const char* id : {"", "D-", "7", "D-7,O=x", "relay", "T-7"}) {
    EXPECT_THROW(issue_client_certificate(*ca_, request, id, 24h), std::invalid_argument) << id;
  }
}

TEST_F(ClientCertificateTest, AForeignCaCannotBeUsedWithoutItsKey) {
  auto key = ec_key("P-256");
  PemCertificate broken = *ca_;
  broken.private_key_pem = "not a key";
  EXPECT_THROW(issue_client_certificate(broken, csr(key.get(), key.get()), "D-1", 24h),
               std::runtime_error);
}

}  // namespace
}  // namespace tether::relay
