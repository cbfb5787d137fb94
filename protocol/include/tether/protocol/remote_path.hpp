#pragma once
/// Syntax check for a path a technician names for a file transfer. The console runs it before
/// sending a request and the agent runs it again before anything touches disk; the agent then
/// resolves the result beneath its allowed folder (agent/tools/safe_path.hpp), which is what
/// keeps symbolic links and hard links from leading outside.
///
/// A path is refused when it is empty, over kMaxRemotePath bytes, not valid UTF-8, holds a
/// control character (C0, DEL or C1, which terminals interpret), has a ".." component, or has
/// a component over kMaxRemotePathComponent bytes. Everything else is a literal name on
/// Linux: backslashes, "%2e%2e", "~root", "...." and leading dashes are ordinary characters.

#include <cstddef>
#include <string>
#include <string_view>

#include "tether/protocol/tls.hpp"

namespace tether::protocol {

/// Longest path accepted, in bytes (Linux PATH_MAX less its NUL would be 4095; 4096 is the
/// wire limit and the kernel refuses what it cannot hold).
inline constexpr std::size_t kMaxRemotePath = 4096;
/// Longest single component, in bytes (NAME_MAX).
inline constexpr std::size_t kMaxRemotePathComponent = 255;

/// Checks `path` and returns it normalised: repeated slashes collapsed, "." components
/// removed, no trailing slash. A relative path stays relative ("./a//b/" → "a/b"; "." and
/// "./" → "." meaning the allowed folder itself); an absolute path stays absolute ("/" stays
/// "/"), and the agent accepts it only inside its allowed folder.
/// Error::bad_request when the path is refused; describe_remote_path_error() says why.
Result<std::string> check_remote_path(std::string_view path) noexcept;

/// One line saying why check_remote_path() refuses `path`, e.g. "path contains a control
/// character" or "path leaves the allowed folder (..)"; empty when the path is accepted.
/// The path itself is never quoted back: it may hold terminal escapes.
std::string describe_remote_path_error(std::string_view path);

}  // namespace tether::protocol
