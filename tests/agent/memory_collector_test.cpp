// The "memory" section: meminfo, PSI, OOM kills and DIMMs from the SMBIOS table.

#include "diag/collectors/memory_collector.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

CollectContext fixture_context(const std::string& name, unsigned uid = 0) {
  CollectContext context{
      .root = std::filesystem::path(TETHER_TEST_DATA_DIR) / name, .host = {}, .real_root = false};
  context.host.effective_uid = [uid] { return uid; };
  return context;
}

TEST(Meminfo, KilobytesBecomeBytes) {
  const auto memory = parse_meminfo("MemTotal: 1000 kB\nMemAvailable: 400 kB\n");
  EXPECT_EQ(memory["total_bytes"], 1024000u);
  EXPECT_EQ(memory["available_bytes"], 409600u);
  EXPECT_DOUBLE_EQ(memory["used_pct"].get<double>(), 60.0);
  EXPECT_TRUE(memory["swap_total_bytes"].is_null());
  EXPECT_TRUE(memory["swap_free_bytes"].is_null());
}

TEST(Meminfo, OldKernelWithoutMemAvailableEstimatesIt) {
  const auto memory =
      parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n");
  EXPECT_EQ(memory["available_bytes"], 420u * 1024);
  EXPECT_EQ(memory["free_bytes"], 100u * 1024);
  EXPECT_EQ(memory["buffers_bytes"], 20u * 1024);
  EXPECT_EQ(memory["cached_bytes"], 300u * 1024);
}

TEST(Meminfo, SwapUsedShareAndNoSwap) {
  auto memory = parse_meminfo("MemTotal: 1000 kB\nSwapTotal: 2000 kB\nSwapFree: 500 kB\n");
  EXPECT_DOUBLE_EQ(memory["swap_used_pct"].get<double>(), 75.0);
  memory = parse_meminfo("MemTotal: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n");
  EXPECT_TRUE(memory["swap_used_pct"].is_null());
  EXPECT_EQ(memory["unknown"]["swap_used_pct"], "not present: no swap");
}

TEST(Meminfo, MalformedOrOverflowingValuesAreIgnored) {
  EXPECT_TRUE(parse_meminfo("MemTotal: 0 kB\n").contains("unavailable"));
  EXPECT_TRUE(parse_meminfo("MemTotal: 99999999999999999999 kB\n").contains("unavailable"));
  EXPECT_TRUE(parse_meminfo("MemTotal: 18014398509481984 kB\n").contains("unavailable"));
  EXPECT_TRUE(parse_meminfo("MemTotal: 5 MB\n").contains("unavailable"));
  const auto memory = parse_meminfo("MemTotal: 8 kB\nSwapTotal: x kB\n");
  EXPECT_EQ(memory["total_bytes"], 8192u);
  EXPECT_TRUE(memory["swap_total_bytes"].is_null());
}

TEST(Pressure, SomeAndFullAverages) {
  const auto p = parse_pressure(
      "some avg10=12.50 avg60=8.25 avg300=3.10 total=81234567\n"
      "full avg10=9.80 avg60=6.40 avg300=2.20 total=61234567\n");
  EXPECT_EQ(p, json::parse(R"({"some_avg10":12.5,"some_avg60":8.25,"full_avg10":9.8,
                              "full_avg60":6.4})"));
  // The cpu file of older kernels has no "full" line.
  const auto some_only = parse_pressure("some avg10=1.00 avg60=2.00 avg300=0.00 total=1\n");
  EXPECT_TRUE(some_only["full_avg10"].is_null());
  EXPECT_TRUE(parse_pressure("garbage avg10=x\n").empty());
}

TEST(OomKills, CounterFromVmstat) {
  EXPECT_EQ(parse_oom_kills("pgfault 5\noom_kill 3\ncompact_stall 1\n"), 3);
  EXPECT_EQ(parse_oom_kills("pgfault 5\n"), std::nullopt);  // kernel before 4.13
  EXPECT_EQ(parse_oom_kills("oom_kill lots\n"), std::nullopt);
}

