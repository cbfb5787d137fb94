#pragma once
/// `tether-agent enroll`: makes this PC a managed device. Generates an EC P-256 key here (it
/// never leaves the machine), sends a certificate request, the enrollment token and the
/// machine's identity to the relay over verified TLS (POST /api/v1/enroll), and keeps the
/// key, the signed certificate and the relay's CA in the state directory (state_dir.hpp).

#include <chrono>
#include <filesystem>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "tether/protocol/relay_url.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::agent::managed {

struct EnrollOptions {
  protocol::RelayUrl relay;
  protocol::TrustAnchor trust;
  std::string relay_text;    ///< The URL as the user gave it, kept in agent.json.
  std::string fingerprint;   ///< As given (--fingerprint), or empty.
  std::filesystem::path ca;  ///< As given (--ca), or empty.
  std::string token;
  std::filesystem::path state_dir;
  bool force = false;  ///< Replace an existing enrollment.
  /// Where the machine's identity is read (machine-id, SMBIOS ids, NICs): "/" for this PC, a
  /// mounted image's root to enroll that installation.
  std::filesystem::path root = "/";
  std::chrono::seconds timeout{30};
};

/// Exit statuses of run_enroll.
inline constexpr int kEnrollOk = 0;
inline constexpr int kEnrollFailed = 1;    ///< Refused by the relay, unreachable, or I/O.
inline constexpr int kEnrollUsage = 2;     ///< Already enrolled (without --force).
inline constexpr int kEnrollIdentity = 3;  ///< The relay's identity did not match the pin.

/// Enrolls and writes the state directory; prints "enrolled as D-1 (group default);
/// certificate valid until …" to `out`, one actionable line to `err` on failure.
int run_enroll(const EnrollOptions& options, std::ostream& out, std::ostream& err);

/// A fresh EC P-256 key (PKCS#8 PEM) and a PKCS#10 request for it, signed with it, naming
/// `hostname` as its subject (the relay ignores the subject; it helps people reading it).
struct KeyAndRequest {
  std::string private_key_pem;
  std::string csr_pem;
};
KeyAndRequest make_key_and_request(const std::string& hostname);

/// A PKCS#10 request for the existing key `private_key_pem` (a renewal keeps the key), signed
/// with it, naming `hostname`. Throws std::runtime_error when the key cannot be read.
std::string make_request_for_key(const std::string& private_key_pem, const std::string& hostname);

/// What the relay is told about this machine: {hostname, os, machine_id, smbios_uuid,
/// serials: [...], macs: [...]}. The identifiers come from the diagnostics identity
/// collector under `root` (placeholder values and virtual or USB interfaces left out; the
/// SMBIOS UUID and serials only when run as root), os from its /etc/os-release, hostname
/// from gethostname(). Absent values are empty strings or lists.
nlohmann::json machine_identity(const std::filesystem::path& root = "/");

}  // namespace tether::agent::managed
