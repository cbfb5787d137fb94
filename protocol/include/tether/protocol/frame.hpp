#pragma once
/// Binary channel frames (protocol/SPEC.md §4). Each WebSocket binary message is one frame:
///
///     byte 0      kind (1 = data, 2 = credit, 3 = eof)
///     bytes 1-4   channel id, big-endian, never 0
///     bytes 5-    data: the payload; credit: 4-byte big-endian increment; eof: nothing
///
/// A whole frame is at most kMaxChannelFrameBytes. Sans-I/O: no sockets here.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

enum class FrameKind : std::uint8_t { data = 1, credit = 2, eof = 3 };

inline constexpr std::size_t kFrameHeaderBytes = 5;
/// Largest payload of one data frame.
inline constexpr std::size_t kMaxFramePayload = 64 * 1024 - kFrameHeaderBytes;

/// A decoded frame. `payload` views the buffer passed to decode_frame.
struct Frame {
  FrameKind kind = FrameKind::data;
  std::uint32_t channel = 0;
  std::string_view payload;  ///< data frames only.
  std::uint32_t credit = 0;  ///< credit frames only.
};

/// Decodes one frame. Errors: message_too_large (over the limit), channel_error (short
/// header, unknown kind, channel 0, credit not 4 bytes or zero, eof with a payload).
Result<Frame> decode_frame(std::span<const std::uint8_t> bytes) noexcept;

/// Encodes a data frame; aborts if `payload` is over kMaxFramePayload (a caller bug:
/// split large data first).
std::string encode_data_frame(std::uint32_t channel, std::string_view payload);
std::string encode_credit_frame(std::uint32_t channel, std::uint32_t increment);
std::string encode_eof_frame(std::uint32_t channel);
/// Rewrites the channel id of an encoded frame in place (the relay renumbers channels between
/// the console's WebSocket and the agent's). The frame must be at least a header long.
void set_frame_channel(std::string& frame, std::uint32_t channel) noexcept;

}  // namespace tether::protocol
