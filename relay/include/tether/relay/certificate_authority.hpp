#pragma once
/// The relay's own certificate authority: it signs the relay's server certificate now and
/// managed agents' client certificates later. Keys are ECDSA P-256; signatures SHA-256.

#include <chrono>
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

}  // namespace tether::relay