TEST(MemoryCollector, LaptopDimmsAndFigures) {
  const auto m = collect_memory(fixture_context("laptop"));
  EXPECT_EQ(m["total_bytes"], 15999112ULL * 1024);
  EXPECT_EQ(m["oom_kills_since_boot"], 0);
  EXPECT_DOUBLE_EQ(m["pressure"]["some_avg60"].get<double>(), 0.12);
  EXPECT_EQ(m["slots_total"], 2);
  EXPECT_EQ(m["slots_used"], 2);
  ASSERT_EQ(m["dimms"].size(), 2u);
  const auto& soldered = m["dimms"][0];
  EXPECT_EQ(soldered["locator"], "ChannelA-DIMM0");
  EXPECT_EQ(soldered["form_factor"], "Row of chips");
  EXPECT_EQ(soldered["size_bytes"], 8ULL << 30);
  EXPECT_EQ(soldered["type"], "DDR4");
  EXPECT_EQ(soldered["speed_mts"], 3200);
  EXPECT_TRUE(soldered["serial"].is_null());  // "00000000" identifies nothing
  const auto& module = m["dimms"][1];
  EXPECT_EQ(module["form_factor"], "SODIMM");
  EXPECT_EQ(module["manufacturer"], "Samsung");
  EXPECT_EQ(module["part_number"], "M471A1K43DB1-CWE");
  EXPECT_EQ(module["serial"], "3A1B2C4D");
}

TEST(MemoryCollector, ServerCountsEmptySlots) {
  const auto m = collect_memory(fixture_context("server"));
  EXPECT_EQ(m["slots_total"], 8);
  EXPECT_EQ(m["slots_used"], 4);
  ASSERT_EQ(m["dimms"].size(), 4u);
  EXPECT_EQ(m["dimms"][1]["locator"], "P1-DIMMC1");
  EXPECT_EQ(m["dimms"][1]["configured_speed_mts"], 2133);
  EXPECT_EQ(m["unknown"]["swap_used_pct"], "not present: no swap");
}

TEST(MemoryCollector, DimmsNeedRoot) {
  const auto m = collect_memory(fixture_context("laptop", 1000));
  EXPECT_TRUE(m["dimms"].is_null());
  EXPECT_EQ(m["unknown"]["dimms"], "not root");
  EXPECT_EQ(m["unknown"]["slots_total"], "not root");
  EXPECT_EQ(m["total_bytes"], 15999112ULL * 1024);
}

TEST(MemoryCollector, VmUnderPressureWithOomKillsAndNoDmi) {
  const auto m = collect_memory(fixture_context("vm"));
  EXPECT_EQ(m["oom_kills_since_boot"], 3);
  EXPECT_DOUBLE_EQ(m["pressure"]["some_avg10"].get<double>(), 12.5);
  EXPECT_DOUBLE_EQ(m["used_pct"].get<double>(), 94.7);
  EXPECT_EQ(m["unknown"]["dimms"], "not present");
}

TEST(MemoryCollector, ContainerWithoutPsiOrVmstat) {
  const auto m = collect_memory(fixture_context("container"));
  EXPECT_EQ(m["unknown"]["pressure"], "not present");
  EXPECT_EQ(m["unknown"]["oom_kills_since_boot"], "not present");
}

TEST(MemoryCollector, TruncatedSmbiosTableYieldsWhatWasParsed) {
  // The garbage fixture's table: a type 17 whose string set is cut off by junk. Its
  // formatted fields are whole and kept; its strings are not trusted.
  std::ifstream in(
      std::filesystem::path(TETHER_TEST_DATA_DIR) / "garbage/sys/firmware/dmi/tables/DMI",
      std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_FALSE(bytes.empty());
  const auto parsed = memory_devices_from_smbios(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  EXPECT_EQ(parsed["slots_total"], 1);
  ASSERT_EQ(parsed["dimms"].size(), 1u);
  EXPECT_EQ(parsed["dimms"][0]["size_bytes"], 4ULL << 30);
  EXPECT_EQ(parsed["dimms"][0]["type"], "DDR4");
  EXPECT_TRUE(parsed["dimms"][0]["locator"].is_null());
  EXPECT_EQ(parsed["dimms"][0]["unknown"]["locator"], "not present");

  const std::string junk = "\x11\x28\x01\x00\x00\x10";
  const auto nothing = memory_devices_from_smbios(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(junk.data()), junk.size()));
  EXPECT_EQ(nothing["slots_total"], 0);
  EXPECT_EQ(nothing["dimms"], json::array());
}

}  // namespace
}  // namespace tether::agent::diag
