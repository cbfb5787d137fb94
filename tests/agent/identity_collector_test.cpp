// The "identity" section: device id, placeholder detection, root-only sources, MAC choice.

#include "diag/collectors/identity_collector.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "diag/collectors/hw_sources.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

CollectContext fixture_context(const std::string& name, unsigned uid = 0) {
  CollectContext context{
      .root = fs::path(TETHER_TEST_DATA_DIR) / name, .host = {}, .real_root = false};
  context.host.effective_uid = [uid] { return uid; };
  context.host.now = [] {
    return std::chrono::system_clock::time_point(std::chrono::seconds(1764064800));
  };
  return context;
}

// The device id a reader can recompute from what the section reports.
std::string recomputed_device_id(const json& identity) {
  std::vector<std::pair<std::string, std::string>> ids;
  for (const auto& source : identity["sources"]) {
    const auto name = source.get<std::string>();
    if (name == "machine_id" || name == "smbios_uuid") {
      ids.emplace_back(name, identity[name]);
    } else if (name.rfind("serials.", 0) == 0) {
      ids.emplace_back(name, identity["serials"][name.substr(8)]);
    }
  }
  for (const auto& mac : identity["macs"]) ids.emplace_back("mac", mac);
  return device_id_of(ids);
}

// A scratch root for trees a test builds itself.
class ScratchRoot {
 public:
  ScratchRoot()
      : path_(fs::temp_directory_path() /
              ("tether-identity-" +
               std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()))) {
    fs::remove_all(path_);
  }
  ~ScratchRoot() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  void write(const std::string& path, const std::string& text) const {
    fs::create_directories((path_ / path).parent_path());
    std::ofstream(path_ / path) << text;
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

TEST(DeviceId, IsSha256OfTheNamedIdentifiers) {
  EXPECT_EQ(device_id_of({{"machine_id", "4f8e2a9c1b7d4e6f8a3c5b2d9e1f7a60"},
                          {"smbios_uuid", "b5a1c0de-2f3e-11b2-a85c-8e5f2ab7c913"}}),
            "sha256:3ce32f4b848f72ead610a0a6ac95f0a7eac46d5ea64e58d85fa7c092b837d301");
}

TEST(PlaceholderIdentifier, FlagsVendorDefaultsButNotRealSerials) {
  for (const auto* value :
       {"To Be Filled By O.E.M.", "to be filled by o.e.m.", "Default string",
        "System Serial Number", "Not Specified", "None", "0123456789", "O.E.M.", "xxxxxxxx", "  ",
        "", "00000000-0000-0000-0000-000000000000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF",
        "03000200-0400-0500-0006-000700080009"}) {
    EXPECT_TRUE(is_placeholder_identifier(value)) << value;
  }
  for (const auto* value : {"PF3A7K2M", "NM188S012345", "b5a1c0de-2f3e-11b2-a85c-8e5f2ab7c913",
                            "00000000-0000-0000-0000-0cc47ab1c2d4", "C02XK1ZJJG5J"}) {
    EXPECT_FALSE(is_placeholder_identifier(value)) << value;
  }
}

TEST(IdentityCollector, LaptopAsRootUsesEveryIdentifier) {
  const auto identity = collect_identity(fixture_context("laptop"));
  EXPECT_EQ(identity["machine_id"], "4f8e2a9c1b7d4e6f8a3c5b2d9e1f7a60");
  EXPECT_EQ(identity["smbios_uuid"], "b5a1c0de-2f3e-11b2-a85c-8e5f2ab7c913");
  EXPECT_EQ(identity["serials"]["system"], "PF3A7K2M");
  EXPECT_EQ(identity["serials"]["board"], "L1HF1AB02CD");
  EXPECT_EQ(identity["placeholders"], json::array());
  const auto sources = identity["sources"];
  EXPECT_EQ(sources[0], "machine_id");
  EXPECT_EQ(sources[1], "smbios_uuid");
  EXPECT_NE(std::find(sources.begin(), sources.end(), "serials.board"), sources.end());
  EXPECT_EQ(identity["agent_version"], TETHER_VERSION);
  EXPECT_EQ(identity["collected_at"], "2025-11-25T10:00:00Z");
  ASSERT_TRUE(identity["device_id"].is_string());
  EXPECT_EQ(identity["device_id"].get<std::string>().substr(0, 7), "sha256:");
  EXPECT_EQ(identity["device_id"].get<std::string>().size(), 7u + 64u);
  EXPECT_EQ(identity["device_id"], recomputed_device_id(identity));
}

TEST(IdentityCollector, ServerPlaceholdersAreFlaggedAndLeftOutOfTheId) {
  const auto identity = collect_identity(fixture_context("server"));
  EXPECT_EQ(identity["smbios_uuid"], "00000000-0000-0000-0000-000000000000");
  EXPECT_EQ(identity["serials"]["system"], "0123456789");
  EXPECT_EQ(identity["serials"]["chassis"], "To be filled by O.E.M.");
  EXPECT_EQ(identity["placeholders"],
            json::parse(R"(["smbios_uuid","serials.system","serials.chassis"])"));
  for (const auto& source : identity["sources"]) {
    EXPECT_NE(source, "smbios_uuid");
    EXPECT_NE(source, "serials.system");
    EXPECT_NE(source, "serials.chassis");
  }
  EXPECT_EQ(identity["device_id"], recomputed_device_id(identity));
}

TEST(IdentityCollector, WithoutRootSerialsAndUuidSayNotRootAndTheIdStillComes) {
  const auto identity = collect_identity(fixture_context("laptop", 1000));
  EXPECT_TRUE(identity["smbios_uuid"].is_null());
  EXPECT_EQ(identity["unknown"]["smbios_uuid"], "not root");
  EXPECT_EQ(identity["serials"]["unknown"]["system"], "not root");
  EXPECT_EQ(identity["serials"]["unknown"]["board"], "not root");
  EXPECT_EQ(identity["serials"]["unknown"]["chassis"], "not root");
  EXPECT_EQ(identity["machine_id"], "4f8e2a9c1b7d4e6f8a3c5b2d9e1f7a60");
  ASSERT_TRUE(identity["device_id"].is_string());
  // Fewer identifiers, so a different id than root gets: the technician sees why in sources.
  EXPECT_NE(identity["device_id"], collect_identity(fixture_context("laptop"))["device_id"]);
  EXPECT_EQ(identity["device_id"], recomputed_device_id(identity));
}

TEST(IdentityCollector, VmWithoutDmiSaysNotPresent) {
  const auto identity = collect_identity(fixture_context("vm"));
  EXPECT_EQ(identity["unknown"]["smbios_uuid"], "not present");
  EXPECT_EQ(identity["serials"]["unknown"]["system"], "not present");
  EXPECT_EQ(identity["machine_id"], "9d3c1e7a2b5f4d8e8c6a0b1f2e3d4c5b");
  EXPECT_EQ(identity["device_id"], recomputed_device_id(identity));
}

TEST(IdentityCollector, ContainerWithNothingStableHasNoDeviceId) {
  const auto identity = collect_identity(fixture_context("container"));
  EXPECT_TRUE(identity["device_id"].is_null());
  EXPECT_EQ(identity["unknown"]["device_id"],
            "not present: no machine id, SMBIOS identifier or physical network interface");
  EXPECT_EQ(identity["sources"], json::array());
}

TEST(IdentityCollector, GarbageNeverBecomesAnIdentifier) {
  const auto identity = collect_identity(fixture_context("garbage"));
  EXPECT_EQ(identity["unknown"]["machine_id"], "could not read: not text");
  EXPECT_EQ(identity["unknown"]["smbios_uuid"], "could not read: not text");
  EXPECT_EQ(identity["serials"]["unknown"]["chassis"], "could not read: not text");
  EXPECT_TRUE(identity["device_id"].is_null());
}

TEST(IdentityCollector, EmptyRootIsUnavailable) {
  ScratchRoot root;
  fs::create_directories(root.path());
  CollectContext context{.root = root.path(), .host = {}, .real_root = false};
  EXPECT_TRUE(collect_identity(context).contains("unavailable"));
}

TEST(IdentityCollector, OnlyBurntInMacsOfPhysicalNicsCount) {
  ScratchRoot root;
  root.write("etc/machine-id", "uninitialized\n");  // first boot: not an id
  root.write("sys/class/net/eno1/address", "3C:EC:EF:12:34:56\n");
  root.write("sys/class/net/eno1/addr_assign_type", "0\n");
  root.write("sys/class/net/eno1/device/vendor", "0x8086\n");
  root.write("sys/class/net/wlp0s20f3/address", "a4:c3:f0:85:ab:12\n");
  root.write("sys/class/net/wlp0s20f3/device/vendor", "0x8086\n");
  root.write("sys/class/net/wlp1/address", "02:11:22:33:44:55\n");  // locally administered
  root.write("sys/class/net/wlp1/device/vendor", "0x8086\n");
  root.write("sys/class/net/eth9/address", "3c:ec:ef:00:00:01\n");  // set by NetworkManager
  root.write("sys/class/net/eth9/addr_assign_type", "3\n");
  root.write("sys/class/net/eth9/device/vendor", "0x8086\n");
  root.write("sys/class/net/docker0/address", "3c:ec:ef:00:00:02\n");  // virtual: no device
  root.write("sys/class/net/lo/address", "00:00:00:00:00:00\n");
  CollectContext context{.root = root.path(), .host = {}, .real_root = false};
  const auto identity = collect_identity(context);
  EXPECT_EQ(identity["macs"], json::parse(R"(["3c:ec:ef:12:34:56","a4:c3:f0:85:ab:12"])"));
  EXPECT_EQ(identity["unknown"]["machine_id"], "could not read: not a machine id");
  EXPECT_EQ(identity["sources"], json::parse(R"(["macs"])"));
  EXPECT_EQ(identity["device_id"],
            device_id_of({{"mac", "3c:ec:ef:12:34:56"}, {"mac", "a4:c3:f0:85:ab:12"}}));
}

}  // namespace
}  // namespace tether::agent::diag
