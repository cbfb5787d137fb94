// The "devices" section: PCI names from pci.ids, GPUs, USB devices and monitors.

#include "diag/collectors/devices_collector.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

CollectContext fixture_context(const std::string& name) {
  return CollectContext{
      .root = std::filesystem::path(TETHER_TEST_DATA_DIR) / name, .host = {}, .real_root = false};
}

const json* find_by(const json& array, const char* key, const std::string& value) {
  for (const auto& element : array) {
    if (element[key].is_string() && element[key] == value) return &element;
  }
  return nullptr;
}

constexpr const char* kPciIds =
    "# comment\n"
    "1002  Advanced Micro Devices, Inc. [AMD/ATI]\n"
    "\t73bf  Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]\n"
    "10de  NVIDIA Corporation\n"
    "\t2484  GA104 [GeForce RTX 3070]\n"
    "\t\t1043 87b8  ROG Strix\n"
    "8086  Intel Corporation\n"
    "\t9a49  TigerLake-LP GT2 [Iris Xe Graphics]\n"
    "9005  Adaptec\n"
    "\t0285  AAC-RAID\n"
    "C 03  Display controller\n";

TEST(PciIds, LooksUpOnlyTheWantedIds) {
  const auto names = lookup_pci_names(kPciIds, {{"10de", {"2484"}}, {"8086", {"9a49", "ffff"}}});
  EXPECT_EQ(names.vendors.size(), 2u);
  EXPECT_EQ(names.vendors.at("10de"), "NVIDIA Corporation");
  EXPECT_EQ(names.devices.at({"10de", "2484"}), "GA104 [GeForce RTX 3070]");
  EXPECT_EQ(names.devices.at({"8086", "9a49"}), "TigerLake-LP GT2 [Iris Xe Graphics]");
  EXPECT_FALSE(names.devices.contains({"8086", "ffff"}));
  EXPECT_FALSE(names.vendors.contains("1002"));
}

TEST(PciIds, StopsAfterTheHighestWantedVendor) {
  // A device line after the last wanted vendor would be misread if the scan went on.
  const auto names = lookup_pci_names(std::string(kPciIds) + "10de  Duplicate\n\t2484  Wrong\n",
                                      {{"10de", {"2484"}}});
  EXPECT_EQ(names.devices.at({"10de", "2484"}), "GA104 [GeForce RTX 3070]");
  EXPECT_TRUE(lookup_pci_names(kPciIds, {}).vendors.empty());
  EXPECT_TRUE(lookup_pci_names("\x01\x02junk\n\tffff x\n", {{"8086", {"9a49"}}}).vendors.empty());
}

TEST(DevicesCollector, StreamsALargePciIdsAcrossBlocks) {
  // A pci.ids of about 1.1 MiB (18 blocks of 64 KiB) read by the streaming, block-skipping
  // reader.
  const auto root = std::filesystem::temp_directory_path() / "tether-devices-pciids";
  std::filesystem::remove_all(root);
  std::filesystem::create_directories(root / "usr/share/misc");
  {
    std::ofstream ids(root / "usr/share/misc/pci.ids");
    ids << "# List of PCI ID's\n\n";
    char line[96];
    for (unsigned vendor = 1; vendor < 0x1800; ++vendor) {
      std::snprintf(line, sizeof line, "%04x  Vendor %04x\n", vendor, vendor);
      ids << line;
      for (unsigned device = 0; device < 4; ++device) {
        std::snprintf(line, sizeof line, "\t%04x  Device %04x:%04x\n", device, vendor, device);
        ids << line;
        std::snprintf(line, sizeof line, "\t\t1234 %04x  Subsystem\n", device);
        ids << line;
      }
    }
    ids << "C 00  Unclassified device\n";
  }
  // Wanted vendors spread over the whole file, so some sit just after a block boundary.
  std::vector<unsigned> vendors;
  for (unsigned vendor = 2; vendor < 0x1800; vendor += 0x9b) vendors.push_back(vendor);
  vendors.push_back(0x17ff);
  for (std::size_t i = 0; i < vendors.size(); ++i) {
    char slot[16];
    std::snprintf(slot, sizeof slot, "0000:%02zx:00.0", i);
    const auto dir = root / "sys/bus/pci/devices" / slot;
    std::filesystem::create_directories(dir);
    char id[8];
    std::ofstream(dir / "class") << "0x020000\n";
    std::snprintf(id, sizeof id, "%04x", vendors[i]);
    std::ofstream(dir / "vendor") << "0x" << id << "\n";
    std::ofstream(dir / "device") << (i + 1 == vendors.size() ? "0x0009\n" : "0x0003\n");
  }
  const auto d = collect_devices(CollectContext{.root = root, .host = {}, .real_root = false});
  std::filesystem::remove_all(root);
  ASSERT_EQ(d["pci"].size(), vendors.size());
  for (std::size_t i = 0; i + 1 < vendors.size(); ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "Device %04x:0003", vendors[i]);
    EXPECT_EQ(d["pci"][i]["device"], name) << d["pci"][i].dump();
  }
  // The last vendor is found, its device 0009 is not in the file.
  EXPECT_EQ(d["pci"].back()["vendor"], "Vendor 17ff");
  EXPECT_EQ(d["pci"].back()["unknown"]["device"], "not present: not in pci.ids");
}

