#pragma once
// The fleet inventory as one row per device, for `tether inventory export --format csv|json`:
// the columns of docs/inventory.md ("Export"), typed in JSON, RFC 4180 text with
// spreadsheet formula-injection protection in CSV. Pure functions over FleetDevice.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "fleet/inventory_query.hpp"

namespace tether::relay::fleet {

/// The export's column names in order: the CSV header and the JSON keys.
const std::vector<std::string_view>& inventory_export_columns();

/// One header line and one line per device, in the order given. RFC 4180: fields separated by
/// commas, lines ended by CRLF, a field holding a comma, quote, CR or LF in double quotes with
/// quotes doubled. Text that comes from devices is made safe for spreadsheets: a cell starting
/// with = + - @ TAB or CR gets a leading single quote (OWASP "CSV injection"), invalid UTF-8
/// becomes U+FFFD and other control characters spaces. Unknown values are empty cells.
/// Numbers use "." and one decimal for sizes and percentages, whatever the locale. Never throws
/// on malformed inventories.
std::string export_csv(const std::vector<FleetDevice>& devices);

/// The same rows as an array of objects keyed by column name, typed: text as strings (valid
/// UTF-8, no quote prefix), online as a boolean, counts as integers, sizes and percentages as
/// numbers rounded to one decimal, last_seen as an ISO 8601 UTC string; unknown values null.
nlohmann::json export_json(const std::vector<FleetDevice>& devices);

}  // namespace tether::relay::fleet
