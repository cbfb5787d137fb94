#include "managed/certificate_renewal.hpp"

#include <openssl/asn1.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <ctime>
#include <memory>

namespace tether::agent::managed {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using CertPtr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE, X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX, X509_STORE_CTX_free>>;

CertPtr read_certificate(const std::string& pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return CertPtr(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
}

std::optional<std::chrono::system_clock::time_point> to_time_point(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

}  // namespace

std::optional<CertificateValidity> certificate_validity(const std::string& certificate_pem) {
  auto certificate = read_certificate(certificate_pem);
  if (!certificate) return std::nullopt;
  auto not_before = to_time_point(X509_get0_notBefore(certificate.get()));
  auto not_after = to_time_point(X509_get0_notAfter(certificate.get()));
  if (!not_before || !not_after) return std::nullopt;
  return CertificateValidity{*not_before, *not_after};
}

bool renewal_due(const CertificateValidity& validity, std::chrono::system_clock::time_point now,
                 std::optional<std::chrono::seconds> renew_before) {
  const auto left = validity.not_after - now;
  if (renew_before) return left < *renew_before;
  const auto lifetime = validity.not_after - validity.not_before;
  return left * 3 < lifetime;
}

std::string check_issued_certificate(const std::string& certificate_pem,
                                     const std::string& private_key_pem, const std::string& ca_pem,
                                     const std::string& device) {
  auto certificate = read_certificate(certificate_pem);
  if (!certificate) return "it is not a PEM certificate";
  BioPtr key_bio(BIO_new_mem_buf(private_key_pem.data(), static_cast<int>(private_key_pem.size())));
  KeyPtr key(key_bio ? PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return "the device's own key cannot be read";
  if (X509_check_private_key(certificate.get(), key.get()) != 1) {
    return "it is not for this device's key";
  }
  char cn[256] = {};
  const int cn_size = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate.get()),
                                                NID_commonName, cn, sizeof cn);
  if (cn_size <= 0 || std::string(cn, static_cast<std::size_t>(cn_size)) != device) {
    return "it names " +
           (cn_size > 0 ? std::string(cn, static_cast<std::size_t>(cn_size))
                        : std::string("no device")) +
           ", not " + device;
  }
  if (X509_cmp_current_time(X509_get0_notBefore(certificate.get())) > 0 ||
      X509_cmp_current_time(X509_get0_notAfter(certificate.get())) < 0) {
    return "it is not valid now";
  }
  if (!ca_pem.empty()) {
    auto ca = read_certificate(ca_pem);
    if (!ca) return "the relay's CA certificate in the state directory cannot be read";
    StorePtr store(X509_STORE_new());
    StoreCtxPtr context(X509_STORE_CTX_new());
    if (!store || !context || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
        X509_STORE_CTX_init(context.get(), store.get(), certificate.get(), nullptr) != 1) {
      return "OpenSSL could not verify it";
    }
    if (X509_verify_cert(context.get()) != 1) {
      return std::string("it does not chain to the relay's CA: ") +
             X509_verify_cert_error_string(X509_STORE_CTX_get_error(context.get()));
    }
  }
  return {};
}

}  // namespace tether::agent::managed
