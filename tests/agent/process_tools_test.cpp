// The technician's process tools: the top-like table over fixture /proc trees and the real
// /proc, and signalling real child processes.

#include "tether/agent/tools/process_tools.hpp"

#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag/collectors/processes_collector.hpp"

extern char** environ;

namespace tether::agent::tools {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

constexpr long long kBootTime = 1764460800;  // 2025-11-30T00:00:00Z

// A /proc tree in a fresh temporary directory, removed at the end of the test.
class FakeProc {
 public:
  FakeProc() {
    std::string pattern = (fs::temp_directory_path() / "tether-proc-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    write("stat", "cpu  1 2 3 4\nbtime " + std::to_string(kBootTime) + "\nprocesses 9\n");
    write("uptime", "1000.00 1800.00\n");
    write("meminfo", "MemTotal:       16000000 kB\nMemFree:         8000000 kB\n");
  }
  ~FakeProc() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  const fs::path& root() const { return root_; }

  void write(const fs::path& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative, std::ios::binary) << text;
  }

  struct Process {
    long long pid = 100;
    std::string comm = "bash";
    char state = 'S';
    long long ppid = 1;
    unsigned long flags = 0x400000;
    unsigned long utime = 0;
    unsigned long stime = 0;
    long long threads = 1;
    unsigned long start = 0;  // ticks after boot
    long long rss_pages = 0;
    unsigned uid = 0;
    unsigned long vm_size_kib = 0;
    std::string cmdline;  // NUL-separated, as the kernel writes it
  };

  void add(const Process& p) const {
    const auto dir = fs::path(std::to_string(p.pid));
    char stat[512];
    std::snprintf(stat, sizeof stat,
                  "%lld (%s) %c %lld %lld %lld 0 -1 %lu 10 0 0 0 %lu %lu 0 0 20 0 %lld 0 %lu "
                  "123456 %lld 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0\n",
                  p.pid, p.comm.c_str(), p.state, p.ppid, p.pid, p.pid, p.flags, p.utime, p.stime,
                  p.threads, p.start, p.rss_pages);
    write(dir / "stat", stat);
    std::string status = "Name:\t" + p.comm + "\nUmask:\t0022\nState:\tS (sleeping)\n";
    status += "Uid:\t" + std::to_string(p.uid) + "\t" + std::to_string(p.uid) + "\t" +
              std::to_string(p.uid) + "\t" + std::to_string(p.uid) + "\n";
    if (p.vm_size_kib > 0)
      status += "VmPeak:\t  999999 kB\nVmSize:\t  " + std::to_string(p.vm_size_kib) + " kB\n";
    status += "Threads:\t" + std::to_string(p.threads) + "\n";
    write(dir / "status", status);
    write(dir / "cmdline", p.cmdline);
  }

