// render_diagnostics_text over a full schema 2 snapshot, over partial and old ones, and over
// hostile input.

#include "tether/protocol/diag_report.hpp"
#include "../fixture_json.hpp"

#include <fstream>
#include <functional>
#include <limits>

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

using json = nlohmann::json;

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

std::size_t position(const std::string& haystack, const std::string& needle) {
  const auto at = haystack.find(needle);
  EXPECT_NE(at, std::string::npos) << "missing: " << needle;
  return at;
}

TEST(DiagReport, HeaderSaysWhichMachineAndWhen) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  EXPECT_EQ(report.rfind("TETHER DIAGNOSTICS \xe2\x80\x94 anna-laptop\n", 0), 0u) << report;
  EXPECT_TRUE(has(report, "  OS                Debian GNU/Linux 12 (bookworm)\n")) << report;
  EXPECT_TRUE(has(report, "  Collected         2025-11-25T10:00:00Z in 18 ms by agent 0.2.0\n"))
      << report;
}

TEST(DiagReport, FindingsComeFirstCriticalThenWarningWithHints) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  const auto findings = position(report, "\nFINDINGS\n");
  const auto critical =
      position(report,
               "  CRITICAL  /media/anna/My Backup Disk is 97% full (953.7 MiB free)  [disk.space]\n"
               "            \xe2\x86\x92 Free space or move files to another disk.\n"
               "            (mount_point=/media/anna/My Backup Disk, used_pct=96.70)\n");
  const auto warning =
      position(report,
               "  WARNING   Battery BAT0 holds 73% of its design capacity  [battery.wear]\n"
               "            \xe2\x86\x92 Plan a battery replacement; it will not last a working "
               "day.\n");
  // Info: one line, no hint.
  const auto info =
      position(report, "  info      A reboot is pending since 5 days  [reboot.pending]\n");
  EXPECT_FALSE(has(report, "Reboot to run the new kernel.")) << report;
  const auto passed = position(report, "  2 checks passed, 1 skipped (inputs missing)\n");
  const auto first_section = position(report, "\nIDENTITY\n");
  EXPECT_LT(findings, critical);
  EXPECT_LT(critical, warning);
  EXPECT_LT(warning, info);
  EXPECT_LT(info, passed);
  EXPECT_LT(passed, first_section);
  // Passed checks are counted, not listed.
  EXPECT_FALSE(has(report, "Memory is fine")) << report;
}

TEST(DiagReport, SectionsFollowTheSchemaOrder) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  std::size_t previous = 0;
  for (const char* title :
       {"IDENTITY", "SYSTEM", "FIRMWARE", "CPU", "MEMORY", "STORAGE", "NETWORK", "POWER", "DEVICES",
        "SOFTWARE", "PROCESSES", "SERVICES", "USERS", "LOGS"}) {
    const auto at = position(report, std::string("\n") + title + "\n");
    EXPECT_GT(at, previous) << title;
    previous = at;
  }
}

TEST(DiagReport, KeyValueLinesAreAligned) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  for (const char* line : {
           "  Hostname          anna-laptop\n",
           "  Uptime            3 days 4 h 12 min\n",
           "  Virtualization    none (physical machine)\n",
           "  Load              0.52 0.40 0.35 (1, 5, 15 min)\n",
           "  Clock             synchronized, offset 0.4 ms, max error 12.5 ms\n",
           "  Reboot required   YES, since 2025-11-20T09:12:00Z (linux-image-6.1.0-27-amd64)\n",
           "  BIOS              HP P70 Ver. 01.21\n",
           "  Secure boot       enabled\n",
           "  Chassis           laptop (HP)\n",
           "  Family            6, model 142, stepping 10\n",
           "  Topology          1 socket, 4 cores, 8 threads\n",
           "  Clock             1800 MHz (max 3400 MHz)\n",
           "  Caches            L1d 128.0 KiB, L1i 128.0 KiB, L2 1.0 MiB, L3 6.0 MiB\n",
           "  Available         5.1 GiB (33% used)\n",
           "  Swap              2.0 GiB total, 1.5 GiB free (25% used)\n",
           "  DIMM slots        2 of 2 used\n",
           "  AC power          on battery\n",
           "  Packages          4 (dpkg 3, flatpak 1)\n",
           "  Pending updates   12 (3 security) via apt\n",
           "  Units             187 total, 102 active, 1 failed\n",
           "  Failed units      backup-anna.service\n",
           "  Local accounts    1 person, 2 system\n",
       }) {
    EXPECT_TRUE(has(report, line)) << line << "\n----\n" << report;
  }
}

