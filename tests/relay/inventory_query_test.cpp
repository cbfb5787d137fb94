#include "fleet/inventory_query.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fleet/debian_version.hpp"
#include "fleet_fixtures.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

TimePoint at(const char* text) {
  return protocol::parse_time(text).value();
}

std::set<std::string> matching(const std::string& query, const std::vector<FleetDevice>& devices) {
  const auto q = InventoryQuery::parse(query);
  std::set<std::string> ids;
  for (const auto& d : devices) {
    if (q.matches(d, kFleetNow)) ids.insert(d.id);
  }
  return ids;
}

struct Case {
  const char* query;
  std::set<std::string> expected;
};

// ≥ 60 queries: the issue's examples first, then every field family and operator, precedence,
// not, parentheses and the same-element rule.
const Case kCases[] = {
    // The examples of the issue.
    {"software.name=openssl and software.version<3.0.14", {"D-1", "D-3", "D-4"}},
    {"storage.free_pct<10", {"D-1", "D-3"}},
    {"os.version=12", {"D-1", "D-2"}},
    {"battery.wear_pct>30", {"D-4"}},
    {"findings.id=disk.root_low", {}},
    {"findings.severity=critical", {"D-1", "D-3"}},
    {"last_seen>7d", {"D-3"}},
    {"online=false", {"D-3", "D-4"}},
    {"hardware.memory_gb<8", {"D-4"}},
    {"cpu.model~i5", {"D-1", "D-4"}},
    {"group=accounting", {"D-3", "D-4"}},
    {"hostname~pc-", {"D-3", "D-4"}},
    // Device fields.
    {"id=D-3", {"D-3"}},
    {"id=d-3", {"D-3"}},
    {"group!=accounting", {"D-1", "D-2"}},
    {"hostname=VM", {"D-2"}},
    {"hostname=anna-laptop", {"D-1"}},
    {"online=true", {"D-1", "D-2"}},
    {"online=TRUE", {"D-1", "D-2"}},
    {"online!=true", {"D-3", "D-4"}},
    {"last_seen_age<1h", {"D-1", "D-2"}},
    {"last_seen_age>=3d", {"D-3", "D-4"}},
    {"last_seen_age>3d", {"D-3"}},
    {"last_seen<7d", {"D-1", "D-2", "D-4"}},
    {"last_seen>2026-11-25", {"D-1", "D-2", "D-4"}},
    {"last_seen<2026-11-21T00:00:00Z", {"D-3"}},
    {"last_seen=2026-11-30T08:00:00Z", {"D-2"}},
    // OS.
    {"os.name=\"Debian GNU/Linux\"", {"D-1", "D-2", "D-4"}},
    {"os.name=debian", {}},
    {"os.name~debian", {"D-1", "D-2", "D-4"}},
    {"os.name!=ubuntu", {"D-1", "D-2", "D-4"}},
    {"os.name!~ubuntu", {"D-1", "D-2", "D-4"}},
    {"os.id=debian", {"D-1", "D-2", "D-4"}},
    {"os.version<12", {"D-4"}},
    {"os.version>=22.04", {"D-3"}},
    {"os.version<=12", {"D-1", "D-2", "D-4"}},
    {"os.codename=jammy", {"D-3"}},
    {"os.kernel<6", {"D-3", "D-4"}},
    {"os.kernel>=6.1", {"D-1", "D-2"}},
    {"os.kernel~generic", {"D-3"}},
    {"os.arch=x86_64", {"D-1", "D-2", "D-3", "D-4"}},
    // Hardware and CPU; the VM has no DMI data, so nothing about its hardware matches.
    {"hardware.vendor=hp", {"D-1"}},
    {"hardware.vendor~dell", {"D-3"}},
    {"hardware.model!~elitebook", {"D-3", "D-4"}},
    {"hardware.serial=5CG7301XYZ", {"D-1"}},
    {"hardware.chassis=laptop", {"D-1", "D-4"}},
    {"hardware.memory_gb=8", {"D-1"}},
    {"hardware.memory_gb>=16", {"D-2", "D-3"}},
    {"hardware.memory_gb>23.5 and hardware.memory_gb<23.6", {"D-2"}},
    {"cpu.cores>=4", {"D-1", "D-3"}},
    {"cpu.cores<=2", {"D-2", "D-4"}},
    {"cpu.cores!=2", {"D-1", "D-3"}},
    {"cpu.model!~intel", {"D-2"}},
    {"cpu.model~\"i5\"", {"D-1", "D-4"}},
    {"cpu.threads>8", {"D-3"}},
    // Storage, one element per filesystem.
    {"storage.mount=\"/media/anna/My Backup Disk\"", {"D-1"}},
    {"storage.mount=/home", {"D-3"}},
    {"storage.type=exfat", {"D-1"}},
    {"storage.size_gb>900", {"D-3"}},
    {"storage.free_gb<1", {"D-1"}},
    {"storage.free_pct<10 and storage.read_only=false", {"D-3"}},
    {"storage.free_pct<10 and (storage.read_only=false)", {"D-1", "D-3"}},
    {"storage.mount=\"/media/anna/My Backup Disk\" and storage.free_pct<5", {"D-1"}},
    {"storage.mount=/ and storage.free_pct<10", {"D-3"}},
    // Batteries: D-4 has a worn BAT0 (931 cycles) and a healthy BAT1 (120 cycles).
    {"battery.cycles>500", {"D-1", "D-4"}},
    {"battery.health<60", {"D-4"}},
    {"battery.status=unknown", {"D-4"}},
    {"battery.wear_pct>30 and battery.cycles<200", {}},
    {"battery.wear_pct>30 and (battery.cycles<200)", {"D-4"}},
    {"not battery.wear_pct>=0", {"D-2", "D-3"}},
    // Software.
    {"software.name=zoom", {"D-3"}},
    {"software.name~gimp", {"D-1"}},
    {"software.source=snap", {"D-3"}},
    {"software.source=flatpak or software.source=snap", {"D-1", "D-3"}},
    {"software.name=openssl and software.version>=3.0.14", {"D-2"}},
    {"software.name=openssl and software.version=3.0.2-0ubuntu1.15", {"D-3"}},
    {"software.name=libreoffice-core and software.version>7.4", {"D-3"}},
    {"software.name=tether-agent and software.version<1.0", {"D-3"}},
    {"software.name=tether-agent and software.version>=1.0~rc1", {"D-3"}},
    {"software.name=tether-agent and software.version=1.0", {}},
    {"software.name=clang-16 and software.version>16.0.6", {"D-2"}},
    {"software.version~esr", {"D-1"}},
    {"software.arch=x86_64", {"D-1"}},
    {"software.name=openssl and software.name=bash", {}},
    {"software.name=openssl and (software.name=bash)", {"D-1", "D-2", "D-4"}},
    {"software.name!=openssl", {"D-1", "D-2", "D-3", "D-4"}},
    {"not software.name=zoom", {"D-1", "D-2", "D-4"}},
    {"software.name=openssl and software.version<3.0.14 and hostname~pc-", {"D-3", "D-4"}},
    // Network: ipv4 and ipv6 are the addresses of one interface.
    {"network.ipv4=10.20.0.15", {"D-3"}},
    {"network.ipv4~10.20.", {"D-3", "D-4"}},
    {"network.ipv6~fe80::", {"D-1", "D-2", "D-3"}},
    {"network.mac=E8:6A:64:11:22:33", {"D-1"}},
    {"network.name=wlp2s0 and network.state=up", {"D-1", "D-4"}},
    {"network.name=enp0s31f6 and network.state=up", {}},
    {"network.name=lo and network.ipv4=10.20.0.77", {}},
    {"network.name=wlp2s0 and network.ipv4~10.", {"D-4"}},
    {"network.type=wireless", {"D-1", "D-4"}},
    // Findings; severities are ordered ok < info < warning < critical.
    {"findings.severity>=warning", {"D-1", "D-2", "D-3", "D-4"}},
    {"findings.severity>warning", {"D-1", "D-3"}},
    {"findings.severity=ok", {"D-1", "D-2", "D-3", "D-4"}},
    {"findings.id=battery.wear and findings.severity=warning", {"D-1", "D-4"}},
    {"findings.id=memory.available and findings.severity=critical", {}},
    {"findings.id=disk.space and findings.severity=critical", {"D-1", "D-3"}},
    {"findings.id=disk.space and findings.severity<critical", {"D-2"}},
    {"not findings.severity=critical", {"D-2", "D-4"}},
    // Precedence: and before or; not before both; parentheses.
    {"group=lab or group=accounting and online=false", {"D-2", "D-3", "D-4"}},
    {"(group=lab or group=accounting) and online=false", {"D-3", "D-4"}},
    {"not group=accounting and online=true", {"D-1", "D-2"}},
    {"not (group=accounting or group=lab)", {"D-1"}},
    {"not not online=true", {"D-1", "D-2"}},
    {"os.name~debian and (battery.wear_pct>30 or hardware.memory_gb>=16)", {"D-2", "D-4"}},
    {"hostname~pc- and not (software.name=openssl and software.version<3.0)", {"D-3"}},
    {"((((group=sales))))", {"D-1"}},
    {"group=sales or group=lab or group=accounting", {"D-1", "D-2", "D-3", "D-4"}},
    {"GROUP=Sales OR Group=LAB", {"D-1", "D-2"}},
};

