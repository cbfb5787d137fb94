#include "fleet/device_identity.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tether::relay::fleet {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

// ---- machines -------------------------------------------------------------------------------
// Identities as agents would report them. Each test derives its machine from one of these by
// changing what the scenario changes.

// A business laptop with proper firmware ids: Dell-style UUID and service tag.
HardwareIdentity laptop_a() {
  return {.machine_id = "5f1c0e2a9b8d4c7e8f6a1b2c3d4e5f60",
          .smbios_uuid = "4c4c4544-004b-3610-8052-b4c04f4e4c32",
          .serials = {"system:9XG3CK2", "board:/9XG3CK2/CN1296341A00QA/", "chassis:9XG3CK2",
                      "disk:S4EVNF0M123456X"},
          .macs = {"wlp2s0=3c:52:82:11:22:33", "enp0s31f6=3c:52:82:11:22:34"},
          .hostname = "pc-a.corp.example"};
}

// Another laptop of the same model.
HardwareIdentity laptop_b() {
  return {.machine_id = "0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a",
          .smbios_uuid = "4c4c4544-0057-4410-8031-c2c04f4a5732",
          .serials = {"system:1WD1JZ2", "board:/1WD1JZ2/CN1296341B07QA/", "chassis:1WD1JZ2",
                      "disk:S4EVNF0M654321Y"},
          .macs = {"wlp2s0=3c:52:82:99:88:77", "enp0s31f6=3c:52:82:99:88:78"},
          .hostname = "pc-b.corp.example"};
}

// A white-box desktop whose firmware was never filled in: placeholder UUID and serials.
HardwareIdentity whitebox(std::string machine_id, std::string disk, std::string mac) {
  return {.machine_id = std::move(machine_id),
          .smbios_uuid = "03000200-0400-0500-0006-000700080009",
          .serials = {"system:To be filled by O.E.M.", "board:Default string",
                      "chassis:Chassis Serial Number", "disk:" + disk},
          .macs = {"enp3s0=" + mac, "docker0=02:42:ac:11:00:02"},
          .hostname = "desktop"};
}

// A VMware guest.
HardwareIdentity vmware_guest() {
  return {.machine_id = "a7c3e9f1b2d44e6f8a0c1e3f5b7d9f11",
          .smbios_uuid = "564d2a3b-8f1e-6c4d-9a2b-7e5f3c1d0b9a",
          .serials = {"system:VMware-56 4d 2a 3b 8f 1e 6c 4d-9a 2b 7e 5f 3c 1d 0b 9a"},
          .macs = {"ens160=00:50:56:9a:bc:de"},
          .hostname = "build-01"};
}

template <typename F>
HardwareIdentity changed(HardwareIdentity identity, F&& change) {
  change(identity);
  return identity;
}

// ---- placeholders -----------------------------------------------------------------------

struct PlaceholderCase {
  std::string value;
  bool placeholder;
};

void PrintTo(const PlaceholderCase& c, std::ostream* os) {
  *os << '"' << c.value << "\" placeholder=" << c.placeholder;
}

class DeviceIdentityUuidPlaceholder : public ::testing::TestWithParam<PlaceholderCase> {};

TEST_P(DeviceIdentityUuidPlaceholder, IsRecognised) {
  EXPECT_EQ(is_placeholder_uuid(GetParam().value), GetParam().placeholder);
}

INSTANTIATE_TEST_SUITE_P(
    DeviceIdentity, DeviceIdentityUuidPlaceholder,
    ::testing::Values(
        PlaceholderCase{"00000000-0000-0000-0000-000000000000", true},
        PlaceholderCase{"FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", true},
        PlaceholderCase{"03000200-0400-0500-0006-000700080009", true},
        PlaceholderCase{"{03000200-0400-0500-0006-000700080009}", true},
        PlaceholderCase{"00020003-0004-0005-0006-000700080009", true},
        PlaceholderCase{"12345678-1234-5678-90AB-CDDEEFAABBCC", true},
        PlaceholderCase{"4C4C4544-0000-2010-8020-80C04F202020", true},  // Dell, blank tag
        PlaceholderCase{"00000000-0000-0000-0000-000000000001", true},
        PlaceholderCase{"fefefefe-fefe-fefe-fefe-fefefefefefe", true},
        PlaceholderCase{"Not Settable", true},  // dmidecode's words for all-F / all-zero
        PlaceholderCase{"Not Present", true}, PlaceholderCase{"", true},
        PlaceholderCase{"4c4c4544-004b-3610", true},  // truncated
        PlaceholderCase{"4c4c4544-004b-3610-8052-b4c04f4e4c32", false},
        PlaceholderCase{"564D2A3B-8F1E-6C4D-9A2B-7E5F3C1D0B9A", false},
        PlaceholderCase{"urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", false},
        // Supermicro boards derive it from the MAC: unique, though mostly zeros.
        PlaceholderCase{"00000000-0000-0000-0000-0cc47a6b1234", false}));

class DeviceIdentitySerialPlaceholder : public ::testing::TestWithParam<PlaceholderCase> {};

TEST_P(DeviceIdentitySerialPlaceholder, IsRecognised) {
  EXPECT_EQ(is_placeholder_serial(GetParam().value), GetParam().placeholder);
}

