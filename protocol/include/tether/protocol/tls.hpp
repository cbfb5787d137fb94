#pragma once
/// TLS for every Tether connection: TLS 1.2 minimum, 1.3 preferred, and on the client side
/// a pinned relay identity (a CA certificate file, or the SHA-256 fingerprint of a
/// certificate in the relay's chain). There is no trust-on-first-use and no way to turn
/// verification off.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ssl/context.hpp>
#include <boost/system/result.hpp>

#include "tether/protocol/error.hpp"

namespace tether::protocol {

template <class T>
using Result = boost::system::result<T, std::error_code>;

/// What a client trusts to vouch for the relay.
class TrustAnchor {
 public:
  /// "SHA256:<64 hex>" (colons between bytes and upper case accepted). The certificate in the
  /// relay's presented chain with this fingerprint becomes the only trust anchor.
  static Result<TrustAnchor> from_fingerprint(std::string_view text);
  /// A PEM file with one or more CA certificates; these become the only trust anchors.
  static Result<TrustAnchor> from_ca_file(const std::filesystem::path& file);

  /// Lower-case hex SHA-256 digest, or empty when anchored by CA file.
  const std::string& fingerprint_hex() const { return fingerprint_hex_; }
  /// DER-encoded CA certificates, or empty when anchored by fingerprint.
  const std::vector<std::string>& ca_der() const { return ca_der_; }
  /// "fingerprint SHA256:ab12…" or "CA file ca.pem", for messages.
  std::string describe() const;

 private:
  std::string fingerprint_hex_;
  std::vector<std::string> ca_der_;
  std::string description_;
};

/// "SHA256:<64 lower-case hex>" of the first certificate in `pem`; empty if none parses.
std::string certificate_fingerprint(std::string_view pem);

/// Client context that verifies the peer against `trust` (and the host name set per stream
/// with set_expected_host). The returned context keeps its own copy of the anchor.
boost::asio::ssl::context make_client_context(const TrustAnchor& trust);

/// Sets SNI (for names) and the name or IP address the peer's certificate must carry.
/// `native_handle` is the SSL* of the stream about to handshake.
void set_expected_host(void* native_handle, const std::string& host);

/// Server context from a PEM chain (leaf first) and its PEM private key.
/// Throws std::runtime_error naming the file when they cannot be loaded.
boost::asio::ssl::context make_server_context(const std::filesystem::path& chain_file,
                                              const std::filesystem::path& key_file);

/// Makes a server context ask every client for a certificate without requiring one (consoles
/// and attended agents have none): SSL_VERIFY_PEER without FAIL_IF_NO_PEER_CERT. A presented
/// certificate is verified against `ca_file` only, but the handshake goes on whatever the
/// outcome; the endpoint that needs a client identity reads it with peer_certificate and
/// refuses with a message of its own. Throws std::runtime_error naming the file.
void request_client_certificates(boost::asio::ssl::context& ctx,
                                 const std::filesystem::path& ca_file);

/// The client certificate a server-side connection received, as far as it matters to Tether.
struct PeerCertificate {
  bool presented = false;
  bool verified = false;        ///< Chains to the trusted CA and is within its validity.
  bool expired = false;         ///< Verification failed because it is past its notAfter.
  std::string verify_error;     ///< OpenSSL's text for the failure; empty when verified.
  std::string fingerprint_hex;  ///< Lower-case hex SHA-256 of the certificate's DER.
  std::string common_name;
  std::vector<std::string> uris;  ///< URI subject alternative names.
  std::int64_t not_after = 0;     ///< Seconds since the epoch.
};

/// What the peer of the handshaken SSL* `native_handle` presented.
PeerCertificate peer_certificate(void* native_handle);

/// True when `ec` is a TLS handshake error caused by certificate verification.
bool is_verification_failure(const std::error_code& ec);
bool is_verification_failure(const boost::system::error_code& ec);

}  // namespace tether::protocol
