#pragma once
// One tool channel routed by the relay: a technician's console WebSocket on one side, a
// channel on the agent's connection on the other (SPEC.md §4.5). The relay forwards frames
// without looking inside them, but it polices credit in both directions, so what it buffers
// for a channel never exceeds the window the receiving end granted.

#include <cstdint>
#include <memory>
#include <string>

#include "tether/protocol/message.hpp"

namespace tether::relay {

class ConsoleChannel;

struct ChannelBridge {
  std::weak_ptr<ConsoleChannel> console;
  std::int64_t session_id = 0;
  std::string kind;
  // Set and used on the agent connection's strand only.
  std::uint32_t agent_channel = 0;
  std::uint64_t console_may_send = 0;  // Credit the agent granted that the console has not used.
  std::uint64_t agent_may_send = 0;    // Credit the console granted that the agent has not used.
  bool open = false;
};

}  // namespace tether::relay
