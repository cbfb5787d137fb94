#pragma once
// The fleet inventory filter language of `tether inventory query` and `tether devices`:
// comparisons on device and inventory fields joined with and / or / not, evaluated against
// each device's current diagnostics snapshot. docs/inventory.md is the user's reference
// (grammar, field table, semantics); this header is the contract for the code that calls it.

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace tether::relay::fleet {

using Clock = std::chrono::system_clock;
using TimePoint = Clock::time_point;

/// One managed device as queries and exports see it: the relay's own record plus the current
/// inventory. Plain data; the caller fills it from the device registry and inventory store.
struct FleetDevice {
  std::string id;        ///< "D-7"
  std::string group;     ///< enrollment group; "" when none
  std::string hostname;  ///< as the relay knows it; "" falls back to inventory system.hostname
  bool online = false;   ///< connected right now
  std::optional<TimePoint> last_seen;  ///< last connection or report; nullopt: never seen
  /// The current diagnostics snapshot (docs/diagnostics-schema.md, schema 2), findings
  /// included (its "findings" array). Anything else (null, a malformed or partial snapshot)
  /// is allowed: a field that is missing or of the wrong type never matches.
  nlohmann::json inventory;
};

/// A query that could not be parsed. what() is the whole message for the user, naming the
/// column and what was expected ("unknown field \"sofware.name\" at column 1; did you mean
/// software.name?"); column() is that 1-based column, counted in characters (code points).
class QueryError : public std::runtime_error {
 public:
  QueryError(std::size_t column, const std::string& message)
      : std::runtime_error(message), column_(column) {}
  std::size_t column() const { return column_; }

 private:
  std::size_t column_;
};

/// A parsed filter. Immutable after parse(): copies are cheap (shared) and one query may be
/// evaluated from many threads at once.
class InventoryQuery {
 public:
  static constexpr std::size_t kMaxBytes = 4096;  ///< longer queries are refused
  static constexpr int kMaxNesting = 32;          ///< parentheses and "not" levels
  static constexpr int kMaxComparisons = 64;

  /// Parses `text` (UTF-8). Throws QueryError, and nothing else, for any input that is not a
  /// query of the language: empty, too long, nested too deep, too many comparisons, unknown
  /// field, operator that does not apply to the field, value of the wrong kind, bad syntax.
  static InventoryQuery parse(std::string_view text);

  /// Whether `device` matches; `now` is the reference for last_seen ages. Never throws;
  /// malformed inventories simply do not match the comparisons on the broken parts.
  bool matches(const FleetDevice& device, TimePoint now) const;
  /// The same with now = Clock::now(). Evaluate a batch with one `now` so they agree.
  bool matches(const FleetDevice& device) const { return matches(device, Clock::now()); }

  /// The query in normalised form: canonical field names, keywords in lower case, single
  /// spaces around and / or, no spaces around operators, values quoted only when needed,
  /// parentheses only where they change the meaning, last_seen with an age written as
  /// last_seen_age. parse(describe()) means the same query and describes identically.
  std::string describe() const;

  struct Node;

 private:
  explicit InventoryQuery(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

/// The field names the language knows, in the order of docs/inventory.md (for help texts).
std::vector<std::string_view> inventory_query_fields();

/// Derived inventory values defined by the field table, shared with the export so a query and
/// a spreadsheet column never disagree. All return nullopt when the inputs are missing.
namespace derived {
/// Installed memory in GiB: the sum of memory.dimms[].size_bytes when every DIMM size is
/// known, else memory.total_bytes (what the kernel manages, a little under the nominal size).
std::optional<double> memory_gb(const nlohmann::json& inventory);
/// A filesystem's free share in percent: 100 - used_pct (df's view, reserved blocks count as
/// used), else available_bytes / size_bytes.
std::optional<double> free_pct(const nlohmann::json& filesystem);
/// Percent of design capacity a battery still holds: 100 - wear_pct.
std::optional<double> battery_health_pct(const nlohmann::json& battery);
}  // namespace derived

}  // namespace tether::relay::fleet
