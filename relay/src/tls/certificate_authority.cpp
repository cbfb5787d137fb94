#include "tether/relay/certificate_authority.hpp"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <openssl/core_names.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <functional>
#include <memory>
#include <stdexcept>

namespace tether::relay {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using ReqPtr = std::unique_ptr<X509_REQ, Deleter<X509_REQ, X509_REQ_free>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("OpenSSL failed to ") + what);
}

KeyPtr generate_key() {
  KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  check(key != nullptr, "generate an EC key");
  return key;
}

std::string to_pem(const std::function<int(BIO*)>& write) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  check(bio && write(bio.get()) == 1, "encode PEM");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

PemCertificate encode(X509* cert, EVP_PKEY* key) {
  return {to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert); }), to_pem([&](BIO* b) {
            return PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  check(ext != nullptr, "build a certificate extension");
  X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
}

CertPtr new_certificate(EVP_PKEY* key, const std::string& common_name,
                        std::chrono::hours validity) {
  CertPtr cert(X509_new());
  check(cert != nullptr, "allocate a certificate");
  X509_set_version(cert.get(), X509_VERSION_3);
  // 159 random bits: positive, unique, as CA/Browser Forum rules ask for serials.
  unsigned char serial[20];
  check(RAND_bytes(serial, sizeof serial) == 1, "draw a serial number");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
  BN_free(bn);
  // Backdated an hour so a client whose clock is slightly behind still accepts it.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(std::chrono::seconds(validity).count()));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("Tether"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  return cert;
}

struct LoadedCa {
  CertPtr certificate;
  KeyPtr key;
};

LoadedCa load_ca(const PemCertificate& ca) {
  BioPtr cert_bio(
      BIO_new_mem_buf(ca.certificate_pem.data(), static_cast<int>(ca.certificate_pem.size())));
  CertPtr ca_cert(PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr));
  BioPtr key_bio(
      BIO_new_mem_buf(ca.private_key_pem.data(), static_cast<int>(ca.private_key_pem.size())));
  KeyPtr ca_key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  check(ca_cert && ca_key, "read the CA certificate and key");
  return {std::move(ca_cert), std::move(ca_key)};
}

std::string lower_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < size; ++i) {
    out += kDigits[data[i] >> 4];
    out += kDigits[data[i] & 0xf];
  }
  return out;
}

// The key a device may hold: EC on P-256, or RSA from 2048 to 8192 bits (the upper bound
// keeps a hostile request from making the relay verify a huge RSA signature).
void check_device_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                       &length) != 1 ||
        std::string_view(group, length) != "prime256v1") {
      throw CsrError("the request's EC key is not on curve P-256; use P-256 or RSA 2048+");
    }
    return;
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    const int bits = EVP_PKEY_get_bits(key);
    if (bits < 2048 || bits > 8192) {
      throw CsrError("the request's RSA key has " + std::to_string(bits) +
                     " bits; use 2048 to 8192 bits or EC P-256");
    }
    return;
  }
  throw CsrError("the request's key type is not accepted; use EC P-256 or RSA 2048+");
}

ReqPtr parse_request(const std::string& csr_pem) {
  // Empties OpenSSL's per-thread error queue on the way out, so a refused request leaves
  // nothing behind for the next TLS call on this thread.
  struct ClearErrors {
    ~ClearErrors() { ERR_clear_error(); }
  } clear_errors;
  BioPtr csr_bio(BIO_new_mem_buf(csr_pem.data(), static_cast<int>(csr_pem.size())));
  check(csr_bio != nullptr, "allocate a buffer");
  ReqPtr request(PEM_read_bio_X509_REQ(csr_bio.get(), nullptr, nullptr, nullptr));
  if (!request) throw CsrError("\"csr\" is not a PEM certificate request (PKCS#10)");
  // get0: owned by the request.
  EVP_PKEY* device_key = X509_REQ_get0_pubkey(request.get());
  if (device_key == nullptr) throw CsrError("the certificate request carries no usable key");
  check_device_key(device_key);
  if (X509_REQ_verify(request.get(), device_key) != 1) {
    throw CsrError("the certificate request's signature does not verify with its own key");
  }
  return request;
}

}  // namespace

void check_certificate_request(const std::string& csr_pem) {
  parse_request(csr_pem);
}

std::string device_uri(const std::string& device_id) {
  return "urn:tether:device:" + device_id;
}

