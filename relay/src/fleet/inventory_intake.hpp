#pragma once
// What the relay does with a managed device's inventory_report before it stores anything:
// checks the report against itself (every sent section hashes to what it claims) and against
// what the relay holds (a section not sent must be one the relay has with the same hash),
// bounds what it keeps, and works out the history lines. Pure: the caller loads the current
// inventory and stores the update in one transaction, so a report is stored whole or not at
// all.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "tether/protocol/message.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay::fleet {

/// After this many delta reports in a row the relay asks for a full one.
inline constexpr int kFullInventoryEvery = 20;
/// Longest list kept anywhere in a section or the live part; longer ones are cut.
inline constexpr std::size_t kMaxInventoryListItems = 20000;
/// Longest text kept; longer text is cut (at a UTF-8 boundary) and marked with "…".
inline constexpr std::size_t kMaxInventoryTextBytes = 4096;

struct InventoryIntake {
  /// Why the report was not stored (for the agent's error and the relay's log); empty when
  /// `update` is to be stored.
  std::string refusal;
  /// The report relied on sections the relay does not hold as sent: ask for a full report.
  bool request_full = false;
  InventoryUpdate update;
  /// What was cut to fit the bounds, one line each; also stored in live["relay_notes"].
  std::vector<std::string> notes;
};

/// Prepares `report` from device `device_id` for storing against `current` (the device's
/// stored inventory, if any), received at `now`. The caller has checked that report.device
/// is the connection's device. Never throws on any report.
InventoryIntake prepare_inventory(const protocol::InventoryReport& report,
                                  const std::optional<DeviceInventory>& current,
                                  std::int64_t device_id, TimePoint now);

/// The inventory_request to send a device whose stored inventory is `current`: the hashes it
/// holds, or full when it holds none or kFullInventoryEvery deltas were stored since the
/// last full report.
protocol::InventoryRequest inventory_request_for(const std::optional<DeviceInventory>& current,
                                                 std::string id);

}  // namespace tether::relay::fleet
