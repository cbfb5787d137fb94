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

}  // namespace tether::protocol
