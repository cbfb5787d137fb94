#include "managed/unattended_consent.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include <cerrno>
#include <cstring>
#include <string_view>

namespace tether::agent::managed {

std::optional<std::vector<std::string>> logged_in_users(const std::filesystem::path& file) {
  // getutxent cannot tell "no file" from "no records" from "no permission": look first.
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::vector<std::string>{};
    return std::nullopt;
  }
  struct stat info {};
  const bool regular = ::fstat(fd, &info) == 0 && S_ISREG(info.st_mode);
  ::close(fd);
  if (!regular) return std::nullopt;  // A directory, a device: nothing getutxent can read.
  if (utmpxname(file.c_str()) != 0) return std::nullopt;
  std::vector<std::string> users;
  setutxent();
  while (const utmpx* record = getutxent()) {
    if (record->ut_type != USER_PROCESS) continue;
    const std::string_view user(record->ut_user, strnlen(record->ut_user, sizeof record->ut_user));
    if (!user.empty()) users.emplace_back(user);
  }
  endutxent();
  return users;
}

UnattendedDecision decide_unattended(const std::optional<std::string>& consent,
                                     const std::optional<std::vector<std::string>>& users) {
  UnattendedDecision decision;
  if (!consent) {
    decision.reason =
        "a join request without the device's consent policy is not accepted by a managed agent";
    return decision;
  }
  const bool someone = !users || !users->empty();
  if (*consent == "never" || (*consent == "if_user_present" && !someone)) {
    decision.granted = true;
    decision.by = kUnattendedBy;
    return decision;
  }
  if (*consent != "if_user_present" && *consent != "always") {
    decision.reason = "this agent does not know the consent policy \"" + consent->substr(0, 32) +
                      "\"; it accepts \"never\", \"if_user_present\" and \"always\"";
    return decision;
  }
  if (!users) {
    decision.reason =
        "this device's policy needs the consent of a logged-in user and the agent cannot tell "
        "who is logged in; ask the user to run `tether-agent support` for an attended session";
  } else if (someone) {
    decision.reason =
        "a user is logged in and this device's policy needs their consent; ask them to run "
        "`tether-agent support` for an attended session";
  } else {
    decision.reason =
        "this device's policy needs the consent of a logged-in user and nobody is logged in";
  }
  return decision;
}

}  // namespace tether::agent::managed
