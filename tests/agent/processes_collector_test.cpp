// The "processes" section: /proc/<pid>/stat parsing and the collector over fixture trees.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "diag/collectors/processes_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

CollectContext fixture(const std::string& name) {
  CollectContext context;
  context.root = std::filesystem::path(TETHER_TEST_DATA_DIR) / name;
  context.real_root = false;
  return context;
}

const json* find_pid(const json& list, long long pid) {
  for (const auto& item : list) {
    if (item["pid"] == pid) return &item;
  }
  return nullptr;
}

std::vector<long long> pids(const json& list) {
  std::vector<long long> out;
  for (const auto& item : list) out.push_back(item["pid"].get<long long>());
  return out;
}

TEST(Processes, StatLineFieldsAfterTheCommandName) {
  const auto stat = parse_pid_stat(
      "1 (systemd) S 0 1 1 0 -1 4194560 44444 66625113 0 3889 317 467 562249 46279 20 0 1 0 14 "
      "40853504 2843 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0 0\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->pid, 1);
  EXPECT_EQ(stat->comm, "systemd");
  EXPECT_EQ(stat->state, 'S');
  EXPECT_EQ(stat->ppid, 0);
  EXPECT_EQ(stat->flags, 4194560U);
  EXPECT_EQ(stat->utime_ticks, 317U);
  EXPECT_EQ(stat->stime_ticks, 467U);
  EXPECT_EQ(stat->threads, 1);
  EXPECT_EQ(stat->start_ticks, 14U);
  EXPECT_EQ(stat->rss_pages, 2843);
}

TEST(Processes, CommandNameWithSpacesAndParenthesesIsReadUpToTheLastParenthesis) {
  const auto stat = parse_pid_stat(
      "4001 (evil) S 1 (x) R 2301 4001 4001 0 -1 0 0 0 0 0 500 400 0 0 20 0 3 0 200000 1 256 "
      "0\n");
  ASSERT_TRUE(stat.has_value());
  EXPECT_EQ(stat->comm, "evil) S 1 (x");
  EXPECT_EQ(stat->state, 'R');
  EXPECT_EQ(stat->ppid, 2301);
  EXPECT_EQ(stat->utime_ticks, 500U);
  EXPECT_EQ(stat->stime_ticks, 400U);
  EXPECT_EQ(stat->threads, 3);
  EXPECT_EQ(stat->start_ticks, 200000U);
  EXPECT_EQ(stat->rss_pages, 256);
}

TEST(Processes, TruncatedOrJunkStatLinesAreRejected) {
  EXPECT_FALSE(parse_pid_stat("").has_value());
  EXPECT_FALSE(parse_pid_stat("12 (bash S 1 2").has_value());
  EXPECT_FALSE(parse_pid_stat("12 (bash) S 1 2 3").has_value());
  EXPECT_FALSE(
      parse_pid_stat("x (bash) S 1 1 1 0 -1 0 0 0 0 0 1 1 0 0 20 0 1 0 5 1 1").has_value());
  EXPECT_FALSE(
      parse_pid_stat("12 (bash) S 1 1 1 0 -1 0 0 0 0 0 x 1 0 0 20 0 1 0 5 1 1").has_value());
}

TEST(Processes, EffectiveUidFromStatus) {
  EXPECT_EQ(parse_status_euid("Name:\tsu\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n"), 0U);
  EXPECT_FALSE(parse_status_euid("Name:\tx\nUid:\tjunk\n").has_value());
  EXPECT_FALSE(parse_status_euid("").has_value());
}

TEST(Processes, CpuPercentIsLifetimeCpuTimeOverElapsedTimeAsPsComputesIt) {
  // 11000 s of CPU over 273350 s alive: 4.02 % → 4.0.
  EXPECT_DOUBLE_EQ(lifetime_cpu_pct(1100000, 100000, 274350.27, 100), 4.0);
  // A multi-threaded process can exceed 100 %.
  EXPECT_DOUBLE_EQ(lifetime_cpu_pct(400, 0, 2.0, 100), 200.0);
  EXPECT_DOUBLE_EQ(lifetime_cpu_pct(10, 500, 4.0, 100), 0.0);  // started after "now"
}

// The laptop's processes in a root of their own, with the clock files written here (another
// fixture's /proc/stat and /proc/uptime may change under these expectations).
class ProcessesRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    namespace fs = std::filesystem;
    root_ =
        fs::temp_directory_path() /
        ("tether-processes-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    const fs::path laptop = fs::path(TETHER_TEST_DATA_DIR) / "laptop";
    fs::create_directories(root_ / "etc");
    fs::create_directories(root_ / "proc");
    // Only the process directories: this root's clock files are the test's own.
    for (const auto& entry : fs::directory_iterator(laptop / "proc")) {
      const auto name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      fs::copy(entry.path(), root_ / "proc" / name,
               fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    }
    fs::copy_file(laptop / "etc/passwd", root_ / "etc/passwd");
    context_.root = root_;
    context_.real_root = false;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void write_clock() {
    std::ofstream(root_ / "proc/stat") << "cpu  412934 1290 102933 10923411 23411 0 4121 0 0 0\n"
                                          "btime 1732522200\nprocesses 4012\n";
    std::ofstream(root_ / "proc/uptime") << "274350.27 1032411.65\n";
  }

  std::filesystem::path root_;
  CollectContext context_;
};

TEST_F(ProcessesRoot, EveryProcessWithOwnerCommandAndTimes) {
  write_clock();
  const auto section = collect_processes(context_);
  ASSERT_FALSE(section.contains("unavailable")) << section.dump();
  // Ten complete processes; 6000 vanished (no stat) and is left out.
  EXPECT_EQ(section["count"], 10);
  EXPECT_EQ(section["threads"], 187);
  EXPECT_EQ(pids(section["list"]),
            (std::vector<long long>{1, 2, 812, 2301, 3120, 3350, 4001, 4410, 5000, 5100}));

  const auto& list = section["list"];
  const auto* firefox = find_pid(list, 3120);
  ASSERT_NE(firefox, nullptr);
  EXPECT_EQ((*firefox)["user"], "alice");
  EXPECT_EQ((*firefox)["ppid"], 2301);
  EXPECT_EQ((*firefox)["name"], "firefox");
  EXPECT_EQ((*firefox)["state"], "S");
  EXPECT_EQ((*firefox)["threads"], 96);
  EXPECT_EQ((*firefox)["rss_bytes"], 524288LL * ::sysconf(_SC_PAGESIZE));
  EXPECT_DOUBLE_EQ((*firefox)["cpu_pct"].get<double>(), 4.0);
  // btime 1732522200 + 100000 ticks / 100.
  EXPECT_EQ((*firefox)["start_time"], "2024-11-25T08:26:40Z");

  const auto* content = find_pid(list, 3350);
  ASSERT_NE(content, nullptr);
  EXPECT_EQ((*content)["name"], "Web Content");
  EXPECT_EQ((*content)["command"],
            "/snap/firefox/4336/usr/lib/firefox/firefox -contentproc -childID 1");

  const auto* evil = find_pid(list, 4001);
  ASSERT_NE(evil, nullptr);
  EXPECT_EQ((*evil)["name"], "evil) S 1 (x");
  EXPECT_EQ((*evil)["state"], "R");
  EXPECT_EQ((*evil)["user"], "bob");

  // Kernel threads: root, no command line (their status and cmdline are not read).
  EXPECT_EQ((*find_pid(list, 2))["command"], "");
  EXPECT_EQ((*find_pid(list, 812))["user"], "root");
  EXPECT_EQ((*find_pid(list, 812))["name"], "kworker/u16:3-events_unbound");
  EXPECT_EQ((*find_pid(list, 5000))["user"], "1500");  // not in /etc/passwd: the number, as ps
  EXPECT_EQ((*find_pid(list, 5100))["state"], "Z");
}

TEST_F(ProcessesRoot, TopConsumersAreTheFiveHighest) {
  write_clock();
  const auto section = collect_processes(context_);
  EXPECT_EQ(pids(section["top_cpu"]), (std::vector<long long>{3120, 2301, 3350, 1, 2}));
  EXPECT_EQ(pids(section["top_memory"]), (std::vector<long long>{3120, 5000, 2301, 3350, 1}));
  EXPECT_EQ(section["top_memory"][0], *find_pid(section["list"], 3120));
}

TEST_F(ProcessesRoot, WithoutUptimeOrBootTimeThoseFieldsSayWhy) {
  const auto section = collect_processes(context_);
  ASSERT_EQ(section["count"], 10);
  const auto& init = section["list"][0];
  EXPECT_EQ(init["pid"], 1);
  EXPECT_EQ(init["user"], "root");
  EXPECT_TRUE(init["cpu_pct"].is_null());
  EXPECT_TRUE(init["unknown"]["cpu_pct"].get<std::string>().starts_with("could not read"));
  EXPECT_TRUE(init["start_time"].is_null());
  EXPECT_TRUE(section["top_cpu"].is_null());
  EXPECT_EQ(pids(section["top_memory"]), (std::vector<long long>{3120, 5000, 2301, 3350, 1}));
}

TEST(Processes, ContainerSeesItsOwnFewProcesses) {
  const auto section = collect_processes(fixture("container"));
  EXPECT_EQ(pids(section["list"]), (std::vector<long long>{1, 17}));
  EXPECT_EQ(section["list"][0]["user"], "app");
  EXPECT_EQ(section["list"][0]["command"], "python3 -m http.server");
}

TEST(Processes, GarbageProcessFilesAreSkippedOrMarked) {
  const auto section = collect_processes(fixture("garbage"));
  ASSERT_FALSE(section.contains("unavailable"));
  ASSERT_EQ(pids(section["list"]), (std::vector<long long>{31341}));
  const auto& survivor = section["list"][0];
  EXPECT_TRUE(survivor["user"].is_null());  // status holds no Uid line
  EXPECT_LE(survivor["command"].get<std::string>().size(), 4096U);
  EXPECT_TRUE(survivor["start_time"].is_null());  // "btime soon"
}

TEST(Processes, MissingProcIsUnavailable) {
  const auto section = collect_processes(fixture("fedora40"));
  EXPECT_TRUE(section["unavailable"].get<std::string>().starts_with("could not read"));
}

TEST(Processes, RealMachineSeesItself) {
  CollectContext context;
  const auto section = collect_processes(context);
  const auto* self = find_pid(section["list"], ::getpid());
  ASSERT_NE(self, nullptr);
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  std::string expected((std::istreambuf_iterator<char>(cmdline)), std::istreambuf_iterator<char>());
  while (!expected.empty() && expected.back() == '\0') expected.pop_back();
  std::replace(expected.begin(), expected.end(), '\0', ' ');
  EXPECT_EQ((*self)["command"], expected.substr(0, 4096));
  EXPECT_GT((*self)["rss_bytes"].get<long long>(), 0);
  EXPECT_TRUE((*self)["start_time"].is_string());
}

}  // namespace
}  // namespace tether::agent::diag