INSTANTIATE_TEST_SUITE_P(
    DeviceIdentity, DeviceIdentitySerialPlaceholder,
    ::testing::Values(
        PlaceholderCase{"To be filled by O.E.M.", true},
        PlaceholderCase{"To Be Filled By O.E.M.", true},
        PlaceholderCase{"system: to be filled by OEM ", true},
        PlaceholderCase{"Default string", true}, PlaceholderCase{"board:Default String", true},
        PlaceholderCase{"System Serial Number", true},
        PlaceholderCase{"Chassis Serial Number", true},
        PlaceholderCase{"Base Board Serial Number", true},
        PlaceholderCase{"Type2 - Board Serial Number", true}, PlaceholderCase{"0123456789", true},
        PlaceholderCase{"123456789", true}, PlaceholderCase{"1234567890", true},
        PlaceholderCase{"SN12345678", true}, PlaceholderCase{"BSN12345678901234567", true},
        PlaceholderCase{"None", true}, PlaceholderCase{"N/A", true},
        PlaceholderCase{"Not Specified", true}, PlaceholderCase{"Not Applicable", true},
        PlaceholderCase{"00000000", true}, PlaceholderCase{"xxxxxxxxxx", true},
        PlaceholderCase{"XXXXXXXXXX", true}, PlaceholderCase{"FFFFFFFF", true},
        PlaceholderCase{"0", true}, PlaceholderCase{"", true}, PlaceholderCase{"   ", true},
        PlaceholderCase{std::string("\0\0\0\0", 4), true},
        PlaceholderCase{"disk:QM00001", true},  // QEMU's emulated ATA disk
        PlaceholderCase{"9XG3CK2", false}, PlaceholderCase{"system:5CG1234XYZ", false},
        PlaceholderCase{"C02XK1ZZJG5H", false}, PlaceholderCase{"disk:WD-WCC4N1234567", false},
        PlaceholderCase{"disk:S4EVNF0M123456X", false},
        PlaceholderCase{"VMware-56 4d 2a 3b 8f 1e 6c 4d-9a 2b 7e 5f 3c 1d 0b 9a", false},
        PlaceholderCase{"board:/9XG3CK2/CN1296341A00QA/", false}));

class DeviceIdentityMachineIdPlaceholder : public ::testing::TestWithParam<PlaceholderCase> {};

TEST_P(DeviceIdentityMachineIdPlaceholder, IsRecognised) {
  EXPECT_EQ(is_placeholder_machine_id(GetParam().value), GetParam().placeholder);
}

INSTANTIATE_TEST_SUITE_P(
    DeviceIdentity, DeviceIdentityMachineIdPlaceholder,
    ::testing::Values(PlaceholderCase{"", true}, PlaceholderCase{"  \n", true},
                      PlaceholderCase{"00000000000000000000000000000000", true},
                      PlaceholderCase{"00000000-0000-0000-0000-000000000000", true},
                      PlaceholderCase{"uninitialized\n", true},  // systemd's first boot
                      PlaceholderCase{"5f1c0e2a9b8d4c7e8f6a1b2c3d4e5f60\n", false},
                      PlaceholderCase{"{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}", false}));

struct MacCase {
  std::string entry;
  MacKind kind;
};

void PrintTo(const MacCase& c, std::ostream* os) {
  *os << '"' << c.entry << "\" → " << to_string(c.kind);
}

class DeviceIdentityMacKind : public ::testing::TestWithParam<MacCase> {};

TEST_P(DeviceIdentityMacKind, IsClassified) {
  EXPECT_EQ(to_string(classify_mac(GetParam().entry)), to_string(GetParam().kind));
}

INSTANTIATE_TEST_SUITE_P(
    DeviceIdentity, DeviceIdentityMacKind,
    ::testing::Values(
        MacCase{"3c:52:82:11:22:33", MacKind::physical},
        MacCase{"eth0=3C-52-82-11-22-33", MacKind::physical},
        MacCase{"Ethernet 2=3c52.8211.2233", MacKind::physical},
        MacCase{"00:00:00:00:00:00", MacKind::placeholder},
        MacCase{"ff:ff:ff:ff:ff:ff", MacKind::placeholder},
        MacCase{"01:00:5e:00:00:fb", MacKind::placeholder},       // IPv4 multicast
        MacCase{"33:33:00:00:00:01", MacKind::placeholder},       // IPv6 multicast
        MacCase{"02:42:ac:11:00:02", MacKind::randomised},        // no name: just local admin
        MacCase{"wlan0=da:a1:19:5e:33:01", MacKind::randomised},  // Wi-Fi privacy address
        MacCase{"docker0=02:42:ac:11:00:02", MacKind::virtual_interface},
        MacCase{"veth3f2a1b0=3c:52:82:11:22:33", MacKind::virtual_interface},
        MacCase{"virbr0=52:54:00:12:34:56", MacKind::virtual_interface},
        MacCase{"vmnet8=00:50:56:c0:00:08", MacKind::virtual_interface},
        MacCase{"tun0=3c:52:82:00:00:01", MacKind::virtual_interface},
        MacCase{"tap0=3c:52:82:00:00:02", MacKind::virtual_interface},
        MacCase{"wg0=3c:52:82:00:00:03", MacKind::virtual_interface},
        MacCase{"br-5e3f1a=3c:52:82:00:00:04", MacKind::virtual_interface},
        MacCase{"vEthernet (Default Switch)=00:15:5d:01:02:03", MacKind::virtual_interface},
        MacCase{"br0=3c:52:82:00:00:05", MacKind::virtual_interface},
        MacCase{"lo=3c:52:82:00:00:06", MacKind::virtual_interface},
        MacCase{"Hyper-V Virtual Ethernet Adapter=3c:52:82:00:00:07", MacKind::virtual_interface},
        MacCase{"Local Area Connection 2=3c:52:82:00:00:08", MacKind::physical},
        MacCase{"brcmf0=3c:52:82:00:00:09", MacKind::physical},
        MacCase{"tapestry=3c:52:82:00:00:0a", MacKind::physical},
        MacCase{"enx00e04c681234=00:e0:4c:68:12:34", MacKind::usb_adapter},
        MacCase{"00:0c:29:aa:bb:cc", MacKind::virtual_machine},  // VMware
        MacCase{"00:50:56:9a:bc:de", MacKind::virtual_machine},
        MacCase{"00:05:69:01:02:03", MacKind::virtual_machine},
        MacCase{"08:00:27:4e:66:a1", MacKind::virtual_machine},  // VirtualBox
        MacCase{"52:54:00:12:34:56", MacKind::virtual_machine},  // QEMU, despite local bit
        MacCase{"00:15:5d:01:02:03", MacKind::virtual_machine},  // Hyper-V
        MacCase{"3c:52:82:11:22", MacKind::invalid}, MacCase{"not a mac", MacKind::invalid},
        MacCase{"3c:52:82:11:22:33:44:55", MacKind::invalid}, MacCase{"", MacKind::invalid}));

