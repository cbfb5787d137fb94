#include "tether/protocol/frame.hpp"

#include <gtest/gtest.h>

#include "tether/protocol/channel_mux.hpp"
#include "tether/protocol/flow_control.hpp"

namespace tether::protocol {
namespace {

std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(Frame, DataRoundTrip) {
  const std::string payload("ls -l\n\0binary", 13);
  const auto wire = encode_data_frame(0x01020304, payload);
  ASSERT_EQ(wire.size(), kFrameHeaderBytes + payload.size());
  EXPECT_EQ(wire.substr(0, 5), std::string("\x01\x01\x02\x03\x04", 5));
  auto frame = decode_frame(bytes(wire));
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->kind, FrameKind::data);
  EXPECT_EQ(frame->channel, 0x01020304u);
  EXPECT_EQ(frame->payload, payload);
}

TEST(Frame, CreditAndEofRoundTrip) {
  auto credit = decode_frame(bytes(encode_credit_frame(7, 65536)));
  ASSERT_TRUE(credit);
  EXPECT_EQ(credit->kind, FrameKind::credit);
  EXPECT_EQ(credit->credit, 65536u);
  auto eof = decode_frame(bytes(encode_eof_frame(9)));
  ASSERT_TRUE(eof);
  EXPECT_EQ(eof->kind, FrameKind::eof);
  EXPECT_EQ(eof->channel, 9u);
}

TEST(Frame, LargestPayloadFitsAndOneMoreByteDoesNot) {
  EXPECT_TRUE(decode_frame(bytes(encode_data_frame(1, std::string(kMaxFramePayload, 'x')))));
  auto over = std::string("\x01\x00\x00\x00\x01", 5) + std::string(kMaxFramePayload + 1, 'x');
  auto frame = decode_frame(bytes(over));
  ASSERT_FALSE(frame);
  EXPECT_EQ(frame.error(), make_error_code(Error::message_too_large));
}

TEST(Frame, MalformedFramesAreChannelErrors) {
  for (const auto& bad : {std::string(), std::string("\x01\x00\x00", 3),
                          std::string("\x01\x00\x00\x00\x00", 5),                  // channel 0
                          std::string("\x09\x00\x00\x00\x01", 5),                  // unknown kind
                          std::string("\x02\x00\x00\x00\x01\x00\x01", 7),          // short credit
                          std::string("\x02\x00\x00\x00\x01\x00\x00\x00\x00", 9),  // zero credit
                          std::string("\x03\x00\x00\x00\x01x", 6)}) {              // eof with data
    auto frame = decode_frame(bytes(bad));
    ASSERT_FALSE(frame) << bad.size();
    EXPECT_EQ(frame.error(), make_error_code(Error::channel_error));
  }
}

TEST(FlowControl, SenderStopsAtTheWindowAndResumesOnCredit) {
  SendWindow send(1000);
  EXPECT_EQ(send.allowance(4000), 1000u);
  send.consume(1000);
  EXPECT_EQ(send.allowance(10), 0u);
  ASSERT_TRUE(send.grant(500));
  EXPECT_EQ(send.allowance(4000), 500u);
  EXPECT_FALSE(send.grant(0));
  EXPECT_FALSE(send.grant(0xFFFFFFFFu));
}

TEST(FlowControl, ReceiverRejectsDataPastItsCredit) {
  ReceiveWindow receive(1000);
  ASSERT_TRUE(receive.on_data(600));
  ASSERT_TRUE(receive.on_data(400));
  auto overrun = receive.on_data(1);
  ASSERT_FALSE(overrun);
  EXPECT_EQ(overrun.error(), make_error_code(Error::channel_error));
}

TEST(FlowControl, ReceiverGrantsCreditInHalfWindowBatches) {
  ReceiveWindow receive(1000);
  ASSERT_TRUE(receive.on_data(1000));
  EXPECT_EQ(receive.on_consumed(300), std::nullopt);
  EXPECT_EQ(receive.on_consumed(300), std::optional<std::uint32_t>(600));
  EXPECT_EQ(receive.buffered(), 400u);
  ASSERT_TRUE(receive.on_data(600));
  EXPECT_FALSE(receive.on_data(1));
}

TEST(FlowControl, SenderAndReceiverMoveManyWindowsWithoutLoss) {
  SendWindow send(kInteractiveChannelWindow);
  ReceiveWindow receive(kInteractiveChannelWindow);
  std::uint64_t total = 0;
  const std::uint64_t goal = 64ull * kInteractiveChannelWindow;
  while (total < goal) {
    const auto n = send.allowance(kMaxFramePayload);
    ASSERT_GT(n, 0u) << "sender stalled with " << total << " bytes moved";
    send.consume(n);
    ASSERT_TRUE(receive.on_data(n));
    total += n;
    if (auto credit = receive.on_consumed(n)) ASSERT_TRUE(send.grant(*credit));
  }
  EXPECT_GE(total, goal);
}

TEST(ChannelTable, IdsHaveTheOpenersParityAndTheTableIsBounded) {
  ChannelTable relay(/*odd_ids=*/true, 3);
  auto a = relay.open_local("shell", "S-1", 100, 100);
  auto b = relay.open_local("file", "S-1", 100, 100);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, 1u);
  EXPECT_EQ(*b, 3u);
  EXPECT_FALSE(relay.open_remote(5, "x", "S-1", 1, 1));  // odd ids are the relay's own
  EXPECT_TRUE(relay.open_remote(2, "x", "S-1", 1, 1));
  EXPECT_FALSE(relay.open_local("shell", "S-1", 100, 100));  // full
  EXPECT_TRUE(relay.close(1));
  EXPECT_FALSE(relay.close(1));
  EXPECT_EQ(relay.find(1), nullptr);
  ASSERT_NE(relay.find(3), nullptr);
  EXPECT_EQ(relay.find(3)->kind, "file");
  EXPECT_FALSE(relay.open_remote(2, "x", "S-1", 1, 1));  // already open
}

}  // namespace
}  // namespace tether::protocol