TEST(InventoryQueryTable, EveryQueryMatchesTheExpectedDevices) {
  const auto devices = fixture_fleet();
  ASSERT_GE(std::size(kCases), 60u);
  for (const auto& c : kCases) {
    EXPECT_EQ(matching(c.query, devices), c.expected) << c.query;
  }
}

TEST(InventoryQueryTable, DescribedQueriesMatchTheSameDevices) {
  const auto devices = fixture_fleet();
  for (const auto& c : kCases) {
    const std::string described = InventoryQuery::parse(c.query).describe();
    EXPECT_EQ(matching(described, devices), c.expected) << c.query << " → " << described;
    EXPECT_EQ(InventoryQuery::parse(described).describe(), described) << c.query;
  }
}

TEST(InventoryQuery, MatchesWithoutNowUsesTheClock) {
  auto d = fixture_fleet()[0];
  d.last_seen = Clock::now() - 1h;
  EXPECT_TRUE(InventoryQuery::parse("last_seen_age<2h").matches(d));
  EXPECT_FALSE(InventoryQuery::parse("last_seen_age<30m").matches(d));
}

TEST(InventoryQuery, HostnameFallsBackToTheInventory) {
  auto d = fixture_fleet()[1];
  EXPECT_TRUE(InventoryQuery::parse("hostname=vm").matches(d, kFleetNow));
  d.hostname = "build-01";
  EXPECT_FALSE(InventoryQuery::parse("hostname=vm").matches(d, kFleetNow));
  EXPECT_TRUE(InventoryQuery::parse("hostname=build-01").matches(d, kFleetNow));
}

