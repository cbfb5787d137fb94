#pragma once
// What every health check works with: read-only access to the snapshot that explains, in the
// schema's words, why an input is missing; a place to put findings; and the number formatting
// the one-line summaries share. Nothing here throws on malformed snapshots: a value of the
// wrong type is treated as missing.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tether/agent/diag/thresholds.hpp"

namespace tether::agent::diag::findings {

using json = nlohmann::json;

enum class Severity { ok, info, warning, critical };

std::string_view severity_name(Severity severity);

// ---- Reading one object's members without throwing (nullptr / nullopt when absent,
// ---- null or of another type).

/// The member `key` of `object`, or nullptr when `object` is not an object, the key is absent
/// or the value is null.
const json* member(const json& object, std::string_view key);
/// A finite number (not a bool).
std::optional<double> number(const json& object, std::string_view key);
std::optional<bool> boolean(const json& object, std::string_view key);
/// A string, as a view into `object`.
std::optional<std::string_view> text(const json& object, std::string_view key);
/// An array member; nullptr otherwise.
const json* array(const json& object, std::string_view key);
/// Why `object.key` holds nothing usable, for a "skipped" reason: the collector's "unknown"
/// reason when it gave one ("disks[0].health: not root"), else what is wrong with it.
/// `label` names the object for the reader ("storage.disks[0]").
std::string why_missing(const json& object, std::string_view key, std::string_view label);

/// One run of one check: the snapshot, the thresholds and what the check concluded.
class Check {
 public:
  Check(const json& snapshot, const Thresholds& limits,
        std::optional<std::chrono::system_clock::time_point> now)
      : snapshot_(snapshot), limits_(limits), now_(now) {}

  const json& snapshot() const { return snapshot_; }
  const Thresholds& limits() const { return limits_; }
  /// The snapshot's collected_at, when it has a valid one.
  std::optional<std::chrono::system_clock::time_point> now() const { return now_; }

  /// The value at a dotted path from the snapshot's top ("memory.pressure.some_avg60"), or
  /// nullptr after noting why it is missing (the first such reason is kept; see reason()).
  const json* find(std::string_view path);
  /// find() for a finite number / bool / string / array / object; a value of another type is
  /// noted as "<path> is not a number" and so on.
  std::optional<double> find_number(std::string_view path);
  std::optional<bool> find_bool(std::string_view path);
  std::optional<std::string_view> find_text(std::string_view path);
  const json* find_array(std::string_view path);
  const json* find_object(std::string_view path);

  /// Adds a finding.
  void report(Severity severity, std::string summary, std::string hint, json evidence);
  /// Notes why the check cannot conclude, unless a reason is already noted.
  void note_missing(std::string reason);

  const std::vector<json>& findings() const { return findings_; }
  std::vector<json>& findings() { return findings_; }
  /// Why the check could not conclude; "no input" when no reason was noted.
  std::string reason() const { return reason_.empty() ? std::string("no input") : reason_; }

 private:
  const json* find_typed(std::string_view path, bool (*is_type)(const json&),
                         std::string_view type_name);

  const json& snapshot_;
  const Thresholds& limits_;
  std::optional<std::chrono::system_clock::time_point> now_;
  std::vector<json> findings_;
  std::string reason_;
};

// ---- Formatting for summaries: locale-independent, short, what df(1) or a person writes.

/// "3.1 GiB", "512 MiB", "900 KiB", "12 B".
std::string format_bytes(double bytes);
/// "96%" for whole values, "90.4%" otherwise.
std::string format_pct(double pct);
/// A plain number, with at most `decimals` decimals and no trailing zeros: "2.35", "4".
std::string format_number(double value, int decimals = 2);
/// "12 days", "5 hours", "40 minutes", "30 seconds".
std::string format_duration(double seconds);
/// "a, b, c and 2 more": the first `max_items` of `names`.
std::string join_names(const std::vector<std::string>& names, std::size_t max_items = 3);
/// "1 unit" / "3 units".
std::string count_of(double count, std::string_view singular, std::string_view plural);

/// `text` cut to at most `max_bytes` (ending in "..." when cut), never inside a UTF-8
/// sequence, so the result stays valid UTF-8.
std::string shorten(std::string_view text, std::size_t max_bytes);

/// Share of `part` in `whole` as a percentage; nullopt when whole ≤ 0.
std::optional<double> percent(double part, double whole);

}  // namespace tether::agent::diag::findings
