#include "diag/collectors/users_collector.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <set>

#include "diag/collectors/utmp_reader.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxAccounts = 100000;
constexpr std::size_t kMaxSessions = 1000;

bool to_id(std::string_view text, unsigned& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::vector<PasswdEntry> parse_passwd(std::string_view text) {
  std::vector<PasswdEntry> entries;
  for (auto line : split_lines(text)) {
    if (entries.size() == kMaxAccounts) break;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    std::string_view fields[7];
    std::size_t count = 0;
    std::size_t start = 0;
    while (count < 7) {
      const auto colon = line.find(':', start);
      fields[count++] = line.substr(start, colon == std::string_view::npos ? colon : colon - start);
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (count != 7 || line.find(':', start) != std::string_view::npos) continue;
    PasswdEntry entry;
    if (fields[0].empty() || fields[0].front() == '+' || fields[0].front() == '-') continue;
    if (!to_id(fields[2], entry.uid) || !to_id(fields[3], entry.gid)) continue;
    entry.name.assign(fields[0]);
    entry.home.assign(fields[5]);
    entry.shell.assign(fields[6]);
    entries.push_back(std::move(entry));
  }
  return entries;
}

bool is_human_account(const PasswdEntry& entry) {
  if (entry.uid < 1000 || entry.uid == 65534) return false;
  const std::string_view shell = entry.shell;
  return !shell.ends_with("/nologin") && !shell.ends_with("/false") && shell != "nologin" &&
         shell != "false";
}

json collect_users(const CollectContext& context) {
  json section = json::object();

  const auto passwd = read_source(context.root, "/etc/passwd");
  if (passwd.text) {
    auto entries = parse_passwd(*passwd.text);
    std::stable_sort(entries.begin(), entries.end(),
                     [](const PasswdEntry& a, const PasswdEntry& b) { return a.name < b.name; });
    json local = json::array();
    for (auto& entry : entries) {
      const bool human = is_human_account(entry);
      local.push_back(json{{"name", std::move(entry.name)},
                           {"uid", entry.uid},
                           {"gid", entry.gid},
                           {"home", std::move(entry.home)},
                           {"shell", std::move(entry.shell)},
                           {"human", human}});
    }
    section["local"] = std::move(local);
  } else {
    mark_unknown(section, "local", "could not read: " + passwd.error);
  }

  const auto utmp = read_source(context.root, "/run/utmp");
  if (utmp.text) {
    auto sessions = parse_utmp(*utmp.text);
    if (sessions.size() > kMaxSessions) sessions.resize(kMaxSessions);
    std::stable_sort(sessions.begin(), sessions.end(),
                     [](const UtmpSession& a, const UtmpSession& b) {
                       if (a.login_seconds != b.login_seconds)
                         return a.login_seconds < b.login_seconds;
                       if (a.user != b.user) return a.user < b.user;
                       return a.tty < b.tty;
                     });
    std::set<std::string> distinct;
    json list = json::array();
    for (auto& session : sessions) {
      distinct.insert(session.user);
      list.push_back(
          json{{"user", std::move(session.user)},
               {"tty", std::move(session.tty)},
               {"host", std::move(session.host)},
               {"login_time", protocol::format_time(std::chrono::system_clock::from_time_t(
                                  static_cast<time_t>(session.login_seconds)))}});
    }
    section["sessions"] = std::move(list);
    section["logged_in"] = json(std::vector<std::string>(distinct.begin(), distinct.end()));
  } else {
    // Without utmp (a container, or a system whose login manager no longer writes it) there
    // is no record of sessions: that is unknown, not "nobody is logged in".
    std::error_code ec;
    const bool missing = !std::filesystem::exists(under_root(context.root, "/run/utmp"), ec);
    const std::string reason =
        missing ? "not present: no /run/utmp" : "could not read: " + utmp.error;
    mark_unknown(section, "sessions", reason);
    mark_unknown(section, "logged_in", reason);
  }
  return section;
}

}  // namespace tether::agent::diag