 private:
  fs::path root_;
};

const json* find_pid(const json& table, long long pid) {
  for (const auto& process : table["processes"]) {
    if (process["pid"] == pid) return &process;
  }
  return nullptr;
}

std::vector<long long> pids(const json& table) {
  std::vector<long long> out;
  for (const auto& process : table["processes"]) out.push_back(process["pid"].get<long long>());
  return out;
}

long hz() {
  return ::sysconf(_SC_CLK_TCK);
}
long page() {
  return ::sysconf(_SC_PAGESIZE);
}

TEST(ProcessTools, FixtureTableHasEveryColumn) {
  FakeProc proc;
  proc.add({.pid = 100,
            .comm = "bash",
            .ppid = 1,
            .utime = 30,
            .stime = 20,
            .threads = 1,
            .start = static_cast<unsigned long>(hz()) * 3600,  // one hour after boot
            .rss_pages = 1000,
            .uid = 0,
            .vm_size_kib = 20480,
            .cmdline = std::string("/bin/bash\0--login\0-i\0", 21)});
  proc.add({.pid = 2,
            .comm = "kthreadd",
            .ppid = 0,
            .flags = 0x00208040,  // PF_KTHREAD
            .cmdline = ""});

  const auto table = list_processes(proc.root(), "pid", std::chrono::milliseconds(0));
  ASSERT_FALSE(table.contains("error")) << table.dump();
  EXPECT_EQ(table["count"], 2);
  EXPECT_EQ(table["truncated"], false);
  EXPECT_EQ(table["total_memory_bytes"], 16000000ULL * 1024);
  EXPECT_EQ(table["sort"], "pid");
  EXPECT_EQ(table["cpu_sample_ms"], 0);
  EXPECT_EQ(pids(table), (std::vector<long long>{2, 100}));

  const auto* bash = find_pid(table, 100);
  ASSERT_NE(bash, nullptr);
  EXPECT_EQ((*bash)["ppid"], 1);
  EXPECT_EQ((*bash)["user"], "root");
  EXPECT_EQ((*bash)["name"], "bash");
  EXPECT_EQ((*bash)["state"], "S");
  EXPECT_EQ((*bash)["rss_bytes"], 1000ULL * static_cast<unsigned long long>(page()));
  EXPECT_EQ((*bash)["vsz_bytes"], 20480ULL * 1024);
  EXPECT_EQ((*bash)["threads"], 1);
  EXPECT_EQ((*bash)["started_at"], "2025-11-30T01:00:00Z");
  EXPECT_EQ((*bash)["command"], "/bin/bash --login -i");
  // One read: ps's lifetime average, as the diagnostics compute it.
  EXPECT_EQ((*bash)["cpu_pct"], diag::lifetime_cpu_pct(50, hz() * 3600, 1000.0, hz()));

  const auto* kthread = find_pid(table, 2);
  ASSERT_NE(kthread, nullptr);
  EXPECT_EQ((*kthread)["user"], "root");
  EXPECT_EQ((*kthread)["command"], "");
  EXPECT_EQ((*kthread)["vsz_bytes"], 0);
}

TEST(ProcessTools, CpuShareIsTheTimeUsedBetweenTwoReads) {
  FakeProc proc;
  proc.add({.pid = 10, .comm = "busy", .utime = 100, .stime = 0, .start = 5, .rss_pages = 1});
  proc.add({.pid = 11, .comm = "idle", .utime = 7, .stime = 3, .start = 5, .rss_pages = 2});
  proc.add({.pid = 12, .comm = "reused", .utime = 900, .stime = 0, .start = 5, .rss_pages = 3});
  const auto before = read_process_table(proc.root(), false);
  ASSERT_TRUE(before.error.empty()) << before.error;

  // One second later: busy used half a CPU's second, idle nothing; pid 12 is a new process
  // with fewer ticks than the old one had (a pid reused), and pid 13 started meanwhile.
  const auto ticks = static_cast<unsigned long>(hz());
  proc.add({.pid = 10,
            .comm = "busy",
            .utime = 100 + ticks / 4,
            .stime = ticks / 4,
            .start = 5,
            .rss_pages = 1});
  proc.add({.pid = 12, .comm = "reused", .utime = ticks / 10, .start = 9000, .rss_pages = 3});
  proc.add({.pid = 13, .comm = "new", .utime = ticks, .start = 9001, .rss_pages = 4});
  auto after = read_process_table(proc.root());
  after.read_at = before.read_at + std::chrono::seconds(1);

  const auto table = process_list_json(before, after, ProcessSort::cpu,
                                       std::chrono::system_clock::from_time_t(kBootTime));
  EXPECT_EQ(table["cpu_sample_ms"], 1000);
  EXPECT_EQ(table["taken_at"], "2025-11-30T00:00:00Z");
  EXPECT_EQ((*find_pid(table, 10))["cpu_pct"], 50.0);
  EXPECT_EQ((*find_pid(table, 11))["cpu_pct"], 0.0);
  EXPECT_EQ((*find_pid(table, 12))["cpu_pct"], 10.0);
  EXPECT_EQ((*find_pid(table, 13))["cpu_pct"], 100.0);
  // Highest CPU first; equal shares by resident memory.
  EXPECT_EQ(pids(table), (std::vector<long long>{13, 10, 12, 11}));
}

TEST(ProcessTools, SortsByMemoryAndPidAndRefusesOtherOrders) {
  FakeProc proc;
  proc.add({.pid = 30, .comm = "small", .rss_pages = 10});
  proc.add({.pid = 20, .comm = "big", .rss_pages = 500});
  proc.add({.pid = 40, .comm = "tie", .rss_pages = 10});
  EXPECT_EQ(pids(list_processes(proc.root(), "mem", std::chrono::milliseconds(0))),
            (std::vector<long long>{20, 30, 40}));
  EXPECT_EQ(pids(list_processes(proc.root(), "pid", std::chrono::milliseconds(0))),
            (std::vector<long long>{20, 30, 40}));

  const auto bad = list_processes(proc.root(), "name; rm -rf /", std::chrono::milliseconds(0));
  ASSERT_TRUE(bad.contains("error"));
  EXPECT_EQ(bad["error"], "unknown sort \"name; rm -rf /\": use cpu, mem or pid");
  EXPECT_FALSE(bad.contains("processes"));
}

TEST(ProcessTools, AnUnreadableRootIsOneClearError) {
  const auto table =
      list_processes("/nonexistent/tether-proc", "cpu", std::chrono::milliseconds(0));
  ASSERT_TRUE(table.contains("error"));
  EXPECT_EQ(table["error"], "cannot read /nonexistent/tether-proc: No such file or directory");
}

TEST(ProcessTools, HostileNamesAndLongCommandsStayBoundedAndValidUtf8) {
  FakeProc proc;
  std::string command = "\x1b]0;owned\x07/usr/bin/\xff\xfe";
  command += std::string(10000, 'a');
  proc.add({.pid = 50, .comm = "ev\x1b[2Jl\xc3", .cmdline = command});
  proc.add({.pid = 51, .comm = "odd) R 1 (x", .cmdline = std::string("x\0y\0", 4)});
  const auto table = list_processes(proc.root(), "pid", std::chrono::milliseconds(0));
  ASSERT_EQ(table["count"], 2) << table.dump();
  const auto& evil = *find_pid(table, 50);
  EXPECT_EQ(evil["name"],
            "ev\x1b[2Jl\xef\xbf\xbd");  // kept for the view to escape; bad byte U+FFFD
  const auto& shown = evil["command"].get_ref<const std::string&>();
  EXPECT_LE(shown.size(), 4096U + 8U);  // 4 KiB read; each bad byte grew to 3
  EXPECT_TRUE(shown.starts_with("\x1b]0;owned\x07/usr/bin/\xef\xbf\xbd\xef\xbf\xbd"));
  EXPECT_EQ((*find_pid(table, 51))["name"], "odd) R 1 (x");
  EXPECT_EQ((*find_pid(table, 51))["command"], "x y");
  EXPECT_NO_THROW((void)table.dump());
}

TEST(ProcessTools, ListsAtMostFiveThousandProcesses) {
  ProcessTable table;
  for (long long pid = 1; pid <= 5003; ++pid) {
    table.rows.push_back(
        ProcessRow{.pid = pid, .name = "p", .rss_bytes = static_cast<std::uint64_t>(pid)});
  }
  const auto listed = process_list_json(table, table, ProcessSort::mem,
                                        std::chrono::system_clock::from_time_t(kBootTime));
  EXPECT_EQ(listed["count"], 5003);
  EXPECT_EQ(listed["truncated"], true);
  ASSERT_EQ(listed["processes"].size(), kMaxListedProcesses);
  // The biggest are the ones kept.
  EXPECT_EQ(listed["processes"][0]["pid"], 5003);
  EXPECT_EQ(listed["processes"][kMaxListedProcesses - 1]["pid"], 4);
  // Unknown machine figures stay unknown.
  EXPECT_TRUE(listed["total_memory_bytes"].is_null());
  EXPECT_TRUE(listed["processes"][0]["started_at"].is_null());
  EXPECT_TRUE(listed["processes"][0]["cpu_pct"].is_null());
  EXPECT_TRUE(listed["processes"][0]["user"].is_null());
}

TEST(ProcessTools, RealProcListsThisTestWithItsOwner) {
  const auto table = list_processes("/proc", "cpu", std::chrono::milliseconds(50));
  ASSERT_FALSE(table.contains("error")) << table.dump();
  EXPECT_GE(table["cpu_sample_ms"].get<long long>(), 50);
  const auto* self = find_pid(table, ::getpid());
  ASSERT_NE(self, nullptr);
  EXPECT_EQ((*self)["ppid"], ::getppid());
  EXPECT_EQ((*self)["state"], "R");  // reading /proc itself
  EXPECT_NE((*self)["command"].get<std::string>().find("agent_tests"), std::string::npos);
  EXPECT_GE((*self)["cpu_pct"].get<double>(), 0.0);
  EXPECT_GT((*self)["rss_bytes"].get<long long>(), 0);
  EXPECT_GT((*self)["vsz_bytes"].get<long long>(), (*self)["rss_bytes"].get<long long>());
  EXPECT_TRUE((*self)["started_at"].is_string());
  if (::geteuid() == 0) EXPECT_EQ((*self)["user"], "root");
  EXPECT_GT(table["total_memory_bytes"].get<unsigned long long>(), 0U);
}

// A child running `sleep 100`, killed at the end of the test if it is still there.
class SleepChild {
 public:
  SleepChild() {
    const char* argv[] = {"sleep", "100", nullptr};
    if (::posix_spawnp(&pid_, "sleep", nullptr, nullptr, const_cast<char* const*>(argv), environ) !=
        0) {
      pid_ = -1;
    }
  }
  ~SleepChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  int pid() const { return pid_; }
  // The wait status once the child has stopped or ended.
  int wait(int options = 0) {
    int status = 0;
    if (::waitpid(pid_, &status, options) == pid_ && !WIFSTOPPED(status)) reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

TEST(ProcessTools, TermKillsARealChildAndNamesIt) {
  SleepChild child;
  ASSERT_GT(child.pid(), 0);
  const auto result = kill_process(child.pid(), "TERM");
  EXPECT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.pid, child.pid());
  EXPECT_EQ(result.name, "sleep");
  EXPECT_EQ(result.signal, "TERM");
  EXPECT_EQ(result.error, "");
  const int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);

