#include "diag/collectors/processes_collector.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "diag/collectors/users_collector.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

constexpr std::size_t kMaxProcesses = 10000;
constexpr std::size_t kMaxCommand = 4096;
constexpr std::size_t kTop = 5;
constexpr std::uint64_t kKernelThread = 0x00200000;  // PF_KTHREAD

// Reads up to `size` bytes of <dir>/<name> into `buffer`; -1 when it cannot be opened or read
// (the process has gone, or is hidden from us).
ssize_t read_at(int dir, const char* name, char* buffer, std::size_t size) {
  const int fd = ::openat(dir, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  std::size_t total = 0;
  while (total < size) {
    const auto got = ::read(fd, buffer + total, size - total);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    total += static_cast<std::size_t>(got);
  }
  ::close(fd);
  return static_cast<ssize_t>(total);
}

template <typename T>
bool number(std::string_view text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

struct Process {
  long long pid = 0;
  long long ppid = 0;
  std::optional<unsigned> uid;
  std::string name;
  std::string command;
  char state = '?';
  std::uint64_t cpu_ticks = 0;
  std::uint64_t start_ticks = 0;
  std::uint64_t rss_bytes = 0;
  long long threads = 0;
};

std::optional<double> first_number(const SourceText& file) {
  if (!file.text) return std::nullopt;
  const auto fields = split_fields(std::string_view(*file.text).substr(0, 128));
  if (fields.empty()) return std::nullopt;
  return parse_decimal(fields[0]);
}

std::optional<long long> boot_time(const SourceText& stat) {
  if (!stat.text) return std::nullopt;
  for (const auto line : split_lines(*stat.text)) {
    if (line.starts_with("btime ")) {
      const auto value = parse_integer(line.substr(6));
      if (value && *value > 0) return value;
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PidStat> parse_pid_stat(std::string_view text) {
  const auto open = text.find('(');
  const auto close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  PidStat stat;
  if (!number(trim(text.substr(0, open)), stat.pid) || stat.pid <= 0) return std::nullopt;
  stat.comm = text.substr(open + 1, close - open - 1);
  // After ")": state(3) ppid(4) pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt
  // utime(14) stime(15) cutime cstime priority nice num_threads(20) itrealvalue
  // starttime(22) vsize rss(24) …
  std::string_view rest = text.substr(close + 1);
  std::size_t field = 3;
  std::size_t i = 0;
  bool ok = true;
  while (i < rest.size() && field <= 24 && ok) {
    while (i < rest.size() && (rest[i] == ' ' || rest[i] == '\n')) ++i;
    const auto start = i;
    while (i < rest.size() && rest[i] != ' ' && rest[i] != '\n') ++i;
    if (i == start) break;
    const auto value = rest.substr(start, i - start);
    switch (field) {
      case 3:
        ok = value.size() == 1;
        stat.state = value[0];
        break;
      case 4:
        ok = number(value, stat.ppid);
        break;
      case 9:
        ok = number(value, stat.flags);
        break;
      case 14:
        ok = number(value, stat.utime_ticks);
        break;
      case 15:
        ok = number(value, stat.stime_ticks);
        break;
      case 20:
        ok = number(value, stat.threads);
        break;
      case 22:
        ok = number(value, stat.start_ticks);
        break;
      case 24:
        ok = number(value, stat.rss_pages);
        break;
      default:
        break;
    }
    ++field;
  }
  if (!ok || field <= 24) return std::nullopt;
  return stat;
}

std::optional<unsigned> parse_status_euid(std::string_view text) {
  const auto at = text.find("\nUid:");
  if (at == std::string_view::npos) return std::nullopt;
  auto line = text.substr(at + 5);
  line = line.substr(0, line.find('\n'));
  const auto fields = split_fields(line);
  unsigned uid = 0;
  if (fields.size() < 2 || !number(fields[1], uid)) return std::nullopt;
  return uid;
}

double lifetime_cpu_pct(std::uint64_t cpu_ticks, std::uint64_t start_ticks, double uptime_seconds,
                        long ticks_per_second) {
  if (ticks_per_second <= 0) return 0;
  const double hz = static_cast<double>(ticks_per_second);
  const double seconds = uptime_seconds - static_cast<double>(start_ticks) / hz;
  if (seconds <= 0) return 0;
  const double pct = static_cast<double>(cpu_ticks) / hz / seconds * 100.0;
  return std::round(pct * 10.0) / 10.0;
}

json collect_processes(const CollectContext& context) {
  const auto proc_path = under_root(context.root, "/proc");
  DIR* dir = ::opendir(proc_path.c_str());
  if (dir == nullptr)
    return unavailable(std::string("could not read: /proc: ") + std::strerror(errno));
  const int proc = ::dirfd(dir);

  const long hz = ::sysconf(_SC_CLK_TCK);
  const long page = ::sysconf(_SC_PAGESIZE);
  const auto uptime = first_number(read_source(context.root, "/proc/uptime"));
  const auto btime = boot_time(read_source(context.root, "/proc/stat"));

  std::vector<Process> processes;
  processes.reserve(512);
  bool bounded = false;
  char stat_buffer[2048];
  char status_buffer[1536];
  char command_buffer[kMaxCommand];
  char path[64];
  while (const dirent* entry = ::readdir(dir)) {
    const char* name = entry->d_name;
    if (name[0] < '1' || name[0] > '9') continue;
    const std::size_t length = std::strlen(name);
    if (length > 20 || std::strspn(name, "0123456789") != length) continue;
    if (processes.size() == kMaxProcesses) {
      bounded = true;
      break;
    }
    std::memcpy(path, name, length);
    std::memcpy(path + length, "/stat", 6);
    const auto stat_size = read_at(proc, path, stat_buffer, sizeof stat_buffer);
    if (stat_size <= 0) continue;  // gone since readdir
    const auto stat =
        parse_pid_stat(std::string_view(stat_buffer, static_cast<std::size_t>(stat_size)));
    if (!stat) continue;

    Process process;
    process.pid = stat->pid;
    process.ppid = stat->ppid;
    process.name.assign(stat->comm.substr(0, 64));
    process.state = stat->state;
    process.cpu_ticks = stat->utime_ticks + stat->stime_ticks;
    process.start_ticks = stat->start_ticks;
    process.rss_bytes = stat->rss_pages > 0 ? static_cast<std::uint64_t>(stat->rss_pages) *
                                                  static_cast<std::uint64_t>(page)
                                            : 0;
    process.threads = stat->threads;

    // Kernel threads (a third of the processes on a desktop) run as root with no command
    // line; reading their status and cmdline would only cost time.
    if ((stat->flags & kKernelThread) != 0) {
      process.uid = 0;
      processes.push_back(std::move(process));
      continue;
    }
    std::memcpy(path + length, "/status", 8);
    const auto status_size = read_at(proc, path, status_buffer, sizeof status_buffer);
    if (status_size > 0) {
      process.uid =
          parse_status_euid(std::string_view(status_buffer, static_cast<std::size_t>(status_size)));
    }
    std::memcpy(path + length, "/cmdline", 9);
    const auto command_size = read_at(proc, path, command_buffer, sizeof command_buffer);
    if (command_size > 0) {
      // Arguments are NUL-separated; a process that rewrote its title may use spaces instead.
      std::size_t size = static_cast<std::size_t>(command_size);
      while (size > 0 && command_buffer[size - 1] == '\0') --size;
      std::replace(command_buffer, command_buffer + size, '\0', ' ');
      process.command.assign(command_buffer, size);
    }
    processes.push_back(std::move(process));
  }
  ::closedir(dir);

  std::sort(processes.begin(), processes.end(),
            [](const Process& a, const Process& b) { return a.pid < b.pid; });

  // One read of the user database for every owner.
  std::vector<std::pair<unsigned, std::string>> names;
  if (const auto passwd = read_source(context.root, "/etc/passwd"); passwd.text) {
    for (auto& user : parse_passwd(*passwd.text))
      names.emplace_back(user.uid, std::move(user.name));
    std::stable_sort(names.begin(), names.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  const auto user_name = [&](unsigned uid) -> std::string {
    const auto it =
        std::lower_bound(names.begin(), names.end(), uid,
                         [](const auto& entry, unsigned key) { return entry.first < key; });
    // Like ps(1): an owner missing from /etc/passwd (LDAP, a container's) shows as its number.
    return it != names.end() && it->first == uid ? it->second : std::to_string(uid);
  };

  json list = json::array();
  long long threads = 0;
  std::vector<double> cpu;
  cpu.reserve(processes.size());
  for (auto& process : processes) {
    json item{{"pid", process.pid},
              {"ppid", process.ppid},
              {"name", std::move(process.name)},
              {"command", std::move(process.command)},
              {"state", std::string(1, process.state)},
              {"rss_bytes", process.rss_bytes},
              {"threads", process.threads}};
    if (process.uid) {
      item["user"] = user_name(*process.uid);
    } else {
      mark_unknown(item, "user",
                   "could not read: /proc/" + std::to_string(process.pid) + "/status");
    }
    if (uptime) {
      const double pct = lifetime_cpu_pct(process.cpu_ticks, process.start_ticks, *uptime, hz);
      item["cpu_pct"] = pct;
      cpu.push_back(pct);
    } else {
      mark_unknown(item, "cpu_pct", "could not read: /proc/uptime");
      cpu.push_back(-1);
    }
    if (btime && hz > 0) {
      const auto started =
          std::chrono::system_clock::from_time_t(static_cast<time_t>(*btime)) +
          std::chrono::milliseconds(process.start_ticks * 1000 / static_cast<std::uint64_t>(hz));
      item["start_time"] = protocol::format_time(started);
    } else {
      mark_unknown(item, "start_time", "could not read: btime in /proc/stat");
    }
    threads += process.threads;
    list.push_back(std::move(item));
  }

  // The top consumers, highest first; ties in pid order so two snapshots compare.
  std::vector<std::size_t> order(processes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto top = [&](auto greater) {
    const auto n = std::min(kTop, order.size());
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                      [&](std::size_t a, std::size_t b) {
                        if (greater(a, b)) return true;
                        if (greater(b, a)) return false;
                        return a < b;
                      });
    json picked = json::array();
    for (std::size_t i = 0; i < n; ++i) picked.push_back(list[order[i]]);
    return picked;
  };
  json section{{"count", processes.size()}, {"threads", threads}};
  section["top_cpu"] =
      uptime ? top([&](std::size_t a, std::size_t b) { return cpu[a] > cpu[b]; }) : json::array();
  if (!uptime) mark_unknown(section, "top_cpu", "could not read: /proc/uptime");
  section["top_memory"] = top([&](std::size_t a, std::size_t b) {
    return processes[a].rss_bytes > processes[b].rss_bytes;
  });
  if (bounded) {
    mark_unknown(section, "count",
                 "could not read: more than 10000 processes; the first 10000 are listed");
    mark_unknown(section, "threads", "could not read: more than 10000 processes");
  }
  section["list"] = std::move(list);
  return section;
}

}  // namespace tether::agent::diag