TEST(InventoryQuery, ANeverSeenDeviceHasNoAge) {
  auto d = fixture_fleet()[0];
  d.last_seen.reset();
  for (const char* q :
       {"last_seen>7d", "last_seen<7d", "last_seen_age>=0s", "last_seen>2000-01-01"}) {
    EXPECT_FALSE(InventoryQuery::parse(q).matches(d, kFleetNow)) << q;
  }
  EXPECT_TRUE(InventoryQuery::parse("not last_seen_age>=0s").matches(d, kFleetNow));
}

TEST(InventoryQuery, AgeUnits) {
  auto d = fixture_fleet()[0];
  d.last_seen = kFleetNow - 90s;
  for (const char* q :
       {"last_seen_age>89s", "last_seen_age<2m", "last_seen_age<1h", "last_seen_age<1d",
        "last_seen_age<1w", "last_seen_age=90s", "last_seen_age>=90s", "last_seen_age<=90s",
        "last_seen_age>0s", "last_seen>1m"}) {
    EXPECT_TRUE(InventoryQuery::parse(q).matches(d, kFleetNow)) << q;
  }
  for (const char* q :
       {"last_seen_age>90s", "last_seen_age<1m", "last_seen_age!=90s", "last_seen>2m"}) {
    EXPECT_FALSE(InventoryQuery::parse(q).matches(d, kFleetNow)) << q;
  }
}

TEST(InventoryQuery, OddDatesParseOrFailCleanly) {
  const auto d = fixture_fleet()[0];
  for (const char* q : {"last_seen>0000-00-00", "last_seen>2026-02-30", "last_seen>9999-12-31",
                        "last_seen>-001-01-01", "last_seen>2026-1-1",
                        "last_seen>2026-11-01T25:00:00Z", "last_seen>2026-11-01T08:00:00",
                        "last_seen>99999999999999999999d", "last_seen_age>9999999999w"}) {
    try {
      (void)InventoryQuery::parse(q).matches(d, kFleetNow);
    } catch (const QueryError& e) {
      EXPECT_GE(e.column(), 11u) << q;
    }
  }
  EXPECT_THROW((void)InventoryQuery::parse("last_seen>2026-02-30"), QueryError);
  EXPECT_TRUE(InventoryQuery::parse("last_seen>2000-01-01").matches(d, kFleetNow));
  EXPECT_FALSE(InventoryQuery::parse("last_seen>2200-12-31").matches(d, kFleetNow));
  // The clock cannot hold those years; they are refused rather than wrapped around.
  EXPECT_THROW((void)InventoryQuery::parse("last_seen>9999-12-31"), QueryError);
  EXPECT_THROW((void)InventoryQuery::parse("last_seen<1500-01-01"), QueryError);
  // Ages stay right at the ends of the clock's range.
  auto extreme = d;
  extreme.last_seen = TimePoint::min();
  EXPECT_TRUE(InventoryQuery::parse("last_seen>7d").matches(extreme, kFleetNow));
  extreme.last_seen = TimePoint::max();
  EXPECT_TRUE(InventoryQuery::parse("last_seen<1s").matches(extreme, kFleetNow));
}

