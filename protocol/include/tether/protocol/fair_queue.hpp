#pragma once
/// The outgoing side of one WebSocket connection that multiplexes channels (SPEC.md §4.4).
///
/// Messages that concern no channel go first. Everything about one channel (its frames and
/// its channel_* control messages) stays in order, and channels take turns one message at a
/// time, so a keystroke on a shell never waits behind more than one frame of a bulk
/// transfer. Sans-I/O; not thread-safe (owned by one connection's writer).

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

namespace tether::protocol {

class FairQueue {
 public:
  struct Item {
    std::string bytes;
    bool text = false;          ///< A JSON control message (else a binary frame).
    std::uint32_t channel = 0;  ///< 0 for messages that concern no channel.
  };

  /// A control message about no channel in particular; sent before any channel traffic.
  void push_control(std::string text);
  /// A frame (`text` false) or a channel_* message (`text` true) of `channel`, kept in order
  /// with everything else queued for that channel.
  void push(std::uint32_t channel, std::string bytes, bool text = false);
  /// The next message to write, or nothing when the queue is empty.
  std::optional<Item> pop();
  /// Discards what is still queued for `channel` (the channel was aborted).
  void drop(std::uint32_t channel);

  bool empty() const { return control_.empty() && turns_.empty(); }
  /// Bytes waiting, control messages included.
  std::size_t queued_bytes() const { return queued_bytes_; }

 private:
  struct Pending {
    std::string bytes;
    bool text;
  };
  std::deque<std::string> control_;
  std::map<std::uint32_t, std::deque<Pending>> channels_;
  std::deque<std::uint32_t> turns_;  // Channels with something queued, in the order they go.
  std::size_t queued_bytes_ = 0;
};

}  // namespace tether::protocol
