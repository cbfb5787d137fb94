#pragma once
// How the relay shows a managed device's stored inventory: the sections the agent reported,
// with the live figures of its last report laid over them, as one snapshot-like document that
// queries, exports and `tether device show` read (docs/inventory.md, protocol/SPEC.md
// "inventory_report"). Pure functions over the store's records.

#include <nlohmann/json.hpp>

#include "fleet/inventory_query.hpp"
#include "tether/relay/store.hpp"

namespace tether::relay::fleet {

/// The device's inventory as one snapshot-like document:
///   {<section>: <stored content>, …} with live["overlay"] deep-merged into it,
///   "findings": live["findings"], "collected_at": "2026-11-30T07:55:00Z".
/// Merge rules (objects by key, arrays by index, as the agent aligns them):
///  - an object merges into an object key by key; an array into an array element by element,
///    overlay elements past the end of the section's list are dropped (they describe nothing);
///  - a value lands where the section has nothing (the key is absent or null);
///  - a non-null scalar replaces a scalar (the live figure is the newer one);
///  - null, and a value whose shape differs from the section's (an object over a list, a
///    scalar over an object…), is ignored: the stored sections keep their structure.
/// A malformed `live` (not an object, an overlay or findings of the wrong type, nested deeper
/// than 64 levels) is ignored where it is malformed. Never throws.
nlohmann::json compose_inventory(const DeviceInventory& inventory);

/// The device as queries and exports see it: id "D-<n>", group, the relay's host name, `online`
/// as the caller knows it (the broker), last_seen the later of the device's last connection and
/// its last stored report, and the composed inventory (null when `inventory` is null).
FleetDevice fleet_device(const Device& device, const DeviceInventory* inventory, bool online);

}  // namespace tether::relay::fleet