// ---- Malformed inventories

TEST(InventoryQueryRobustness, MalformedInventoriesNeverMatchTheBrokenParts) {
  const auto broken = fleet_device("D-5", "lab", false, std::nullopt, fleet_fixture("broken.json"));
  const auto empty = fleet_device("D-6", "lab", false, std::nullopt, json());
  const auto wrong_root = fleet_device("D-7", "lab", false, std::nullopt, json::array({1, 2, 3}));
  for (const auto& c : kCases) {
    const auto q = InventoryQuery::parse(c.query);
    EXPECT_NO_THROW((void)q.matches(broken, kFleetNow)) << c.query;
    EXPECT_NO_THROW((void)q.matches(empty, kFleetNow)) << c.query;
    EXPECT_NO_THROW((void)q.matches(wrong_root, kFleetNow)) << c.query;
  }
  const std::vector<FleetDevice> devices = {broken, empty, wrong_root};
  // Wrong types read as missing: none of these match, whatever the operator.
  for (const char* q : {"hostname~a",
                        "os.name~debian",
                        "os.kernel>0",
                        "cpu.cores>0",
                        "cpu.cores<100",
                        "cpu.threads=1",
                        "hardware.vendor~a",
                        "hardware.chassis~a",
                        "storage.mount=/",
                        "storage.free_pct>=0",
                        "storage.free_pct<=100",
                        "battery.wear_pct>0",
                        "network.ipv4~.",
                        "network.mac~:",
                        "software.name=openssl and software.version>0",
                        "software.name=openssl and software.version<3",
                        "findings.id=disk.space and findings.severity>=ok",
                        "hardware.memory_gb>0",
                        "os.name!=ubuntu",
                        "software.name!=openssl"}) {
    EXPECT_EQ(matching(q, devices), std::set<std::string>{}) << q;
  }
  // What is well-formed still counts: the package named openssl with no version, the one with
  // a version but no name, the finding without a severity, the filesystem without sizes, the
  // interface name, the severity written in capitals, the device's own fields.
  EXPECT_EQ(matching("software.name=openssl", devices), std::set<std::string>{"D-5"});
  EXPECT_EQ(matching("software.version>0", devices), std::set<std::string>{"D-5"});  // nameless
  EXPECT_EQ(matching("findings.id=disk.space", devices), std::set<std::string>{"D-5"});
  EXPECT_EQ(matching("storage.mount=/data", devices), std::set<std::string>{"D-5"});
  EXPECT_EQ(matching("network.name=eth0", devices), std::set<std::string>{"D-5"});
  EXPECT_EQ(matching("findings.severity=critical", devices), std::set<std::string>{"D-5"});
  EXPECT_EQ(matching("group=lab and online=false", devices),
            (std::set<std::string>{"D-5", "D-6", "D-7"}));
  EXPECT_EQ(matching("not cpu.cores>0", devices), (std::set<std::string>{"D-5", "D-6", "D-7"}));
}

// ---- Versions

TEST(InventoryQueryVersion, DebianOrder) {
  // Checked against `dpkg --compare-versions`.
  const struct {
    const char* a;
    const char* b;
    int order;
  } cases[] = {
      {"3.0.14", "3.0.2", 1},
      {"1:2.0", "3.0", 1},
      {"1.0~rc1", "1.0", -1},
      {"1.0", "1.00", 0},
      {"1.0.1", "1.0a", 1},
      {"1.0~~", "1.0~", -1},
      {"1.0~", "1.0", -1},
      {"1.0+b1", "1.0", 1},
      {"2.36-9+deb12u3", "2.36-9+deb12u14", -1},
      {"0:1.0", "1.0", 0},
      {"1.2.3", "1.2.3-0", 0},
      {"3.0.11-1~deb12u2", "3.0.11-1", -1},
      {"1:7.3.7-0ubuntu0.22.04.4", "7.4", 1},
      {"22.04", "12", 1},
      {"6.1.0-18-amd64", "6", 1},
      {"5.15.0-105-generic", "6.1", -1},
      {"115.5.0esr-1~deb12u1", "115.5.0", 1},
      {"2025b-0+deb12u2", "2025a", 1},
      {"1.0-1", "1.0-1.1", -1},
      {"1.0-a", "1.0-1", 1},
      {"99999999999999999999999.1", "99999999999999999999998.2", 1},
      {"", "", 0},
      {"", "0", 0},
  };
  for (const auto& c : cases) {
    const int forward = compare_debian_versions(c.a, c.b);
    const int backward = compare_debian_versions(c.b, c.a);
    EXPECT_EQ((forward > 0) - (forward < 0), c.order) << c.a << " vs " << c.b;
    EXPECT_EQ((backward > 0) - (backward < 0), -c.order) << c.b << " vs " << c.a;
  }
}

