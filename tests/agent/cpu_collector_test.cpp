// The "cpu" section's parsers, fed text directly.

#include <gtest/gtest.h>

#include "diag/collectors/cpu_collector.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

TEST(Cpuinfo, ArmWithoutModelNameUsesHardwareAndHasNoMhz) {
  const auto cpu = parse_cpuinfo(
      "processor\t: 0\nBogoMIPS\t: 108.00\nCPU implementer\t: 0x41\n\n"
      "processor\t: 1\nBogoMIPS\t: 108.00\n\n"
      "Hardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n");
  EXPECT_EQ(cpu["logical_cores"], 2);
  EXPECT_EQ(cpu["model"], "BCM2835");
  EXPECT_TRUE(cpu["mhz"].is_null());
}

TEST(Cpuinfo, NoProcessorIsUnavailable) {
  EXPECT_EQ(parse_cpuinfo("model name : x\n"),
            json({{"unavailable", "no processor entries in /proc/cpuinfo"}}));
  EXPECT_TRUE(parse_cpuinfo("").contains("unavailable"));
  EXPECT_TRUE(parse_cpuinfo("processor : zero\n").contains("unavailable"));
}

}  // namespace
}  // namespace tether::agent::diag
