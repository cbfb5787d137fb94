// Reading shell recordings strictly (a recording comes from the relay's disk, possibly cut
// short or edited) and timing their playback.

#include "asciicast_player.hpp"

#include <gtest/gtest.h>

namespace tether::console {
namespace {

using std::chrono::microseconds;

constexpr const char* kHeader =
    R"({"version":2,"width":100,"height":30,"timestamp":1764470100,"env":{"TERM":"xterm-256color","SHELL":""},"title":"S-1 shell by admin"})";

TEST(Asciicast, ReadsWhatTheRelayWrites) {
  const std::string text = std::string(kHeader) + "\n" +
                           "[0.012345, \"o\", \"root@pc:~# \"]\n"
                           "[1.5, \"r\", \"120x40\"]\n"
                           "[2.25, \"o\", \"hello-42\\r\\n\\u001b[0m\"]\n"
                           "[2.25, \"m\", \"recording stopped: over the size limit\"]\n";
  auto cast = parse_asciicast(text);
  ASSERT_TRUE(cast) << cast.error();
  EXPECT_EQ(cast->header.width, 100);
  EXPECT_EQ(cast->header.height, 30);
  EXPECT_EQ(cast->header.timestamp, 1764470100);
  EXPECT_EQ(cast->header.term, "xterm-256color");
  EXPECT_EQ(cast->header.title, "S-1 shell by admin");
  ASSERT_EQ(cast->events.size(), 4u);
  EXPECT_EQ(cast->events[0].code, 'o');
  EXPECT_EQ(cast->events[0].data, "root@pc:~# ");
  EXPECT_EQ(cast->events[1].code, 'r');
  EXPECT_EQ(cast->events[2].data, "hello-42\r\n\x1b[0m");
  EXPECT_DOUBLE_EQ(cast->duration(), 2.25);
}

TEST(Asciicast, AcceptsAHeaderAloneAndAsciinemasOwnFields) {
  auto cast = parse_asciicast(
      R"({"version": 2, "width": 80, "height": 24, "idle_time_limit": 1.5, "command": "bash", "theme": {"fg": "#fff"}})");
  ASSERT_TRUE(cast) << cast.error();
  EXPECT_TRUE(cast->events.empty());
  EXPECT_FALSE(cast->header.timestamp);
  EXPECT_EQ(cast->duration(), 0);
}

TEST(Asciicast, RefusesBadHeadersNamingTheProblem) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"", "the recording is empty"},
      {"\n[0, \"o\", \"x\"]\n", "line 1: the header is not a JSON object"},
      {"not json", "line 1: the header is not a JSON object"},
      {"[2, 80, 24]", "line 1: the header is not a JSON object"},
      {R"({"version":1,"width":80,"height":24})", "line 1: not an asciicast version 2"},
      {R"({"width":80,"height":24})", "line 1: not an asciicast version 2"},
      {R"({"version":"2","width":80,"height":24})", "line 1: not an asciicast version 2"},
      {R"({"version":2.5,"width":80,"height":24})", "line 1: not an asciicast version 2"},
      {R"({"version":2,"height":24})", "line 1: the header's \"width\" must be"},
      {R"({"version":2,"width":0,"height":24})", "line 1: the header's \"width\" must be"},
      {R"({"version":2,"width":-80,"height":24})", "line 1: the header's \"width\" must be"},
      {R"({"version":2,"width":80.5,"height":24})", "line 1: the header's \"width\" must be"},
      {R"({"version":2,"width":true,"height":24})", "line 1: the header's \"width\" must be"},
      {R"({"version":2,"width":80,"height":99999999999999999999})",
       "line 1: the header's \"height\" must be"},
      {R"({"version":2,"width":80,"height":24,"timestamp":"now"})",
       "line 1: the header's \"timestamp\" must be a number"},
      {R"({"version":2,"width":80,"height":24,"title":7})",
       "line 1: the header's \"title\" must be a string"},
      {R"({"version":2,"width":80,"height":24,"env":"TERM=xterm"})",
       "line 1: the header's \"env\" must be an object"},
      {R"({"version":2,"width":80,"height":24,"env":{"TERM":1}})",
       "line 1: the header's \"env\" values must be strings"},
      {R"({"version":2,"width":80,"height":24,"idle_time_limit":"2"})",
       "line 1: the header's \"idle_time_limit\" must be a number"},
  };
  for (const auto& c : cases) {
    auto cast = parse_asciicast(c.text);
    ASSERT_FALSE(cast) << c.text;
    EXPECT_EQ(cast.error().rfind(c.error, 0), 0u) << c.text << " → " << cast.error();
  }
}

