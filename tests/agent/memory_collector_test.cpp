// The "memory" section's parsers, fed text directly.

#include <gtest/gtest.h>

#include "diag/collectors/memory_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

TEST(Meminfo, KilobytesBecomeBytes) {
  const auto memory = parse_meminfo("MemTotal: 1000 kB\nMemAvailable: 400 kB\n");
  EXPECT_EQ(memory["total_bytes"], 1024000u);
  EXPECT_EQ(memory["available_bytes"], 409600u);
  EXPECT_TRUE(memory["swap_total_bytes"].is_null());
  EXPECT_TRUE(memory["swap_free_bytes"].is_null());
}

TEST(Meminfo, OldKernelWithoutMemAvailableEstimatesIt) {
  const auto memory =
      parse_meminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n");
  EXPECT_EQ(memory["available_bytes"], 420u * 1024);
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

}  // namespace
}  // namespace tether::agent::diag
