#pragma once
/// Durations and sizes typed by technicians: "30s", "5m", "1h", "2d", "500ms" (a bare number
/// is seconds); "64M", "1G", "512K", "1000" (bytes). Throws CommandError naming the option.

#include <chrono>
#include <cstdint>
#include <string>

namespace tether::console {

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option);
std::uint64_t parse_size(const std::string& text, const std::string& option);

}  // namespace tether::console
