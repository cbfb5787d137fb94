#pragma once
/// `tether-agent support`: attended mode. Connects out to the relay, shows the user a support
/// code, asks the user's consent when a technician joins, answers the technician's requests,
/// and exits when the session ends.

#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "tether/agent/diag/findings.hpp"
#include "tether/protocol/relay_url.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::agent {

enum class ConsentMode {
  ask,         ///< Prompt on the terminal; anything but "y"/"yes" refuses.
  auto_grant,  ///< Grant without asking (stated on screen); for demos and tests.
};

struct SupportOptions {
  protocol::RelayUrl relay;
  protocol::TrustAnchor trust;
  ConsentMode consent = ConsentMode::ask;
  std::istream* input = nullptr;   ///< Where consent answers come from (std::cin).
  std::ostream* output = nullptr;  ///< What the user reads (std::cout).
  diag::Thresholds thresholds;     ///< Health-check thresholds (agent config file).
  /// With --consent auto: the scopes granted (of those requested); all by default.
  std::vector<std::string> grant = {"diagnostics", "shell", "files", "processes", "logs"};
  std::filesystem::path files_root;           ///< Allowed root for files; $HOME by default.
  std::uint64_t max_file_bytes = 4ULL << 30;  ///< Largest file moved by put/get.
};

/// Exit statuses of run_support.
inline constexpr int kExitSessionEnded = 0;   ///< A session ran and ended.
inline constexpr int kExitFailed = 1;         ///< Code expired/refused by relay, or an error.
inline constexpr int kExitIdentity = 3;       ///< The relay's identity did not match the pin.
inline constexpr int kExitInterrupted = 130;  ///< The user stopped the agent before a session.

/// The home directory of the user running the agent ($HOME, else the password database).
std::filesystem::path home_directory();

/// Runs until the session ends, the code expires, or the user interrupts (SIGINT/SIGTERM).
/// Reconnects with capped exponential backoff and full jitter while the relay is unreachable.
int run_support(const SupportOptions& options);

}  // namespace tether::agent
