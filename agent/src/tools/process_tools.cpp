#include "tether/agent/tools/process_tools.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <map>
#include <system_error>
#include <thread>
#include <unordered_map>

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "diag/collectors/memory_collector.hpp"
#include "diag/collectors/processes_collector.hpp"
#include "diag/collectors/source_files.hpp"
#include "tether/agent/tools/service_tools.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;

// Past this many /proc entries a pass stops reading: the table lists 5,000 at most, and no
// real machine runs more than a few tens of thousands of processes.
constexpr std::size_t kMaxReadProcesses = 100000;
constexpr std::size_t kMaxCommand = 4096;
constexpr std::size_t kMaxName = 64;
constexpr std::uint64_t kKernelThread = 0x00200000;  // PF_KTHREAD

// Replaces `out` with up to `limit` bytes of <dir>/<name>; false when it cannot be opened or
// read (the process has gone, or its owner hides it from us).
bool read_file_at(int dir, const std::string& name, std::string& out, std::size_t limit) {
  const int fd = ::openat(dir, name.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  out.resize(limit);
  std::size_t size = 0;
  ssize_t got = 0;
  do {
    got = ::read(fd, out.data() + size, limit - size);
    if (got > 0) size += static_cast<std::size_t>(got);
  } while ((got > 0 && size < limit) || (got < 0 && errno == EINTR));
  ::close(fd);
  out.resize(size);
  return got >= 0 || size > 0;
}

// "VmSize:\t  123456 kB" of /proc/<pid>/status, in bytes; 0 when absent (kernel threads).
std::uint64_t status_vm_size(std::string_view status) {
  const auto at = status.find("\nVmSize:");
  if (at == std::string_view::npos) return 0;
  auto line = status.substr(at + 8);
  line = line.substr(0, line.find('\n'));
  const auto fields = diag::split_fields(line);
  if (fields.empty()) return 0;
  const auto kib = diag::parse_integer(fields[0]);
  return kib && *kib > 0 ? static_cast<std::uint64_t>(*kib) * 1024 : 0;
}

std::optional<long long> boot_time(const diag::SourceText& stat) {
  if (!stat.text) return std::nullopt;
  for (const auto line : diag::split_lines(*stat.text)) {
    if (!line.starts_with("btime ")) continue;
    const auto value = diag::parse_integer(diag::trim(line.substr(6)));
    if (value && *value > 0) return value;
  }
  return std::nullopt;
}

bool is_pid_name(const char* name) {
  const std::size_t length = std::strlen(name);
  return length > 0 && length <= 10 && name[0] != '0' && std::strspn(name, "0123456789") == length;
}

// User names by uid, looked up once per table (getpwuid_r also asks NSS: LDAP, sssd).
class UserNames {
 public:
  std::string name(unsigned uid) {
    if (const auto it = names_.find(uid); it != names_.end()) return it->second;
    std::string found = std::to_string(uid);  // like ps(1) for an owner with no entry
    passwd entry{};
    passwd* result = nullptr;
    std::array<char, 4096> buffer{};
    if (::getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &result) == 0 && result &&
        result->pw_name && result->pw_name[0] != '\0') {
      found = lossy_utf8(result->pw_name);
    }
    names_.emplace(uid, found);
    return found;
  }

 private:
  std::map<unsigned, std::string> names_;
};

// pidfd_open(2) and pidfd_send_signal(2) through syscall(2): glibc 2.36's <sys/pidfd.h> lacks
// C linkage for C++, and older C libraries have no wrappers at all.
int open_pidfd(int pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0U));
}
int signal_pidfd(int pidfd, int signal) {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0U));
}

double round_tenth(double value) {
  return std::round(value * 10.0) / 10.0;
}

struct SignalName {
  std::string_view name;
  int number;
};
constexpr std::array<SignalName, 6> kSignals{{{"TERM", SIGTERM},
                                              {"KILL", SIGKILL},
                                              {"HUP", SIGHUP},
                                              {"INT", SIGINT},
                                              {"STOP", SIGSTOP},
                                              {"CONT", SIGCONT}}};

std::optional<SignalName> parse_signal(std::string_view text) {
  std::string upper;
  for (const char c : text) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string_view name = upper;
  if (name.starts_with("SIG")) name.remove_prefix(3);
  for (const auto& signal : kSignals) {
    if (signal.name == name) return signal;
  }
  return std::nullopt;
}

