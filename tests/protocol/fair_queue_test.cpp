#include "tether/protocol/fair_queue.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

std::vector<std::string> drain(FairQueue& queue) {
  std::vector<std::string> out;
  while (auto item = queue.pop()) out.push_back(item->bytes);
  return out;
}

TEST(FairQueue, AKeystrokeWaitsForOneBulkFrameAtMost) {
  FairQueue queue;
  for (int i = 0; i < 100; ++i) queue.push(3, "bulk" + std::to_string(i));
  queue.push(5, "key");
  auto first = queue.pop();
  auto second = queue.pop();
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->bytes, "bulk0");
  EXPECT_EQ(second->bytes, "key");
  EXPECT_EQ(second->channel, 5u);
}

TEST(FairQueue, ControlMessagesGoFirstAndEachChannelKeepsItsOrder) {
  FairQueue queue;
  queue.push(3, "a1");
  queue.push(3, "close-a", true);
  queue.push(5, "b1");
  queue.push(5, "b2");
  queue.push_control("welcome");
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"welcome", "a1", "b1", "close-a", "b2"}));
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.queued_bytes(), 0u);
}

TEST(FairQueue, TextFlagTravelsWithTheItem) {
  FairQueue queue;
  queue.push(7, "frame");
  queue.push(7, "{\"type\":\"channel_close\"}", true);
  auto frame = queue.pop();
  auto text = queue.pop();
  ASSERT_TRUE(frame && text);
  EXPECT_FALSE(frame->text);
  EXPECT_TRUE(text->text);
}

TEST(FairQueue, DroppingAChannelForgetsItsBytesOnly) {
  FairQueue queue;
  queue.push(3, std::string(1000, 'x'));
  queue.push(3, std::string(1000, 'y'));
  queue.push(5, "keep");
  EXPECT_EQ(queue.queued_bytes(), 2004u);
  queue.drop(3);
  EXPECT_EQ(queue.queued_bytes(), 4u);
  EXPECT_EQ(drain(queue), (std::vector<std::string>{"keep"}));
}

}  // namespace
}  // namespace tether::protocol
