#pragma once
/// The params of an `exec` channel (SPEC.md §4.3), validated: pure, tested without processes.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <boost/system/result.hpp>
#include <nlohmann/json.hpp>

#include "tether/protocol/tool_wire.hpp"

namespace tether::agent {

inline constexpr char kExecStdout = protocol::kExecStdoutTag;
inline constexpr char kExecStderr = protocol::kExecStderrTag;

/// Limits a technician may ask for.
inline constexpr std::chrono::milliseconds kMaxExecTimeout{24LL * 3600 * 1000};
inline constexpr std::chrono::milliseconds kDefaultExecTimeout{30'000};
inline constexpr std::uint64_t kDefaultExecOutputBytes = 64ULL << 20;
inline constexpr std::uint64_t kMaxExecOutputBytes = 1ULL << 30;

struct ExecParams {
  std::vector<std::string> argv;
  std::chrono::milliseconds timeout = kDefaultExecTimeout;
  std::uint64_t max_output_bytes = kDefaultExecOutputBytes;
  std::string display;  ///< The command line quoted for people (the user's notice).
};

/// {argv: [1..256 strings, no NUL, ≤ 64 KiB in all], timeout_ms?: 1..86 400 000,
/// max_output_bytes?: 1..1 GiB}; anything else (unknown fields too) is refused with a reason.
boost::system::result<ExecParams, std::string> parse_exec_params(const nlohmann::json& params);

/// "TERM", "KILL", … for a signal number ("SIG" not included); the number as text otherwise.
std::string signal_name(int signal);

}  // namespace tether::agent