TEST(InventoryQueryVersion, EdgeCasesThroughTheLanguage) {
  auto d = fixture_fleet()[0];
  const auto with_version = [&](const char* version) {
    d.inventory["software"]["packages"] = json::array({{{"name", "pkg"}, {"version", version}}});
    return d;
  };
  const struct {
    const char* installed;
    const char* query;
    bool expected;
  } cases[] = {
      {"3.0.2", "software.version<3.0.14", true},
      {"3.0.14", "software.version>3.0.2", true},
      {"3.0.14", "software.version=3.0.14", true},
      {"1:2.0", "software.version>3.0", true},
      {"1:2.0", "software.version<1:3.0", true},
      {"1.0~rc1", "software.version<1.0", true},
      {"1.0~rc1", "software.version>1.0~beta2", true},
      {"1.0", "software.version>1.0~rc1", true},
      {"1.0", "software.version=1.00", true},
      {"1.0", "software.version!=1.0", false},
      {"1.0", "software.version~1.", true},
      {"1.0", "software.version!~rc", true},
      {"3.0.14-1~deb12u1", "software.version>=3.0.14", true},
      {"3.0.14-1~deb12u1", "software.version<3.0.14-1", true},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(InventoryQuery::parse(c.query).matches(with_version(c.installed), kFleetNow),
              c.expected)
        << c.installed << " / " << c.query;
  }
}

// ---- Errors

struct ErrorCase {
  std::string query;
  std::size_t column;
  std::string message;
};

TEST(InventoryQueryErrors, NameTheColumnAndWhatWasExpected) {
  const ErrorCase cases[] = {
      {"sofware.name=openssl", 1,
       "unknown field \"sofware.name\" at column 1; did you mean software.name?"},
      {"software.name=openssl and software.verison<3", 27,
       "unknown field \"software.verison\" at column 27; did you mean software.version?"},
      {"software=openssl", 1,
       "unknown field \"software\" at column 1; did you mean software.name, software.version, "
       "software.source or software.arch?"},
      {"colour=blue", 1,
       "unknown field \"colour\" at column 1; the fields are listed in docs/inventory.md"},
      {"", 1, "empty query at column 1; expected a comparison such as os.name=debian"},
      {"   ", 1, "empty query at column 1; expected a comparison such as os.name=debian"},
      {"os.name", 8,
       "expected an operator (= != < <= > >= ~ !~) after os.name at column 8, got the end of "
       "the query"},
      {"os.name debian", 9,
       "expected an operator (= != < <= > >= ~ !~) after os.name at column 9, got \"debian\""},
      {"os.name=", 9, "expected a value after os.name= at column 9, got the end of the query"},
      {"os.name=(", 9, "expected a value after os.name= at column 9, got \"(\""},
      {"os.name ! debian", 9, "expected \"!=\" or \"!~\" at column 9"},
      {"os.name=debian and", 19,
       "expected a field name, \"(\" or \"not\" at column 19, got the end of the query"},
      {"=debian", 1, "expected a field name, \"(\" or \"not\" at column 1, got \"=\""},
      {"not", 4, "expected a field name, \"(\" or \"not\" at column 4, got the end of the query"},
      {"os.name=debian os.id=debian", 16,
       "expected \"and\", \"or\" or the end of the query at column 16, got \"os.id\""},
      {"os.name=debian)", 15, "unexpected \")\" at column 15 (no \"(\" is open)"},
      {"(os.name=debian", 16,
       "expected \"and\", \"or\" or \")\" at column 16 to close the \"(\" at column 1, got the end "
       "of the query"},
      {"cpu.cores~4", 10,
       "operator ~ does not apply to cpu.cores (a number) at column 10; use = != < <= > >="},
      {"online<true", 7,
       "operator < does not apply to online (true or false) at column 7; use = or !="},
      {"findings.severity~crit", 18,
       "operator ~ does not apply to findings.severity (a severity) at column 18; use = != < <= "
       "> >="},
      {"hardware.memory_gb<eight", 20,
       "expected a number for hardware.memory_gb at column 20, got \"eight\""},
      {"hardware.memory_gb<1e3", 20,
       "expected a number for hardware.memory_gb at column 20, got \"1e3\""},
      {"online=maybe", 8, "expected true or false for online at column 8, got \"maybe\""},
      {"findings.severity=bad", 19,
       "expected ok, info, warning or critical for findings.severity at column 19, got \"bad\""},
      {"last_seen>7x", 11,
       "expected an age (7d, 12h, 30m) or a date (2026-11-01 or 2026-11-01T08:00:00Z) for "
       "last_seen at column 11, got \"7x\""},
      {"last_seen_age>2026-11-01", 15,
       "expected an age such as 90s, 30m, 12h, 7d or 2w for last_seen_age at column 15, got "
       "\"2026-11-01\""},
      {"os.name=\"debian", 9, "unterminated string at column 9; expected a closing \""},
      {"os.name=\"a\\qb\"", 11,
       R"(unknown escape in string at column 11; only \" and \\ are allowed)"},
      {"os.name=\x01", 9, "unexpected control character at column 9"},
      {"os.name=\"a\x1b[31m\"", 11, "unexpected control character in string at column 11"},
      {"os.name=\xff", 9, "invalid UTF-8 at column 9"},
      {"os.name=\"\xc3\"", 10, "invalid UTF-8 at column 10"},
      // Columns count characters, not bytes: "é" is one column.
      {"hostname=é and sofware.name=x", 16,
       "unknown field \"sofware.name\" at column 16; did you mean software.name?"},
  };
  for (const auto& c : cases) {
    try {
      (void)InventoryQuery::parse(c.query);
      ADD_FAILURE() << "no error for " << c.query;
    } catch (const QueryError& e) {
      EXPECT_EQ(e.column(), c.column) << c.query;
      EXPECT_EQ(std::string(e.what()), c.message) << c.query;
    }
  }
}

