#include "tether/protocol/tls.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <boost/asio/error.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>

namespace tether::protocol {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

std::string to_hex(const unsigned char* data, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0xf]);
  }
  return out;
}

std::string sha256_hex_of(X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &size) != 1) return {};
  return to_hex(digest, size);
}

std::string der_of(X509* cert) {
  unsigned char* buffer = nullptr;
  const int size = i2d_X509(cert, &buffer);
  if (size <= 0) return {};
  std::string der(reinterpret_cast<char*>(buffer), static_cast<std::size_t>(size));
  OPENSSL_free(buffer);
  return der;
}

X509Ptr from_der(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

std::vector<X509Ptr> read_pem_certificates(std::string_view pem) {
  std::vector<X509Ptr> certs;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return certs;
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) certs.emplace_back(cert);
  ERR_clear_error();  // The loop ends on a "no start line" error, which is expected.
  BIO_free(bio);
  return certs;
}

// The verification callback replaces OpenSSL's default chain check. It builds a fresh store
// holding only the pinned anchor(s) and verifies the presented chain against it, with the
// host name or IP address the caller set on the connection. PARTIAL_CHAIN lets a pinned
// intermediate or leaf act as the anchor, as a fingerprint pin of any chain member should.
int verify_against_anchor(X509_STORE_CTX* original, void* arg) {
  const auto* trust = static_cast<const TrustAnchor*>(arg);
  X509* leaf = X509_STORE_CTX_get0_cert(original);
  STACK_OF(X509)* untrusted = X509_STORE_CTX_get0_untrusted(original);
  if (leaf == nullptr) return 0;

  X509_STORE* store = X509_STORE_new();
  std::vector<X509Ptr> anchors;
  if (!trust->fingerprint_hex().empty()) {
    std::vector<X509*> presented{leaf};
    for (int i = 0; untrusted != nullptr && i < sk_X509_num(untrusted); ++i) {
      presented.push_back(sk_X509_value(untrusted, i));
    }
    for (X509* cert : presented) {
      if (sha256_hex_of(cert) == trust->fingerprint_hex()) {
        X509_up_ref(cert);
        anchors.emplace_back(cert);
        break;
      }
    }
  } else {
    for (const auto& der : trust->ca_der()) {
      if (auto cert = from_der(der)) anchors.push_back(std::move(cert));
    }
  }
  for (const auto& anchor : anchors) X509_STORE_add_cert(store, anchor.get());

  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  int ok = 0;
  if (ctx != nullptr && X509_STORE_CTX_init(ctx, store, leaf, untrusted) == 1) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set1(param, X509_STORE_CTX_get0_param(original));
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_PARTIAL_CHAIN);
    if (anchors.empty()) {
      X509_STORE_CTX_set_error(original, X509_V_ERR_CERT_UNTRUSTED);
    } else {
      ok = X509_verify_cert(ctx) == 1 ? 1 : 0;
      X509_STORE_CTX_set_error(original, ok ? X509_V_OK : X509_STORE_CTX_get_error(ctx));
    }
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return ok;
}

}  // namespace

Result<TrustAnchor> TrustAnchor::from_fingerprint(std::string_view text) {
  constexpr std::string_view kPrefix = "sha256:";
  if (text.size() < kPrefix.size()) return make_error_code(Error::bad_request);
  std::string prefix(text.substr(0, kPrefix.size()));
  std::transform(prefix.begin(), prefix.end(), prefix.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (prefix != kPrefix) return make_error_code(Error::bad_request);
  std::string hex;
  for (char c : text.substr(kPrefix.size())) {
    if (c == ':') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return make_error_code(Error::bad_request);
    hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (hex.size() != 64) return make_error_code(Error::bad_request);
  TrustAnchor anchor;
  anchor.fingerprint_hex_ = hex;
  anchor.description_ = "fingerprint SHA256:" + hex;
  return anchor;
}

Result<TrustAnchor> TrustAnchor::from_ca_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error_code(Error::not_found);
  std::stringstream content;
  content << in.rdbuf();
  auto certs = read_pem_certificates(content.str());
  if (certs.empty()) return make_error_code(Error::bad_request);
  TrustAnchor anchor;
  for (const auto& cert : certs) anchor.ca_der_.push_back(der_of(cert.get()));
  anchor.description_ = "CA file " + file.string();
  return anchor;
}

std::string TrustAnchor::describe() const {
  return description_;
}

std::string certificate_fingerprint(std::string_view pem) {
  auto certs = read_pem_certificates(pem);
  if (certs.empty()) return {};
  return "SHA256:" + sha256_hex_of(certs.front().get());
}

boost::asio::ssl::context make_client_context(const TrustAnchor& trust) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_client);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  ctx.set_verify_mode(boost::asio::ssl::verify_peer);
  // The context owns a copy of the anchor; it lives as long as the SSL_CTX through ex-data-free
  // ownership below (released in the context's destructor via the app data slot).
  auto* owned = new TrustAnchor(trust);
  SSL_CTX_set_cert_verify_callback(native, verify_against_anchor, owned);
  static const int index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<TrustAnchor*>(ptr);
      });
  SSL_CTX_set_ex_data(native, index, owned);
  return ctx;
}

