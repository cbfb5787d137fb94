// redact_snapshot: no serial, MAC, user name or host name survives anywhere in the output.

#include "tether/agent/diag/redact.hpp"
#include "../fixture_json.hpp"

#include <fstream>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

TEST(Redact, NoOriginalTokenSurvivesAnywhere) {
  const auto original = laptop_snapshot();
  const auto dumped = lower(redact_snapshot(original).dump());
  for (const char* token :
       {// host names
        "anna-laptop", "anna-laptop.corp.example",
        // the person, in user fields, homes, command lines, mount points, unit names, logs
        "anna",
        // serial numbers and identifiers
        "5CG7301XYZ", "PKBRX0ABC123", "S444NY0K512345", "4C530001230907115123", "37A1B2C3",
        "37A1B2D4", "41167 2019/01/10", "4c4c4544-0034-3010-8048-b6c04f503732",
        "0f3a9c2e7b5d4e1f8a6c3b2d1e0f9a8b",
        "5b1d0c0f6f0e4a8b9c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b",
        // MAC addresses, and the IPv6 address built from one (EUI-64)
        "a4:c3:f0:85:ab:12", "e8:6a:64:11:22:33", "fe80::a6c3:f0ff:fe85:ab12"}) {
    EXPECT_FALSE(has(dumped, lower(token))) << token << " survived:\n" << dumped;
  }
}

TEST(Redact, MarksTheSnapshotAndKeepsWhatIsNotPersonal) {
  const auto redacted = redact_snapshot(laptop_snapshot());
  EXPECT_EQ(redacted["redacted"], true);
  EXPECT_EQ(redacted["identity"]["device_id"], kRedacted);
  EXPECT_EQ(redacted["firmware"]["system"]["serial"], kRedacted);
  EXPECT_EQ(redacted["storage"]["disks"][0]["serial"], kRedacted);
  EXPECT_EQ(redacted["network"]["interfaces"][2]["mac"], kRedacted);
  EXPECT_EQ(redacted["users"]["local"][2]["name"], kRedacted);
  EXPECT_EQ(redacted["users"]["local"][2]["home"], "/home/[redacted]");
  EXPECT_EQ(redacted["storage"]["filesystems"][2]["mount_point"],
            "/media/[redacted]/My Backup Disk");
  EXPECT_EQ(redacted["services"]["failed"][0], "backup-[redacted].service");
  EXPECT_EQ(
      redacted["processes"]["top_cpu"][0]["command"],
      "/usr/lib/firefox-esr/firefox-esr --profile /home/[redacted]/.mozilla/firefox/x.default");
  EXPECT_EQ(redacted["logs"]["errors"][0]["message"],
            "rsync: [sender] change_dir \"/home/[redacted]/Documents\" failed on [redacted]");
  // What helps a technician and identifies nobody stays.
  EXPECT_EQ(redacted["system"]["os"]["pretty_name"], "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(redacted["cpu"]["model"], "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz");
  EXPECT_EQ(redacted["network"]["interfaces"][2]["addresses"][0]["address"], "192.168.1.20");
  EXPECT_EQ(redacted["network"]["interfaces"][1]["addresses"][1]["address"], "::1");
  EXPECT_EQ(redacted["devices"]["pci"][2]["device_id"], "0x24fd");  // a PCI id, not an identity
  EXPECT_EQ(redacted["memory"]["total_bytes"], 8181999616);
  // System accounts are not words to hunt: "/bin/bash" keeps its "bin".
  EXPECT_EQ(redacted["users"]["local"][2]["shell"], "/bin/bash");
  EXPECT_EQ(redacted["users"]["local"][0]["name"], kRedacted);
}

TEST(Redact, MacLookingSubstringsAndUnlistedHomesGoToo) {
  json snapshot = {
      {"logs",
       {{"errors",
         {{{"message", "wlan0: associated with 00-1A-2B-3C-4D-5E via AA:BB:CC:DD:EE:FF"}},
          {{"message", "cannot open /home/bob/.cache for writing"}},
          {{"message", "ipv6 fe80::1:2:3:4 and time 10:20:30 stay"}}}}}}};
  const auto redacted = redact_snapshot(snapshot);
  EXPECT_EQ(redacted["logs"]["errors"][0]["message"],
            "wlan0: associated with [redacted] via [redacted]");
  EXPECT_EQ(redacted["logs"]["errors"][1]["message"],
            "cannot open /home/[redacted]/.cache for writing");
  EXPECT_EQ(redacted["logs"]["errors"][2]["message"], "ipv6 fe80::1:2:3:4 and time 10:20:30 stay");
}

TEST(Redact, HostNamesAreMatchedAsWholeWordsWhateverTheirCase) {
  json snapshot = {{"system", {{"hostname", "pc42"}, {"fqdn", "PC42.example.org"}}},
                   {"logs",
                    {{"errors",
                      {{{"message", "PC42 said hello to pc42.example.org"}},
                       {{"message", "pc420 and xpc42 are other machines"}}}}}}};
  const auto redacted = redact_snapshot(snapshot);
  EXPECT_EQ(redacted["system"]["hostname"], kRedacted);
  EXPECT_EQ(redacted["system"]["fqdn"], kRedacted);
  EXPECT_EQ(redacted["logs"]["errors"][0]["message"], "[redacted] said hello to [redacted]");
  EXPECT_EQ(redacted["logs"]["errors"][1]["message"], "pc420 and xpc42 are other machines");
}

TEST(Redact, AnyJsonIsAccepted) {
  for (const char* input :
       {"null", "[]", "3", "\"x\"", "{}", R"({"users": 5, "identity": null})",
        R"({"users": {"local": [1, null, {"name": 5, "uid": "x"}], "sessions": "x"}})",
        R"({"system": {"hostname": 5, "fqdn": []}, "processes": {"list": {"user": "x"}}})",
        R"({"network": {"interfaces": [{"mac": 42, "addresses": [{"family": "ipv6"}]}]}})"}) {
    json out;
    ASSERT_NO_THROW(out = redact_snapshot(json::parse(input))) << input;
    if (out.is_object()) EXPECT_EQ(out["redacted"], true) << input;
  }
  // A numeric serial is a serial.
  EXPECT_EQ(
      redact_snapshot(json::parse(
          R"({"power": {"batteries": [{"serial": 41167}]}})"))["power"]["batteries"][0]["serial"],
      kRedacted);
}

}  // namespace
}  // namespace tether::agent::diag