  const json shown = result;
  EXPECT_EQ(shown,
            (json{{"ok", true}, {"pid", child.pid()}, {"name", "sleep"}, {"signal", "TERM"}}));
}

TEST(ProcessTools, StopAndContinueThenKillInAnySpelling) {
  SleepChild child;
  ASSERT_GT(child.pid(), 0);
  ASSERT_TRUE(kill_process(child.pid(), "sigstop").ok);
  EXPECT_TRUE(WIFSTOPPED(child.wait(WUNTRACED)));
  const auto cont = kill_process(child.pid(), "Cont");
  ASSERT_TRUE(cont.ok) << cont.error;
  EXPECT_EQ(cont.signal, "CONT");
  EXPECT_TRUE(WIFCONTINUED(child.wait(WCONTINUED)));
  ASSERT_TRUE(kill_process(child.pid(), "SIGKILL").ok);
  const int status = child.wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
}

TEST(ProcessTools, RefusesInitGroupsItselfAndItsParents) {
  const struct {
    int pid;
    std::string error;
  } cases[] = {
      {0, "refused: 0 is not a process id (0 and negative numbers signal whole process groups)"},
      {-1, "refused: -1 is not a process id (0 and negative numbers signal whole process groups)"},
      {1, "refused: pid 1 is the init system; signalling it can bring the machine down"},
      {::getpid(), "refused: pid " + std::to_string(::getpid()) + " is the Tether agent itself"},
  };
  for (const auto& c : cases) {
    const auto result = kill_process(c.pid, "KILL");
    EXPECT_FALSE(result.ok) << c.pid;
    EXPECT_EQ(result.error, c.error);
    EXPECT_EQ(result.signal, "KILL");
  }
  const auto parent = kill_process(::getppid(), "TERM");
  EXPECT_FALSE(parent.ok);
  EXPECT_TRUE(parent.error.starts_with("refused: process " + std::to_string(::getppid()) + " ("))
      << parent.error;
  EXPECT_TRUE(parent.error.ends_with(
      " is a parent of the Tether agent; stopping it would end this session"));
}

TEST(ProcessTools, UnknownSignalsAndMissingProcessesAreClearErrors) {
  SleepChild child;
  ASSERT_GT(child.pid(), 0);
  const auto segv = kill_process(child.pid(), "SEGV");
  EXPECT_FALSE(segv.ok);
  EXPECT_EQ(segv.error, "unknown signal \"SEGV\": use TERM, KILL, HUP, INT, STOP or CONT");
  const auto hostile = kill_process(child.pid(), "\x1b[2J");
  EXPECT_EQ(hostile.error, "unknown signal \"\\x1b[2J\": use TERM, KILL, HUP, INT, STOP or CONT");
  EXPECT_EQ(::waitpid(child.pid(), nullptr, WNOHANG), 0);  // still running

  const auto missing = kill_process(2147483647, "TERM");
  EXPECT_FALSE(missing.ok);
  EXPECT_EQ(missing.error, "no such process: 2147483647");
}

TEST(ProcessTools, PermissionDeniedNamesTheProcessAndItsOwner) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to drop to another user";
  SleepChild child;
  ASSERT_GT(child.pid(), 0);
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t helper = ::fork();
  ASSERT_GE(helper, 0);
  if (helper == 0) {
    // As nobody, try to stop root's sleep and report what the tool said.
    ::close(pipe_fds[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(2);
    const auto result = kill_process(child.pid(), "TERM");
    const std::string line = (result.ok ? "ok" : result.error);
    (void)!::write(pipe_fds[1], line.data(), line.size());
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  std::string said;
  char buffer[512];
  ssize_t got = 0;
  while ((got = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) said.append(buffer, got);
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(helper, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(said, "permission denied: process " + std::to_string(child.pid()) +
                      " (sleep) belongs to user root");
  EXPECT_EQ(::waitpid(child.pid(), nullptr, WNOHANG), 0);  // still running
}

}  // namespace
}  // namespace tether::agent::tools
