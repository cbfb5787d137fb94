#include "diag/collectors/logs_collector.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "diag/collectors/journal_json.hpp"
#include "diag/collectors/parallel_probes.hpp"
#include "diag/collectors/probe_reason.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxErrors = 50;
constexpr std::size_t kMaxOomKills = 20;
constexpr std::size_t kMaxCrashes = 50;
constexpr std::size_t kMaxDirectoryEntries = 10000;
constexpr std::size_t kCrashHeadBytes = 16 * 1024;

std::string iso(Clock::time_point time) {
  return protocol::format_time(time);
}

Clock::time_point from_usec(std::int64_t usec) {
  return Clock::time_point(
      std::chrono::duration_cast<Clock::duration>(std::chrono::microseconds(usec)));
}

// journald keeps its files in /run/log/journal (volatile) or /var/log/journal (persistent),
// one directory per machine id. Neither holding anything means no journal to ask: a
// container, or a system logging with another daemon. journalctl itself says nothing then.
bool journal_present(const std::filesystem::path& root) {
  for (const auto* dir : {"/run/log/journal", "/var/log/journal"}) {
    std::error_code ec;
    std::filesystem::directory_iterator it(under_root(root, dir), ec);
    if (!ec && it != std::filesystem::directory_iterator()) return true;
  }
  return false;
}

// A user outside the adm and systemd-journal groups sees only their own entries; journalctl
// still exits 0 and says so in a hint on stderr.
bool sees_only_own_entries(const ProgramRun& run) {
  return run.err.find("not seeing messages from other users") != std::string::npos;
}

json read_errors(const CollectContext& context, const ProgramRun& run, json& section) {
  if (!run.succeeded()) {
    const auto reason = probe_reason(run, "journalctl");
    mark_unknown(section, "errors", reason);
    mark_unknown(section, "error_count", reason);
    return nullptr;
  }
  if (sees_only_own_entries(run)) {
    const std::string reason =
        "not root: only members of adm or systemd-journal see the system journal";
    mark_unknown(section, "errors", reason);
    mark_unknown(section, "error_count", reason);
    return nullptr;
  }
  (void)context;
  json errors = json::array();
  for (auto& entry : parse_journal_json(run.out, kMaxErrors)) {
    json item{{"unit", entry.unit.empty() ? json(nullptr) : json(std::move(entry.unit))},
              {"message", std::move(entry.message)}};
    if (entry.realtime_usec) {
      item["time"] = iso(from_usec(*entry.realtime_usec));
    } else {
      mark_unknown(item, "time", "not present: no __REALTIME_TIMESTAMP");
    }
    if (entry.priority) {
      item["priority"] = *entry.priority;
    } else {
      mark_unknown(item, "priority", "not present: no PRIORITY");
    }
    if (item["unit"].is_null()) mark_unknown(item, "unit", "not present: no unit or identifier");
    errors.push_back(std::move(item));
  }
  // journalctl -n 50 gives the newest 50, oldest first; the count is of those, so it says
  // "50" for fifty or more (counting them all means reading the whole boot's journal).
  section["error_count"] = errors.size();
  return errors;
}

json read_oom_kills(const ProgramRun& run, json& section) {
  // journalctl --grep exits 1 when nothing matched.
  const bool nothing_matched = run.outcome == RunOutcome::exited && run.exit_code == 1 &&
                               trim(run.out).empty() && trim(run.err).empty();
  if (nothing_matched) return json::array();
  if (!run.succeeded()) {
    mark_unknown(section, "oom_kills", probe_reason(run, "journalctl"));
    return nullptr;
  }
  if (sees_only_own_entries(run)) {
    mark_unknown(section, "oom_kills",
                 "not root: only members of adm or systemd-journal see the kernel log");
    return nullptr;
  }
  json kills = json::array();
  for (const auto& entry : parse_journal_json(run.out, kMaxOomKills)) {
    const auto victim = parse_oom_kill(entry.message);
    if (!victim) continue;
    json item{{"pid", victim->pid},
              {"process", victim->process.empty() ? json(nullptr) : json(victim->process)}};
    if (victim->process.empty()) mark_unknown(item, "process", "could not read: kernel message");
    if (entry.realtime_usec) {
      item["time"] = iso(from_usec(*entry.realtime_usec));
    } else {
      mark_unknown(item, "time", "not present: no __REALTIME_TIMESTAMP");
    }
    kills.push_back(std::move(item));
  }
  return kills;
}

