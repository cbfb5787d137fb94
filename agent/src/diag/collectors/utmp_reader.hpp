#pragma once
// Login sessions from /run/utmp: an array of fixed-size `struct utmpx` records (384 bytes on
// Linux, the same on 32- and 64-bit machines; glibc keeps 32-bit times in it for that).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tether::agent::diag {

/// One USER_PROCESS record: a user logged in on a terminal or over the network.
struct UtmpSession {
  std::string user;  ///< ut_user, at most 32 bytes (not NUL-terminated when full).
  std::string tty;   ///< ut_line, "tty1", "pts/0", ":0".
  std::string host;  ///< ut_host: remote host for ssh, display for X; empty when local.
  std::int64_t login_seconds = 0;  ///< ut_tv.tv_sec, Unix time.
  std::int32_t pid = 0;
};

/// Size of one record on Linux.
inline constexpr std::size_t kUtmpRecordSize = 384;

/// The USER_PROCESS records of a utmp file's bytes, in file order. A trailing partial record
/// and records of other types (boot time, run level, dead processes) are ignored; records
/// with an empty user name are skipped.
std::vector<UtmpSession> parse_utmp(std::string_view bytes);

}  // namespace tether::agent::diag
