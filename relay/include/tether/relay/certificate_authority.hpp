#pragma once
/// The relay's own certificate authority: it signs the relay's server certificate now and
/// managed agents' client certificates later. Keys are ECDSA P-256; signatures SHA-256.

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace tether::relay {

struct PemCertificate {
  std::string certificate_pem;
  std::string private_key_pem;  ///< PKCS#8, unencrypted; written to disk with mode 0600.
};

/// A new self-signed CA certificate ("Tether relay CA <name>"), valid for `validity`.
/// Throws std::runtime_error when OpenSSL fails.
PemCertificate create_certificate_authority(const std::string& name, std::chrono::hours validity);

/// A server certificate signed by `ca` for the given DNS names and IP addresses (both go into
/// subjectAltName), valid for `validity`. Throws std::runtime_error when OpenSSL fails or the
/// CA material does not parse.
PemCertificate issue_server_certificate(const PemCertificate& ca,
                                        const std::vector<std::string>& dns_names,
                                        const std::vector<std::string>& ip_addresses,
                                        std::chrono::hours validity);

/// A certificate request a device sent that cannot be signed: not PEM, a broken
/// self-signature, or a key type or size the CA does not accept. The message says which.
class CsrError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

/// A managed device's client certificate as issued, with the facts the store keeps.
struct ClientCertificate {
  std::string certificate_pem;
  std::string fingerprint_hex;  ///< Lower-case hex SHA-256 of the certificate's DER.
  std::string serial_hex;       ///< Lower-case hex serial number.
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

/// Checks what issue_client_certificate checks of a request (PEM PKCS#10, an accepted key,
/// a self-signature that verifies) without signing anything. Throws CsrError.
void check_certificate_request(const std::string& csr_pem);

/// Signs the public key of `csr_pem` (a PKCS#10 request) as a client certificate for
/// `device_id` ("D-<n>"). Only the key comes from the request, and only after its
/// self-signature verifies and it is EC P-256 or RSA of 2048 to 8192 bits; its subject and
/// extensions are ignored. The certificate says: subject CN=<device_id>, subjectAltName
/// URI:urn:tether:device:<device_id>, extendedKeyUsage clientAuth only, basicConstraints
/// CA:FALSE (critical), a random 128-bit serial, valid from five minutes ago for `validity`.
/// Throws CsrError for a request that cannot be signed, std::invalid_argument for a malformed
/// `device_id`, std::runtime_error when the CA material does not parse or OpenSSL fails.
/// Thread-safe (no shared state).
ClientCertificate issue_client_certificate(const PemCertificate& ca, const std::string& csr_pem,
                                           const std::string& device_id,
                                           std::chrono::hours validity);

/// The subjectAltName URI naming a managed device: "urn:tether:device:D-7".
std::string device_uri(const std::string& device_id);

}  // namespace tether::relay
