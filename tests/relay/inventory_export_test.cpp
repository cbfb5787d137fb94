#include "fleet/inventory_export.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fleet_fixtures.hpp"
#include "tether/protocol/time_format.hpp"

namespace tether::relay::fleet {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A strict RFC 4180 reader, to check that what the export writes reads back cell by cell.
std::vector<std::vector<std::string>> read_csv(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  std::size_t i = 0;
  bool in_row = false;
  while (i < text.size()) {
    in_row = true;
    if (text[i] == '"') {
      ++i;
      while (true) {
        if (i >= text.size()) {
          ADD_FAILURE() << "unterminated quoted cell";
          return rows;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            cell += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        cell += text[i++];
      }
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '\r' && text[i] != '\n') {
        EXPECT_NE(text[i], '"') << "quote inside an unquoted cell";
        cell += text[i++];
      }
    }
    row.push_back(std::move(cell));
    cell.clear();
    if (i < text.size() && text[i] == ',') {
      ++i;
      continue;
    }
    EXPECT_TRUE(text.compare(i, 2, "\r\n") == 0) << "row not ended by CRLF at byte " << i;
    i += 2;
    rows.push_back(std::move(row));
    row.clear();
    in_row = false;
  }
  EXPECT_FALSE(in_row) << "last row not ended by CRLF";
  return rows;
}

const char* kHeader =
    "id,hostname,group,online,last_seen,os,kernel,vendor,model,serial,cpu,cores,memory_gb,"
    "disk_total_gb,disk_free_pct_min,battery_wear_pct,critical_findings,warning_findings,"
    "software_count\r\n";

TEST(InventoryExportCsv, OneRowPerFixtureDevice) {
  EXPECT_EQ(export_csv(fixture_fleet()),
            std::string(kHeader) +
                "D-1,anna-laptop,sales,true,2026-11-30T07:55:00Z,Debian GNU/Linux 12 (bookworm),"
                "6.1.0-18-amd64,HP,HP EliteBook 840 G5,5CG7301XYZ,"
                "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz,4,8.0,238.5,40.0,27.0,1,1,6\r\n"
                "D-2,vm,lab,true,2026-11-30T08:00:00Z,Debian GNU/Linux 12 (bookworm),"
                "6.18.44-fc-v782,,,,AMD EPYC,2,23.5,256.0,63.7,,0,1,14\r\n"
                "D-3,pc-acct-01,accounting,false,2026-11-20T08:00:00Z,Ubuntu 22.04.4 LTS,"
                "5.15.0-105-generic,Dell Inc.,OptiPlex 7090,7XK2Q53,"
                "11th Gen Intel(R) Core(TM) i7-11700 @ 2.50GHz,8,16.0,1408.5,5.0,,1,1,6\r\n"
                "D-4,pc-reception,accounting,false,2026-11-27T08:00:00Z,"
                "Debian GNU/Linux 11 (bullseye),5.10.0-28-amd64,LENOVO,20HES2XR00,PF0ABCDE,"
                "Intel(R) Core(TM) i5-7200U CPU @ 2.50GHz,2,4.0,238.5,50.0,45.5,0,1,3\r\n");
}

TEST(InventoryExportCsv, NoDevicesIsTheHeaderAlone) {
  EXPECT_EQ(export_csv({}), kHeader);
  EXPECT_EQ(export_json({}), json::array());
}

TEST(InventoryExportCsv, QuotesPerRfc4180) {
  auto d = fleet_device("D-9", "a,b", false, std::nullopt, json());
  d.hostname = "say \"hi\"";
  d.inventory["system"]["kernel"] = "line one\nline two";
  d.inventory["cpu"]["model"] = "cr\rhere";
  d.inventory["firmware"]["system"]["serial"] = "\"";
  const std::string csv = export_csv({d});
  EXPECT_NE(csv.find("D-9,\"say \"\"hi\"\"\",\"a,b\",false,,,\"line one\nline two\",,,\"\"\"\","
                     "\"cr\rhere\",,,,,,,,\r\n"),
            std::string::npos)
      << csv;
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1][1], "say \"hi\"");
  EXPECT_EQ(rows[1][2], "a,b");
  EXPECT_EQ(rows[1][6], "line one\nline two");
  EXPECT_EQ(rows[1][9], "\"");
  EXPECT_EQ(rows[1][10], "cr\rhere");
}

