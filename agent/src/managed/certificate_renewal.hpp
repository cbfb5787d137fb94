#pragma once
// Renewing the device certificate before it expires (SPEC.md §3.4, certificate_renew): when
// it is due, and whether the certificate the relay issued may replace ours. Pure; tested alone.

#include <chrono>
#include <optional>
#include <string>

namespace tether::agent::managed {

struct CertificateValidity {
  std::chrono::system_clock::time_point not_before;
  std::chrono::system_clock::time_point not_after;
};

/// notBefore/notAfter of a PEM certificate; nullopt when it does not parse.
std::optional<CertificateValidity> certificate_validity(const std::string& certificate_pem);

/// True when the certificate should be renewed at `now`: less than `renew_before` left, or,
/// without it, less than a third of its lifetime.
bool renewal_due(const CertificateValidity& validity, std::chrono::system_clock::time_point now,
                 std::optional<std::chrono::seconds> renew_before = std::nullopt);

/// Why `certificate_pem` (as the relay issued it) must not replace the device's certificate,
/// or an empty string when it may: it must parse, be valid now, carry the public key of
/// `private_key_pem`, name `device` as its CN, and verify against `ca_pem` (the CA kept in the
/// state directory) when that is not empty.
std::string check_issued_certificate(const std::string& certificate_pem,
                                     const std::string& private_key_pem, const std::string& ca_pem,
                                     const std::string& device);

}  // namespace tether::agent::managed