TEST(DiagReport, UnknownFieldsSayWhy) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  EXPECT_TRUE(has(report, "  Asset tag         \xe2\x80\x94  (not present)\n")) << report;
  // In a table cell too: the USB stick's health could not be read.
  EXPECT_TRUE(has(report, "\xe2\x80\x94  (tool missing: smartctl)\n")) << report;
}

TEST(DiagReport, FilesystemsAreATableLikeDf) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  // df's rounding: 150 GB used of 237.5 GB usable is 63.2%, shown as 64%.
  EXPECT_TRUE(has(report,
                  "  Filesystems:\n"
                  "    MOUNT                       DEVICE                TYPE        SIZE       "
                  "AVAIL      USE%  INODES\n"
                  "    /                           /dev/mapper/vg0-root  ext4        232.8 GiB  "
                  "81.5 GiB   64%   10%\n"))
      << report;
  EXPECT_TRUE(has(report, "/media/anna/My Backup Disk  /dev/sda1")) << report;
  EXPECT_TRUE(has(report, "exfat (ro)")) << report;
  EXPECT_TRUE(has(report, "953.7 MiB  97%   \xe2\x80\x94\n")) << report;
}

TEST(DiagReport, TablesForDisksInterfacesBatteriesAndProcesses) {
  const auto report = render_diagnostics_text(laptop_snapshot());
  EXPECT_TRUE(has(report,
                  "passed, 38 \xc2\xb0"
                  "C, 7% worn, 11523 h on"))
      << report;
  EXPECT_TRUE(has(report, "wlp2s0     wireless  up       ")) << report;
  EXPECT_TRUE(has(report, "192.168.1.20/24, fe80::a6c3:f0ff:fe85:ab12/64")) << report;
  EXPECT_TRUE(has(report, "  wlp2s0            errors rx 0, tx 0; dropped rx 42, tx 0\n"))
      << report;
  EXPECT_TRUE(has(report, "  wlp2s0            Wi-Fi \"CorpWiFi\", -58 dBm, quality 52\n"))
      << report;
  EXPECT_TRUE(has(report, "  Default route     via 192.168.1.1 on wlp2s0 (ipv4, metric 600)\n"))
      << report;
  EXPECT_TRUE(has(report,
                  "BAT0     Hewlett-Packard Primary  Discharging  64%     27%   "
                  "36.5 of 50.0 Wh  512\n"))
      << report;
  EXPECT_TRUE(has(report, "    2301  anna  12.3  700.0 MiB  /usr/lib/firefox-esr/firefox-esr"))
      << report;
}

TEST(DiagReport, UnavailableSectionsShowTheirReasonInPlace) {
  auto snapshot = laptop_snapshot();
  snapshot["logs"] = {{"unavailable", "timed out"}};
  snapshot["memory"] = "garbage";
  snapshot["errors"] = json::parse(R"([{"section": "gpu", "message": "unknown section"}])");
  const auto report = render_diagnostics_text(snapshot);
  EXPECT_TRUE(has(report, "\nLOGS\n  not collected: timed out\n")) << report;
  EXPECT_TRUE(has(report, "\nMEMORY\n  not collected: no usable data\n")) << report;
  EXPECT_TRUE(has(report, "\nNot collected: gpu (unknown section)\n")) << report;
}

TEST(DiagReport, SectionsNotAskedForAreLeftOutSilently) {
  const auto report = render_diagnostics_text(json::parse(
      R"({"schema": 2, "cpu": {"model": "ARM Cortex-A72", "logical_cores": 4}, "errors": []})"));
  EXPECT_TRUE(has(report, "\nCPU\n  Model             ARM Cortex-A72\n")) << report;
  EXPECT_TRUE(has(report, "  Topology          4 logical cores\n")) << report;
  EXPECT_FALSE(has(report, "SYSTEM")) << report;
  EXPECT_FALSE(has(report, "FINDINGS")) << report;  // none evaluated: no findings block
  EXPECT_FALSE(has(report, "Not collected")) << report;
}

