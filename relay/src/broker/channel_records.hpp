#pragma once
// What a tool channel leaves on the ticket: one timeline entry per action (a command with its
// exit code and duration, a file with direction, path, size and SHA-256, a kill, a service
// action, a refusal). Pure functions of what the relay saw; tested without sockets.

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "tether/protocol/message.hpp"

namespace tether::relay {

struct ChannelRecord {
  std::string kind;     ///< Timeline kind, e.g. "command.run", "file.uploaded", "action.refused".
  std::string summary;  ///< One line for people.
  nlohmann::json detail;
};

/// The record of a channel that ran (or failed) after the agent accepted it or refused it.
/// `close` is how it ended (the agent's channel_close, or the relay's when a side vanished).
ChannelRecord describe_channel(const std::string& technician, const protocol::ChannelOpen& open,
                               const protocol::ChannelClose& close,
                               std::chrono::milliseconds duration, std::uint64_t bytes_to_console,
                               std::uint64_t bytes_from_console);

/// Quotes a command line for display: each argument that needs it in single quotes,
/// control characters escaped.
std::string display_command(const nlohmann::json& argv);

}  // namespace tether::relay
