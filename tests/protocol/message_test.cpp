#include "tether/protocol/message.hpp"

#include <gtest/gtest.h>

#include "tether/protocol/limits.hpp"

namespace tether::protocol {
namespace {

std::vector<Message> sample_messages() {
  Hello hello{1, "agent", "attended", {"0.1.0", "pc-42", "Debian GNU/Linux 12"}, std::nullopt};
  Hello resumed = hello;
  resumed.resume = Hello::Resume{"123456785", "c2VjcmV0"};
  return {hello,
          resumed,
          Welcome{1, "123456785", "2026-11-25T10:00:00Z", "c2VjcmV0", false},
          Welcome{1, "123456785", "2026-11-25T10:00:00Z", std::nullopt, true},
          JoinRequest{"r1", "S-1", "Ada Admin", {"T-7", "Printer offline"}, {"diagnostics"}},
          Consent{"r1", "S-1", true, {"diagnostics"}, "alice"},
          Consent{"r1", "S-1", false, {}, "alice"},
          DiagRequest{"r2", "S-1", {}},
          DiagRequest{"r2", "S-1", {"system", "memory"}},
          DiagResult{"r2", "S-1", {{"schema", 1}, {"system", {{"hostname", "pc-42"}}}}},
          SessionEnd{"S-1", "done", "ada"},
          SessionEnd{"", "", ""},
          ErrorMessage{"forbidden", "not permitted", "r2"},
          ErrorMessage{"bad_json", "", std::nullopt},
          ChannelOpen{1, "S-1", "shell", 65536, {{"cols", 80}}},
          ChannelClose{1, "exited", std::nullopt, nlohmann::json::object()},
          ChannelClose{3, "not permitted by the user", "forbidden", nlohmann::json::object()},
          ChannelClose{3, "exited", std::nullopt, {{"exit_code", 0}, {"duration_ms", 12}}},
          ChannelAccept{3, 1048576, {{"offset", 4096}}},
          ChannelAccept{3, 65536, nlohmann::json::object()},
          ChannelControl{3, {{"resize", {{"cols", 120}, {"rows", 40}}}}}};
}

TEST(MessageCodec, EveryMessageSurvivesARoundTrip) {
  for (const auto& message : sample_messages()) {
    const auto text = encode(message);
    auto parsed = parse_message(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message();
    EXPECT_EQ(*parsed, message) << text;
    EXPECT_EQ(type_name(*parsed), type_name(message));
  }
}

TEST(MessageCodec, WireNamesAreStable) {
  EXPECT_EQ(encode(SessionEnd{"S-3", "fixed", "ada"}),
            R"({"by":"ada","reason":"fixed","session":"S-3","type":"session_end"})");
  EXPECT_EQ(type_name(Message{Consent{}}), "consent");
}

struct BadInput {
  const char* name;
  std::string text;
  Error expected;
};

class MalformedMessage : public testing::TestWithParam<BadInput> {};

TEST_P(MalformedMessage, IsRejectedWithItsErrorCode) {
  auto parsed = parse_message(GetParam().text);
  ASSERT_FALSE(parsed) << GetParam().text;
  EXPECT_EQ(parsed.error(), make_error_code(GetParam().expected))
      << GetParam().text << " gave " << parsed.error().message();
}

const std::string kHello =
    R"("version":1,"role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"x"})";

INSTANTIATE_TEST_SUITE_P(
    Table, MalformedMessage,
    testing::Values(
        BadInput{"empty", "", Error::bad_json},
        BadInput{"not_json", "hello there", Error::bad_json},
        BadInput{"truncated", R"({"type":"hello","version":1)", Error::bad_json},
        BadInput{"trailing_garbage", R"({"type":"error","code":"x","message":""} x)",
                 Error::bad_json},
        BadInput{"invalid_utf8", "{\"type\":\"error\",\"code\":\"\xff\xfe\",\"message\":\"\"}",
                 Error::bad_json},
        BadInput{"array", "[1,2,3]", Error::bad_message},
        BadInput{"string", R"("hello")", Error::bad_message},
        BadInput{"no_type", R"({"version":1})", Error::bad_message},
        BadInput{"type_not_string", R"({"type":7})", Error::bad_message},
        BadInput{"unknown_type", R"({"type":"format_disk"})", Error::unknown_type},
        BadInput{
            "old_version",
            R"({"type":"hello","version":0,"role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"x"}})",
            Error::unsupported_version},
        BadInput{
            "future_version",
            R"({"type":"hello","version":2,"role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"x"}})",
            Error::unsupported_version},
        BadInput{
            "version_string",
            R"({"type":"hello","version":"1","role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"x"}})",
            Error::bad_message},
        BadInput{"missing_field",
                 R"({"type":"hello","version":1,"role":"agent","mode":"attended"})",
                 Error::bad_message},
        BadInput{
            "wrong_role",
            R"({"type":"hello","version":1,"role":"technician","mode":"attended","agent":{"version":"1","hostname":"h","os":"x"}})",
            Error::bad_message},
        BadInput{"unknown_field", "{\"type\":\"hello\"," + kHello + ",\"admin\":true}",
                 Error::bad_message},
        BadInput{
            "unknown_nested_field",
            R"({"type":"hello","version":1,"role":"agent","mode":"attended","agent":{"version":"1","hostname":"h","os":"x","uid":0}})",
            Error::bad_message},
        BadInput{
            "null_field",
            R"({"type":"consent","id":null,"session":"S-1","granted":true,"scopes":[],"by":"a"})",
            Error::bad_message},
        BadInput{
            "bool_as_string",
            R"({"type":"consent","id":"1","session":"S-1","granted":"yes","scopes":[],"by":"a"})",
            Error::bad_message},
        BadInput{
            "scope_not_string",
            R"({"type":"consent","id":"1","session":"S-1","granted":true,"scopes":[1],"by":"a"})",
            Error::bad_message},
        BadInput{"snapshot_not_object",
                 R"({"type":"diag_result","id":"1","session":"S-1","snapshot":[]})",
                 Error::bad_message},
        BadInput{"negative_channel", R"({"type":"channel_close","channel":-1,"reason":""})",
                 Error::bad_message},
        BadInput{"huge_channel", R"({"type":"channel_close","channel":4294967296,"reason":""})",
                 Error::bad_message},
        BadInput{"accept_channel_zero",
                 R"({"type":"channel_accept","channel":0,"window":1,"params":{}})",
                 Error::bad_message},
        BadInput{"control_not_object", R"({"type":"channel_control","channel":3,"control":[1]})",
                 Error::bad_message},
        BadInput{"close_result_not_object",
                 R"({"type":"channel_close","channel":3,"reason":"","result":"done"})",
                 Error::bad_message},
        BadInput{"close_code_not_string",
                 R"({"type":"channel_close","channel":3,"reason":"","code":10})",
                 Error::bad_message},
        BadInput{"channel_zero",
                 R"({"type":"channel_open","channel":0,"session":"S-1","kind":"shell","window":1})",
                 Error::bad_message},
        BadInput{"long_text",
                 R"({"type":"error","code":"x","message":")" + std::string(kMaxTextField + 1, 'a') +
                     "\"}",
                 Error::bad_message},
        BadInput{"deep_nesting",
                 R"({"type":"diag_result","id":"1","session":"S-1","snapshot":)" +
                     std::string(100000, '['),
                 Error::bad_message},
        BadInput{"oversized",
                 R"({"type":"error","code":"x","message":")" +
                     std::string(kMaxControlMessageBytes, 'a') + "\"}",
                 Error::message_too_large}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(MessageCodec, BracketsInsideStringsDoNotCountAsNesting) {
  EXPECT_TRUE(json_depth_within(R"({"a":"[[[[[[[[[[\"[[[["})", 2));
  EXPECT_FALSE(json_depth_within("[[[", 2));
  EXPECT_TRUE(json_depth_within("[[]][[]]", 2));
}

TEST(MessageCodec, DeepButAllowedSnapshotsParse) {
  std::string nested = "1";
  for (int i = 0; i < kMaxJsonDepth - 2; ++i) nested = "[" + nested + "]";
  auto parsed = parse_message(R"({"type":"diag_result","id":"1","session":"S-1","snapshot":{"a":)" +
                              nested + "}}");
  EXPECT_TRUE(parsed) << parsed.error().message();
}

TEST(MessageCodec, ManagedHelloAndWelcomeCarryTheDevice) {
  Hello hello{1, "agent", "managed", {"0.1.0", "pc-42", "Debian"}, std::nullopt, "D-7"};
  auto parsed = parse_message(encode(hello));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<Hello>(*parsed), hello);
  Welcome welcome{1, "", "", std::nullopt, false, "D-7"};
  parsed = parse_message(encode(welcome));
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(std::get<Welcome>(*parsed), welcome);
  // Without a device, a welcome still needs its code.
  EXPECT_FALSE(parse_message(encode(Welcome{1, "", "", std::nullopt, false, std::nullopt})));

  const std::string agent = R"("agent":{"version":"1","hostname":"h","os":"x"})";
  for (const std::string& bad :
       {R"({"type":"hello","version":1,"role":"agent","mode":"managed",)" + agent + "}",
        R"({"type":"hello","version":1,"role":"agent","mode":"managed","device":"",)" + agent + "}",
        R"({"type":"hello","version":1,"role":"agent","mode":"attended","device":"D-1",)" + agent +
            "}",
        R"({"type":"hello","version":1,"role":"agent","mode":"managed","device":"D-1",)" + agent +
            R"(,"resume":{"code":"123456785","secret":"s"}})",
        R"({"type":"hello","version":1,"role":"agent","mode":"unattended",)" + agent + "}"}) {
    auto refused = parse_message(bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error(), make_error_code(Error::bad_message)) << bad;
  }
}

}  // namespace
}  // namespace tether::protocol
