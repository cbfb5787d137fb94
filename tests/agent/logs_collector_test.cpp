// The "logs" section: journal probes through a fake runner, crash dumps from fixture files.

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>

#include "diag/collectors/logs_collector.hpp"
#include "program_run_fakes.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::system_clock;
namespace fs = std::filesystem;
using fakes::exited;

// 2024-11-25T10:00:00Z
const Clock::time_point kNow = Clock::from_time_t(1732528800);

bool is_oom_probe(const std::vector<std::string>& argv) {
  return std::find(argv.begin(), argv.end(), "-k") != argv.end();
}

constexpr const char* kErrors =
    R"({"__REALTIME_TIMESTAMP":"1732522812000000","PRIORITY":"3","_SYSTEMD_UNIT":"cups.service","MESSAGE":"Failed to start CUPS"})"
    "\n"
    R"({"__REALTIME_TIMESTAMP":"1732522900000000","PRIORITY":"2","SYSLOG_IDENTIFIER":"kernel","MESSAGE":[99,97,102,233]})"
    "\n"
    "garbage line\n";

constexpr const char* kOom =
    R"({"__REALTIME_TIMESTAMP":"1732524000000000","MESSAGE":"Out of memory: Killed process 3350 (Web Content) total-vm:2829460kB, anon-rss:1873528kB, file-rss:0kB, shmem-rss:212kB, UID:1000 pgtables:4508kB oom_score_adj:167"})"
    "\n";

void set_mtime(const fs::path& path, Clock::time_point time) {
  const timespec times[2] = {{Clock::to_time_t(time), 0}, {Clock::to_time_t(time), 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0) << path;
}

// A root with the laptop's crash dumps and a journal directory, with mtimes set for kNow.
class LogsRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("tether-logs-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
             "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    const fs::path laptop = fs::path(TETHER_TEST_DATA_DIR) / "laptop";
    fs::create_directories(root_ / "var/lib/systemd");
    fs::create_directories(root_ / "var/log/journal/0123456789abcdef0123456789abcdef");
    fs::copy(laptop / "var/crash", root_ / "var/crash", fs::copy_options::recursive);
    fs::copy(laptop / "var/lib/systemd/coredump", root_ / "var/lib/systemd/coredump",
             fs::copy_options::recursive);
    set_mtime(root_ / "var/crash/_usr_bin_gnome-text-editor.1000.crash",
              kNow - std::chrono::hours(2));
    std::ofstream(root_ / "var/crash/_usr_bin_old.1000.crash") << "ExecutablePath: /usr/bin/old\n";
    set_mtime(root_ / "var/crash/_usr_bin_old.1000.crash", kNow - std::chrono::hours(30));
    context_.root = root_;
    context_.real_root = false;
    context_.host.now = [] { return kNow; };
  }
  void TearDown() override { fs::remove_all(root_); }

  fs::path root_;
  CollectContext context_;
};

TEST(Logs, CoredumpFileNames) {
  const auto parsed = parse_coredump_name(
      "core.Web\\x20Content.1000.0123456789abcdef0123456789abcdef.3350.1732524600000000.zst");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->comm, "Web Content");
  EXPECT_EQ(parsed->uid, 1000U);
  EXPECT_EQ(parsed->pid, 3350);
  EXPECT_EQ(parsed->time, Clock::from_time_t(1732524600));
  // Uncompressed, and a command name with dots.
  const auto dotted =
      parse_coredump_name("core.python3.12.0.0123456789abcdef0123456789abcdef.77.1732524600000000");
  ASSERT_TRUE(dotted.has_value());
  EXPECT_EQ(dotted->comm, "python3.12");
  EXPECT_EQ(dotted->uid, 0U);
  EXPECT_FALSE(parse_coredump_name("core.broken-name.zst").has_value());
  EXPECT_FALSE(parse_coredump_name("core.x.1.shortbootid.2.3").has_value());
  EXPECT_FALSE(parse_coredump_name("vmcore").has_value());
}

TEST(Logs, ApportReportExecutable) {
  EXPECT_EQ(crash_report_executable("ProblemType: Crash\nExecutablePath: /usr/bin/gedit\n"),
            "/usr/bin/gedit");
  EXPECT_FALSE(crash_report_executable("ProblemType: Crash\n").has_value());
}

