#pragma once
// Shell recordings as the relay stores them: asciicast v2 (one JSON header line, then one
// [seconds, code, data] event per line; https://docs.asciinema.org/manual/asciicast/v2/).
// Reading them strictly and timing their playback; pure, no terminal and no clock, so both
// are tested with tables of inputs. `tether session replay` does the I/O.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/system/result.hpp>

namespace tether::console {

/// Largest width or height accepted in a header or a resize event.
inline constexpr int kMaxCastDimension = 10000;

struct CastHeader {
  int width = 0;   ///< Columns of the recorded terminal, 1..kMaxCastDimension.
  int height = 0;  ///< Rows, 1..kMaxCastDimension.
  std::optional<std::int64_t> timestamp;  ///< Unix time of the start, when the header has one.
  std::string title;                      ///< Empty when absent.
  std::string term;                       ///< env.TERM; empty when absent.
};

struct CastEvent {
  double time = 0;  ///< Seconds since the start; never less than the previous event's.
  char code = 'o';  ///< 'o' output, 'i' input, 'r' resize ("COLSxROWS"), 'm' marker.
  std::string data;
};

struct Cast {
  CastHeader header;
  std::vector<CastEvent> events;
  /// The file ends in the middle of an event (a recording still being written, or cut short
  /// when the relay stopped): that incomplete last line was left out.
  bool cut_short = false;
  /// Time of the last event (0 without events).
  double duration() const { return events.empty() ? 0 : events.back().time; }
};

/// Parses a whole recording. The header must be a JSON object with "version": 2 and integer
/// "width" and "height"; optional fields, when present, must have their types (timestamp a
/// number, title a string, env an object of strings, idle_time_limit a number); others are
/// ignored. Each following non-empty line must be a JSON array of exactly [time, code, data]:
/// a finite time >= 0 that does not go back, a code among "o", "i", "r", "m", a string (for
/// "r", "COLSxROWS"). The error names the first bad line: "line 3: the event time must be a
/// number". The one exception is a last line without its newline that is not valid JSON: it
/// is an event being written, left out with `cut_short` set. Never throws for bad input.
boost::system::result<Cast, std::string> parse_asciicast(std::string_view text);

/// The pause before each event when playing at `speed` (> 0; 2 plays twice as fast) with
/// pauses longer than `max_idle` seconds (>= 0) shortened to it, as `asciinema play -i`:
/// element i is min(t[i] - t[i-1], max_idle) / speed, t[-1] being 0.
std::vector<std::chrono::microseconds> playback_delays(const std::vector<CastEvent>& events,
                                                       double speed, double max_idle);

/// "1:05" / "1:02:03" / "0:07" for a number of seconds (rounded down).
std::string format_cast_duration(double seconds);

}  // namespace tether::console
