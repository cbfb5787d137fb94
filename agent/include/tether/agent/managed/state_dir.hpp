#pragma once
/// A managed agent's state directory: what `tether-agent enroll` writes and the service reads.
///
///   DIR/               0700
///     device.key       0600  the device's private key (PKCS#8 PEM); made here, never sent
///     device.pem       0600  its client certificate, signed by the relay's CA
///     ca.pem           0600  the relay's CA certificate
///     agent.json       0600  {"relay", "fingerprint" or "ca", "device", "group", "not_after"}
///
/// agent.json is written last and removed first: a directory holding it holds a complete
/// enrollment, whatever happened to an earlier run.

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

namespace tether::agent::managed {

/// The state directory could not be read or written; the message names the file.
class StateDirError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What agent.json says.
struct AgentState {
  std::string relay;        ///< The relay URL as given to enroll (wss:// or https://).
  std::string fingerprint;  ///< "SHA256:…" pin of the relay, or empty when `ca` is used.
  std::string ca;           ///< CA file given to enroll, or empty when pinned by fingerprint.
  std::string device;       ///< "D-7".
  std::string group;
  std::string not_after;  ///< The certificate's expiry, ISO 8601 UTC.
};

/// Everything an enrollment leaves behind.
struct Enrollment {
  AgentState state;
  std::string private_key_pem;
  std::string certificate_pem;
  std::string ca_certificate_pem;
};

/// /var/lib/tether-agent for root; otherwise $XDG_STATE_HOME/tether-agent, else
/// ~/.local/state/tether-agent.
std::filesystem::path default_state_dir();

inline std::filesystem::path key_file(const std::filesystem::path& dir) {
  return dir / "device.key";
}
inline std::filesystem::path certificate_file(const std::filesystem::path& dir) {
  return dir / "device.pem";
}
inline std::filesystem::path ca_file(const std::filesystem::path& dir) {
  return dir / "ca.pem";
}
inline std::filesystem::path state_file(const std::filesystem::path& dir) {
  return dir / "agent.json";
}

/// True when `dir` holds a complete enrollment (its agent.json exists).
bool is_enrolled(const std::filesystem::path& dir);

/// Writes `enrollment` into `dir` (created 0700 with its parents; an existing directory is
/// set to 0700), each file through a private temporary file renamed into place, agent.json
/// last. Replaces an earlier enrollment only with `force` (its agent.json goes first).
/// Throws StateDirError.
void write_enrollment(const std::filesystem::path& dir, const Enrollment& enrollment, bool force);

/// Replaces the device's certificate with a renewed one (same key): device.pem through a
/// private temporary file, fsync and rename, then agent.json's not_after the same way.
/// Throws StateDirError; on failure the old certificate is still in place.
void replace_certificate(const std::filesystem::path& dir, const std::string& certificate_pem,
                         const std::string& not_after);

/// agent.json of `dir`; nullopt when it is not enrolled. Throws StateDirError for a file
/// that exists but does not parse.
std::optional<AgentState> read_state(const std::filesystem::path& dir);

}  // namespace tether::agent::managed
