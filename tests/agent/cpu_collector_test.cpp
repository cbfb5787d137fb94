// The "cpu" section: cpuinfo parsing (x86, ARM), topology, caches, and utilisation sampled
// over two reads of /proc/stat.

#include "diag/collectors/cpu_collector.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

CollectContext fixture_context(const std::string& name) {
  return CollectContext{
      .root = fs::path(TETHER_TEST_DATA_DIR) / name, .host = {}, .real_root = false};
}

TEST(Cpuinfo, ArmWithoutModelNameUsesHardwareAndHasNoMhz) {
  const auto cpu = parse_cpuinfo(
      "processor\t: 0\nBogoMIPS\t: 108.00\nFeatures\t: fp asimd evtstrm crc32 cpuid\n"
      "CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x0\nCPU part\t: 0xd08\n"
      "CPU revision\t: 3\n\n"
      "processor\t: 1\nBogoMIPS\t: 108.00\n\n"
      "Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n");
  EXPECT_EQ(cpu["logical_cores"], 2);
  EXPECT_EQ(cpu["threads"], 2);
  EXPECT_EQ(cpu["model"], "BCM2835");
  EXPECT_TRUE(cpu["mhz"].is_null());
  EXPECT_EQ(cpu["vendor"], "ARM");
  EXPECT_EQ(cpu["family"], 8);
  EXPECT_EQ(cpu["model_id"], 0xd08);
  EXPECT_EQ(cpu["stepping"], 3);
  EXPECT_EQ(cpu["flags_summary"], json::parse(R"(["asimd","crc32"])"));
  EXPECT_EQ(cpu["flag_count"], 5);
  EXPECT_EQ(cpu["unknown"]["microcode"], "not present");
  EXPECT_EQ(cpu["unknown"]["sockets"], "not present");  // ARM cpuinfo has no physical id
}

TEST(Cpuinfo, X86IdentityTopologyAndFlags) {
  std::string text;
  for (int i = 0; i < 4; ++i) {
    text += "processor\t: " + std::to_string(i) +
            "\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 33\n"
            "model name\t: AMD Ryzen 5 5600X 6-Core Processor\nstepping\t: 0\n"
            "microcode\t: 0xa201016\ncpu MHz\t\t: 3700.000\nphysical id\t: 0\ncore id\t\t: " +
            std::to_string(i / 2) + "\nflags\t\t: fpu lm nx svm aes avx avx2 sse4_2 sha_ni\n\n";
  }
  const auto cpu = parse_cpuinfo(text);
  EXPECT_EQ(cpu["vendor"], "AuthenticAMD");
  EXPECT_EQ(cpu["family"], 25);
  EXPECT_EQ(cpu["model_id"], 33);
  EXPECT_EQ(cpu["stepping"], 0);
  EXPECT_EQ(cpu["microcode"], "0xa201016");
  EXPECT_EQ(cpu["sockets"], 1);
  EXPECT_EQ(cpu["cores"], 2);  // two threads per core
  EXPECT_EQ(cpu["threads"], 4);
  EXPECT_EQ(cpu["flags_summary"],
            json::parse(R"(["lm","nx","svm","aes","sse4_2","avx","avx2","sha_ni"])"));
  EXPECT_EQ(cpu["flag_count"], 9);
}

TEST(Cpuinfo, NoProcessorIsUnavailable) {
  EXPECT_EQ(parse_cpuinfo("model name : x\n"),
            json({{"unavailable", "no processor entries in /proc/cpuinfo"}}));
  EXPECT_TRUE(parse_cpuinfo("").contains("unavailable"));
  EXPECT_TRUE(parse_cpuinfo("processor : zero\n").contains("unavailable"));
}

TEST(CpuTicks, ParsesTotalAndPerCpuLinesAndSkipsJunk) {
  const auto ticks = parse_cpu_ticks(
      "cpu  100 0 50 800 50 0 0 0 30 0\ncpu0 60 0 20 400 20 0 0 0 0 0\ncpux 1 2 3 4\n"
      "cpu1 a b c d\nintr 5\n");
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_EQ(ticks[0].name, "cpu");
  EXPECT_EQ(ticks[0].total, 1000u);  // guest time (30) is already inside user
  EXPECT_EQ(ticks[0].idle, 850u);
  EXPECT_EQ(ticks[1].name, "cpu0");
}

TEST(CpuUtilization, BusyShareOverTheWindowPerCore) {
  const auto before = parse_cpu_ticks(
      "cpu  100 0 0 900 0 0 0 0 0 0\ncpu0 50 0 0 450 0 0 0 0 0 0\ncpu1 50 0 0 450 0 0 0 0 0 0\n");
  const auto after = parse_cpu_ticks(
      "cpu  130 0 10 960 0 0 0 0 0 0\ncpu0 80 0 10 460 0 0 0 0 0 0\ncpu1 50 0 0 500 0 0 0 0 0 0\n");
  const auto u = cpu_utilization(before, after);
  EXPECT_DOUBLE_EQ(u["utilization_pct"].get<double>(), 40.0);
  EXPECT_EQ(u["per_core_pct"], json::parse("[80.0, 0.0]"));
}

