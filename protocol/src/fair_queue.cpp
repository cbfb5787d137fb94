#include "tether/protocol/fair_queue.hpp"

#include <algorithm>

namespace tether::protocol {

void FairQueue::push_control(std::string text) {
  queued_bytes_ += text.size();
  control_.push_back(std::move(text));
}

void FairQueue::push(std::uint32_t channel, std::string bytes, bool text) {
  queued_bytes_ += bytes.size();
  auto& queue = channels_[channel];
  if (queue.empty()) turns_.push_back(channel);
  queue.push_back(Pending{std::move(bytes), text});
}

std::optional<FairQueue::Item> FairQueue::pop() {
  if (!control_.empty()) {
    Item item{std::move(control_.front()), true, 0};
    control_.pop_front();
    queued_bytes_ -= item.bytes.size();
    return item;
  }
  if (turns_.empty()) return std::nullopt;
  const auto channel = turns_.front();
  turns_.pop_front();
  auto it = channels_.find(channel);
  auto& queue = it->second;
  Item item{std::move(queue.front().bytes), queue.front().text, channel};
  queue.pop_front();
  queued_bytes_ -= item.bytes.size();
  // A channel with more to send goes to the back of the line.
  if (queue.empty()) {
    channels_.erase(it);
  } else {
    turns_.push_back(channel);
  }
  return item;
}

void FairQueue::drop(std::uint32_t channel) {
  auto it = channels_.find(channel);
  if (it == channels_.end()) return;
  for (const auto& pending : it->second) queued_bytes_ -= pending.bytes.size();
  channels_.erase(it);
  turns_.erase(std::remove(turns_.begin(), turns_.end(), channel), turns_.end());
}

}  // namespace tether::protocol