TEST(InventoryExportCsv, FormulaInjectionIsDefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"=HYPERLINK(\"http://evil.example\",\"x\")", "'=HYPERLINK(\"http://evil.example\",\"x\")"},
      {"+1+1", "'+1+1"},
      {"-2+3", "'-2+3"},
      {"@SUM(A1:A9)", "'@SUM(A1:A9)"},
      {"\t=1", "'\t=1"},
      {"\r=1", "'\r=1"},
      {"=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"},
      {"a=1", "a=1"},
      {" =1", " =1"},
      {"'quoted", "'quoted"},
  };
  for (const auto& [value, expected] : cases) {
    // From the relay's own record and from the inventory alike.
    auto d = fleet_device(value, value, false, std::nullopt, json());
    d.hostname = value;
    d.inventory["firmware"]["system"]["product"] = value;
    d.inventory["cpu"]["model"] = value;
    const auto rows = read_csv(export_csv({d}));
    ASSERT_EQ(rows.size(), 2u) << value;
    ASSERT_EQ(rows[1].size(), inventory_export_columns().size()) << value;
    for (const std::size_t column : {0u, 1u, 2u, 8u, 10u}) {
      EXPECT_EQ(rows[1][column], expected) << value << " in column " << column;
    }
    // JSON is not a spreadsheet: values stay as they are.
    EXPECT_EQ(export_json({d})[0]["hostname"], value);
  }
}

TEST(InventoryExportCsv, OwnNumbersAreNotPrefixed) {
  auto d = fleet_device("D-9", "", false, std::nullopt, fleet_fixture("laptop.json"));
  d.inventory["power"]["batteries"][0]["wear_pct"] = -3.26;  // full above design: firmware junk
  const auto rows = read_csv(export_csv({d}));
  EXPECT_EQ(rows[1][15], "-3.3");
}

TEST(InventoryExportCsv, TextIsValidUtf8WithoutControlCharacters) {
  auto d = fleet_device("D-9", "caf\xc3\xa9", false, std::nullopt, json());
  d.hostname = "bad\xff\xfe-host";
  d.inventory["cpu"]["model"] = "red \x1b[31m alert";
  const auto rows = read_csv(export_csv({d}));
  EXPECT_EQ(rows[1][1], "bad\xef\xbf\xbd\xef\xbf\xbd-host");
  EXPECT_EQ(rows[1][2], "caf\xc3\xa9");
  EXPECT_EQ(rows[1][10], "red  [31m alert");
  const json j = export_json({d});
  EXPECT_NO_THROW((void)j.dump());
  EXPECT_EQ(j[0]["hostname"], "bad\xef\xbf\xbd\xef\xbf\xbd-host");
}

