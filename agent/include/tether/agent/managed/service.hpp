#pragma once
/// `tether-agent service`: an enrolled device stays connected to its relay over mutual TLS.
///
/// It reads the state directory `enroll` wrote, connects to /agent/v1/managed with the
/// device's key and certificate (the relay pinned as in agent.json), says hello as the
/// device, and then only answers the relay's keep-alive pings. Whatever breaks — DNS, TCP,
/// TLS, a refusal, a lost connection — it tries again, forever, after a capped exponential
/// delay with full jitter, resolving the relay's name again each time. Nothing is queued
/// while offline. One line per change of state goes to the log stream (stderr: the journal).
/// SIGINT or SIGTERM close the connection politely and end it with status 0.

#include <chrono>
#include <filesystem>
#include <ostream>

namespace tether::agent::managed {

struct ServiceOptions {
  std::filesystem::path state_dir;
  std::chrono::milliseconds retry_base{1000};  ///< Ceiling of the first reconnect delay.
  std::chrono::milliseconds retry_cap{60000};  ///< Ceiling of every reconnect delay.
};

/// Exit statuses of run_service.
inline constexpr int kServiceStopped = 0;      ///< Stopped by SIGINT or SIGTERM.
inline constexpr int kServiceFailed = 1;       ///< The key or certificate cannot be used.
inline constexpr int kServiceNotEnrolled = 2;  ///< No (readable) enrollment in the state dir.

/// Runs until SIGINT or SIGTERM.
int run_service(const ServiceOptions& options, std::ostream& log);

}  // namespace tether::agent::managed