TEST(PciClass, SubclassThenBaseClassNames) {
  EXPECT_EQ(pci_class_name(0x030000), "VGA compatible controller");
  EXPECT_EQ(pci_class_name(0x010802), "Non-Volatile memory controller");
  EXPECT_EQ(pci_class_name(0x0c0330), "USB controller");
  EXPECT_EQ(pci_class_name(0x0b4000), "Processor");
  EXPECT_EQ(pci_class_name(0xee0000), std::nullopt);
}

TEST(DevicesCollector, LaptopPciWithNamesAndGpu) {
  const auto d = collect_devices(fixture_context("laptop"));
  ASSERT_EQ(d["pci"].size(), 6u);
  EXPECT_EQ(d["pci"][0]["slot"], "0000:00:00.0");
  EXPECT_EQ(d["pci"][2]["slot"], "0000:00:14.0");  // bus order: 02.0, 14.0, 14.3, 1f.3
  const auto* wifi = find_by(d["pci"], "slot", "0000:00:14.3");
  ASSERT_NE(wifi, nullptr);
  EXPECT_EQ((*wifi)["class_id"], "028000");
  EXPECT_EQ((*wifi)["class"], "Network controller");
  EXPECT_EQ((*wifi)["vendor_id"], "8086");
  EXPECT_EQ((*wifi)["device_id"], "a0f0");
  EXPECT_EQ((*wifi)["vendor"], "Intel Corporation");
  EXPECT_EQ((*wifi)["device"], "Wi-Fi 6 AX201");
  EXPECT_EQ((*wifi)["driver"], "iwlwifi");
  const auto* host = find_by(d["pci"], "slot", "0000:00:00.0");
  EXPECT_TRUE((*host)["driver"].is_null());  // no driver bound
  ASSERT_EQ(d["gpus"].size(), 1u);
  EXPECT_EQ(d["gpus"][0], json::parse(R"({"slot":"0000:00:02.0","vendor":"Intel Corporation",
      "model":"TigerLake-LP GT2 [Iris Xe Graphics]","vendor_id":"8086","device_id":"9a49",
      "driver":"i915"})"));
}

TEST(DevicesCollector, LaptopUsbDevicesWithoutRootHubs) {
  const auto d = collect_devices(fixture_context("laptop"));
  ASSERT_EQ(d["usb"].size(), 4u);
  EXPECT_EQ(d["usb"][0]["port"], "2");  // natural order: 1-2, 1-3, 1-10, 2-1
  EXPECT_EQ(d["usb"][2]["port"], "10");
  const auto* camera = find_by(d["usb"], "product", "Integrated Camera");
  ASSERT_NE(camera, nullptr);
  EXPECT_EQ((*camera)["bus"], 1);
  EXPECT_EQ((*camera)["vendor_id"], "04f2");
  EXPECT_EQ((*camera)["product_id"], "b6cb");
  EXPECT_EQ((*camera)["driver"], "uvcvideo");  // the interface's driver, not "usb"
  EXPECT_EQ((*camera)["speed_mbps"], 480);
  const auto* stick = find_by(d["usb"], "product", "Ultra Fit");
  ASSERT_NE(stick, nullptr);
  EXPECT_EQ((*stick)["manufacturer"], "SanDisk");
  EXPECT_EQ((*stick)["serial"], "4C530001230815107242");
  EXPECT_EQ((*stick)["speed_mbps"], 5000);
  const auto& bluetooth = d["usb"][2];
  EXPECT_EQ(bluetooth["vendor_id"], "8087");
  EXPECT_EQ(bluetooth["unknown"]["product"], "not present");
}