// The name and owner of a process as its stat and status say; nullopt when it has no entry.
struct ProcessIdentity {
  std::string name;
  long long ppid = 0;
  std::optional<unsigned> uid;
};

std::optional<ProcessIdentity> identify(const std::filesystem::path& proc_root, long long pid) {
  const auto base = "/" + std::to_string(pid);
  const auto stat_text = diag::read_source(proc_root, base + "/stat");
  if (!stat_text.text) return std::nullopt;
  const auto stat = diag::parse_pid_stat(*stat_text.text);
  if (!stat) return std::nullopt;
  ProcessIdentity identity{.name = lossy_utf8(stat->comm.substr(0, kMaxName)), .ppid = stat->ppid};
  if (const auto status = diag::read_source(proc_root, base + "/status"); status.text) {
    identity.uid = diag::parse_status_euid(*status.text);
  }
  return identity;
}

// Refuses the processes whose end would end the agent or the machine; empty when allowed.
std::string refusal(int pid, const std::filesystem::path& proc_root) {
  if (pid <= 0) {
    return "refused: " + std::to_string(pid) +
           " is not a process id (0 and negative numbers signal whole process groups)";
  }
  if (pid == 1)
    return "refused: pid 1 is the init system; signalling it can bring the machine down";
  const long long self = ::getpid();
  if (pid == self) return "refused: pid " + std::to_string(pid) + " is the Tether agent itself";
  // The chain of parents up to init: a terminal, a shell or sudo the agent was started from.
  long long current = self;
  bool first = true;
  for (int depth = 0; depth < 64 && current > 1; ++depth) {
    const auto identity = identify(proc_root, current);
    const long long parent = identity ? identity->ppid : (first ? ::getppid() : 0);
    first = false;
    if (parent == pid) {
      const auto named = identify(proc_root, parent);
      return "refused: process " + std::to_string(pid) +
             (named ? " (" + named->name + ")" : std::string()) +
             " is a parent of the Tether agent; stopping it would end this session";
    }
    current = parent;
  }
  return {};
}

}  // namespace

std::optional<ProcessSort> parse_process_sort(std::string_view text) {
  if (text == "cpu") return ProcessSort::cpu;
  if (text == "mem") return ProcessSort::mem;
  if (text == "pid") return ProcessSort::pid;
  return std::nullopt;
}

ProcessTable read_process_table(const std::filesystem::path& proc_root, bool details) {
  ProcessTable table;
  table.read_at = std::chrono::steady_clock::now();
  DIR* dir = ::opendir(proc_root.c_str());
  if (dir == nullptr) {
    table.error =
        "cannot read " + proc_root.string() + ": " + std::generic_category().message(errno);
    return table;
  }
  const int proc = ::dirfd(dir);
  const long page = ::sysconf(_SC_PAGESIZE);
  std::string stat_text;
  std::string status_text;
  std::string command;
  while (const dirent* entry = ::readdir(dir)) {
    if (!is_pid_name(entry->d_name)) continue;
    if (table.rows.size() == kMaxReadProcesses) break;
    const std::string pid_dir = entry->d_name;
    if (!read_file_at(proc, pid_dir + "/stat", stat_text, 1024)) continue;  // gone
    const auto stat = diag::parse_pid_stat(stat_text);
    if (!stat) continue;
    ProcessRow row{.pid = stat->pid,
                   .ppid = stat->ppid,
                   .name = lossy_utf8(stat->comm.substr(0, kMaxName)),
                   .state = stat->state,
                   .cpu_ticks = stat->utime_ticks + stat->stime_ticks,
                   .start_ticks = stat->start_ticks,
                   .rss_bytes = stat->rss_pages > 0 ? static_cast<std::uint64_t>(stat->rss_pages) *
                                                          static_cast<std::uint64_t>(page)
                                                    : 0,
                   .threads = stat->threads};
    if (details && (stat->flags & kKernelThread) != 0) {
      row.uid = 0;  // kernel threads: root, no memory map, no command line
    } else if (details) {
      if (read_file_at(proc, pid_dir + "/status", status_text, 4096)) {
        row.uid = diag::parse_status_euid(status_text);
        row.vsz_bytes = status_vm_size(status_text);
      }
      if (read_file_at(proc, pid_dir + "/cmdline", command, kMaxCommand)) {
        // Arguments are NUL-separated; a process that rewrote its title may use spaces.
        while (!command.empty() && command.back() == '\0') command.pop_back();
        std::replace(command.begin(), command.end(), '\0', ' ');
        row.command = lossy_utf8(command);
      }
    }
    table.rows.push_back(std::move(row));
  }
  ::closedir(dir);
  if (!details) return table;

  table.boot_time = boot_time(diag::read_source(proc_root, "/stat"));
  if (const auto uptime = diag::read_source(proc_root, "/uptime"); uptime.text) {
    const auto fields = diag::split_fields(std::string_view(*uptime.text).substr(0, 128));
    if (!fields.empty()) table.uptime_seconds = diag::parse_decimal(fields[0]);
  }
  if (const auto meminfo = diag::read_source(proc_root, "/meminfo"); meminfo.text) {
    const auto memory = diag::parse_meminfo(*meminfo.text);
    if (const auto it = memory.find("total_bytes"); it != memory.end() && it->is_number()) {
      table.total_memory = it->get<std::uint64_t>();
    }
  }
  return table;
}

