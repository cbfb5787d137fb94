#include "tether/protocol/frame.hpp"

#include <cstdio>
#include <cstdlib>

#include "tether/protocol/limits.hpp"

namespace tether::protocol {
namespace {

std::uint32_t read_u32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void append_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}

std::string header(FrameKind kind, std::uint32_t channel) {
  std::string out;
  out.push_back(static_cast<char>(kind));
  append_u32(out, channel);
  return out;
}

}  // namespace

static_assert(kFrameHeaderBytes + kMaxFramePayload == kMaxChannelFrameBytes);

Result<Frame> decode_frame(std::span<const std::uint8_t> bytes) noexcept {
  if (bytes.size() > kMaxChannelFrameBytes) return make_error_code(Error::message_too_large);
  if (bytes.size() < kFrameHeaderBytes) return make_error_code(Error::channel_error);
  Frame frame;
  frame.channel = read_u32(bytes.data() + 1);
  if (frame.channel == 0) return make_error_code(Error::channel_error);
  const auto body = bytes.subspan(kFrameHeaderBytes);
  switch (bytes[0]) {
    case static_cast<std::uint8_t>(FrameKind::data):
      frame.kind = FrameKind::data;
      frame.payload = std::string_view(reinterpret_cast<const char*>(body.data()), body.size());
      return frame;
    case static_cast<std::uint8_t>(FrameKind::credit):
      if (body.size() != 4) return make_error_code(Error::channel_error);
      frame.kind = FrameKind::credit;
      frame.credit = read_u32(body.data());
      if (frame.credit == 0) return make_error_code(Error::channel_error);
      return frame;
    case static_cast<std::uint8_t>(FrameKind::eof):
      if (!body.empty()) return make_error_code(Error::channel_error);
      frame.kind = FrameKind::eof;
      return frame;
    default:
      return make_error_code(Error::channel_error);
  }
}

std::string encode_data_frame(std::uint32_t channel, std::string_view payload) {
  if (payload.size() > kMaxFramePayload) {
    std::fputs("tether: channel frame payload over the limit\n", stderr);
    std::abort();
  }
  auto out = header(FrameKind::data, channel);
  out.append(payload);
  return out;
}

std::string encode_credit_frame(std::uint32_t channel, std::uint32_t increment) {
  auto out = header(FrameKind::credit, channel);
  append_u32(out, increment);
  return out;
}

std::string encode_eof_frame(std::uint32_t channel) {
  return header(FrameKind::eof, channel);
}

void set_frame_channel(std::string& frame, std::uint32_t channel) noexcept {
  if (frame.size() < kFrameHeaderBytes) return;
  frame[1] = static_cast<char>((channel >> 24) & 0xff);
  frame[2] = static_cast<char>((channel >> 16) & 0xff);
  frame[3] = static_cast<char>((channel >> 8) & 0xff);
  frame[4] = static_cast<char>(channel & 0xff);
}

}  // namespace tether::protocol
