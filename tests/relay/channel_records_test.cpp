#include "broker/channel_records.hpp"

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

using nlohmann::json;
using protocol::ChannelClose;
using protocol::ChannelOpen;

ChannelOpen open_of(std::string kind, json params) {
  return ChannelOpen{1, "S-1", std::move(kind), 65536, std::move(params)};
}

TEST(ChannelRecords, ACommandWithItsExitCodeAndDuration) {
  auto record = describe_channel(
      "ada", open_of("exec", {{"argv", {"df", "-h", "/home/a b"}}}),
      ChannelClose{1, "exit status 2", std::nullopt, {{"exit_code", 2}, {"timed_out", false}}},
      std::chrono::milliseconds(1500), 10, 0);
  EXPECT_EQ(record.kind, "command.run");
  EXPECT_EQ(record.summary, "ada ran df -h '/home/a b': exit 2 in 1.5 s");
  EXPECT_EQ(record.detail["result"]["exit_code"], 2);
  EXPECT_EQ(record.detail["duration_ms"], 1500);
}

TEST(ChannelRecords, AFileWithDirectionSizeAndHash) {
  auto record = describe_channel("ada", open_of("file.get", {{"path", "notes.txt"}, {"offset", 0}}),
                                 ChannelClose{1,
                                              "done",
                                              std::nullopt,
                                              {{"path", "notes.txt"},
                                               {"size", 2097152},
                                               {"sha256", "ab12"},
                                               {"resumed_from", 1048576}}},
                                 std::chrono::milliseconds(10), 2097152, 0);
  EXPECT_EQ(record.kind, "file.downloaded");
  EXPECT_EQ(record.summary, "ada downloaded notes.txt (2.0 MiB, SHA-256 ab12), resumed at 1.0 MiB");
}

TEST(ChannelRecords, RefusalsAndFailuresSaySo) {
  auto refused = describe_channel("ada", open_of("exec", {{"argv", {"id"}}}),
                                  ChannelClose{1, "not permitted by the user", "forbidden", {}},
                                  std::chrono::milliseconds(0), 0, 0);
  EXPECT_EQ(refused.kind, "action.refused");
  EXPECT_EQ(refused.summary, "Refused the command id for ada: not permitted by the user");
  auto failed = describe_channel("ada", open_of("kill", {{"pid", 42}, {"signal", "KILL"}}),
                                 ChannelClose{1, "the agent disconnected", "agent_offline", {}},
                                 std::chrono::milliseconds(0), 0, 0);
  EXPECT_EQ(failed.kind, "action.failed");
  EXPECT_NE(failed.summary.find("killing process 42 with SIGKILL"), std::string::npos);
}

TEST(ChannelRecords, AShellLeftByTheTechnicianIsStillAShellWithItsRecording) {
  auto record = describe_channel(
      "ada", open_of("shell", {{"cols", 80}, {"rows", 24}, {"term", "xterm"}}),
      ChannelClose{1, "stopped by the technician", "interrupted", {{"recording", "x-1.cast"}}},
      std::chrono::milliseconds(61000), 100, 10);
  EXPECT_EQ(record.kind, "shell.closed");
  EXPECT_EQ(record.summary,
            "ada used a remote shell for 61.0 s (ended: stopped by the technician); recording "
            "x-1.cast");
  auto refused = describe_channel("ada", open_of("shell", json::object()),
                                  ChannelClose{1, "not permitted by the user", "forbidden", {}},
                                  std::chrono::milliseconds(0), 0, 0);
  EXPECT_EQ(refused.kind, "action.refused");
}

TEST(ChannelRecords, ControlCharactersFromPeersNeverReachTheTimeline) {
  auto record = describe_channel("ada", open_of("exec", {{"argv", {"printf", "\x1b[2J\n"}}}),
                                 ChannelClose{1, "x", std::nullopt, {{"exit_code", 0}}},
                                 std::chrono::milliseconds(0), 0, 0);
  EXPECT_EQ(record.summary.find('\x1b'), std::string::npos) << record.summary;
  EXPECT_EQ(record.summary.find('\n'), std::string::npos) << record.summary;
  EXPECT_NE(record.summary.find("\\x1b"), std::string::npos) << record.summary;
}

}  // namespace
}  // namespace tether::relay
