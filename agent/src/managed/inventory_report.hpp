#pragma once
// The inventory_report a managed agent sends (SPEC.md §3.4): every section's hash, the content
// of those the relay does not hold, and the live figures whole. Pure; tested alone.

#include <cstddef>
#include <string>
#include <vector>

#include "tether/agent/diag/inventory.hpp"
#include "tether/protocol/message.hpp"

namespace tether::agent::managed {

struct BuiltReport {
  protocol::InventoryReport report;
  std::size_t sent = 0;   ///< Sections whose content the report carries.
  std::size_t total = 0;  ///< Sections the device has.
  /// Sections whose content did not fit, with their size in bytes, largest first.
  std::vector<std::pair<std::string, std::size_t>> too_large;
};

/// The report for `split` (diag::split_inventory of a snapshot collected with the inventory
/// sections and findings) against `known`, the hashes the relay holds: `hashes` names every
/// section, `sections` holds those whose hash differs from `known` (all of them with `full`),
/// `live` is split.live plus "errors" (the snapshot's collection errors).
///
/// When the encoded report is larger than `max_bytes`, the largest sections' content is left
/// out one by one until it fits; each gets an entry {"section", "message": "too large to send
/// (N bytes)"} in live.errors, and its hash in `hashes` is the relay's old one (or absent when
/// the relay holds none), so the relay keeps what it has. `id`, `device` and `collected_at`
/// are copied into the report.
BuiltReport build_inventory_report(const diag::InventorySplit& split,
                                   const protocol::SectionHashes& known, bool full, std::string id,
                                   std::string device, std::string collected_at,
                                   std::size_t max_bytes);

}  // namespace tether::agent::managed