TEST(DiagReport, LongListsAreBounded) {
  auto snapshot = laptop_snapshot();
  json ports = json::array();
  for (int i = 0; i < 100; ++i) {
    ports.push_back({{"protocol", "tcp"},
                     {"address", "0.0.0.0"},
                     {"port", 10000 + i},
                     {"process", "p" + std::to_string(i)}});
  }
  snapshot["network"]["listening"] = ports;
  json pci = json::array();
  for (int i = 0; i < 40; ++i) pci.push_back({{"slot", "0000:00:" + std::to_string(i) + ".0"}});
  snapshot["devices"]["pci"] = pci;
  json packages = json::array();
  for (int i = 0; i < 3000; ++i) {
    packages.push_back({{"name", "package-number-" + std::to_string(i)}, {"source", "dpkg"}});
  }
  snapshot["software"] = {{"packages", packages}};
  const auto report = render_diagnostics_text(snapshot);
  EXPECT_TRUE(has(report, "p19 ")) << report;
  EXPECT_FALSE(has(report, "p20 ")) << report;
  EXPECT_TRUE(has(report, "    \xe2\x80\xa6 and 80 more\n")) << report;
  EXPECT_TRUE(has(report, "    \xe2\x80\xa6 and 25 more\n")) << report;
  // Packages are counted per source, never listed.
  EXPECT_TRUE(has(report, "  Packages          3000 (dpkg 3000)\n")) << report;
  EXPECT_FALSE(has(report, "package-number-")) << report;
  EXPECT_LT(report.size(), 20000u);
}

TEST(DiagReport, ControlCharactersCannotReachTheTerminal) {
  auto snapshot = laptop_snapshot();
  snapshot["system"]["hostname"] = "evil\x1b[2J\npc";
  snapshot["storage"]["filesystems"][0]["mount_point"] = "/mnt/\x1b]0;owned\x07x";
  snapshot["findings"][0]["summary"] =
      "C1 \xc2\x9b"
      "31m red";
  snapshot["findings"][0]["hint"] =
      "bidi \xe2\x80\xae"
      "gnp.exe";
  snapshot["logs"]["errors"][0]["message"] =
      "bad byte \xff\x9b"
      "2J";
  const auto report = render_diagnostics_text(snapshot);
  EXPECT_FALSE(has(report, "\x1b")) << report;
  EXPECT_FALSE(has(report, "\x07")) << report;
  EXPECT_FALSE(has(report, "\xc2\x9b")) << report;
  EXPECT_FALSE(has(report, "\xe2\x80\xae")) << report;
  EXPECT_TRUE(has(report, "TETHER DIAGNOSTICS \xe2\x80\x94 evil [2J pc\n")) << report;
  EXPECT_TRUE(has(report,
                  "bad byte \xef\xbf\xbd\xef\xbf\xbd"
                  "2J"))
      << report;
  // Every line break in the report is one the renderer wrote: no line starts mid-field.
  EXPECT_FALSE(has(report, "\npc")) << report;
}