TEST(CpuUtilization, NoTicksElapsedIsNullWithAReason) {
  const auto same = parse_cpu_ticks("cpu  1 2 3 4\ncpu0 1 2 3 4\n");
  const auto u = cpu_utilization(same, same);
  EXPECT_TRUE(u["utilization_pct"].is_null());
  EXPECT_EQ(u["unknown"]["utilization_pct"],
            "could not read: no CPU time elapsed during the sample");
  EXPECT_TRUE(u["per_core_pct"].is_null());
}

TEST(CacheSize, SysfsSizes) {
  EXPECT_EQ(parse_cache_size("32K\n"), 32u * 1024);
  EXPECT_EQ(parse_cache_size("1280K"), 1280u * 1024);
  EXPECT_EQ(parse_cache_size("8M"), 8u * 1024 * 1024);
  EXPECT_EQ(parse_cache_size("lots"), std::nullopt);
  EXPECT_EQ(parse_cache_size("-4K"), std::nullopt);
}

TEST(CpuCollector, LaptopTopologyCachesAndMaxClock) {
  const auto cpu = collect_cpu(fixture_context("laptop"));
  EXPECT_EQ(cpu["model"], "11th Gen Intel(R) Core(TM) i5-1135G7 @ 2.40GHz");
  EXPECT_EQ(cpu["sockets"], 1);
  EXPECT_EQ(cpu["cores"], 4);
  EXPECT_EQ(cpu["threads"], 8);
  EXPECT_EQ(cpu["logical_cores"], 8);
  EXPECT_DOUBLE_EQ(cpu["max_mhz"].get<double>(), 4200.0);
  EXPECT_EQ(cpu["caches"], json::parse(R"({"l1d_bytes":49152,"l1i_bytes":32768,
                                           "l2_bytes":1310720,"l3_bytes":8388608})"));
  EXPECT_EQ(cpu["microcode"], "0xb4");
  // A fixture does not change between two reads and no pause was given: no figure, a reason.
  EXPECT_TRUE(cpu["utilization_pct"].is_null());
  EXPECT_EQ(cpu["unknown"]["utilization_pct"],
            "could not read: no CPU time elapsed during the sample");
  EXPECT_EQ(cpu["sample_ms"], 0);
}

TEST(CpuCollector, ServerHasTwoSockets) {
  const auto cpu = collect_cpu(fixture_context("server"));
  EXPECT_EQ(cpu["sockets"], 2);
  EXPECT_EQ(cpu["cores"], 8);
  EXPECT_EQ(cpu["threads"], 16);
}

TEST(CpuCollector, VmHasNoMaxClockAndShowsTheHypervisorFlag) {
  const auto cpu = collect_cpu(fixture_context("vm"));
  EXPECT_TRUE(cpu["max_mhz"].is_null());
  EXPECT_EQ(cpu["unknown"]["max_mhz"], "not present");
  const auto& flags = cpu["flags_summary"];
  EXPECT_NE(std::find(flags.begin(), flags.end(), "hypervisor"), flags.end());
}

TEST(CpuCollector, WithoutSysfsTopologyFallsBackToCpuinfo) {
  const auto cpu = collect_cpu(fixture_context("debian12"));
  EXPECT_EQ(cpu["sockets"], 1);
  EXPECT_EQ(cpu["cores"], 4);
  EXPECT_EQ(cpu["unknown"]["caches"], "not present");
}

TEST(CpuCollector, PauseSeparatesTwoReadsOfProcStat) {
  const auto root = fs::temp_directory_path() / "tether-cpu-sample";
  fs::remove_all(root);
  fs::create_directories(root / "proc");
  fs::copy_file(fs::path(TETHER_TEST_DATA_DIR) / "debian12/proc/cpuinfo", root / "proc/cpuinfo");
  std::ofstream(root / "proc/stat") << "cpu  100 0 0 300 0 0 0 0 0 0\n"
                                       "cpu0 50 0 0 150 0 0 0 0 0 0\n"
                                       "cpu1 50 0 0 150 0 0 0 0 0 0\nbtime 1732522200\n";
  CollectContext context{
      .root = root, .host = {}, .real_root = false, .cpu_sample = std::chrono::milliseconds(20)};
  std::chrono::milliseconds paused{0};
  context.host.pause = [&](std::chrono::milliseconds window) {
    paused = window;
    // The kernel's counters move on while the agent waits.
    std::ofstream(root / "proc/stat") << "cpu  103 0 0 301 0 0 0 0 0 0\n"
                                         "cpu0 52 0 0 150 0 0 0 0 0 0\n"
                                         "cpu1 51 0 0 151 0 0 0 0 0 0\nbtime 1732522200\n";
  };
  const auto cpu = collect_cpu(context);
  fs::remove_all(root);
  EXPECT_EQ(paused, std::chrono::milliseconds(20));
  EXPECT_DOUBLE_EQ(cpu["utilization_pct"].get<double>(), 75.0);
  EXPECT_EQ(cpu["per_core_pct"], json::parse("[100.0, 50.0]"));
  EXPECT_EQ(cpu["sample_ms"], 20);
}

TEST(CpuCollector, GarbageKeepsWhatCanBeRead) {
  const auto cpu = collect_cpu(fixture_context("garbage"));
  EXPECT_EQ(cpu["logical_cores"], 1);
  EXPECT_EQ(cpu["unknown"]["max_mhz"], "could not read: not a frequency");
  EXPECT_TRUE(cpu["caches"]["l2_bytes"].is_null());
  EXPECT_TRUE(cpu["utilization_pct"].is_null());
}

}  // namespace
}  // namespace tether::agent::diag