// The first `limit` bytes of a file: a .crash report embeds the whole core dump after its
// header, so it is never read in full.
std::optional<std::string> read_head(const std::filesystem::path& path, std::size_t limit,
                                     std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    error = std::strerror(errno);
    return std::nullopt;
  }
  std::string head(limit, '\0');
  std::size_t total = 0;
  while (total < limit) {
    const auto got = ::read(fd, head.data() + total, limit - total);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      error = std::strerror(errno);
      ::close(fd);
      return std::nullopt;
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  ::close(fd);
  head.resize(total);
  return head;
}

struct Crash {
  Clock::time_point time;
  json item;
};

// Lists `dir` (a real path under root); false with a reason when it exists but cannot be read.
template <typename Visit>
bool scan_directory(const CollectContext& context, const char* dir, std::string& error,
                    Visit visit) {
  std::error_code ec;
  std::filesystem::directory_iterator it(under_root(context.root, dir), ec);
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory) return true;
    error = std::string("could not read: ") + dir + ": " + ec.message();
    return false;
  }
  for (std::size_t seen = 0;
       it != std::filesystem::directory_iterator() && seen < kMaxDirectoryEntries;
       it.increment(ec), ++seen) {
    if (ec) break;
    visit(it->path());
  }
  return true;
}

json read_crashes(const CollectContext& context, Clock::time_point now, json& section) {
  const auto since = now - std::chrono::hours(24);
  std::vector<Crash> crashes;
  std::string error;

  // Ubuntu's apport: /var/crash/<executable path with _>.<uid>.crash, written at the crash.
  const bool apport_ok = scan_directory(context, "/var/crash", error, [&](const auto& path) {
    const auto name = path.filename().string();
    if (!name.ends_with(".crash")) return;
    struct stat info {};
    if (::lstat(path.c_str(), &info) != 0 || !S_ISREG(info.st_mode)) return;
    const auto time = Clock::from_time_t(info.st_mtim.tv_sec);
    if (time < since) return;
    json item{{"time", iso(time)}, {"path", "/var/crash/" + name}};
    std::string read_error;
    if (const auto head = read_head(path, kCrashHeadBytes, read_error)) {
      if (auto executable = crash_report_executable(*head)) {
        item["executable"] = std::move(*executable);
      } else {
        mark_unknown(item, "executable", "not present: no ExecutablePath in the report");
      }
    } else {
      // Reports are readable by their owner only; another user's needs root.
      mark_unknown(
          item, "executable",
          (read_error == std::strerror(EACCES) ? "not root: " : "could not read: ") + read_error);
    }
    crashes.push_back({time, std::move(item)});
  });

  // systemd-coredump: the name says who and when; the full executable path is in an xattr.
  const bool coredump_ok =
      scan_directory(context, "/var/lib/systemd/coredump", error, [&](const auto& path) {
        const auto name = path.filename().string();
        const auto parsed = parse_coredump_name(name);
        if (!parsed || parsed->time < since) return;
        json item{{"time", iso(parsed->time)}, {"path", "/var/lib/systemd/coredump/" + name}};
        char exe[4096];
        const auto size = ::getxattr(path.c_str(), "user.coredump.exe", exe, sizeof exe);
        item["executable"] =
            size > 0 ? std::string(exe, static_cast<std::size_t>(size)) : parsed->comm;
        crashes.push_back({parsed->time, std::move(item)});
      });

  if (!apport_ok || !coredump_ok) {
    mark_unknown(section, "crashes", error);
    return nullptr;
  }
  std::sort(crashes.begin(), crashes.end(), [](const Crash& a, const Crash& b) {
    if (a.time != b.time) return a.time < b.time;
    return a.item["path"].get_ref<const std::string&>() <
           b.item["path"].get_ref<const std::string&>();
  });
  // The newest ones when there are too many.
  const auto skip = crashes.size() > kMaxCrashes ? crashes.size() - kMaxCrashes : 0;
  json list = json::array();
  for (auto i = skip; i < crashes.size(); ++i) list.push_back(std::move(crashes[i].item));
  return list;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<CoredumpName> parse_coredump_name(std::string_view name) {
  if (!name.starts_with("core.")) return std::nullopt;
  name.remove_prefix(5);
  for (const auto* suffix : {".zst", ".xz", ".lz4"}) {
    if (name.ends_with(suffix)) {
      name.remove_suffix(std::strlen(suffix));
      break;
    }
  }
  // From the right: usec, pid, boot id, uid; what is left is the (escaped) command name.
  std::string_view parts[4];
  for (auto& part : parts) {
    const auto dot = name.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    part = name.substr(dot + 1);
    name = name.substr(0, dot);
  }
  const auto usec = parse_integer(parts[0]);
  const auto pid = parse_integer(parts[1]);
  const auto uid = parse_integer(parts[3]);
  if (!usec || *usec <= 0 || !pid || *pid <= 0 || !uid || *uid < 0 || *uid > 0xffffffffLL ||
      parts[2].size() != 32 || name.empty()) {
    return std::nullopt;
  }
  CoredumpName parsed;
  parsed.uid = static_cast<unsigned>(*uid);
  parsed.pid = *pid;
  parsed.time = from_usec(*usec);
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 3 < name.size() && name[i + 1] == 'x' &&
        hex_digit(name[i + 2]) >= 0 && hex_digit(name[i + 3]) >= 0) {
      parsed.comm.push_back(
          static_cast<char>(hex_digit(name[i + 2]) * 16 + hex_digit(name[i + 3])));
      i += 3;
    } else {
      parsed.comm.push_back(name[i]);
    }
  }
  return parsed;
}

