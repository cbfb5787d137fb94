// The "firmware" section: BIOS, system, board, chassis, boot mode and Secure Boot.

#include "diag/collectors/firmware_collector.hpp"

#include <filesystem>

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

TEST(BiosDate, SmbiosDatesBecomeIso) {
  EXPECT_EQ(parse_bios_date("07/17/2024"), "2024-07-17");
  EXPECT_EQ(parse_bios_date("11/19/2019\n"), "2019-11-19");
  EXPECT_EQ(parse_bios_date("03/15/99"), "1999-03-15");  // two-digit years of old firmware
  EXPECT_EQ(parse_bios_date("03/15/05"), "2005-03-15");
  EXPECT_EQ(parse_bios_date("13/45/abcd"), std::nullopt);
  EXPECT_EQ(parse_bios_date("2024-07-17"), std::nullopt);
  EXPECT_EQ(parse_bios_date("13/01/2024"), std::nullopt);
  EXPECT_EQ(parse_bios_date(""), std::nullopt);
}

TEST(ChassisType, SmbiosNumbersHaveNames) {
  EXPECT_EQ(chassis_type_name(3), "desktop");
  EXPECT_EQ(chassis_type_name(10), "notebook");
  EXPECT_EQ(chassis_type_name(9), "laptop");
  EXPECT_EQ(chassis_type_name(17), "main server chassis");
  EXPECT_EQ(chassis_type_name(23), "rack mount chassis");
  EXPECT_EQ(chassis_type_name(1), "other");
  EXPECT_EQ(chassis_type_name(0x80 | 3), "desktop");  // chassis lock bit
  EXPECT_EQ(chassis_type_name(2), std::nullopt);      // "unknown"
  EXPECT_EQ(chassis_type_name(200), std::nullopt);
}

TEST(SecureBootVariable, AttributesThenOneDataByte) {
  EXPECT_EQ(parse_secure_boot_variable(std::string("\x06\0\0\0\x01", 5)), true);
  EXPECT_EQ(parse_secure_boot_variable(std::string("\x06\0\0\0\x00", 5)), false);
  EXPECT_EQ(parse_secure_boot_variable(std::string("\x06\0", 2)), std::nullopt);
}

TEST(FirmwareCollector, LaptopUefiWithSecureBoot) {
  const auto f = collect_firmware(fixture_context("laptop"));
  EXPECT_EQ(f["bios"]["vendor"], "LENOVO");
  EXPECT_EQ(f["bios"]["version"], "N34ET62W (1.62 )");
  EXPECT_EQ(f["bios"]["date"], "2024-07-17");
  EXPECT_EQ(f["system"]["manufacturer"], "LENOVO");
  EXPECT_EQ(f["system"]["product"], "20W000T2GE");
  EXPECT_EQ(f["system"]["version"], "ThinkPad T14 Gen 2i");
  EXPECT_EQ(f["system"]["serial"], "PF3A7K2M");
  EXPECT_EQ(f["system"]["uuid"], "b5a1c0de-2f3e-11b2-a85c-8e5f2ab7c913");
  EXPECT_EQ(f["system"]["family"], "ThinkPad T14 Gen 2i");
  EXPECT_EQ(f["board"]["product"], "20W000T2GE");
  EXPECT_EQ(f["board"]["serial"], "L1HF1AB02CD");
  EXPECT_EQ(f["chassis"]["type"], 10);
  EXPECT_EQ(f["chassis"]["type_name"], "notebook");
  EXPECT_EQ(f["boot_mode"], "uefi");
  EXPECT_EQ(f["secure_boot"], true);
  EXPECT_FALSE(f.contains("unknown"));
}

TEST(FirmwareCollector, ServerBootsLegacyWithoutSecureBoot) {
  const auto f = collect_firmware(fixture_context("server"));
  EXPECT_EQ(f["bios"]["date"], "2019-11-19");
  EXPECT_EQ(f["board"]["product"], "X10DRi");
  EXPECT_EQ(f["chassis"]["type_name"], "main server chassis");
  EXPECT_EQ(f["boot_mode"], "legacy");
  EXPECT_EQ(f["secure_boot"], false);
}

TEST(FirmwareCollector, NonRootGetsEverythingButSerialsAndUuid) {
  const auto f = collect_firmware(fixture_context("laptop", 1000));
  EXPECT_EQ(f["system"]["product"], "20W000T2GE");
  EXPECT_TRUE(f["system"]["serial"].is_null());
  EXPECT_EQ(f["system"]["unknown"]["serial"], "not root");
  EXPECT_EQ(f["system"]["unknown"]["uuid"], "not root");
  EXPECT_EQ(f["board"]["unknown"]["serial"], "not root");
  EXPECT_EQ(f["chassis"]["unknown"]["serial"], "not root");
  EXPECT_EQ(f["secure_boot"], true);  // efivars are world-readable
}

TEST(FirmwareCollector, VmWithoutDmiHasNullsWithReasons) {
  const auto f = collect_firmware(fixture_context("vm"));
  EXPECT_TRUE(f["bios"]["vendor"].is_null());
  EXPECT_EQ(f["bios"]["unknown"]["vendor"], "not present");
  EXPECT_EQ(f["system"]["unknown"]["product"], "not present");
  EXPECT_EQ(f["chassis"]["unknown"]["type"], "not present");
  EXPECT_EQ(f["unknown"]["boot_mode"], "not present");
}

TEST(FirmwareCollector, GarbageGivesReasonsNotValues) {
  const auto f = collect_firmware(fixture_context("garbage"));
  EXPECT_EQ(f["bios"]["unknown"]["date"], "could not read: unexpected date \"13/45/abcd\"");
  EXPECT_EQ(f["bios"]["unknown"]["vendor"], "could not read: not text");
  EXPECT_EQ(f["system"]["unknown"]["manufacturer"], "could not read: not text");  // BEL inside
  EXPECT_EQ(f["system"]["unknown"]["product"], "could not read: not text");       // bad UTF-8
  EXPECT_EQ(f["chassis"]["unknown"]["type"], "could not read: unexpected chassis type \"xyz\"");
  EXPECT_EQ(f["unknown"]["secure_boot"], "could not read: SecureBoot variable too short");
  EXPECT_NO_THROW(f.dump());
}

TEST(FirmwareCollector, NoSysAtAllIsUnavailable) {
  EXPECT_TRUE(collect_firmware(fixture_context("fedora40")).contains("unavailable"));
}

}  // namespace
}  // namespace tether::agent::diag