std::string repeat(std::string_view part, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += part;
  return out;
}

std::size_t error_column(const std::string& query) {
  try {
    (void)InventoryQuery::parse(query);
  } catch (const QueryError& e) {
    return e.column();
  }
  return 0;
}

TEST(InventoryQueryErrors, Limits) {
  // 4 KiB.
  std::string longest = "hostname=\"" + std::string(4096 - 11, 'a') + "\"";
  ASSERT_EQ(longest.size(), 4096u);
  EXPECT_NO_THROW((void)InventoryQuery::parse(longest));
  EXPECT_THROW((void)InventoryQuery::parse(longest + " "), QueryError);
  EXPECT_EQ(error_column(longest + " "), 1u);

  // 32 levels of nesting, parentheses and "not" alike.
  EXPECT_NO_THROW((void)InventoryQuery::parse(repeat("(", 32) + "online=true" + repeat(")", 32)));
  EXPECT_EQ(error_column(repeat("(", 33) + "online=true" + repeat(")", 33)), 33u);
  EXPECT_NO_THROW((void)InventoryQuery::parse(repeat("not ", 32) + "online=true"));
  EXPECT_EQ(error_column(repeat("not ", 33) + "online=true"), 129u);
  EXPECT_EQ(error_column(repeat("not (", 17) + "online=true" + repeat(")", 17)), 81u);
  // Deep nesting is refused long before the 4 KiB limit, so parsing cannot exhaust the stack.
  EXPECT_THROW((void)InventoryQuery::parse(repeat("(", 4000)), QueryError);
  EXPECT_THROW((void)InventoryQuery::parse(repeat("not ", 1000) + "online=true"), QueryError);

  // 64 comparisons.
  std::string chain = "cpu.cores=0";
  for (int i = 1; i < 64; ++i) chain += " or cpu.cores=" + std::to_string(i);
  const auto q = InventoryQuery::parse(chain);
  EXPECT_TRUE(q.matches(fixture_fleet()[0], kFleetNow));  // 4 cores
  EXPECT_EQ(error_column(chain + " or cpu.cores=64"), chain.size() + 5);
  try {
    (void)InventoryQuery::parse(chain + " or cpu.cores=64");
  } catch (const QueryError& e) {
    EXPECT_NE(std::string(e.what()).find("too many comparisons"), std::string::npos) << e.what();
  }
}

// ---- describe()

