#include "tether/agent/tools/exec_params.hpp"

#include <gtest/gtest.h>

namespace tether::agent {
namespace {

using nlohmann::json;

TEST(ExecParams, DefaultsAndQuotedDisplay) {
  auto params = parse_exec_params({{"argv", {"sh", "-c", "echo 'hi there'"}}});
  ASSERT_TRUE(params) << params.error();
  EXPECT_EQ(params->argv.size(), 3u);
  EXPECT_EQ(params->timeout, kDefaultExecTimeout);
  EXPECT_EQ(params->max_output_bytes, kDefaultExecOutputBytes);
  EXPECT_EQ(params->display, R"(sh -c 'echo '\''hi there'\''')");
  auto limited =
      parse_exec_params({{"argv", {"df"}}, {"timeout_ms", 1500}, {"max_output_bytes", 4096}});
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->timeout.count(), 1500);
  EXPECT_EQ(limited->max_output_bytes, 4096u);
}

TEST(ExecParams, HostileOrMalformedParamsAreRefusedWithAReason) {
  const json cases[] = {
      json::object(),
      {{"argv", json::array()}},
      {{"argv", "rm -rf /"}},
      {{"argv", {1, 2}}},
      {{"argv", {""}}},
      {{"argv", {std::string("a\0b", 3)}}},
      {{"argv", json::array({"x"})}, {"shell", true}},
      {{"argv", {"x"}}, {"timeout_ms", 0}},
      {{"argv", {"x"}}, {"timeout_ms", -5}},
      {{"argv", {"x"}}, {"timeout_ms", 86400001}},
      {{"argv", {"x"}}, {"timeout_ms", "30s"}},
      {{"argv", {"x"}}, {"max_output_bytes", 0}},
      {{"argv", {"x"}}, {"max_output_bytes", (1ULL << 30) + 1}},
      {{"argv", json::array({std::string(70000, 'a')})}},
      json::array({"x"}),
  };
  for (const auto& params : cases) {
    auto parsed = parse_exec_params(params);
    EXPECT_FALSE(parsed) << params.dump().substr(0, 80);
    if (!parsed) EXPECT_FALSE(parsed.error().empty());
  }
  json many = {{"argv", json::array()}};
  for (int i = 0; i < 257; ++i) many["argv"].push_back("a");
  EXPECT_FALSE(parse_exec_params(many));
}

TEST(ExecParams, SignalNames) {
  EXPECT_EQ(signal_name(15), "TERM");
  EXPECT_EQ(signal_name(9), "KILL");
  EXPECT_EQ(signal_name(63), "63");
}

}  // namespace
}  // namespace tether::agent