TEST_F(LogsRoot, ErrorsOomKillsAndRecentCrashes) {
  std::atomic<int> runs{0};
  context_.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    ++runs;
    EXPECT_EQ(argv.at(0), "journalctl");
    return exited(0, is_oom_probe(argv) ? kOom : kErrors);
  };
  const auto section = collect_logs(context_);
  EXPECT_EQ(runs, 2);

  ASSERT_EQ(section["errors"].size(), 2U);
  EXPECT_EQ(section["errors"][0], (json{{"time", "2024-11-25T08:20:12Z"},
                                        {"unit", "cups.service"},
                                        {"priority", 3},
                                        {"message", "Failed to start CUPS"}}));
  EXPECT_EQ(section["errors"][1]["unit"], "kernel");
  EXPECT_EQ(section["errors"][1]["message"], "caf\xe9");  // made valid UTF-8 by the snapshot
  EXPECT_EQ(section["error_count"], 2);

  EXPECT_EQ(section["oom_kills"],
            (json::array(
                {{{"time", "2024-11-25T08:40:00Z"}, {"process", "Web Content"}, {"pid", 3350}}})));

  // The gnome-shell core (6 days old) and the 30-hour-old report are out of the window.
  const auto& crashes = section["crashes"];
  ASSERT_EQ(crashes.size(), 2U) << crashes.dump();
  EXPECT_EQ(crashes[0]["executable"], "/usr/bin/gnome-text-editor");
  EXPECT_EQ(crashes[0]["path"], "/var/crash/_usr_bin_gnome-text-editor.1000.crash");
  EXPECT_EQ(crashes[0]["time"], "2024-11-25T08:00:00Z");
  EXPECT_EQ(crashes[1]["executable"], "Web Content");
  EXPECT_EQ(crashes[1]["time"], "2024-11-25T08:50:00Z");
  EXPECT_TRUE(
      crashes[1]["path"].get<std::string>().starts_with("/var/lib/systemd/coredump/core.Web"));
}

TEST_F(LogsRoot, NoOomMatchIsAnEmptyList) {
  context_.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    return is_oom_probe(argv) ? exited(1, "") : exited(0, "");
  };
  const auto section = collect_logs(context_);
  EXPECT_EQ(section["oom_kills"], json::array());
  EXPECT_EQ(section["errors"], json::array());
  EXPECT_EQ(section["error_count"], 0);
}

TEST_F(LogsRoot, JournalctlMissingOrSlowSaysSoAndCrashesStillCome) {
  context_.host.run = [&](const std::vector<std::string>& argv, const RunLimits&) {
    ProgramRun run;
    run.outcome = is_oom_probe(argv) ? RunOutcome::timed_out : RunOutcome::tool_missing;
    return run;
  };
  const auto section = collect_logs(context_);
  EXPECT_TRUE(section["errors"].is_null());
  EXPECT_TRUE(section["unknown"]["errors"].get<std::string>().starts_with("tool missing"));
  EXPECT_TRUE(section["unknown"]["error_count"].get<std::string>().starts_with("tool missing"));
  EXPECT_TRUE(section["unknown"]["oom_kills"].get<std::string>().starts_with("timed out"));
  EXPECT_EQ(section["crashes"].size(), 2U);
}

TEST_F(LogsRoot, UnprivilegedUserSeesOnlyTheirOwnJournal) {
  context_.host.run = [&](const std::vector<std::string>&, const RunLimits&) {
    return exited(0, kErrors,
                  "Hint: You are currently not seeing messages from other users and the system.\n"
                  "      Users in groups 'adm', 'systemd-journal' can see all messages.\n");
  };
  const auto section = collect_logs(context_);
  EXPECT_TRUE(section["errors"].is_null());
  EXPECT_TRUE(section["unknown"]["errors"].get<std::string>().starts_with("not root"));
}

TEST_F(LogsRoot, JournalErrorExitIsCouldNotRead) {
  context_.host.run = [&](const std::vector<std::string>&, const RunLimits&) {
    return exited(1, "", "Failed to open journal: Permission denied\n");
  };
  const auto section = collect_logs(context_);
  EXPECT_TRUE(section["unknown"]["errors"].get<std::string>().starts_with("could not read"));
  EXPECT_TRUE(section["unknown"]["oom_kills"].get<std::string>().starts_with("could not read"));
}

TEST(Logs, NoJournalMeansNoProbe) {
  std::atomic<int> runs{0};
  CollectContext context;
  context.root = fs::path(TETHER_TEST_DATA_DIR) / "container";
  context.real_root = false;
  context.host.now = [] { return kNow; };
  context.host.run = [&](const std::vector<std::string>&, const RunLimits&) {
    ++runs;
    return exited(0, kErrors);
  };
  const auto section = collect_logs(context);
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(section["unknown"]["errors"].get<std::string>().starts_with("not present"));
  EXPECT_TRUE(section["oom_kills"].is_null());
  EXPECT_EQ(section["crashes"], json::array());
}

TEST(Logs, GarbageCrashFilesDoNotThrow) {
  CollectContext context;
  context.root = fs::path(TETHER_TEST_DATA_DIR) / "garbage";
  context.real_root = false;
  const auto section = collect_logs(context);
  // junk.crash is recent (checkout time) but holds no ExecutablePath.
  ASSERT_TRUE(section["crashes"].is_array());
  for (const auto& crash : section["crashes"]) {
    EXPECT_TRUE(crash["executable"].is_null());
    EXPECT_TRUE(crash["unknown"]["executable"].get<std::string>().starts_with("not present"));
  }
}

}  // namespace
}  // namespace tether::agent::diag