TEST(DevicesCollector, LaptopMonitorsFromEdidSkippingDisconnected) {
  const auto d = collect_devices(fixture_context("laptop"));
  ASSERT_EQ(d["monitors"].size(), 2u);
  const auto* dell = find_by(d["monitors"], "connector", "HDMI-A-1");
  ASSERT_NE(dell, nullptr);
  EXPECT_EQ((*dell)["manufacturer"], "DEL");
  EXPECT_EQ((*dell)["name"], "DELL U2720Q");
  EXPECT_EQ((*dell)["serial"], "7XJQ123");
  EXPECT_EQ((*dell)["width_mm"], 600);
  EXPECT_EQ((*dell)["height_mm"], 340);
  EXPECT_EQ((*dell)["manufacture_year"], 2021);
  EXPECT_EQ((*dell)["preferred_resolution"], "3840x2160");
  const auto* panel = find_by(d["monitors"], "connector", "eDP-1");
  ASSERT_NE(panel, nullptr);
  EXPECT_EQ((*panel)["manufacturer"], "BOE");
  EXPECT_EQ((*panel)["unknown"]["name"], "not present");
}

TEST(DevicesCollector, ServerWithoutPciIdsSaysWhyNamesAreMissing) {
  const auto d = collect_devices(fixture_context("server"));
  ASSERT_EQ(d["gpus"].size(), 1u);
  EXPECT_EQ(d["gpus"][0]["vendor_id"], "102b");
  EXPECT_EQ(d["gpus"][0]["driver"], "mgag200");
  EXPECT_TRUE(d["gpus"][0]["model"].is_null());
  EXPECT_EQ(d["gpus"][0]["unknown"]["model"], "not present: no pci.ids");
  EXPECT_EQ(d["pci"][1]["unknown"]["vendor"], "not present: no pci.ids");
  EXPECT_EQ(d["monitors"], json::array());  // VGA-1 has an empty EDID: nothing connected
}

TEST(DevicesCollector, VmNamesFromHwdataAndQemuMonitor) {
  const auto d = collect_devices(fixture_context("vm"));
  const auto* nic = find_by(d["pci"], "slot", "0000:00:03.0");
  ASSERT_NE(nic, nullptr);
  EXPECT_EQ((*nic)["vendor"], "Red Hat, Inc.");
  EXPECT_EQ((*nic)["device"], "Virtio network device");
  EXPECT_EQ(d["gpus"][0]["model"], "Bochs/QEMU VGA");
  EXPECT_EQ(d["usb"], json::array());
  ASSERT_EQ(d["monitors"].size(), 1u);
  EXPECT_EQ(d["monitors"][0]["name"], "QEMU Monitor");
  EXPECT_EQ(d["monitors"][0]["preferred_resolution"], "1280x800");
}

TEST(DevicesCollector, GarbageGivesReasons) {
  const auto d = collect_devices(fixture_context("garbage"));
  ASSERT_EQ(d["pci"].size(), 1u);
  EXPECT_TRUE(d["pci"][0]["class_id"].is_null());
  EXPECT_TRUE(d["pci"][0]["vendor_id"].is_null());  // 5 hex digits
  EXPECT_EQ(d["gpus"], json::array());
  ASSERT_EQ(d["usb"].size(), 1u);
  EXPECT_EQ(d["usb"][0]["unknown"]["vendor_id"], "could not read: not a USB id");
  EXPECT_EQ(d["usb"][0]["unknown"]["speed_mbps"], "could not read: not a speed");
  const auto* bad_checksum = find_by(d["monitors"], "connector", "DP-1");
  ASSERT_NE(bad_checksum, nullptr);
  EXPECT_EQ((*bad_checksum)["unknown"]["manufacturer"], "could not read: EDID bad checksum");
  const auto* short_blob = find_by(d["monitors"], "connector", "HDMI-A-1");
  ASSERT_NE(short_blob, nullptr);
  EXPECT_EQ((*short_blob)["unknown"]["name"], "could not read: EDID shorter than 128 bytes");
}

TEST(DevicesCollector, NoSysIsUnavailable) {
  EXPECT_TRUE(collect_devices(fixture_context("fedora40")).contains("unavailable"));
}

}  // namespace
}  // namespace tether::agent::diag
