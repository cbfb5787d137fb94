#pragma once
/// Credit-based flow control for channels (protocol/SPEC.md §4.2), sans-I/O.
///
/// Each side of a channel may send only as many data bytes as the receiver has granted.
/// The opener states its receive window in `channel_open`; the other side's window is the
/// default. The receiver grants credit back as its consumer drains data, in batches of at
/// least half the window so credit frames stay rare. A peer that sends past its credit has
/// broken the protocol: the channel is closed with channel_error. One slow consumer so
/// stalls only its own channel, and the relay never buffers more than one window per channel.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "tether/protocol/limits.hpp"
#include "tether/protocol/tls.hpp"

namespace tether::protocol {

/// What this side may still send.
class SendWindow {
 public:
  explicit SendWindow(std::uint32_t initial) : available_(initial) {}
  std::uint64_t available() const { return available_; }
  /// Bytes of a pending write that may go now (≤ wanted).
  std::uint64_t allowance(std::uint64_t wanted) const {
    return wanted < available_ ? wanted : available_;
  }
  /// Records `bytes` sent; aborts if more than available (a caller bug).
  void consume(std::uint64_t bytes);
  /// A credit frame arrived. Error::channel_error if it would exceed 2^32-1 outstanding.
  Result<void> grant(std::uint32_t increment) noexcept;

 private:
  std::uint64_t available_;
};

/// What the peer may still send us, and when to grant more.
class ReceiveWindow {
 public:
  explicit ReceiveWindow(std::uint32_t window) : window_(window), outstanding_(window) {}
  /// A data frame of `bytes` arrived. Error::channel_error when over the granted credit.
  Result<void> on_data(std::uint64_t bytes) noexcept;
  /// The consumer finished with `bytes`. Returns the credit to send now, if any is due.
  std::optional<std::uint32_t> on_consumed(std::uint64_t bytes) noexcept;
  /// Bytes received and not yet consumed.
  std::uint64_t buffered() const { return buffered_; }

 private:
  std::uint32_t window_;
  std::uint64_t outstanding_;  // Credit the peer still holds.
  std::uint64_t buffered_ = 0;
  std::uint64_t to_grant_ = 0;
};

/// One open channel as seen from one end.
struct ChannelState {
  std::string kind;
  std::string session;
  SendWindow send;
  ReceiveWindow receive;
  bool eof_sent = false;
  bool eof_received = false;
};

/// The channels open on one connection. Not thread-safe; owned by the connection's strand.
class ChannelTable {
 public:
  /// `odd_ids`: this side numbers its channels with odd ids (the relay), else even (agent).
  explicit ChannelTable(bool odd_ids, std::size_t max_channels = kMaxChannelsPerConnection)
      : next_id_(odd_ids ? 1 : 2), max_channels_(max_channels) {}

  /// Opens a channel this side initiates. Error::channel_error when the table is full.
  Result<std::uint32_t> open_local(std::string kind, std::string session, std::uint32_t peer_window,
                                   std::uint32_t our_window);
  /// Registers a channel the peer opened. Error::channel_error for a used id, an id of
  /// our parity, or a full table.
  Result<void> open_remote(std::uint32_t id, std::string kind, std::string session,
                           std::uint32_t peer_window, std::uint32_t our_window);
  ChannelState* find(std::uint32_t id);
  /// Forgets a channel; returns false when it was not open.
  bool close(std::uint32_t id);
  std::size_t size() const { return channels_.size(); }

 private:
  std::map<std::uint32_t, ChannelState> channels_;
  std::uint32_t next_id_;
  std::size_t max_channels_;
};

}  // namespace tether::protocol