json process_list_json(const ProcessTable& before, const ProcessTable& after, ProcessSort sort,
                       std::chrono::system_clock::time_point taken_at) {
  const long hz = ::sysconf(_SC_CLK_TCK);
  const double window = std::chrono::duration<double>(after.read_at - before.read_at).count();
  const bool sampled = window > 0 && &before != &after;

  // A pid seen in both passes with the same start time is the same process.
  std::unordered_map<long long, const ProcessRow*> earlier;
  if (sampled) {
    earlier.reserve(before.rows.size());
    for (const auto& row : before.rows) earlier.emplace(row.pid, &row);
  }
  std::vector<std::optional<double>> cpu(after.rows.size());
  for (std::size_t i = 0; i < after.rows.size(); ++i) {
    const auto& row = after.rows[i];
    if (sampled && hz > 0) {
      std::uint64_t used = row.cpu_ticks;  // a process started during the window: all of it
      if (const auto it = earlier.find(row.pid);
          it != earlier.end() && it->second->start_ticks == row.start_ticks) {
        used = row.cpu_ticks >= it->second->cpu_ticks ? row.cpu_ticks - it->second->cpu_ticks : 0;
      }
      cpu[i] = round_tenth(static_cast<double>(used) / static_cast<double>(hz) / window * 100.0);
    } else if (after.uptime_seconds) {
      cpu[i] = diag::lifetime_cpu_pct(row.cpu_ticks, row.start_ticks, *after.uptime_seconds, hz);
    }
  }

  std::vector<std::size_t> order(after.rows.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  const auto& rows = after.rows;
  const auto by_pid = [&](std::size_t a, std::size_t b) { return rows[a].pid < rows[b].pid; };
  switch (sort) {
    case ProcessSort::cpu:
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const double ca = cpu[a].value_or(-1), cb = cpu[b].value_or(-1);
        if (ca != cb) return ca > cb;
        if (rows[a].rss_bytes != rows[b].rss_bytes) return rows[a].rss_bytes > rows[b].rss_bytes;
        return by_pid(a, b);
      });
      break;
    case ProcessSort::mem:
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        if (rows[a].rss_bytes != rows[b].rss_bytes) return rows[a].rss_bytes > rows[b].rss_bytes;
        return by_pid(a, b);
      });
      break;
    case ProcessSort::pid:
      std::sort(order.begin(), order.end(), by_pid);
      break;
  }

  UserNames users;
  json list = json::array();
  const auto listed = std::min(order.size(), kMaxListedProcesses);
  for (std::size_t k = 0; k < listed; ++k) {
    const auto& row = rows[order[k]];
    json item{{"pid", row.pid},
              {"ppid", row.ppid},
              {"user", row.uid ? json(users.name(*row.uid)) : json(nullptr)},
              {"name", row.name},
              {"state", std::string(1, row.state)},
              {"cpu_pct", cpu[order[k]] ? json(*cpu[order[k]]) : json(nullptr)},
              {"rss_bytes", row.rss_bytes},
              {"vsz_bytes", row.vsz_bytes},
              {"threads", row.threads},
              {"started_at", nullptr},
              {"command", row.command}};
    if (after.boot_time && hz > 0) {
      const auto started =
          std::chrono::system_clock::from_time_t(*after.boot_time) +
          std::chrono::milliseconds(row.start_ticks * 1000 / static_cast<std::uint64_t>(hz));
      item["started_at"] = protocol::format_time(started);
    }
    list.push_back(std::move(item));
  }

  static constexpr std::array<const char*, 3> kSortNames{"cpu", "mem", "pid"};
  return json{
      {"processes", std::move(list)},
      {"count", rows.size()},
      {"truncated", rows.size() > listed},
      {"total_memory_bytes", after.total_memory ? json(*after.total_memory) : json(nullptr)},
      {"cpu_sample_ms", sampled ? static_cast<long long>(std::llround(window * 1000.0)) : 0},
      {"sort", kSortNames[static_cast<std::size_t>(sort)]},
      {"taken_at", protocol::format_time(taken_at)}};
}