ClientCertificate issue_client_certificate(const PemCertificate& ca, const std::string& csr_pem,
                                           const std::string& device_id,
                                           std::chrono::hours validity) {
  if (device_id.size() < 3 || device_id.size() > 20 || !device_id.starts_with("D-") ||
      !std::all_of(device_id.begin() + 2, device_id.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::invalid_argument("a device id looks like D-7, not \"" + device_id + "\"");
  }
  if (validity.count() <= 0) throw std::invalid_argument("a certificate's validity must be > 0");

  ReqPtr request = parse_request(csr_pem);
  EVP_PKEY* device_key = X509_REQ_get0_pubkey(request.get());

  auto [ca_cert, ca_key] = load_ca(ca);
  CertPtr cert(X509_new());
  check(cert != nullptr, "allocate a certificate");
  X509_set_version(cert.get(), X509_VERSION_3);
  // 128 random bits; BN_bin2bn reads them as an unsigned (so positive) number.
  unsigned char serial[16];
  check(RAND_bytes(serial, sizeof serial) == 1, "draw a serial number");
  BnPtr bn(BN_bin2bn(serial, sizeof serial, nullptr));
  check(bn && BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) != nullptr,
        "set the serial number");

  std::time_t issued_at = std::time(nullptr);
  const long seconds = static_cast<long>(std::chrono::seconds(validity).count());
  // Five minutes back, so a device whose clock is a little behind accepts it at once.
  check(X509_time_adj(X509_getm_notBefore(cert.get()), -300, &issued_at) != nullptr,
        "set notBefore");
  check(X509_time_adj(X509_getm_notAfter(cert.get()), seconds, &issued_at) != nullptr,
        "set notAfter");
  check(X509_set_pubkey(cert.get(), device_key) == 1, "set the public key");
  X509_NAME* name = X509_get_subject_name(cert.get());
  check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(device_id.c_str()), -1,
                                   -1, 0) == 1,
        "set the subject");
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "clientAuth");
  add_extension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, "URI:" + device_uri(device_id));
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign the client certificate");

  ClientCertificate out;
  out.certificate_pem = to_pem([&](BIO* b) { return PEM_write_bio_X509(b, cert.get()); });
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_size = 0;
  check(X509_digest(cert.get(), EVP_sha256(), digest, &digest_size) == 1, "hash the certificate");
  out.fingerprint_hex = lower_hex(digest, digest_size);
  char* serial_text = BN_bn2hex(bn.get());
  check(serial_text != nullptr, "print the serial number");
  out.serial_hex = serial_text;
  OPENSSL_free(serial_text);
  std::transform(out.serial_hex.begin(), out.serial_hex.end(), out.serial_hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  out.not_before = std::chrono::system_clock::from_time_t(issued_at - 300);
  out.not_after = std::chrono::system_clock::from_time_t(issued_at + seconds);
  return out;
}

PemCertificate create_certificate_authority(const std::string& name, std::chrono::hours validity) {
  KeyPtr key = generate_key();
  CertPtr cert = new_certificate(key.get(), "Tether relay CA " + name, validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  add_extension(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  check(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0, "sign the CA certificate");
  return encode(cert.get(), key.get());
}

PemCertificate issue_server_certificate(const PemCertificate& ca,
                                        const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses,
                                        std::chrono::hours validity) {
  auto [ca_cert, ca_key] = load_ca(ca);

  KeyPtr key = generate_key();
  const std::string cn = dns_names.empty() ? "tether-relay" : dns_names.front();
  CertPtr cert = new_certificate(key.get(), cn, validity);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca_cert.get()));
  std::string san;
  for (const auto& dns : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + dns;
  for (const auto& ip : ip_addresses) san += (san.empty() ? "IP:" : ",IP:") + ip;
  add_extension(cert.get(), ca_cert.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert.get(), ca_cert.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert.get(), ca_cert.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert.get(), ca_cert.get(), NID_subject_key_identifier, "hash");
  add_extension(cert.get(), ca_cert.get(), NID_authority_key_identifier, "keyid:always");
  if (!san.empty()) add_extension(cert.get(), ca_cert.get(), NID_subject_alt_name, san);
  check(X509_sign(cert.get(), ca_key.get(), EVP_sha256()) > 0, "sign the server certificate");
  return encode(cert.get(), key.get());
}

}  // namespace tether::relay
