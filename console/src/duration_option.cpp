#include "tether/console/duration_option.hpp"

#include <limits>

#include "tether/console/api_client.hpp"

namespace tether::console {

namespace {

// Splits "30s" into 30 and "s"; false when there is no number or it overflows.
bool split(const std::string& text, std::uint64_t& number, std::string& unit) {
  std::size_t i = 0;
  number = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    if (number > std::numeric_limits<std::uint64_t>::max() / 10 - 10) return false;
    number = number * 10 + static_cast<std::uint64_t>(text[i] - '0');
    ++i;
  }
  unit = text.substr(i);
  return i > 0 && i <= 18;
}

}  // namespace

std::chrono::milliseconds parse_duration(const std::string& text, const std::string& option) {
  std::uint64_t n = 0;
  std::string unit;
  if (!split(text, n, unit)) {
    throw CommandError(
        option + " takes a duration such as 30s, 5m or 1h, not \"" + text.substr(0, 32) + "\"", 2);
  }
  std::uint64_t ms = 0;
  if (unit == "ms") {
    ms = n;
  } else if (unit.empty() || unit == "s") {
    ms = n * 1000;
  } else if (unit == "m" || unit == "min") {
    ms = n * 60'000;
  } else if (unit == "h") {
    ms = n * 3'600'000;
  } else if (unit == "d") {
    ms = n * 86'400'000;
  } else {
    throw CommandError(option + ": unknown unit \"" + unit.substr(0, 8) + "\" (use ms, s, m, h, d)",
                       2);
  }
  if (ms == 0 || ms > 86'400'000ULL * 7) {
    throw CommandError(option + " must be more than 0 and at most 7 days", 2);
  }
  return std::chrono::milliseconds(ms);
}

std::uint64_t parse_size(const std::string& text, const std::string& option) {
  std::uint64_t n = 0;
  std::string unit;
  if (!split(text, n, unit)) {
    throw CommandError(
        option + " takes a size such as 64M or 1G, not \"" + text.substr(0, 32) + "\"", 2);
  }
  std::uint64_t factor = 1;
  if (unit == "K" || unit == "k" || unit == "KiB") {
    factor = 1024;
  } else if (unit == "M" || unit == "MiB") {
    factor = 1024 * 1024;
  } else if (unit == "G" || unit == "GiB") {
    factor = 1024ULL * 1024 * 1024;
  } else if (!unit.empty() && unit != "B") {
    throw CommandError(option + ": unknown unit \"" + unit.substr(0, 8) + "\" (use K, M, G)", 2);
  }
  if (n == 0 || n > (1ULL << 40) / factor) throw CommandError(option + " is out of range", 2);
  return n * factor;
}

}  // namespace tether::console