TEST(InventoryQueryDescribe, Normalises) {
  const std::pair<const char*, const char*> cases[] = {
      {"  SOFTWARE.NAME = openssl  AND software.version < 3.0.14 ",
       "software.name=openssl and software.version<3.0.14"},
      {"last_seen>7d", "last_seen_age>7d"},
      {"last_seen<2026-11-01", "last_seen<2026-11-01"},
      {"group=lab OR group=accounting and online=FALSE",
       "group=lab or group=accounting and online=false"},
      {"(group=lab or group=accounting) and online=false",
       "(group=lab or group=accounting) and online=false"},
      {"((os.id=debian))", "os.id=debian"},
      {"not (os.id=debian)", "not os.id=debian"},
      {"not (os.id=debian and online=true)", "not (os.id=debian and online=true)"},
      {"not(not(online=true))", "not not online=true"},
      {"(os.id=debian) and online=true", "os.id=debian and online=true"},
      // Parentheses that separate element groups stay.
      {"software.name=x and (software.version<3)", "software.name=x and (software.version<3)"},
      {"online=true and (software.name=x and software.version<3)",
       "online=true and (software.name=x and software.version<3)"},
      {"group=a or (group=b or group=c)", "group=a or group=b or group=c"},
      {"(group=a and online=true) or group=c", "group=a and online=true or group=c"},
      {"storage.mount=\"/media/anna/My Backup Disk\"",
       "storage.mount=\"/media/anna/My Backup Disk\""},
      {"hostname=\"pc\"", "hostname=pc"},
      {R"(hostname="a\"b\\c")", R"(hostname="a\"b\\c")"},
      {"hostname=\"\"", "hostname=\"\""},
      {"hostname=\"a=b\"", "hostname=a=b"},
      {"software.version<\"3.0.11-1~deb12u2\"", "software.version<3.0.11-1~deb12u2"},
      {"group=and", "group=and"},
      {"group=\"or\"", "group=or"},
      {"findings.severity=CRITICAL", "findings.severity=critical"},
      {"cpu.model~I5", "cpu.model~I5"},
      {"hostname=é", "hostname=é"},
  };
  for (const auto& [query, normal] : cases) {
    const std::string described = InventoryQuery::parse(query).describe();
    EXPECT_EQ(described, normal) << query;
    EXPECT_EQ(InventoryQuery::parse(described).describe(), described) << query;
  }
}

TEST(InventoryQuery, KeywordsAreValuesAfterAnOperator) {
  auto d = fixture_fleet()[0];
  d.group = "and";
  EXPECT_TRUE(InventoryQuery::parse("group=and").matches(d, kFleetNow));
  EXPECT_TRUE(InventoryQuery::parse("group=and and online=true").matches(d, kFleetNow));
  EXPECT_TRUE(InventoryQuery::parse("group=\"AND\"").matches(d, kFleetNow));
}

TEST(InventoryQuery, FieldListCoversTheExamples) {
  const auto fields = inventory_query_fields();
  for (const char* name : {"id",
                           "group",
                           "hostname",
                           "online",
                           "last_seen",
                           "last_seen_age",
                           "os.name",
                           "os.version",
                           "os.kernel",
                           "hardware.vendor",
                           "hardware.model",
                           "hardware.serial",
                           "hardware.memory_gb",
                           "cpu.model",
                           "cpu.cores",
                           "storage.mount",
                           "storage.size_gb",
                           "storage.free_gb",
                           "storage.free_pct",
                           "battery.wear_pct",
                           "battery.cycles",
                           "battery.health",
                           "software.name",
                           "software.version",
                           "software.source",
                           "network.mac",
                           "network.ipv4",
                           "findings.id",
                           "findings.severity"}) {
    EXPECT_NE(std::find(fields.begin(), fields.end(), name), fields.end()) << name;
  }
}

// ---- docs/inventory.md stays true

std::vector<std::string> doc_section(const std::string& heading) {
  std::ifstream in(std::string(TETHER_SOURCE_DIR) + "/docs/inventory.md");
  EXPECT_TRUE(in);
  std::vector<std::string> lines;
  bool inside = false;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("## ")) inside = line == "## " + heading;
    if (inside) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> backticked(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t open = text.find('`'); open != std::string::npos;) {
    const std::size_t close = text.find('`', open + 1);
    if (close == std::string::npos) break;
    out.push_back(text.substr(open + 1, close - open - 1));
    open = text.find('`', close + 1);
  }
  return out;
}

TEST(InventoryQueryDocs, EveryQueryAtAGlanceParses) {
  int queries = 0;
  for (const auto& line : doc_section("Queries at a glance")) {
    if (!line.starts_with("| ") || line.starts_with("| You want")) continue;
    const std::string query_column = line.substr(line.find(" | ") + 3);
    for (const auto& query : backticked(query_column)) {
      EXPECT_NO_THROW((void)InventoryQuery::parse(query)) << query;
      ++queries;
    }
  }
  EXPECT_GE(queries, 15);
}