void set_expected_host(void* native_handle, const std::string& host) {
  auto* ssl = static_cast<SSL*>(native_handle);
  boost::system::error_code ec;
  boost::asio::ip::make_address(host, ec);
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (!ec) {
    X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, host.c_str());
    SSL_set1_host(ssl, host.c_str());
  }
}

boost::asio::ssl::context make_server_context(const std::filesystem::path& chain_file,
                                              const std::filesystem::path& key_file) {
  boost::asio::ssl::context ctx(boost::asio::ssl::context::tls_server);
  SSL_CTX* native = ctx.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // No session resumption: Tether's clients never resume (each connection is authenticated
  // afresh), so session tickets would only cost every handshake two encrypted tickets
  // (about a third of its CPU, docs/benchmarks.md) and a session cache memory per client.
  SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
  SSL_CTX_set_num_tickets(native, 0);
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
  // AES-128-GCM first: as strong as needed and faster than AES-256 on every byte the relay
  // decrypts and encrypts again; the others stay for clients without AES instructions.
  SSL_CTX_set_ciphersuites(native,
                           "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:"
                           "TLS_AES_256_GCM_SHA384");
  boost::system::error_code ec;
  ctx.use_certificate_chain_file(chain_file.string(), ec);
  if (ec) throw std::runtime_error("cannot load certificate chain " + chain_file.string());
  ctx.use_private_key_file(key_file.string(), boost::asio::ssl::context::pem, ec);
  if (ec) throw std::runtime_error("cannot load private key " + key_file.string());
  return ctx;
}

void request_client_certificates(boost::asio::ssl::context& ctx,
                                 const std::filesystem::path& ca_file) {
  SSL_CTX* native = ctx.native_handle();
  if (SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1) {
    ERR_clear_error();
    throw std::runtime_error("cannot load CA certificate " + ca_file.string());
  }
  if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca_file.c_str())) {
    SSL_CTX_set_client_CA_list(native, names);
  }
  // OpenSSL wants a session context id whenever client certificates are requested, even with
  // resumption off.
  static constexpr unsigned char kSessionContext[] = "tether-relay";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  // Accept whatever was presented: the verification result stays on the connection
  // (SSL_get_verify_result) for the endpoint to judge, so a refusal can say why.
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, [](int, X509_STORE_CTX*) { return 1; });
}

PeerCertificate peer_certificate(void* native_handle) {
  auto* ssl = static_cast<SSL*>(native_handle);
  PeerCertificate out;
  X509Ptr cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return out;
  out.presented = true;
  const long result = SSL_get_verify_result(ssl);
  out.verified = result == X509_V_OK;
  out.expired = result == X509_V_ERR_CERT_HAS_EXPIRED;
  if (!out.verified) out.verify_error = X509_verify_cert_error_string(result);
  out.fingerprint_hex = sha256_hex_of(cert.get());
  char cn[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn) >
      0) {
    out.common_name = cn;
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const auto* uri = name->d.uniformResourceIdentifier;
    out.uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)),
                          static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  std::tm tm{};
  if (ASN1_TIME_to_tm(X509_get0_notAfter(cert.get()), &tm) == 1) out.not_after = timegm(&tm);
  ERR_clear_error();
  return out;
}

bool is_verification_failure(const boost::system::error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category()) return false;
  const auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  return reason == SSL_R_CERTIFICATE_VERIFY_FAILED;
}

bool is_verification_failure(const std::error_code& ec) {
  return is_verification_failure(boost::system::error_code(ec));
}

}  // namespace tether::protocol
