#pragma once
// The "users" section (docs/diagnostics.md): local accounts from /etc/passwd and the login
// sessions recorded in /run/utmp.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "diag/collectors/source_files.hpp"

namespace tether::agent::diag {

/// One /etc/passwd line.
struct PasswdEntry {
  std::string name;
  unsigned uid = 0;
  unsigned gid = 0;
  std::string home;
  std::string shell;
};

/// The well-formed lines of /etc/passwd (7 colon-separated fields, numeric uid and gid), in
/// file order; at most 100,000. NIS "+"/"-" lines and junk are skipped.
std::vector<PasswdEntry> parse_passwd(std::string_view text);

/// Whether an account is a person's: uid ≥ 1000, not "nobody" (65534), and a login shell
/// (not nologin or false; an empty shell means /bin/sh).
bool is_human_account(const PasswdEntry& entry);

/// Collects the "users" section under context.root.
nlohmann::json collect_users(const CollectContext& context);

}  // namespace tether::agent::diag
