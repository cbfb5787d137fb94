#pragma once
/// `tether-agent service`: an enrolled device stays connected to its relay over mutual TLS.
///
/// It reads the state directory `enroll` wrote, connects to /agent/v1/managed with the
/// device's key and certificate (the relay pinned as in agent.json; the TLS context is built
/// from the files on each attempt, so a renewed certificate is used from the next connection),
/// says hello as the device, and then serves the relay over a ChannelMux:
///   - inventory: a report on the relay's inventory_request and every `inventory_interval`
///     (±10 %), as a delta against the hashes the relay acknowledged; at most one report in
///     flight and nothing queued while offline;
///   - unattended sessions: a join_request is granted or refused by its consent policy and who
///     is logged in (utmp); a granted session's tools and snapshots run as in an attended one
///     (SessionHost); its session_end ends the session, not the service;
///   - certificate renewal: after welcome, when less than a third of the certificate's
///     lifetime is left, a certificate_renew for the same key; the issued certificate is
///     checked and written atomically.
/// Whatever breaks — DNS, TCP, TLS, a refusal, a lost connection — it tries again, forever,
/// after a capped exponential delay with full jitter, resolving the relay's name again each
/// time. One line per change of state goes to the log stream (stderr: the journal).
/// SIGINT or SIGTERM close the connection politely and end it with status 0.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string_view>

#include "tether/agent/diag/findings.hpp"

namespace tether::agent::managed {

struct ServiceOptions {
  std::filesystem::path state_dir;
  std::chrono::milliseconds retry_base{1000};  ///< Ceiling of the first reconnect delay.
  std::chrono::milliseconds retry_cap{60000};  ///< Ceiling of every reconnect delay.
  /// The utmp file that says who is logged in (_PATH_UTMP, /var/run/utmp).
  std::filesystem::path utmp = "/var/run/utmp";
  /// Between unsolicited inventory reports, ±10 % jitter.
  std::chrono::seconds inventory_interval = std::chrono::hours(6);
  /// Renew the certificate when less than this is left; unset: a third of its lifetime.
  std::optional<std::chrono::seconds> renew_before;
  diag::Thresholds thresholds;       ///< Health checks of snapshots and inventory findings.
  std::filesystem::path files_root;  ///< Allowed root of the file tools.
  std::uint64_t max_file_bytes = 4ULL << 30;  ///< Largest file moved by put/get.
};

/// Exit statuses of run_service.
inline constexpr int kServiceStopped = 0;      ///< Stopped by SIGINT or SIGTERM.
inline constexpr int kServiceFailed = 1;       ///< The key or certificate cannot be used.
inline constexpr int kServiceNotEnrolled = 2;  ///< No (readable) enrollment in the state dir.

/// "90s", "30m", "6h", "1d" or plain seconds, from 1 s to 365 days; nullopt otherwise.
std::optional<std::chrono::seconds> parse_interval(std::string_view text);

/// Runs until SIGINT or SIGTERM.
int run_service(const ServiceOptions& options, std::ostream& log);

}  // namespace tether::agent::managed
