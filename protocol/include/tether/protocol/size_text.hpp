#pragma once
/// Sizes for people, in binary units with one decimal: what the agent tells the user about a
/// transfer, what the console prints for transfers and recordings, and the relay's timeline.
/// (The diagnostics report has its own format_bytes in diag_report.hpp.)

#include <cstdint>
#include <string>

namespace tether::protocol {

/// "512 bytes", "1.5 KiB", "12.0 MiB", "4.0 GiB".
std::string size_text(std::uint64_t bytes);

}  // namespace tether::protocol
