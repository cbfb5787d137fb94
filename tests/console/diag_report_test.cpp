// render_diagnostics_text over a full snapshot and over hostile input.

#include "tether/console/diag_report.hpp"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace tether::console {
namespace {

using json = nlohmann::json;

// What the agent collects from tests/agent/data/debian12 with a fake statvfs and getifaddrs.
const char* const kDebianSnapshot = R"json({
  "schema": 1, "collected_at": "2025-11-25T10:00:00Z", "duration_ms": 12,
  "agent": {"version": "0.1.0"},
  "system": {"hostname": "helpdesk-pc",
             "os": {"name": "Debian GNU/Linux", "version": "12 (bookworm)", "version_id": "12",
                    "id": "debian", "pretty_name": "Debian GNU/Linux 12 (bookworm)"},
             "kernel": "6.1.0-18-amd64", "architecture": "x86_64",
             "boot_time": "2024-11-25T08:10:00Z", "uptime_seconds": 274350,
             "load": {"1m": 0.52, "5m": 0.4, "15m": 0.35}},
  "cpu": {"model": "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", "logical_cores": 4, "mhz": 1800.0},
  "memory": {"total_bytes": 8181999616, "available_bytes": 5475721216,
             "swap_total_bytes": 2147479552, "swap_free_bytes": 1610608640},
  "storage": {"filesystems": [
    {"mount_point": "/", "device": "/dev/nvme0n1p2", "type": "ext4", "read_only": false,
     "size_bytes": 250000000000, "free_bytes": 100000000000, "available_bytes": 87500000000},
    {"mount_point": "/media/anna/My Backup Disk", "device": "/dev/sda1", "type": "exfat",
     "read_only": true, "size_bytes": 1000000, "free_bytes": 500000, "available_bytes": 400000},
    {"mount_point": "/home", "device": "/dev/nvme0n1p3", "type": "ext4", "read_only": false,
     "size_bytes": null, "free_bytes": null, "available_bytes": null}]},
  "network": {"interfaces": [
    {"name": "eth0", "type": "ethernet", "mac": "52:54:00:12:34:56", "state": "up", "mtu": 1500,
     "addresses": [{"family": "ipv4", "address": "192.168.1.20", "prefix": 24},
                   {"family": "ipv6", "address": "fe80::5054:ff:fe12:3456", "prefix": 64}]},
    {"name": "lo", "type": "loopback", "mac": "00:00:00:00:00:00", "state": "unknown",
     "mtu": 65536, "addresses": [{"family": "ipv4", "address": "127.0.0.1", "prefix": 8}]},
    {"name": "wlan0", "type": "wireless", "mac": "a4:c3:f0:85:ab:12", "state": "down",
     "mtu": 1500, "addresses": []}]},
  "errors": []
})json";

bool has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(DiagReport, RendersTheFullSnapshot) {
  const auto report = render_diagnostics_text(json::parse(kDebianSnapshot));
  EXPECT_TRUE(has(report, "Diagnostics collected 2025-11-25T10:00:00Z by agent 0.1.0 in 12 ms\n"))
      << report;
  EXPECT_TRUE(has(report, "Host:     helpdesk-pc\n")) << report;
  EXPECT_TRUE(has(report, "OS:       Debian GNU/Linux 12 (bookworm)\n")) << report;
  EXPECT_TRUE(has(report, "Kernel:   6.1.0-18-amd64\n")) << report;
  EXPECT_TRUE(has(report, "Arch:     x86_64\n")) << report;
  EXPECT_TRUE(has(report, "Uptime:   3 days 4 h 12 min (booted 2024-11-25T08:10:00Z)\n")) << report;
  EXPECT_TRUE(has(report, "Load:     0.52 0.40 0.35 (1, 5, 15 min)\n")) << report;
  EXPECT_TRUE(has(report,
                  "CPU:      Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz, 4 logical cores, "
                  "1800 MHz\n"))
      << report;
  EXPECT_TRUE(has(report, "Memory:   7.6 GiB total, 5.1 GiB available (33% used)\n")) << report;
  EXPECT_TRUE(has(report, "Swap:     2.0 GiB total, 1.5 GiB free\n")) << report;

  // The storage table, column-aligned; df's rounding: 150 GB used of 237.5 GB usable → 64%.
  EXPECT_TRUE(has(report,
                  "Storage:\n"
                  "  MOUNT                       TYPE        SIZE       FREE       USE%\n"
                  "  /                           ext4        232.8 GiB  81.5 GiB   64%\n"
                  "  /media/anna/My Backup Disk  exfat (ro)  976.6 KiB  390.6 KiB  56%\n"
                  "  /home                       ext4        ?          ?          ?\n"))
      << report;
  EXPECT_TRUE(has(report,
                  "Network:\n"
                  "  INTERFACE  TYPE      STATE    MAC                ADDRESSES\n"
                  "  eth0       ethernet  up       52:54:00:12:34:56  192.168.1.20/24, "
                  "fe80::5054:ff:fe12:3456/64\n"
                  "  lo         loopback  unknown  00:00:00:00:00:00  127.0.0.1/8\n"
                  "  wlan0      wireless  down     a4:c3:f0:85:ab:12  -\n"))
      << report;
  EXPECT_FALSE(has(report, "Not collected")) << report;
}

