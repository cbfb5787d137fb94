#include "asciicast_player.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace tether::console {

using nlohmann::json;

namespace {

using Failure = std::string;

std::optional<int> dimension(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  if (value.is_number_unsigned()) {
    const auto n = value.get<std::uint64_t>();
    if (n < 1 || n > static_cast<std::uint64_t>(kMaxCastDimension)) return std::nullopt;
    return static_cast<int>(n);
  }
  const auto n = value.get<std::int64_t>();
  if (n < 1 || n > kMaxCastDimension) return std::nullopt;
  return static_cast<int>(n);
}

// "COLSxROWS" with both in range.
bool valid_size_text(std::string_view text) {
  const auto x = text.find('x');
  if (x == std::string_view::npos) return false;
  auto number = [](std::string_view digits) -> std::optional<int> {
    if (digits.empty() || digits.size() > 5 ||
        digits.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    int n = 0;
    for (const char c : digits) n = n * 10 + (c - '0');
    if (n < 1 || n > kMaxCastDimension) return std::nullopt;
    return n;
  };
  return number(text.substr(0, x)) && number(text.substr(x + 1));
}

boost::system::result<CastHeader, Failure> parse_header(std::string_view line) {
  auto header = json::parse(line, nullptr, false);
  if (header.is_discarded() || !header.is_object()) {
    return Failure("the header is not a JSON object");
  }
  auto version = header.find("version");
  if (version == header.end() || !version->is_number_integer() || *version != 2) {
    return Failure("not an asciicast version 2 recording (the header's \"version\" must be 2)");
  }
  CastHeader parsed;
  for (const char* key : {"width", "height"}) {
    auto it = header.find(key);
    const auto value = it == header.end() ? std::nullopt : dimension(*it);
    if (!value) {
      return Failure(std::string("the header's \"") + key + "\" must be an integer from 1 to " +
                     std::to_string(kMaxCastDimension));
    }
    (std::string_view(key) == "width" ? parsed.width : parsed.height) = *value;
  }
  if (auto it = header.find("timestamp"); it != header.end()) {
    if (!it->is_number() || !std::isfinite(it->get<double>())) {
      return Failure("the header's \"timestamp\" must be a number");
    }
    parsed.timestamp = static_cast<std::int64_t>(it->get<double>());
  }
  if (auto it = header.find("title"); it != header.end()) {
    if (!it->is_string()) return Failure("the header's \"title\" must be a string");
    parsed.title = it->get<std::string>();
  }
  if (auto it = header.find("idle_time_limit"); it != header.end() && !it->is_number()) {
    return Failure("the header's \"idle_time_limit\" must be a number");
  }
  if (auto it = header.find("env"); it != header.end()) {
    if (!it->is_object()) return Failure("the header's \"env\" must be an object");
    for (const auto& [name, value] : it->items()) {
      if (!value.is_string() && !value.is_null()) {
        return Failure("the header's \"env\" values must be strings");
      }
      if (name == "TERM" && value.is_string()) parsed.term = value.get<std::string>();
    }
  }
  return parsed;
}

boost::system::result<CastEvent, Failure> parse_event(std::string_view line, double previous) {
  auto event = json::parse(line, nullptr, false);
  if (event.is_discarded()) return Failure("not valid JSON");
  if (!event.is_array() || event.size() != 3) {
    return Failure("an event must be a JSON array [time, code, data]");
  }
  if (!event[0].is_number()) return Failure("the event time must be a number");
  const double time = event[0].get<double>();
  if (!std::isfinite(time) || time < 0) return Failure("the event time must be 0 or more");
  if (time < previous) return Failure("the event time goes back");
  if (!event[1].is_string()) return Failure("the event code must be a string");
  const auto code = event[1].get<std::string>();
  if (code != "o" && code != "i" && code != "r" && code != "m") {
    return Failure("unknown event code \"" + code.substr(0, 16) + "\"");
  }
  if (!event[2].is_string()) return Failure("the event data must be a string");
  CastEvent parsed{time, code[0], event[2].get<std::string>()};
  if (parsed.code == 'r' && !valid_size_text(parsed.data)) {
    return Failure("a resize event's data must be COLSxROWS");
  }
  return parsed;
}

}  // namespace

boost::system::result<Cast, std::string> parse_asciicast(std::string_view text) {
  Cast cast;
  std::size_t number = 0;
  bool have_header = false;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const auto line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (!have_header) {
      auto header = parse_header(line);
      if (!header) return "line 1: " + header.error();
      cast.header = std::move(*header);
      have_header = true;
      continue;
    }
    if (line.empty()) continue;
    auto event = parse_event(line, cast.events.empty() ? 0.0 : cast.events.back().time);
    if (!event && end == std::string_view::npos &&
        json::parse(line, nullptr, false).is_discarded()) {
      cast.cut_short = true;
      break;
    }
    if (!event) return "line " + std::to_string(number) + ": " + event.error();
    cast.events.push_back(std::move(*event));
  }
  if (!have_header) return std::string("the recording is empty");
  return cast;
}

std::vector<std::chrono::microseconds> playback_delays(const std::vector<CastEvent>& events,
                                                       double speed, double max_idle) {
  std::vector<std::chrono::microseconds> delays;
  delays.reserve(events.size());
  double previous = 0;
  for (const auto& event : events) {
    const double gap = std::min(std::max(event.time - previous, 0.0), max_idle);
    previous = event.time;
    delays.emplace_back(static_cast<std::int64_t>(std::llround(gap / speed * 1e6)));
  }
  return delays;
}

std::string format_cast_duration(double seconds) {
  const auto total = seconds > 0 && std::isfinite(seconds) ? static_cast<std::int64_t>(seconds) : 0;
  const auto h = total / 3600, m = total / 60 % 60, s = total % 60;
  char text[48];
  if (h > 0) {
    std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", static_cast<long long>(h),
                  static_cast<long long>(m), static_cast<long long>(s));
  } else {
    std::snprintf(text, sizeof text, "%lld:%02lld", static_cast<long long>(m),
                  static_cast<long long>(s));
  }
  return text;
}

}  // namespace tether::console