std::optional<std::string> crash_report_executable(std::string_view head) {
  for (const auto line : split_lines(head)) {
    if (line.starts_with("ExecutablePath:")) {
      const auto value = trim(line.substr(15));
      if (value.empty()) return std::nullopt;
      return std::string(value);
    }
  }
  return std::nullopt;
}

json collect_logs(const CollectContext& context) {
  json section = json::object();
  const auto now = context.host.now ? context.host.now() : Clock::now();

  if (!journal_present(context.root)) {
    const std::string reason =
        "not present: no journal files in /var/log/journal or /run/log/journal";
    mark_unknown(section, "errors", reason);
    mark_unknown(section, "error_count", reason);
    mark_unknown(section, "oom_kills", reason);
  } else {
    // Both reads of the journal run at once: the section costs one probe's time.
    const std::vector<std::string> oom_argv{"journalctl",
                                            "-k",
                                            "-b",
                                            "-g",
                                            "out of memory: kill",
                                            "-o",
                                            "json",
                                            "--no-pager",
                                            "-n",
                                            std::to_string(kMaxOomKills),
                                            "--output-fields=MESSAGE,__REALTIME_TIMESTAMP"};
    const auto [oom_run, errors_run] = run_probes_together(
        context, oom_argv,
        {"journalctl", "-b", "-p", "err", "-o", "json", "--no-pager", "-n",
         std::to_string(kMaxErrors),
         "--output-fields=MESSAGE,PRIORITY,_SYSTEMD_UNIT,SYSLOG_IDENTIFIER,__REALTIME_TIMESTAMP"});
    section["errors"] = read_errors(context, errors_run, section);
    section["oom_kills"] = read_oom_kills(oom_run, section);
  }
  section["crashes"] = read_crashes(context, now, section);
  return section;
}

}  // namespace tether::agent::diag