TEST(Asciicast, RefusesBadEventsNamingTheLine) {
  struct Case {
    std::string line;
    std::string error;
  };
  const Case cases[] = {
      {"[0.5, \"o\"", "not valid JSON"},
      {"{\"time\": 0.5}", "an event must be a JSON array [time, code, data]"},
      {"[0.5, \"o\"]", "an event must be a JSON array [time, code, data]"},
      {"[0.5, \"o\", \"x\", \"y\"]", "an event must be a JSON array [time, code, data]"},
      {"[\"0.5\", \"o\", \"x\"]", "the event time must be a number"},
      {"[null, \"o\", \"x\"]", "the event time must be a number"},
      {"[-1, \"o\", \"x\"]", "the event time must be 0 or more"},
      {"[1e400, \"o\", \"x\"]", "not valid JSON"},
      {"[0.5, \"x\", \"data\"]", "unknown event code \"x\""},
      {"[0.5, \"oo\", \"data\"]", "unknown event code \"oo\""},
      {"[0.5, 111, \"data\"]", "the event code must be a string"},
      {"[0.5, \"o\", 42]", "the event data must be a string"},
      {"[0.5, \"o\", [\"a\"]]", "the event data must be a string"},
      {"[0.5, \"r\", \"wide\"]", "a resize event's data must be COLSxROWS"},
      {"[0.5, \"r\", \"0x24\"]", "a resize event's data must be COLSxROWS"},
      {"[0.5, \"r\", \"80x\"]", "a resize event's data must be COLSxROWS"},
      {"[0.5, \"r\", \"80x24x2\"]", "a resize event's data must be COLSxROWS"},
      {"[0.5, \"o\", \"\xff\xfe\"]", "not valid JSON"},  // not UTF-8
      {"[0.1, \"o\", \"back in time\"]", "the event time goes back"},
      {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
       "an event must be a JSON array [time, code, data]"},
  };
  for (const auto& c : cases) {
    // A good event first, so the bad one is on line 3 and its time is compared with 0.2.
    const std::string text = std::string(kHeader) + "\n[0.2, \"o\", \"ok\"]\n" + c.line + "\n";
    auto cast = parse_asciicast(text);
    ASSERT_FALSE(cast) << c.line;
    EXPECT_EQ(cast.error(), "line 3: " + c.error) << c.line;
  }
}

TEST(Asciicast, ToleratesEmptyLinesAndAMissingFinalNewline) {
  const std::string text = std::string(kHeader) + "\n\n[0.2, \"o\", \"a\"]\n\n[0.3, \"o\", \"b\"]";
  auto cast = parse_asciicast(text);
  ASSERT_TRUE(cast) << cast.error();
  ASSERT_EQ(cast->events.size(), 2u);
  EXPECT_EQ(cast->events[1].data, "b");
}

TEST(Asciicast, AnEventCutShortAtTheEndIsLeftOutAndSaidSo) {
  // A recording still being written, or the relay stopped in the middle of a line.
  const std::string text = std::string(kHeader) + "\n[0.2, \"o\", \"a\"]\n[0.3, \"o\", \"hal";
  auto cast = parse_asciicast(text);
  ASSERT_TRUE(cast) << cast.error();
  EXPECT_TRUE(cast->cut_short);
  ASSERT_EQ(cast->events.size(), 1u);
  EXPECT_EQ(cast->events[0].data, "a");

  auto whole = parse_asciicast(std::string(kHeader) + "\n[0.2, \"o\", \"a\"]\n");
  ASSERT_TRUE(whole) << whole.error();
  EXPECT_FALSE(whole->cut_short);
}

TEST(Asciicast, ABrokenLineIsAnErrorWhenAnotherLineOrANewlineFollows) {
  auto middle =
      parse_asciicast(std::string(kHeader) + "\n[0.3, \"o\", \"hal\n[0.4, \"o\", \"b\"]\n");
  ASSERT_FALSE(middle);
  EXPECT_EQ(middle.error(), "line 2: not valid JSON");
  auto last = parse_asciicast(std::string(kHeader) + "\n[0.3, \"o\", \"hal\n");
  ASSERT_FALSE(last);
  EXPECT_EQ(last.error(), "line 2: not valid JSON");
  // Valid JSON but not an event is never taken for a cut line.
  auto wrong = parse_asciicast(std::string(kHeader) + "\n[0.3, \"z\", \"x\"]");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error(), "line 2: unknown event code \"z\"");
}

std::vector<CastEvent> events_at(std::initializer_list<double> times) {
  std::vector<CastEvent> events;
  for (const double t : times) events.push_back({t, 'o', "x"});
  return events;
}

TEST(Asciicast, PlaybackKeepsTheGapsBetweenEvents) {
  const auto delays = playback_delays(events_at({0.5, 0.75, 1.75}), 1.0, 2.0);
  EXPECT_EQ(delays, (std::vector<microseconds>{microseconds(500000), microseconds(250000),
                                               microseconds(1000000)}));
}

TEST(Asciicast, PlaybackShortensIdlePausesToMaxIdle) {
  const auto delays = playback_delays(events_at({0.1, 60.1, 60.2, 3600}), 1.0, 2.0);
  EXPECT_EQ(delays, (std::vector<microseconds>{microseconds(100000), microseconds(2000000),
                                               microseconds(100000), microseconds(2000000)}));
  // 0: everything at once.
  for (const auto d : playback_delays(events_at({0.1, 60.1}), 1.0, 0.0)) {
    EXPECT_EQ(d, microseconds(0));
  }
}

TEST(Asciicast, PlaybackSpeedDividesThePausesAfterTheCap) {
  const auto delays = playback_delays(events_at({1.0, 11.0}), 4.0, 2.0);
  EXPECT_EQ(delays, (std::vector<microseconds>{microseconds(250000), microseconds(500000)}));
  const auto slow = playback_delays(events_at({1.0}), 0.5, 2.0);
  EXPECT_EQ(slow, (std::vector<microseconds>{microseconds(2000000)}));
}

TEST(Asciicast, DurationsReadLikeAPlayersClock) {
  EXPECT_EQ(format_cast_duration(0), "0:00");
  EXPECT_EQ(format_cast_duration(7.9), "0:07");
  EXPECT_EQ(format_cast_duration(65), "1:05");
  EXPECT_EQ(format_cast_duration(3723), "1:02:03");
  EXPECT_EQ(format_cast_duration(-4), "0:00");
}

}  // namespace
}  // namespace tether::console
