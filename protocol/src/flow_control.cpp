#include "tether/protocol/flow_control.hpp"

#include <cstdio>
#include <cstdlib>
#include <limits>

namespace tether::protocol {

void SendWindow::consume(std::uint64_t bytes) {
  if (bytes > available_) {
    std::fputs("tether: channel write past the granted credit\n", stderr);
    std::abort();
  }
  available_ -= bytes;
}

Result<void> SendWindow::grant(std::uint32_t increment) noexcept {
  if (increment == 0 || available_ + increment > std::numeric_limits<std::uint32_t>::max()) {
    return make_error_code(Error::channel_error);
  }
  available_ += increment;
  return {};
}

Result<void> ReceiveWindow::on_data(std::uint64_t bytes) noexcept {
  if (bytes > outstanding_) return make_error_code(Error::channel_error);
  outstanding_ -= bytes;
  buffered_ += bytes;
  return {};
}

std::optional<std::uint32_t> ReceiveWindow::on_consumed(std::uint64_t bytes) noexcept {
  if (bytes > buffered_) bytes = buffered_;
  buffered_ -= bytes;
  to_grant_ += bytes;
  // Granting in batches of half a window keeps credit frames rare without stalling the peer.
  if (to_grant_ == 0 || to_grant_ < window_ / 2) return std::nullopt;
  const auto grant = static_cast<std::uint32_t>(to_grant_);
  outstanding_ += to_grant_;
  to_grant_ = 0;
  return grant;
}

Result<std::uint32_t> ChannelTable::open_local(std::string kind, std::string session,
                                               std::uint32_t peer_window,
                                               std::uint32_t our_window) {
  if (channels_.size() >= max_channels_) return make_error_code(Error::channel_error);
  while (channels_.contains(next_id_) || next_id_ == 0) next_id_ += 2;
  const auto id = next_id_;
  next_id_ += 2;
  channels_.emplace(id, ChannelState{std::move(kind), std::move(session), SendWindow(peer_window),
                                     ReceiveWindow(our_window)});
  return id;
}

Result<void> ChannelTable::open_remote(std::uint32_t id, std::string kind, std::string session,
                                       std::uint32_t peer_window, std::uint32_t our_window) {
  const bool ours_are_odd = (next_id_ % 2) == 1;
  if (id == 0 || ((id % 2) == 1) == ours_are_odd || channels_.contains(id) ||
      channels_.size() >= max_channels_) {
    return make_error_code(Error::channel_error);
  }
  channels_.emplace(id, ChannelState{std::move(kind), std::move(session), SendWindow(peer_window),
                                     ReceiveWindow(our_window)});
  return {};
}

ChannelState* ChannelTable::find(std::uint32_t id) {
  auto it = channels_.find(id);
  return it == channels_.end() ? nullptr : &it->second;
}

bool ChannelTable::close(std::uint32_t id) {
  return channels_.erase(id) == 1;
}

}  // namespace tether::protocol