TEST(InventoryQueryDocs, FieldTableListsEveryFieldInOrder) {
  std::vector<std::string> documented;
  for (const auto& line : doc_section("Fields")) {
    if (line.starts_with("| `")) documented.push_back(backticked(line).front());
  }
  const auto fields = inventory_query_fields();
  EXPECT_EQ(documented, std::vector<std::string>(fields.begin(), fields.end()));
}

// ---- Fuzz-ish robustness: random input either parses or throws QueryError, nothing else;
// what parses evaluates on every device and describes to a query that parses the same.

TEST(InventoryQueryRobustness, RandomInputOnlyEverThrowsQueryError) {
  const std::vector<std::string> pieces = {"software.name",
                                           "software.version",
                                           "storage.free_pct",
                                           "findings.severity",
                                           "last_seen",
                                           "online",
                                           "network.ipv4",
                                           "hostname",
                                           "cpu.cores",
                                           "=",
                                           "!=",
                                           "<",
                                           "<=",
                                           ">",
                                           ">=",
                                           "~",
                                           "!~",
                                           "!",
                                           " and ",
                                           " or ",
                                           "not ",
                                           "(",
                                           ")",
                                           "\"",
                                           "\\",
                                           "\\\"",
                                           " ",
                                           "3.0.14",
                                           "1:2.0~rc1",
                                           "7d",
                                           "true",
                                           "critical",
                                           "é",
                                           "\xff",
                                           "\x01",
                                           "-",
                                           "2026-11-01",
                                           "\t",
                                           "\n",
                                           "\xe2\x82"};
  auto devices = fixture_fleet();
  devices.push_back(fleet_device("D-5", "lab", false, std::nullopt, fleet_fixture("broken.json")));
  devices.push_back(fleet_device("D-6", "lab", false, std::nullopt, json()));
  const std::vector<std::string> comparisons = {"software.name=openssl",
                                                "software.version<3.0.14",
                                                "storage.free_pct<10",
                                                "online=true",
                                                "findings.severity>=warning",
                                                "last_seen>7d",
                                                "network.ipv4~10.",
                                                "cpu.cores!=2",
                                                "hostname!~pc-",
                                                "software.version>1:2.0~rc1",
                                                "group=\"a \\\"b\""};
  std::mt19937 random(20261130);
  int parsed = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string input;
    if (round % 2 == 0) {
      // Query-shaped: comparisons, keywords and parentheses in random order.
      const int length = static_cast<int>(random() % 10);
      for (int i = 0; i < length; ++i) {
        switch (random() % 6) {
          case 0:
            input += " and ";
            break;
          case 1:
            input += " or ";
            break;
          case 2:
            input += "not ";
            break;
          case 3:
            input += random() % 2 ? "(" : ")";
            break;
          default:
            input += comparisons[random() % comparisons.size()];
        }
      }
    } else {
      const int length = static_cast<int>(random() % 24);
      for (int i = 0; i < length; ++i) {
        if (random() % 8 == 0) {
          input += static_cast<char>(random() % 256);
        } else {
          input += pieces[random() % pieces.size()];
        }
      }
    }
    try {
      const auto q = InventoryQuery::parse(input);
      ++parsed;
      const std::string described = q.describe();
      const auto again = InventoryQuery::parse(described);
      EXPECT_EQ(again.describe(), described) << input;
      for (const auto& d : devices)
        EXPECT_EQ(q.matches(d, kFleetNow), again.matches(d, kFleetNow)) << input;
    } catch (const QueryError& e) {
      EXPECT_GE(e.column(), 1u) << input;
      EXPECT_LE(e.column(), input.size() + 1) << input;
      EXPECT_FALSE(std::string(e.what()).empty());
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected " << e.what() << " for " << input;
    }
  }
  EXPECT_GT(parsed, 300);  // the generator does reach valid queries
}

TEST(InventoryQueryRobustness, RandomBytesOnlyEverThrowQueryError) {
  std::mt19937 random(7);
  for (int round = 0; round < 20000; ++round) {
    std::string input(random() % 64, '\0');
    for (char& c : input) c = static_cast<char>(random() % 256);
    try {
      (void)InventoryQuery::parse(input);
    } catch (const QueryError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "unexpected " << e.what();
    }
  }
}

}  // namespace
}  // namespace tether::relay::fleet