// ---- canonical forms and normalisation --------------------------------------------------

TEST(DeviceIdentityCanonical, UuidsAndMacsHaveOneForm) {
  const std::string uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
  for (const auto* text :
       {"6BA7B810-9DAD-11D1-80B4-00C04FD430C8", "{6ba7b810-9dad-11d1-80b4-00c04fd430c8}",
        "urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8", "6ba7b8109dad11d180b400c04fd430c8",
        " 6ba7b810-9dad-11d1-80b4-00c04fd430c8\n"}) {
    EXPECT_EQ(canonical_uuid(text), uuid) << text;
  }
  EXPECT_EQ(canonical_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430c"), std::nullopt);
  EXPECT_EQ(canonical_uuid("6ba7b810-9dad-11d1-80b4-00c04fd430cg"), std::nullopt);

  const std::string mac = "00:1c:42:0a:0b:0c";
  for (const auto* text :
       {"00:1C:42:0A:0B:0C", "00-1c-42-0a-0b-0c", "001c.420a.0b0c", "001c420a0b0c",
        "0:1c:42:a:b:c" /* macOS ifconfig */, "001c42-0a0b0c", " 00:1c:42:0a:0b:0c\t"}) {
    EXPECT_EQ(canonical_mac(text), mac) << text;
  }
  for (const auto* text : {"00:1c:42:0a:0b", "00::1c:42:0a:0b:0c", "00:1c:42:0a:0b:0c:",
                           "0:1c:42:a:b", "00:1c:42:0a:0b:0z", "001c420a0b0c0d"}) {
    EXPECT_EQ(canonical_mac(text), std::nullopt) << text;
  }
}

TEST(DeviceIdentityNormalize, CaseWhitespaceSeparatorsAndTags) {
  const HardwareIdentity raw{
      .machine_id = " 5F1C0E2A9B8D4C7E8F6A1B2C3D4E5F60\n",
      .smbios_uuid = "{4C4C4544-004B-3610-8052-B4C04F4E4C32}",
      .serials = {"Chassis: 9xg3ck2 ", "SYSTEM:9xg3ck2", "disk:  s4evnf0m123456x  ",
                  "board:Default string", "system:9XG3CK2", "c02xk1zz jg5h"},
      .macs = {"enp0s31f6=3C-52-82-11-22-34", "Docker0=02:42:AC:11:00:02", "3c5282112233",
               "wlp2s0 = 3c:52:82:11:22:33"},
      .hostname = "  PC-A.Corp.Example.\r\n"};
  const HardwareIdentity normal = normalize_identity(raw);
  EXPECT_EQ(normal.machine_id, "5f1c0e2a9b8d4c7e8f6a1b2c3d4e5f60");
  EXPECT_EQ(normal.smbios_uuid, "4c4c4544-004b-3610-8052-b4c04f4e4c32");
  // Usable first (system, board, untagged, chassis, disk), placeholders last, duplicates gone.
  EXPECT_EQ(normal.serials,
            (std::vector<std::string>{"system:9XG3CK2", "C02XK1ZZJG5H", "chassis:9XG3CK2",
                                      "disk:S4EVNF0M123456X", "board:DEFAULTSTRING"}));
  // Physical first, then the weak ones.
  EXPECT_EQ(normal.macs,
            (std::vector<std::string>{"3c:52:82:11:22:33", "wlp2s0=3c:52:82:11:22:33",
                                      "enp0s31f6=3c:52:82:11:22:34", "docker0=02:42:ac:11:00:02"}));
  EXPECT_EQ(normal.hostname, "pc-a.corp.example");
  EXPECT_EQ(normalize_identity(normal), normal) << "normalising twice changes nothing";
}

TEST(DeviceIdentityNormalize, WindowsMachineGuidAndSystemdIdAreOneForm) {
  EXPECT_EQ(normalize_identity({.machine_id = "{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}"}).machine_id,
            "6ba7b8109dad11d180b400c04fd430c8");
  EXPECT_EQ(normalize_identity({.machine_id = "Some-Other-Id"}).machine_id, "some-other-id");
}

TEST(DeviceIdentityNormalize, ReportOrderDoesNotMatter) {
  HardwareIdentity reversed = laptop_a();
  std::reverse(reversed.serials.begin(), reversed.serials.end());
  std::reverse(reversed.macs.begin(), reversed.macs.end());
  EXPECT_EQ(normalize_identity(reversed), normalize_identity(laptop_a()));
  EXPECT_EQ(identity_key(reversed), identity_key(laptop_a()));
  EXPECT_EQ(identity_keys(reversed), identity_keys(laptop_a()));
}

// ---- hostile input ----------------------------------------------------------------------

TEST(DeviceIdentityHostile, HugeListsAndLongStringsAreBounded) {
  HardwareIdentity hostile;
  hostile.machine_id = std::string(1 << 20, 'a');
  hostile.smbios_uuid = std::string(1 << 20, 'f');
  hostile.hostname = std::string(100000, 'h');
  for (int i = 0; i < 100000; ++i) {
    hostile.serials.push_back("system:SERIAL" + std::to_string(i));
    char mac[32];
    std::snprintf(mac, sizeof mac, "3c:52:%02x:%02x:%02x:%02x", (i >> 24) & 0xff, (i >> 16) & 0xff,
                  (i >> 8) & 0xff, i & 0xff);
    hostile.macs.emplace_back(mac);
  }
  hostile.serials.push_back(std::string(1 << 20, 'S'));
  const HardwareIdentity normal = normalize_identity(hostile);
  EXPECT_EQ(normal.machine_id, "");
  EXPECT_EQ(normal.smbios_uuid, "");
  EXPECT_EQ(normal.hostname, "");
  EXPECT_EQ(normal.serials.size(), kMaxSerials);
  EXPECT_EQ(normal.macs.size(), kMaxMacs);
  for (const auto& serial : normal.serials) EXPECT_LE(serial.size(), kMaxIdentityValue + 16);

  // Matched against itself and a fleet, nothing explodes and the result stays small.
  std::vector<KnownDevice> fleet{{"D-0", hostile}, {"D-1", hostile}};
  for (int i = 2; i < 200; ++i) fleet.push_back({"D-" + std::to_string(i), normal});
  const IdentityMatch match = match_identity(hostile, fleet);
  EXPECT_TRUE(match.device_id.has_value());
  EXPECT_TRUE(match.conflict);
  EXPECT_LE(match.reasons.size(), 20u);
  EXPECT_LE(identity_keys(hostile).size(), kMaxSerials + kMaxMacs + 3);
}

TEST(DeviceIdentityHostile, ControlCharactersAndNonAsciiNeverReachTheOutput) {
  const HardwareIdentity hostile{
      .machine_id = "5f1c0e2a9b8d4c7e\x1b[31m8f6a1b2c3d4e5f60",
      .smbios_uuid = "4c4c4544-004b-3610-8052-b4c04f4e4c32\0garbage",
      .serials = {"system:9XG3\nCK2\0", std::string("disk:S4EVNF0M\0\0\0", 16),
                  "board:\xff\xfe\xfd", "chassis:\xc3\xa9t\xc3\xa9"},
      .macs = {"eth0\n=3c:52:82:11:22:33", "\x1b]0;x\x07=3c:52:82:11:22:34"},
      .hostname = "pc-a\x1b[2J\x07"};
  const HardwareIdentity normal = normalize_identity(hostile);
  auto printable = [](const std::string& text) {
    return std::all_of(text.begin(), text.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
  };
  EXPECT_TRUE(printable(normal.machine_id)) << normal.machine_id;
  EXPECT_TRUE(printable(normal.smbios_uuid));
  EXPECT_TRUE(printable(normal.hostname));
  for (const auto& s : normal.serials) EXPECT_TRUE(printable(s)) << s;
  for (const auto& m : normal.macs) EXPECT_TRUE(printable(m)) << m;
  // NUL padding from a raw read is not part of the serial; non-ASCII values are dropped.
  EXPECT_THAT(normal.serials, Contains("disk:S4EVNF0M"));
  EXPECT_EQ(normal.serials.size(), 2u);
  EXPECT_EQ(normal.macs.size(), 2u);
  (void)match_identity(hostile, {{"D-1", hostile}, {"D-2", laptop_a()}});
}

// ---- matching ---------------------------------------------------------------------------

struct MatchCase {
  std::string name;
  std::vector<KnownDevice> known;
  HardwareIdentity incoming;
  std::optional<std::string> device;  // expected; nullopt: a new device
  int min_confidence = 0;
  int max_confidence = 0;
  bool possible_clone = false;
  bool conflict = false;
  std::vector<std::string> related;
  std::string reason;  // a substring of one of the reasons
};

void PrintTo(const MatchCase& c, std::ostream* os) {
  *os << c.name;
}

std::vector<MatchCase> match_cases() {
  const std::string mid_a = laptop_a().machine_id;
  std::vector<MatchCase> cases;

  cases.push_back({.name = "SameMachineAgain",
                   .known = {{"D-1", laptop_a()}, {"D-2", laptop_b()}},
                   .incoming = laptop_a(),
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .reason = "same SMBIOS UUID, system serial, board serial"});
  cases.push_back({.name = "ReportedInOtherFormats",
                   .known = {{"D-1", laptop_a()}},
                   .incoming = changed(laptop_a(),
                                       [](HardwareIdentity& m) {
                                         m.smbios_uuid = "{4C4C4544-004B-3610-8052-B4C04F4E4C32}";
                                         m.serials = {"9xg3ck2", "disk: s4evnf0m123456x"};
                                         m.macs = {"3C-52-82-11-22-33"};
                                         m.hostname = "PC-A";
                                       }),
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .reason = "same hostname"});
  cases.push_back({.name = "ReImagedKeepsItsDevice",
                   .known = {{"D-1", laptop_a()}, {"D-2", laptop_b()}},
                   .incoming = changed(laptop_a(),
                                       [](HardwareIdentity& m) {
                                         m.machine_id = "11111111222233334444555566667777";
                                         m.hostname = "new-name";
                                       }),
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .reason = "machine-id changed"});
  cases.push_back(
      {.name = "ReImagedWithOnlyAUuidAndTheSameNic",
       .known = {{"D-1", changed(laptop_a(), [](HardwareIdentity& m) { m.serials.clear(); })}},
       .incoming = changed(laptop_a(),
                           [](HardwareIdentity& m) {
                             m.serials.clear();
                             m.machine_id = "11111111222233334444555566667777";
                             m.hostname.clear();
                           }),
       .device = "D-1",
       .min_confidence = 95,
       .max_confidence = 95,
       .reason = "same SMBIOS UUID and MAC address"});
  cases.push_back({.name = "ReImagedWithOnlyAUuid",
                   .known = {{"D-1", {.machine_id = mid_a, .smbios_uuid = laptop_a().smbios_uuid}}},
                   .incoming = {.machine_id = "11111111222233334444555566667777",
                                .smbios_uuid = laptop_a().smbios_uuid},
                   .device = "D-1",
                   .min_confidence = 85,
                   .max_confidence = 85});
  cases.push_back({.name = "ClonedVmIsNotTheOriginal",
                   .known = {{"D-7", vmware_guest()}},
                   .incoming = changed(vmware_guest(),
                                       [](HardwareIdentity& m) {
                                         m.smbios_uuid = "564d77aa-1b2c-3d4e-5f60-718293a4b5c6";
                                         m.serials = {
                                             "system:VMware-56 4d 77 aa 1b 2c 3d "
                                             "4e-5f 60 71 82 93 a4 b5 c6"};
                                         m.macs = {"ens160=00:50:56:9a:00:01"};
                                       }),
                   .possible_clone = true,
                   .related = {"D-7"},
                   .reason = "shares machine-id with D-7, but SMBIOS UUID, system serial and "
                             "MAC addresses differ"});
  // A linked clone keeps its parent's virtual disk, serial included.
  cases.push_back({.name = "ClonedVmSharingTheVirtualDiskSerialIsNotTheOriginal",
                   .known = {{"D-7", changed(vmware_guest(),
                                             [](HardwareIdentity& m) {
                                               m.serials.push_back(
                                                   "disk:6000c29d4a5b6c7d8e9f0a1b2c3d4e5f");
                                             })}},
                   .incoming = changed(vmware_guest(),
                                       [](HardwareIdentity& m) {
                                         m.smbios_uuid = "564d77aa-1b2c-3d4e-5f60-718293a4b5c6";
                                         m.serials = {"disk:6000c29d4a5b6c7d8e9f0a1b2c3d4e5f"};
                                         m.macs = {"ens160=00:50:56:9a:00:01"};
                                       }),
                   .possible_clone = true,
                   .related = {"D-7"}});
  cases.push_back({.name = "ImageClonedOntoAnotherLaptop",
                   .known = {{"D-1", laptop_a()}},
                   .incoming = changed(laptop_b(),
                                       [&](HardwareIdentity& m) {
                                         m.machine_id = mid_a;
                                         m.hostname = laptop_a().hostname;
                                       }),
                   .possible_clone = true,
                   .related = {"D-1"},
                   .reason = "cloned image"});
  cases.push_back({.name = "ImageClonedOntoBlankFirmwarePcs",
                   .known = {{"D-3", whitebox(mid_a, "WD-WCC4N1111111", "70:85:c2:00:00:01")}},
                   .incoming = whitebox(mid_a, "WD-WCC4N2222222", "70:85:c2:00:00:02"),
                   .possible_clone = true,
                   .related = {"D-3"},
                   .reason = "disk serials and MAC addresses differ"});
  cases.push_back(
      {.name = "MotherboardSwapKeepsTheDeviceWithLowerConfidence",
       .known = {{"D-1", laptop_a()}},
       .incoming = changed(laptop_a(),
                           [](HardwareIdentity& m) {
                             m.smbios_uuid = "4c4c4544-0031-3210-8033-b9c04f335a32";
                             m.serials = {"system:To be filled by O.E.M.",
                                          "board:/9XG3CK2/CN7777777A00QA/", "disk:S4EVNF0M123456X"};
                             // the onboard NIC went with the board, the Wi-Fi card
                             // stayed
                             m.macs = {"wlp2s0=3c:52:82:11:22:33", "enp0s31f6=3c:52:82:55:55:55"};
                           }),
       .device = "D-1",
       .min_confidence = 65,
       .max_confidence = 68,
       .reason = "SMBIOS UUID and board serial changed: motherboard replaced"});
  cases.push_back({.name = "MotherboardSwapWithTheServiceTagReprogrammed",
                   .known = {{"D-1", laptop_a()}},
                   .incoming = changed(laptop_a(),
                                       [](HardwareIdentity& m) {
                                         m.smbios_uuid = "4c4c4544-0031-3210-8033-b9c04f335a32";
                                         m.serials = {"system:9XG3CK2",
                                                      "board:/9XG3CK2/CN7777777A00QA/",
                                                      "disk:S4EVNF0M123456X"};
                                       }),
                   .device = "D-1",
                   .min_confidence = 70,
                   .max_confidence = 73});
  cases.push_back(
      {.name = "NicReplacedKeepsTheDevice",
       .known = {{"D-1", laptop_a()}},
       .incoming = changed(laptop_a(),
                           [](HardwareIdentity& m) { m.macs = {"enp0s31f6=a0:36:9f:01:02:03"}; }),
       .device = "D-1",
       .min_confidence = 99,
       .max_confidence = 99,
       .reason = "MAC addresses changed: network adapter replaced"});
  cases.push_back({.name = "NicReplacedOnBlankFirmware",
                   .known = {{"D-3", whitebox(mid_a, "WD-WCC4N1111111", "70:85:c2:00:00:01")}},
                   .incoming = whitebox(mid_a, "WD-WCC4N1111111", "a0:36:9f:01:02:03"),
                   .device = "D-3",
                   .min_confidence = 75,
                   .max_confidence = 78,  // + the same hostname
                   .reason = "same machine-id and disk serial"});
  cases.push_back({.name = "DiskReplacedOnBlankFirmware",
                   .known = {{"D-3", whitebox(mid_a, "WD-WCC4N1111111", "70:85:c2:00:00:01")}},
                   // restored from a backup onto the new disk: same machine-id
                   .incoming = whitebox(mid_a, "WD-WCC4N9999999", "70:85:c2:00:00:01"),
                   .device = "D-3",
                   .min_confidence = 70,
                   .max_confidence = 73,
                   .reason = "no disk serial in common: disk replaced"});
  cases.push_back(
      {.name = "FirmwareUpdateResetTheUuidToAPlaceholder",
       .known = {{"D-1", laptop_a()}},
       .incoming = changed(laptop_a(),
                           [](HardwareIdentity& m) {
                             m.smbios_uuid = "03000200-0400-0500-0006-000700080009";
                             m.serials = {"system:Default string", "disk:S4EVNF0M123456X"};
                           }),
       .device = "D-1",
       .min_confidence = 80,
       .max_confidence = 83});
  cases.push_back({.name = "BlankFirmwareReinstalledKeepsItsDevice",
                   .known = {{"D-3", whitebox(mid_a, "WD-WCC4N1111111", "70:85:c2:00:00:01")}},
                   .incoming = whitebox("99998888777766665555444433332222", "WD-WCC4N1111111",
                                        "70:85:c2:00:00:01"),
                   .device = "D-3",
                   .min_confidence = 60,
                   .max_confidence = 63,
                   .reason = "same disk serial and MAC address"});
  cases.push_back(
      {.name = "DockMacSharedByTwoLaptopsDoesNotMergeThem",
       .known = {{"D-1", changed(laptop_a(),
                                 [](HardwareIdentity& m) {
                                   m.macs.push_back(
                                       "eth1=64:00:6a:12:34:56");  // the dock's NIC, no enx name
                                 })}},
       .incoming = changed(laptop_b(),
                           [](HardwareIdentity& m) { m.macs.push_back("eth1=64:00:6a:12:34:56"); }),
       .reason =
           "shares MAC address with D-1, but SMBIOS UUID, system serial, board serial, "
           "chassis serial, machine-id, disk serials and other MAC addresses differ: a dock"});
  cases.push_back({.name = "DockMacSharedByTwoBlankFirmwareLaptops",
                   .known = {{"D-3",
                              {.machine_id = mid_a,
                               .macs = {"wlp2s0=70:85:c2:00:00:01", "eth1=64:00:6a:12:34:56"}}}},
                   .incoming = {.machine_id = "99998888777766665555444433332222",
                                .macs = {"wlp2s0=70:85:c2:00:00:02", "eth1=64:00:6a:12:34:56"}},
                   .reason = "a dock"});
  cases.push_back({.name = "DockMacAndACloneOfTheSameImageWithoutDiskSerials",
                   .known = {{"D-3",
                              {.machine_id = mid_a,
                               .macs = {"wlp2s0=70:85:c2:00:00:01", "eth1=64:00:6a:12:34:56"}}}},
                   .incoming = {.machine_id = mid_a,
                                .macs = {"wlp2s0=70:85:c2:00:00:02", "eth1=64:00:6a:12:34:56"}},
                   .possible_clone = true,
                   .related = {"D-3"}});
  cases.push_back({.name = "MacAloneNeverMatches",
                   .known = {{"D-3", {.macs = {"70:85:c2:00:00:01"}}}},
                   .incoming = {.macs = {"70:85:c2:00:00:01"}, .hostname = "desktop"},
                   .reason = "no known device matches"});
  cases.push_back({.name = "HostnameAloneNeverMatches",
                   .known = {{"D-1", laptop_a()}},
                   .incoming = {.machine_id = "99998888777766665555444433332222",
                                .hostname = laptop_a().hostname}});
  cases.push_back({.name = "BlankEverythingIsANewDevice",
                   .known = {{"D-9", {}}, {"D-1", laptop_a()}},
                   .incoming = {},
                   .reason = "no usable identifier"});
  cases.push_back({.name = "PlaceholdersOnlyIsANewDeviceNeverMergedWithAnother",
                   .known = {{"D-9", whitebox("", "QM00001", "00:00:00:00:00:00")}},
                   .incoming = whitebox("", "QM00001", "00:00:00:00:00:00"),
                   .reason = "no usable identifier"});
  cases.push_back(
      {.name = "PlaceholderIdsWithDifferentMachineIdsAreDifferentDevices",
       .known = {{"D-9", whitebox(mid_a, "QM00001", "02:00:00:00:00:01")}},
       .incoming = whitebox("99998888777766665555444433332222", "QM00001", "02:00:00:00:00:01"),
       .reason = "no known device matches"});
  cases.push_back({.name = "WeakMacsCountForNothing",
                   .known = {{"D-9",
                              {.macs = {"docker0=02:42:ac:11:00:02", "52:54:00:12:34:56",
                                        "enx00e04c681234=00:e0:4c:68:12:34"}}}},
                   .incoming = {.macs = {"docker0=02:42:ac:11:00:02", "52:54:00:12:34:56",
                                         "enx00e04c681234=00:e0:4c:68:12:34"}},
                   .reason = "no usable identifier"});
  cases.push_back({.name = "OemDuplicateUuidWithEverythingElseDifferent",
                   .known = {{"D-1",
                              {.machine_id = mid_a,
                               .smbios_uuid = "8f3a1c2e-5b7d-4e9f-a1c3-e5f7092b4d6f",
                               .serials = {"disk:WD-WCC4N1111111"},
                               .macs = {"70:85:c2:00:00:01"}}}},
                   .incoming = {.machine_id = "99998888777766665555444433332222",
                                .smbios_uuid = "8F3A1C2E-5B7D-4E9F-A1C3-E5F7092B4D6F",
                                .serials = {"disk:WD-WCC4N2222222"},
                                .macs = {"70:85:c2:00:00:02"}},
                   .possible_clone = true,
                   .related = {"D-1"},
                   .reason = "OEM duplicate"});
  cases.push_back({.name = "UuidOfOneDeviceAndMachineIdOfAnotherIsAConflict",
                   .known = {{"D-2", {.machine_id = mid_a}},
                             {"D-1", changed(laptop_a(),
                                             [](HardwareIdentity& m) {
                                               m.machine_id = "99998888777766665555444433332222";
                                             })}},
                   .incoming = laptop_a(),
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .conflict = true,
                   .related = {"D-2"},
                   .reason = "also matches D-2 (same machine-id)"});
  cases.push_back({.name = "EnrolledTwiceIsAConflictResolvedToTheSmallerId",
                   .known = {{"D-5", laptop_a()}, {"D-4", laptop_a()}},
                   .incoming = laptop_a(),
                   .device = "D-4",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .conflict = true,
                   .related = {"D-5"}});
  cases.push_back({.name = "TheBetterMatchWinsAConflict",
                   .known = {{"D-2", {.machine_id = mid_a}}, {"D-1", laptop_a()}},
                   .incoming = laptop_a(),
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .conflict = true,
                   .related = {"D-2"}});
  cases.push_back(
      {.name = "AnEnrolledCloneIsItselfAndFlagged",
       .known = {{"D-1", laptop_a()},
                 {"D-2", changed(laptop_b(), [&](HardwareIdentity& m) { m.machine_id = mid_a; })}},
       .incoming = changed(laptop_b(), [&](HardwareIdentity& m) { m.machine_id = mid_a; }),
       .device = "D-2",
       .min_confidence = 99,
       .max_confidence = 99,
       .possible_clone = true,
       .related = {"D-1"}});
  cases.push_back({.name = "MachineIdAloneWhenNothingElseIsReported",
                   .known = {{"D-1", {.machine_id = mid_a, .hostname = "pc-a"}}},
                   .incoming = {.machine_id = mid_a, .hostname = "pc-a"},
                   .device = "D-1",
                   .min_confidence = 53,
                   .max_confidence = 53,
                   .reason = "no hardware identifier on both sides"});
  cases.push_back(
      {.name = "SystemSerialThatIsAlsoTheChassisSerialCountsOnce",
       .known = {{"D-1", {.machine_id = mid_a, .serials = {"system:9XG3CK2", "chassis:9XG3CK2"}}}},
       .incoming = {.machine_id = "99998888777766665555444433332222",
                    .serials = {"system:9XG3CK2", "chassis:9XG3CK2"}},
       .device = "D-1",
       .min_confidence = 85,
       .max_confidence = 85});
  cases.push_back({.name = "UntaggedSerialMatchesATaggedOne",
                   .known = {{"D-1", laptop_a()}},
                   .incoming = {.smbios_uuid = laptop_a().smbios_uuid, .serials = {"9xg3ck2"}},
                   .device = "D-1",
                   .min_confidence = 99,
                   .max_confidence = 99,
                   .reason = "same SMBIOS UUID and serial number"});
  cases.push_back({.name = "AKnownDeviceWithNothingUsableIsNeverMatched",
                   .known = {{"D-9", whitebox("", "QM00001", "00:00:00:00:00:00")}},
                   .incoming = laptop_a(),
                   .reason = "no known device matches"});
  cases.push_back({.name = "NoKnownDevices", .known = {}, .incoming = laptop_a()});
  return cases;
}

class DeviceIdentityMatch : public ::testing::TestWithParam<MatchCase> {};

TEST_P(DeviceIdentityMatch, Decides) {
  const MatchCase& c = GetParam();
  const IdentityMatch match = match_identity(c.incoming, c.known);
  std::string why;
  for (const auto& reason : match.reasons) why += "\n  " + reason;
  SCOPED_TRACE("reasons:" + why);
  EXPECT_EQ(match.device_id, c.device);
  EXPECT_GE(match.confidence, c.min_confidence);
  EXPECT_LE(match.confidence, c.max_confidence);
  EXPECT_EQ(match.possible_clone, c.possible_clone);
  EXPECT_EQ(match.conflict, c.conflict);
  EXPECT_EQ(match.related_devices, c.related);
  EXPECT_FALSE(match.reasons.empty());
  if (!c.reason.empty()) {
    EXPECT_TRUE(std::any_of(match.reasons.begin(), match.reasons.end(),
                            [&](const std::string& r) { return r.find(c.reason) != r.npos; }))
        << "no reason contains \"" << c.reason << "\"";
  }

  // The answer does not depend on the order the store lists devices in.
  std::vector<KnownDevice> reversed(c.known.rbegin(), c.known.rend());
  const IdentityMatch again = match_identity(c.incoming, reversed);
  EXPECT_EQ(again.device_id, match.device_id);
  EXPECT_EQ(again.confidence, match.confidence);
  EXPECT_EQ(again.related_devices, match.related_devices);

  // An index over identity_keys() finds every device that matches (storage relies on it).
  if (match.device_id) {
    const auto mine = identity_keys(c.incoming);
    for (const auto& device : c.known) {
      if (device.id != *match.device_id) continue;
      const auto theirs = identity_keys(device.identity);
      EXPECT_TRUE(std::any_of(mine.begin(), mine.end(),
                              [&](const std::string& key) {
                                return std::find(theirs.begin(), theirs.end(), key) != theirs.end();
                              }))
          << "no shared index key with " << device.id;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(DeviceIdentity, DeviceIdentityMatch, ::testing::ValuesIn(match_cases()),
                         [](const ::testing::TestParamInfo<MatchCase>& info) {
                           return info.param.name;
                         });

// ---- keys -------------------------------------------------------------------------------

TEST(DeviceIdentityKey, StrongestUsableIdentifier) {
  EXPECT_EQ(identity_key(laptop_a()), "uuid:4c4c4544-004b-3610-8052-b4c04f4e4c32");
  EXPECT_EQ(identity_key(changed(laptop_a(), [](auto& m) { m.smbios_uuid = "Not Settable"; })),
            "serial:9XG3CK2");
  EXPECT_EQ(identity_key({.serials = {"chassis:CH1", "board:BRD1", "disk:D1"}}), "serial:BRD1");
  EXPECT_EQ(identity_key(whitebox("5F1C0E2A9B8D4C7E8F6A1B2C3D4E5F60", "WD-1", "70:85:c2:00:00:01")),
            "machine-id:5f1c0e2a9b8d4c7e8f6a1b2c3d4e5f60");
  EXPECT_EQ(identity_key(whitebox("", "wd-wcc4n1111111", "70:85:c2:00:00:01")),
            "disk:WD-WCC4N1111111");
  EXPECT_EQ(identity_key({.macs = {"docker0=02:42:ac:11:00:02", "70-85-C2-00-00-01"}}),
            "mac:70:85:c2:00:00:01");
  EXPECT_EQ(identity_key({}), "");
  EXPECT_EQ(identity_key(whitebox("", "QM00001", "00:00:00:00:00:00")), "");
  EXPECT_EQ(identity_key({.hostname = "pc-a"}), "") << "a hostname is not an identity";
}

TEST(DeviceIdentityKey, AllKeysStrongestFirstWithoutDuplicates) {
  EXPECT_EQ(identity_keys(laptop_a()),
            (std::vector<std::string>{
                "uuid:4c4c4544-004b-3610-8052-b4c04f4e4c32", "serial:9XG3CK2",
                "serial:/9XG3CK2/CN1296341A00QA/", "machine-id:5f1c0e2a9b8d4c7e8f6a1b2c3d4e5f60",
                "disk:S4EVNF0M123456X", "mac:3c:52:82:11:22:33", "mac:3c:52:82:11:22:34"}));
  EXPECT_TRUE(identity_keys(whitebox("", "QM00001", "02:00:00:00:00:01")).empty());
}

TEST(DeviceIdentityKey, TaggedSerialRoundTrips) {
  EXPECT_EQ(tagged_serial(SerialKind::board, "X1"), "board:X1");
  EXPECT_EQ(tagged_serial(SerialKind::other, "X1"), "X1");
  EXPECT_EQ(normalize_identity({.serials = {tagged_serial(SerialKind::disk, " ab 12 ")}}).serials,
            std::vector<std::string>{"disk:AB12"});
}

}  // namespace
}  // namespace tether::relay::fleet
