#pragma once
// Whether the service may start an unattended session the relay asks for: the device's group
// policy (join_request.consent) against who is logged in at the PC (utmp). Pure apart from
// reading the utmp file; tested with crafted files.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tether::agent::managed {

/// The user names of the USER_PROCESS records of the utmp file `file` (read with
/// utmpxname/getutxent, so not thread-safe: call from one thread). An empty list when the file
/// does not exist (nobody ever logged in on this boot); nullopt when it exists but is not a
/// regular file or cannot be read, which the caller must treat as "someone may be there".
std::optional<std::vector<std::string>> logged_in_users(const std::filesystem::path& file);

/// What the service answers a join_request.
struct UnattendedDecision {
  bool granted = false;
  std::string by;      ///< consent.by when granted: "policy (unattended)".
  std::string reason;  ///< Why it was refused, for the technician and the journal.
};

/// The consent policy the relay sent (absent, "never", "if_user_present", "always") and the
/// users logged in (nullopt: unknown). "never" grants; "if_user_present" grants when nobody is
/// logged in; everything else would need a logged-in user's consent, and this version has no
/// way to ask without a terminal, so it refuses saying so. A join without a policy, or with
/// one this version does not know, is refused.
UnattendedDecision decide_unattended(const std::optional<std::string>& consent,
                                     const std::optional<std::vector<std::string>>& users);

inline constexpr const char* kUnattendedBy = "policy (unattended)";

}  // namespace tether::agent::managed