TEST(InventoryExportCsv, MalformedInventoriesGiveEmptyCells) {
  std::vector<FleetDevice> devices = {
      fleet_device("D-5", "lab", false, std::nullopt, fleet_fixture("broken.json")),
      fleet_device("D-6", "lab", false, std::nullopt, json()),
      fleet_device("D-7", "lab", true, kFleetNow, json::array({1, "two"})),
      fleet_device("D-8", "lab", true, kFleetNow, json("a string")),
  };
  std::string csv;
  ASSERT_NO_THROW(csv = export_csv(devices));
  const auto rows = read_csv(csv);
  ASSERT_EQ(rows.size(), 5u);
  for (const auto& row : rows) EXPECT_EQ(row.size(), inventory_export_columns().size());
  // broken.json: nothing usable but one finding spelled "CRITICAL" (severities compare
  // without case, as in queries) and a package list of six malformed entries.
  EXPECT_EQ(rows[1], (std::vector<std::string>{"D-5", "", "lab", "false", "", "", "", "", "", "",
                                               "", "", "", "", "", "", "1", "0", "6"}));
  EXPECT_EQ(rows[2], (std::vector<std::string>{"D-6", "", "lab", "false", "", "", "", "", "", "",
                                               "", "", "", "", "", "", "", "", ""}));
  EXPECT_EQ(rows[3][4], "2026-11-30T08:00:00Z");
  // Whatever the relay's record holds, the clock's extremes included.
  devices[0].last_seen = TimePoint::min();
  devices[1].last_seen = TimePoint::max();
  EXPECT_NO_THROW((void)export_csv(devices));
  EXPECT_NO_THROW((void)export_json(devices).dump());
  json j;
  ASSERT_NO_THROW(j = export_json(devices));
  EXPECT_TRUE(j[0]["memory_gb"].is_null());
  EXPECT_TRUE(j[1]["software_count"].is_null());
  EXPECT_NO_THROW((void)j.dump());
}

TEST(InventoryExportJson, SameFieldsTyped) {
  const json rows = export_json(fixture_fleet());
  ASSERT_EQ(rows.size(), 4u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), inventory_export_columns().size());
    for (const auto column : inventory_export_columns()) {
      EXPECT_TRUE(row.contains(std::string(column))) << column;
    }
  }
  const json expected = json::parse(R"json({
    "id": "D-1", "hostname": "anna-laptop", "group": "sales", "online": true,
    "last_seen": "2026-11-30T07:55:00Z", "os": "Debian GNU/Linux 12 (bookworm)",
    "kernel": "6.1.0-18-amd64", "vendor": "HP", "model": "HP EliteBook 840 G5",
    "serial": "5CG7301XYZ", "cpu": "Intel(R) Core(TM) i5-8250U CPU @ 1.60GHz", "cores": 4,
    "memory_gb": 8.0, "disk_total_gb": 238.5, "disk_free_pct_min": 40.0,
    "battery_wear_pct": 27.0, "critical_findings": 1, "warning_findings": 1,
    "software_count": 6})json");
  EXPECT_EQ(rows[0], expected);
  EXPECT_TRUE(rows[0]["cores"].is_number_integer());
  EXPECT_TRUE(rows[0]["critical_findings"].is_number_integer());
  EXPECT_TRUE(rows[0]["memory_gb"].is_number_float());
  EXPECT_TRUE(rows[1]["vendor"].is_null());
  EXPECT_TRUE(rows[1]["battery_wear_pct"].is_null());
  EXPECT_EQ(rows[1]["memory_gb"], 23.5);
  EXPECT_EQ(rows[2]["online"], false);
}

TEST(InventoryExportJson, RowsMatchTheCsvCells) {
  const auto devices = fixture_fleet();
  const auto csv_rows = read_csv(export_csv(devices));
  const json json_rows = export_json(devices);
  ASSERT_EQ(csv_rows.size(), json_rows.size() + 1);
  const auto& columns = inventory_export_columns();
  for (std::size_t c = 0; c < columns.size(); ++c) EXPECT_EQ(csv_rows[0][c], columns[c]);
  for (std::size_t r = 0; r < json_rows.size(); ++r) {
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const json& value = json_rows[r][std::string(columns[c])];
      const std::string& cell = csv_rows[r + 1][c];
      if (value.is_null()) {
        EXPECT_EQ(cell, "") << columns[c];
      } else if (value.is_string()) {
        EXPECT_EQ(cell, value.get<std::string>()) << columns[c];
      } else if (value.is_boolean()) {
        EXPECT_EQ(cell, value.get<bool>() ? "true" : "false") << columns[c];
      } else {
        EXPECT_DOUBLE_EQ(std::stod(cell), value.get<double>()) << columns[c];
      }
    }
  }
}

}  // namespace
}  // namespace tether::relay::fleet
