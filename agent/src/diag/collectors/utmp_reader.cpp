#include "diag/collectors/utmp_reader.hpp"

#include <cstring>

namespace tether::agent::diag {
namespace {

// Layout of glibc's struct utmpx on Linux (bits/utmpx.h), in host byte order.
constexpr std::size_t kType = 0;     // short ut_type
constexpr std::size_t kPid = 4;      // pid_t ut_pid
constexpr std::size_t kLine = 8;     // char ut_line[32]
constexpr std::size_t kUser = 44;    // char ut_user[32]
constexpr std::size_t kHost = 76;    // char ut_host[256]
constexpr std::size_t kTvSec = 340;  // int32_t ut_tv.tv_sec
constexpr std::size_t kLineSize = 32;
constexpr std::size_t kUserSize = 32;
constexpr std::size_t kHostSize = 256;
constexpr short kUserProcess = 7;

// A fixed-size char array: up to the first NUL, or all of it when full.
std::string fixed_string(const char* field, std::size_t size) {
  const void* nul = std::memchr(field, '\0', size);
  return std::string(field, nul ? static_cast<const char*>(nul) - field : size);
}

}  // namespace

std::vector<UtmpSession> parse_utmp(std::string_view bytes) {
  std::vector<UtmpSession> sessions;
  for (std::size_t at = 0; at + kUtmpRecordSize <= bytes.size(); at += kUtmpRecordSize) {
    const char* record = bytes.data() + at;
    short type = 0;
    std::memcpy(&type, record + kType, sizeof type);
    if (type != kUserProcess) continue;
    UtmpSession session;
    session.user = fixed_string(record + kUser, kUserSize);
    if (session.user.empty()) continue;
    session.tty = fixed_string(record + kLine, kLineSize);
    session.host = fixed_string(record + kHost, kHostSize);
    std::memcpy(&session.pid, record + kPid, sizeof session.pid);
    std::int32_t seconds = 0;
    std::memcpy(&seconds, record + kTvSec, sizeof seconds);
    // Read as unsigned: a login before 1970 is meaningless, and this keeps the 32-bit field
    // usable past 2038.
    session.login_seconds = static_cast<std::uint32_t>(seconds);
    sessions.push_back(std::move(session));
  }
  return sessions;
}

}  // namespace tether::agent::diag
