// The "power" section: batteries, AC, temperatures.

#include "diag/collectors/power_collector.hpp"

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

const json* find_sensor(const json& temperatures, const std::string& chip,
                        const std::string& label) {
  for (const auto& t : temperatures) {
    if (t["chip"] == chip && t["label"] == label) return &t;
  }
  return nullptr;
}

TEST(PowerCollector, LaptopBatteryWearAndAc) {
  const auto p = collect_power(fixture_context("laptop"));
  EXPECT_EQ(p["ac_online"], false);
  ASSERT_EQ(p["batteries"].size(), 1u);  // the mouse's battery (scope Device) is not listed
  const auto& b = p["batteries"][0];
  EXPECT_EQ(b["name"], "BAT0");
  EXPECT_EQ(b["manufacturer"], "SMP");
  EXPECT_EQ(b["model"], "5B10W13975");
  EXPECT_EQ(b["technology"], "Li-poly");
  EXPECT_EQ(b["status"], "Discharging");
  EXPECT_EQ(b["capacity_pct"], 73);
  EXPECT_DOUBLE_EQ(b["design_capacity_wh"].get<double>(), 50.5);
  EXPECT_DOUBLE_EQ(b["full_capacity_wh"].get<double>(), 41.21);
  EXPECT_DOUBLE_EQ(b["now_wh"].get<double>(), 30.12);
  EXPECT_DOUBLE_EQ(b["wear_pct"].get<double>(), 18.4);
  EXPECT_EQ(b["cycle_count"], 187);
}

TEST(PowerCollector, LaptopTemperaturesWithLimits) {
  const auto p = collect_power(fixture_context("laptop"));
  const auto& t = p["temperatures"];
  const auto* package = find_sensor(t, "coretemp", "Package id 0");
  ASSERT_NE(package, nullptr);
  EXPECT_EQ((*package)["source"], "hwmon");
  EXPECT_DOUBLE_EQ((*package)["celsius"].get<double>(), 52.0);
  EXPECT_DOUBLE_EQ((*package)["max_celsius"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ((*package)["critical_celsius"].get<double>(), 100.0);
  const auto* nvme = find_sensor(t, "nvme", "Composite");
  ASSERT_NE(nvme, nullptr);
  EXPECT_DOUBLE_EQ((*nvme)["critical_celsius"].get<double>(), 84.9);
  // A limit of 65261 °C is the driver's "none": null, not a number a check would trust.
  const auto* sensor1 = find_sensor(t, "nvme", "Sensor 1");
  ASSERT_NE(sensor1, nullptr);
  EXPECT_TRUE((*sensor1)["max_celsius"].is_null());
  // thinkpad_acpi's -128 °C means "no sensor here".
  EXPECT_EQ(find_sensor(t, "thinkpad", "temp2"), nullptr);
  EXPECT_NE(find_sensor(t, "thinkpad", "temp1"), nullptr);
  const auto* zone = find_sensor(t, "thermal_zone0", "acpitz");
  ASSERT_NE(zone, nullptr);
  EXPECT_EQ((*zone)["source"], "thermal_zone");
  EXPECT_DOUBLE_EQ((*zone)["critical_celsius"].get<double>(), 128.0);
  // Sorted: hwmon before thermal zones, chips by name, labels naturally within a chip.
  std::vector<std::string> order;
  for (const auto& sensor : t)
    order.push_back(sensor["source"].get<std::string>() + "/" + sensor["chip"].get<std::string>() +
                    "/" + sensor["label"].get<std::string>());
  EXPECT_EQ(order.front(), "hwmon/acpitz/temp1");
  EXPECT_EQ(order.back(), "thermal_zone/thermal_zone1/x86_pkg_temp");
  EXPECT_LT(std::find(order.begin(), order.end(), "hwmon/coretemp/Core 3"),
            std::find(order.begin(), order.end(), "hwmon/coretemp/Package id 0"));
}

TEST(PowerCollector, ServerHasNoBatteryAndUnknownAc) {
  const auto p = collect_power(fixture_context("server"));
  EXPECT_EQ(p["batteries"], json::array());
  EXPECT_TRUE(p["ac_online"].is_null());
  EXPECT_EQ(p["unknown"]["ac_online"], "not present");
  // Two packages' sensors stay grouped by chip.
  ASSERT_EQ(p["temperatures"].size(), 10u);
  EXPECT_EQ(p["temperatures"][4]["label"], "Package id 0");
  EXPECT_EQ(p["temperatures"][9]["label"], "Package id 1");
}

TEST(PowerCollector, ChargeBasedBatteryUsesTheDesignVoltage) {
  const auto root = fs::temp_directory_path() / "tether-power-charge";
  fs::remove_all(root);
  const auto bat = root / "sys/class/power_supply/BAT1";
  fs::create_directories(bat);
  const auto put = [&](const char* name, const char* value) {
    std::ofstream(bat / name) << value << "\n";
  };
  put("type", "Battery");
  put("charge_full_design", "4000000");  // 4 Ah
  put("charge_full", "3000000");
  put("charge_now", "1500000");
  put("voltage_min_design", "11100000");  // 11.1 V
  put("capacity", "50");
  const auto p = collect_power(CollectContext{.root = root, .host = {}, .real_root = false});
  fs::remove_all(root);
  ASSERT_EQ(p["batteries"].size(), 1u);
  const auto& b = p["batteries"][0];
  EXPECT_DOUBLE_EQ(b["design_capacity_wh"].get<double>(), 44.4);
  EXPECT_DOUBLE_EQ(b["full_capacity_wh"].get<double>(), 33.3);
  EXPECT_DOUBLE_EQ(b["now_wh"].get<double>(), 16.65);
  EXPECT_DOUBLE_EQ(b["wear_pct"].get<double>(), 25.0);
  EXPECT_EQ(b["unknown"]["cycle_count"], "not present");
}

TEST(PowerCollector, GarbageGivesReasons) {
  const auto p = collect_power(fixture_context("garbage"));
  ASSERT_EQ(p["batteries"].size(), 1u);
  const auto& b = p["batteries"][0];
  EXPECT_TRUE(b["capacity_pct"].is_null());        // 250 %
  EXPECT_TRUE(b["design_capacity_wh"].is_null());  // 0: unknown, not a 0 Wh battery
  EXPECT_TRUE(b["wear_pct"].is_null());
  EXPECT_EQ(b["unknown"]["status"], "could not read: not text");
  EXPECT_EQ(p["unknown"]["ac_online"], "could not read: /sys/class/power_supply/AC/online");
  for (const auto& t : p["temperatures"]) {
    EXPECT_TRUE(t["celsius"].is_null());
    EXPECT_EQ(t["unknown"]["celsius"], "could not read: not a temperature");
  }
}

TEST(PowerCollector, NoSysIsUnavailable) {
  EXPECT_TRUE(collect_power(fixture_context("fedora40")).contains("unavailable"));
}

}  // namespace
}  // namespace tether::agent::diag
