#pragma once
/// Per-tool details of what flows on a channel (SPEC.md §4.3) that both ends must agree on.

namespace tether::protocol {

/// exec: every data frame from the agent starts with one of these bytes, then the output.
inline constexpr char kExecStdoutTag = '\x01';
inline constexpr char kExecStderrTag = '\x02';

}  // namespace tether::protocol
