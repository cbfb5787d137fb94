// to_glpi_inventory: the mapping from a snapshot to GLPI's fields, units and formats. The
// whole document is validated against the schema by the glpi_inventory_schema ctest.

#include "tether/protocol/glpi_inventory.hpp"

#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "../fixture_json.hpp"
#include "tether/agent/diag/inventory.hpp"

namespace tether::protocol {
namespace {

using json = nlohmann::json;

bool has_null(const json& value) {
  if (value.is_null()) return true;
  if (value.is_structured()) {
    for (const auto& element : value) {
      if (has_null(element)) return true;
    }
  }
  return false;
}

TEST(GlpiInventory, EnvelopeNamesTheComputerAndTheAgent) {
  const auto glpi = to_glpi_inventory(laptop_snapshot());
  EXPECT_EQ(glpi["itemtype"], "Computer");
  EXPECT_EQ(glpi["action"], "inventory");
  // Stable across runs: host name and the identity hash, not a time stamp.
  EXPECT_EQ(glpi["deviceid"], "anna-laptop-5b1d0c0f6f0e4a8b");
  EXPECT_EQ(glpi["content"]["versionclient"], "Tether-Agent_v0.2.0");
}

TEST(GlpiInventory, HardwareInMebibytes) {
  const auto hardware = to_glpi_inventory(laptop_snapshot())["content"]["hardware"];
  EXPECT_EQ(hardware["name"], "anna-laptop");
  EXPECT_EQ(hardware["uuid"], "4c4c4544-0034-3010-8048-b6c04f503732");
  EXPECT_EQ(hardware["memory"], 7803);  // 8181999616 B = 7802.9 MiB, rounded
  EXPECT_EQ(hardware["swap"], 2048);    // 2147479552 B = 2047.996 MiB
  EXPECT_EQ(hardware["chassis_type"], "Laptop");
  EXPECT_EQ(hardware["vmsystem"], "Physical");
  EXPECT_EQ(hardware["defaultgateway"], "192.168.1.1");
  EXPECT_EQ(hardware["dns"], "192.168.1.1/1.1.1.1");
  EXPECT_EQ(hardware["lastloggeduser"], "anna");
  EXPECT_EQ(hardware["datelastloggeduser"], "2025-11-25 07:58:00");
}

TEST(GlpiInventory, BiosAndOperatingSystem) {
  const auto content = to_glpi_inventory(
      laptop_snapshot(), {.utc_offset_seconds = 3600, .timezone_abbreviation = "CET"})["content"];
  const auto& bios = content["bios"];
  EXPECT_EQ(bios["bmanufacturer"], "HP");
  EXPECT_EQ(bios["bversion"], "P70 Ver. 01.21");
  EXPECT_EQ(bios["bdate"], "2023-03-02");
  EXPECT_EQ(bios["smanufacturer"], "HP");
  EXPECT_EQ(bios["smodel"], "HP EliteBook 840 G5");
  EXPECT_EQ(bios["ssn"], "5CG7301XYZ");
  EXPECT_EQ(bios["mmodel"], "83B2");
  EXPECT_EQ(bios["msn"], "PKBRX0ABC123");
  EXPECT_EQ(bios["skunumber"], "3JX25EA#ABF");
  EXPECT_EQ(bios["secure_boot"], "enabled");
  EXPECT_FALSE(bios.contains("assettag"));  // null in the snapshot: left out, not null

  const auto& os = content["operatingsystem"];
  EXPECT_EQ(os["name"], "Debian GNU/Linux");
  EXPECT_EQ(os["version"], "12");
  EXPECT_EQ(os["full_name"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(os["kernel_name"], "linux");
  EXPECT_EQ(os["kernel_version"], "6.1.0-18-amd64");
  EXPECT_EQ(os["arch"], "x86_64");
  EXPECT_EQ(os["boot_time"], "2025-11-22 05:47:30");
  EXPECT_EQ(os["install_date"], "2023-04-11");
  EXPECT_EQ(os["fqdn"], "anna-laptop.corp.example");
  EXPECT_EQ(os["dns_domain"], "corp.example");
  EXPECT_EQ(os["timezone"], json({{"name", "Europe/Paris"}, {"offset", "+0100"}}));
}

TEST(GlpiInventory, TimezoneNeedsAnOffsetAndSmbiosDatesAreConverted) {
  auto snapshot = laptop_snapshot();
  snapshot["firmware"]["bios"]["date"] = "03/02/2023";  // SMBIOS's own form
  snapshot["system"]["boot_time"] = "yesterday";
  const auto content = to_glpi_inventory(snapshot)["content"];
  EXPECT_FALSE(content["operatingsystem"].contains("timezone"));
  EXPECT_FALSE(content["operatingsystem"].contains("boot_time"));
  EXPECT_EQ(content["bios"]["bdate"], "2023-03-02");
  const auto west =
      to_glpi_inventory(laptop_snapshot(), {.utc_offset_seconds = -(3 * 3600 + 1800)});
  EXPECT_EQ(west["content"]["operatingsystem"]["timezone"]["offset"], "-0330");
}

TEST(GlpiInventory, CpusMemoriesStoragesDrives) {
  const auto content = to_glpi_inventory(laptop_snapshot())["content"];
  ASSERT_EQ(content["cpus"].size(), 1u);
  const auto& cpu = content["cpus"][0];
  EXPECT_EQ(cpu["manufacturer"], "Intel");
  EXPECT_EQ(cpu["core"], 4);
  EXPECT_EQ(cpu["thread"], 8);
  EXPECT_EQ(cpu["speed"], 3400);
  EXPECT_EQ(cpu["familynumber"], "6");
  EXPECT_EQ(cpu["model"], "142");
  EXPECT_EQ(cpu["stepping"], 10);

  ASSERT_EQ(content["memories"].size(), 2u);
  EXPECT_EQ(content["memories"][0], json({{"numslots", 1},
                                          {"capacity", 4096},
                                          {"caption", "DIMM 1"},
                                          {"description", "SODIMM"},
                                          {"type", "DDR4"},
                                          {"speed", "2400 MT/s"},
                                          {"manufacturer", "Samsung"},
                                          {"model", "M471A5244CB0-CRC"},
                                          {"serialnumber", "37A1B2C3"}}));

  ASSERT_EQ(content["storages"].size(), 2u);
  // Disks in decimal MB, as on their label and as GLPI's own agent counts them.
  EXPECT_EQ(content["storages"][0]["disksize"], 256061);
  EXPECT_EQ(content["storages"][0]["interface"], "NVMe");
  EXPECT_EQ(content["storages"][0]["description"], "SSD");
  EXPECT_EQ(content["storages"][1]["type"], "removable");
  EXPECT_FALSE(content["storages"][1].contains("description"));  // media unknown

  ASSERT_EQ(content["drives"].size(), 3u);
  EXPECT_EQ(content["drives"][0], json({{"volumn", "/dev/mapper/vg0-root"},
                                        {"type", "/"},
                                        {"filesystem", "ext4"},
                                        {"total", 238419},
                                        {"free", 83447}}));
}

TEST(GlpiInventory, NetworksOneEntryPerAddress) {
  const auto networks = to_glpi_inventory(laptop_snapshot())["content"]["networks"];
  // enp0s31f6 (no address), lo (v4, v6), wlp2s0 (v4, v6).
  ASSERT_EQ(networks.size(), 5u);
  EXPECT_EQ(networks[0]["description"], "enp0s31f6");
  EXPECT_FALSE(networks[0].contains("ipaddress"));
  EXPECT_EQ(networks[3]["description"], "wlp2s0");
  EXPECT_EQ(networks[3]["ipaddress"], "192.168.1.20");
  EXPECT_EQ(networks[3]["ipmask"], "255.255.255.0");
  EXPECT_EQ(networks[3]["ipsubnet"], "192.168.1.0");
  EXPECT_EQ(networks[3]["ipgateway"], "192.168.1.1");
  EXPECT_EQ(networks[3]["type"], "wifi");
  EXPECT_EQ(networks[3]["wifi_ssid"], "CorpWiFi");
  EXPECT_EQ(networks[3]["virtualdev"], false);
  EXPECT_EQ(networks[4]["ipaddress6"], "fe80::a6c3:f0ff:fe85:ab12");
  EXPECT_EQ(networks[4]["ipmask6"], "ffff:ffff:ffff:ffff::");
  EXPECT_EQ(networks[4]["ipsubnet6"], "fe80::");
  EXPECT_EQ(networks[1]["type"], "loopback");
}

TEST(GlpiInventory, SoftwareDevicesAndUsers) {
  const auto content = to_glpi_inventory(laptop_snapshot())["content"];
  ASSERT_EQ(content["softwares"].size(), 4u);
  EXPECT_EQ(content["softwares"][0], json({{"name", "bash"},
                                           {"version", "5.2.15-2+b2"},
                                           {"arch", "amd64"},
                                           {"from", "dpkg"},
                                           {"filesize", 7513088},
                                           {"install_date", "2023-04-11 08:02:11"}}));
  EXPECT_FALSE(content["softwares"][1].contains("install_date"));
  EXPECT_FALSE(content["softwares"][3].contains("filesize"));

  ASSERT_EQ(content["batteries"].size(), 1u);
  EXPECT_EQ(content["batteries"][0]["capacity"], 50000);  // mWh
  EXPECT_EQ(content["batteries"][0]["real_capacity"], 36500);
  EXPECT_EQ(content["videos"][0]["name"], "UHD Graphics 620");
  EXPECT_EQ(content["videos"][0]["resolution"], "1920x1080");
  EXPECT_EQ(content["monitors"][0]["manufacturer"], "AUO");
  EXPECT_EQ(content["controllers"][2]["vendorid"], "8086");   // "0x8086" in the snapshot
  EXPECT_EQ(content["controllers"][2]["productid"], "24fd");  // "0x24fd"
  EXPECT_EQ(content["usbdevices"][0]["vendorid"], "0781");
  EXPECT_EQ(content["usbdevices"][1].contains("manufacturer"), false);
  EXPECT_EQ(content["users"], json::parse(R"([{"login": "anna"}])"));
  ASSERT_EQ(content["local_users"].size(), 3u);
  EXPECT_EQ(content["local_users"][2], json({{"id", "1000"},
                                             {"login", "anna"},
                                             {"name", "anna"},
                                             {"home", "/home/anna"},
                                             {"shell", "/bin/bash"}}));
}

TEST(GlpiInventory, NothingIsEverNull) {
  EXPECT_FALSE(has_null(to_glpi_inventory(laptop_snapshot())));
  // Every field null at once: all left out, the document still has its envelope.
  std::function<void(json&)> nullify = [&](json& value) {
    if (value.is_object()) {
      for (auto& [key, element] : value.items()) {
        if (element.is_structured()) {
          nullify(element);
        } else {
          element = nullptr;
        }
      }
    } else if (value.is_array()) {
      for (auto& element : value) nullify(element);
    }
  };
  auto empty = laptop_snapshot();
  nullify(empty);
  const auto glpi = to_glpi_inventory(empty);
  EXPECT_FALSE(has_null(glpi)) << glpi.dump(1);
  EXPECT_EQ(glpi["deviceid"], "tether");
  EXPECT_EQ(glpi["content"]["versionclient"], "Tether-Agent_v0");
}

TEST(GlpiInventory, OutOfSchemaValuesAreLeftOut) {
  auto snapshot = laptop_snapshot();
  snapshot["system"]["architecture"] = "riscv64";  // not in the schema's cpu arch list
  snapshot["network"]["interfaces"][2]["state"] = "weird";
  snapshot["network"]["interfaces"][2]["addresses"][0]["address"] = "not-an-ip";
  snapshot["memory"]["total_bytes"] = -5;
  snapshot["users"]["local"][0]["uid"] = "zero";  // id is required: the user is left out
  const auto content = to_glpi_inventory(snapshot)["content"];
  EXPECT_FALSE(content["cpus"][0].contains("arch"));
  EXPECT_EQ(content["operatingsystem"]["arch"], "riscv64");  // free text there
  EXPECT_EQ(content["networks"][3]["status"], "unknown");
  EXPECT_FALSE(content["networks"][3].contains("ipaddress"));
  EXPECT_FALSE(content["hardware"].contains("memory"));
  EXPECT_EQ(content["local_users"].size(), 2u);
}

TEST(GlpiInventory, AnyJsonIsAccepted) {
  for (const char* input : {"null", "[]", "{}", "7",
                            R"({"cpu": {"sockets": 1e300, "cores": -1}, "memory": {"dimms": 5}})",
                            R"({"network": {"interfaces": [{"name": "x", "addresses": [1]}]}})",
                            R"({"software": {"packages": [null, {"name": 5}, {"name": "a"}]}})"}) {
    json out;
    ASSERT_NO_THROW(out = to_glpi_inventory(json::parse(input))) << input;
    EXPECT_EQ(out["itemtype"], "Computer") << input;
    EXPECT_FALSE(has_null(out)) << input;
  }
}

// Whether every value in `part` is in `whole` too, at the same place: `whole` may hold more.
bool is_part_of(const json& part, const json& whole) {
  if (part.is_object() && whole.is_object()) {
    for (const auto& [key, value] : part.items()) {
      if (!whole.contains(key) || !is_part_of(value, whole[key])) return false;
    }
    return true;
  }
  if (part.is_array() && whole.is_array()) {
    if (part.size() != whole.size()) return false;
    for (std::size_t i = 0; i < part.size(); ++i) {
      if (!is_part_of(part[i], whole[i])) return false;
    }
    return true;
  }
  return part == whole;
}

// Managed agents send inventory documents (the snapshot without its live figures) and the
// relay maps those: the same document, less what only the live figures tell.
TEST(GlpiInventory, InventoryDocumentMapsLikeItsSnapshotLessTheLiveFigures) {
  const auto snapshot = laptop_snapshot();
  const auto whole = to_glpi_inventory(snapshot);
  const auto glpi = to_glpi_inventory(agent::diag::make_inventory(snapshot));
  EXPECT_FALSE(has_null(glpi));
  EXPECT_EQ(glpi["deviceid"], whole["deviceid"]);
  EXPECT_TRUE(is_part_of(glpi, whole)) << glpi.dump(1);
  std::vector<std::string> differ;
  for (const auto& [key, value] : whole["content"].items()) {
    if (glpi["content"].value(key, json()) != value) differ.push_back(key);
  }
  EXPECT_EQ(differ, (std::vector<std::string>{"drives", "hardware", "networks", "users"}));
  EXPECT_TRUE(glpi["content"]["drives"][0].contains("total"));
  EXPECT_FALSE(glpi["content"]["drives"][0].contains("free"));
}

}  // namespace
}  // namespace tether::protocol