TEST(DiagReport, UnavailableSectionsAndErrorsAreListedAtTheEnd) {
  auto snapshot = json::parse(kDebianSnapshot);
  snapshot["memory"] = {{"unavailable", "cannot read /proc/meminfo: No such file or directory"}};
  snapshot["errors"] = json::parse(R"([{"section": "gpu", "message": "unknown section"}])");
  const auto report = render_diagnostics_text(snapshot);
  EXPECT_FALSE(has(report, "Memory:")) << report;
  EXPECT_TRUE(has(report,
                  "\nNot collected: memory (cannot read /proc/meminfo: No such file or "
                  "directory)\nNot collected: gpu (unknown section)\n"))
      << report;
  EXPECT_TRUE(has(report, "CPU:      Intel")) << report;
  EXPECT_GT(report.rfind("Not collected"), report.find("Network:"));
}

TEST(DiagReport, SectionsNotAskedForAreLeftOutSilently) {
  const auto report = render_diagnostics_text(
      json::parse(R"({"schema": 1, "cpu": {"model": "ARM", "logical_cores": 1}, "errors": []})"));
  EXPECT_TRUE(has(report, "CPU:      ARM, 1 logical core\n")) << report;
  EXPECT_FALSE(has(report, "Host:"));
  EXPECT_FALSE(has(report, "Storage"));
  EXPECT_FALSE(has(report, "Not collected"));
  EXPECT_FALSE(has(report, "\n\n\n")) << report;
}

TEST(DiagReport, ControlCharactersCannotReachTheTerminal) {
  const auto report = render_diagnostics_text(json{{"system", {{"hostname", "evil\x1b[2J\npc"}}}});
  EXPECT_FALSE(has(report, "\x1b")) << report;
  EXPECT_TRUE(has(report, "Host:     evil [2J pc\n")) << report;
}

TEST(DiagReport, HostileInputNeverThrows) {
  const char* const kInputs[] = {
      "null",
      "[]",
      "[1, 2, 3]",
      "\"text\"",
      "42",
      "{}",
      R"({"memory": "x"})",
      R"({"memory": {"total_bytes": "8 GB", "available_bytes": -5}})",
      R"({"memory": {"total_bytes": 0, "available_bytes": 10}})",
      R"({"memory": {"total_bytes": 10, "available_bytes": 20}})",
      R"({"storage": {"filesystems": [1, null, {}]}})",
      R"({"storage": {"filesystems": {"mount_point": "/"}}})",
      R"({"storage": {"filesystems": [{"size_bytes": 0, "free_bytes": 0, "available_bytes": 0}]}})",
      R"({"storage": {"filesystems": [{"size_bytes": -1, "available_bytes": 1e308}]}})",
      R"({"storage": null, "network": null, "system": null, "cpu": null})",
      R"({"network": {"interfaces": [null, 1, [], {"addresses": [null, 1, {"address": 5}]}]}})",
      R"({"network": {"interfaces": [{"name": ["eth0"], "addresses": {"address": "1.2.3.4"}}]}})",
      R"({"system": {"os": "Debian", "load": [1, 2, 3], "uptime_seconds": -1}})",
      R"({"system": {"uptime_seconds": 1e300, "load": {"1m": "high"}}})",
      R"({"cpu": {"logical_cores": "four", "mhz": {}}})",
      R"({"cpu": {"unavailable": null}})",
      R"({"errors": "boom"})",
      R"({"errors": [null, 1, {"section": 5}]})",
      R"({"agent": [], "collected_at": 7, "duration_ms": "fast"})",
  };
  for (const char* input : kInputs) {
    std::string report;
    ASSERT_NO_THROW(report = render_diagnostics_text(json::parse(input))) << input;
    EXPECT_FALSE(report.empty()) << input;
  }
}

TEST(DiagReport, OddInputsRenderAsQuestionMarks) {
  EXPECT_EQ(render_diagnostics_text(nullptr), "No diagnostics in this snapshot.\n");
  EXPECT_EQ(render_diagnostics_text(json::array()), "No diagnostics in this snapshot.\n");

  const auto memory = render_diagnostics_text(json::parse(R"({"memory": "x"})"));
  EXPECT_TRUE(has(memory, "Not collected: memory (no usable data)\n")) << memory;

  const auto storage =
      render_diagnostics_text(json::parse(R"({"storage": {"filesystems": [1, null, {}]}})"));
  EXPECT_TRUE(has(storage, "  ?      ?     ?     ?     ?\n")) << storage;

  const auto mistyped = render_diagnostics_text(
      json::parse(R"({"memory": {"total_bytes": "8 GB", "available_bytes": 1024}})"));
  EXPECT_TRUE(has(mistyped, "Memory:   ? total, 1.0 KiB available\n")) << mistyped;

  const auto errors = render_diagnostics_text(json::parse(R"({"errors": [{"section": 5}]})"));
  EXPECT_TRUE(has(errors, "Not collected: ? (?)\n")) << errors;

  // A NaN can only come from a program, not from parsed JSON; it still must not print "nan".
  const auto nan = render_diagnostics_text(json{
      {"memory",
       {{"total_bytes", std::numeric_limits<double>::quiet_NaN()}, {"available_bytes", 1.0}}}});
  EXPECT_TRUE(has(nan, "Memory:   ? total, 1 B available\n")) << nan;
}

TEST(FormatBytes, BinaryUnitsWithOneDecimal) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1024), "1.0 KiB");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(1048575), "1.0 MiB");  // not "1024.0 KiB"
  EXPECT_EQ(format_bytes(7.6 * 1024 * 1024 * 1024), "7.6 GiB");
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
}  // namespace tether::console