json list_processes(const std::filesystem::path& proc_root, std::string_view sort,
                    std::chrono::milliseconds cpu_sample) {
  const auto order = parse_process_sort(sort);
  if (!order)
    return json{{"error", "unknown sort " + quote_for_error(sort) + ": use cpu, mem or pid"}};
  if (cpu_sample <= std::chrono::milliseconds::zero()) {
    const auto table = read_process_table(proc_root);
    if (!table.error.empty()) return json{{"error", table.error}};
    return process_list_json(table, table, *order, std::chrono::system_clock::now());
  }
  const auto before = read_process_table(proc_root, false);
  if (!before.error.empty()) return json{{"error", before.error}};
  // Like top: CPU shares are what each process used while we waited.
  std::this_thread::sleep_until(before.read_at + cpu_sample);
  const auto after = read_process_table(proc_root);
  if (!after.error.empty()) return json{{"error", after.error}};
  return process_list_json(before, after, *order, std::chrono::system_clock::now());
}

void to_json(json& out, const KillResult& result) {
  out = json{
      {"ok", result.ok}, {"pid", result.pid}, {"name", result.name}, {"signal", result.signal}};
  if (!result.ok) out["error"] = result.error;
}

KillResult kill_process(int pid, std::string_view signal, const std::filesystem::path& proc_root) {
  KillResult result{.pid = pid};
  const auto chosen = parse_signal(signal);
  if (!chosen) {
    result.signal = lossy_utf8(signal.substr(0, 32));
    result.error =
        "unknown signal " + quote_for_error(signal) + ": use TERM, KILL, HUP, INT, STOP or CONT";
    return result;
  }
  result.signal = std::string(chosen->name);
  if (result.error = refusal(pid, proc_root); !result.error.empty()) return result;

  // A pidfd pins this very process: should it exit and its pid be reused while we read its
  // name, the signal fails with ESRCH instead of reaching the newcomer.
  const int pidfd = open_pidfd(pid);
  if (pidfd < 0 && errno != ENOSYS) {
    result.error = errno == ESRCH ? "no such process: " + std::to_string(pid)
                                  : "cannot signal process " + std::to_string(pid) + ": " +
                                        std::generic_category().message(errno);
    return result;
  }
  const auto identity = identify(proc_root, pid);
  if (!identity) {
    if (pidfd >= 0) ::close(pidfd);
    result.error = "no such process: " + std::to_string(pid);
    return result;
  }
  result.name = identity->name;
  const int sent = pidfd >= 0 ? signal_pidfd(pidfd, chosen->number) : ::kill(pid, chosen->number);
  const int error = errno;
  if (pidfd >= 0) ::close(pidfd);
  if (sent == 0) {
    result.ok = true;
    return result;
  }
  const auto who = "process " + std::to_string(pid) + " (" + result.name + ")";
  if (error == EPERM) {
    result.error = "permission denied: " + who + " belongs to user " +
                   (identity->uid ? UserNames().name(*identity->uid) : std::string("unknown"));
  } else if (error == ESRCH) {
    result.error = who + " exited before the signal was sent";
  } else {
    result.error = "cannot signal " + who + ": " + std::generic_category().message(error);
  }
  return result;
}

}  // namespace tether::agent::tools
