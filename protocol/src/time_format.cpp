#include "tether/protocol/time_format.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace tether::protocol {

std::string format_time(std::chrono::system_clock::time_point t) {
  const std::time_t seconds =
      std::chrono::system_clock::to_time_t(std::chrono::time_point_cast<std::chrono::seconds>(t));
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec);
  return buffer;
}

Result<std::chrono::system_clock::time_point> parse_time(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (text.size() != 20 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':' ||
      text[16] != ':' || text[19] != 'Z') {
    return make_error_code(Error::bad_message);
  }
  auto number = [&](std::size_t pos, std::size_t len, int& out) {
    // Digits only: from_chars would also take a sign ("T-1:00:00Z").
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
    }
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, out);
    return ec == std::errc{} && end == text.data() + pos + len;
  };
  int y, mo, d, h, mi, s;
  if (!number(0, 4, y) || !number(5, 2, mo) || !number(8, 2, d) || !number(11, 2, h) ||
      !number(14, 2, mi) || !number(17, 2, s)) {
    return make_error_code(Error::bad_message);
  }
  const std::chrono::year_month_day date{std::chrono::year{y}, std::chrono::month{unsigned(mo)},
                                         std::chrono::day{unsigned(d)}};
  if (!date.ok() || h > 23 || mi > 59 || s > 60) return make_error_code(Error::bad_message);
  return std::chrono::sys_days{date} + std::chrono::hours{h} + std::chrono::minutes{mi} +
         std::chrono::seconds{s};
}

std::optional<std::chrono::seconds> parse_duration(std::string_view text,
                                                   std::chrono::seconds bare_unit) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  auto unit = bare_unit;
  if (const auto suffix = std::string_view("smhd").find(text.back());
      suffix != std::string_view::npos) {
    static constexpr std::chrono::seconds kUnits[] = {std::chrono::seconds(1),
                                                      std::chrono::minutes(1),
                                                      std::chrono::hours(1), std::chrono::days(1)};
    unit = kUnits[suffix];
    text.remove_suffix(1);
  }
  if (text.empty()) return std::nullopt;
  std::int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');  // 11 digits at most: no overflow
  }
  return value * unit;
}

}  // namespace tether::protocol