TEST(PrintableText, KeepsUnicodeAndReplacesControls) {
  EXPECT_EQ(printable_text("Zürich · 東京"), "Zürich · 東京");
  EXPECT_EQ(printable_text("a\tb\r\nc\x7f"), "a b  c ");
  EXPECT_EQ(printable_text("\xc2\x85x"), " x");                       // NEL, a C1 control
  EXPECT_EQ(printable_text("\xe2\x81\xa6x"), " x");                   // U+2066 isolate
  EXPECT_EQ(printable_text("\xc0\xaf"), "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
  EXPECT_EQ(printable_text("\xe2\x82"), "\xef\xbf\xbd\xef\xbf\xbd");  // truncated sequence
}

TEST(DiagReport, HostileInputNeverThrows) {
  const char* const kInputs[] = {
      "null",
      "[]",
      "\"text\"",
      "42",
      "{}",
      R"({"findings": "all good", "checks_skipped": 3})",
      R"({"findings": [null, 1, [], {"severity": 5, "summary": {}, "evidence": [1]}]})",
      R"({"findings": [{"severity": "critical", "evidence": {"deep": {"a": [1, {"b": null}]}}}]})",
      R"({"memory": {"total_bytes": "8 GB", "available_bytes": -5, "dimms": [1, null, {}]}})",
      R"({"memory": {"total_bytes": 0, "available_bytes": 10, "swap_total_bytes": -1}})",
      R"({"storage": {"filesystems": {"mount_point": "/"}, "disks": "sda", "raid": [[]]}})",
      R"({"storage": {"filesystems": [{"size_bytes": -1, "available_bytes": 1e308}]}})",
      R"({"storage": {"disks": [{"health": [], "unknown": "x"}], "lvm": []}})",
      R"({"network": {"interfaces": [null, 1, {"addresses": [null, {"address": 5}], "stats": 3}]}})",
      R"({"network": {"default_routes": [1, {}], "dns": {"servers": "8.8.8.8"}, "listening": {}}})",
      R"({"system": {"os": "Debian", "load": [1, 2, 3], "uptime_seconds": -1, "clock": []}})",
      R"({"system": {"uptime_seconds": 1e300, "reboot_required": {"required": "yes"}}})",
      R"({"cpu": {"logical_cores": "four", "mhz": {}, "per_core_pct": "x", "caches": []}})",
      R"({"cpu": {"per_core_pct": [1e308, -1e308, null], "sockets": -3}})",
      R"({"power": {"batteries": [{"capacity_pct": 1e9, "wear_pct": -50}], "temperatures": 1}})",
      R"({"devices": {"monitors": [{"width_mm": 1e308, "height_mm": 1e308}], "usb": [[]]}})",
      R"({"software": {"counts": {"dpkg": "many"}, "pending_updates": []}})",
      R"({"users": {"local": [{"human": "yes"}], "sessions": {}, "logged_in": 5}})",
      R"({"logs": {"errors": {"time": 1}, "oom_kills": [null]}})",
      R"({"services": {"failed": [null, 1, "a"], "counts": []}})",
      R"({"identity": {"macs": "x", "serials": [], "unknown": {"device_id": 5}}})",
      R"({"cpu": {"unavailable": null}, "system": {"unavailable": 5}})",
      R"({"errors": "boom", "agent": [], "collected_at": 7, "duration_ms": "fast"})",
  };
  for (const char* input : kInputs) {
    std::string report;
    ASSERT_NO_THROW(report = render_diagnostics_text(json::parse(input))) << input;
    EXPECT_FALSE(report.empty()) << input;
  }
  EXPECT_EQ(render_diagnostics_text(nullptr), "No diagnostics in this snapshot.\n");
  EXPECT_EQ(render_diagnostics_text(json::array()), "No diagnostics in this snapshot.\n");
}

// Every value of the full snapshot, one at a time, replaced by each wrong type.
TEST(DiagReport, EveryFieldOfTheWrongTypeStillRenders) {
  const auto original = laptop_snapshot();
  // Numbers, lists and booleans of the wrong kind are in HostileInputNeverThrows; four kinds
  // here keep this exhaustive walk quick.
  const json kWrong[] = {nullptr, "x", json::object(), std::numeric_limits<double>::quiet_NaN()};
  std::vector<json::json_pointer> paths;
  std::function<void(const json&, const json::json_pointer&)> walk =
      [&](const json& value, const json::json_pointer& path) {
        paths.push_back(path);
        if (value.is_object()) {
          for (const auto& [key, element] : value.items()) walk(element, path / key);
        } else if (value.is_array() && !value.empty()) {
          walk(value[0], path / 0);
        }
      };
  walk(original, json::json_pointer());
  ASSERT_GT(paths.size(), 300u);
  for (const auto& path : paths) {
    if (path.empty()) continue;
    for (const auto& wrong : kWrong) {
      auto snapshot = original;
      snapshot[path] = wrong;
      std::string report;
      ASSERT_NO_THROW(report = render_diagnostics_text(snapshot)) << path.to_string();
      ASSERT_FALSE(report.empty()) << path.to_string();
      ASSERT_FALSE(has(report, " nan") || has(report, "-nan")) << path.to_string() << "\n"
                                                               << report;
    }
  }
}

TEST(FormatBytes, BinaryUnitsWithOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(1048575), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(format_bytes(8181999616.0), "7.6 GiB");
  EXPECT_EQ(format_bytes(5.5 * 1024.0 * 1024 * 1024 * 1024), "5.5 TiB");
  EXPECT_EQ(format_bytes(1e30), "867361737988.4 EiB");
  EXPECT_EQ(format_bytes(-1), "?");
  EXPECT_EQ(format_bytes(std::numeric_limits<double>::infinity()), "?");
}

TEST(FormatUptime, DaysHoursMinutes) {
  EXPECT_EQ(format_uptime(274350), "3 days 4 h 12 min");
  EXPECT_EQ(format_uptime(86400 + 300), "1 day 0 h 5 min");
  EXPECT_EQ(format_uptime(4 * 3600), "4 h 0 min");
  EXPECT_EQ(format_uptime(12 * 60 + 59), "12 min");
  EXPECT_EQ(format_uptime(30), "0 min");
  EXPECT_EQ(format_uptime(-1), "?");
}

}  // namespace
}  // namespace tether::protocol
