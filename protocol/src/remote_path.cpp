#include "tether/protocol/remote_path.hpp"

#include "tether/protocol/utf8.hpp"

namespace tether::protocol {
namespace {

enum class PathFault {
  none,
  empty,
  too_long,
  nul,
  control,
  bad_utf8,
  parent,
  long_component,
};

// One pass over the bytes, then one over the components. `normalised` is only filled when
// the path is accepted.
PathFault inspect(std::string_view path, std::string* normalised) {
  if (path.empty()) return PathFault::empty;
  if (path.size() > kMaxRemotePath) return PathFault::too_long;

  for (std::size_t i = 0; i < path.size();) {
    const auto byte = static_cast<unsigned char>(path[i]);
    if (byte == 0) return PathFault::nul;
    if (byte < 0x20 || byte == 0x7f) return PathFault::control;
    const std::size_t length = utf8_sequence_length(path, i);
    if (length == 0) return PathFault::bad_utf8;
    // U+0080..U+009F: C1 controls; 0x9b alone is CSI to some terminals.
    if (length == 2 && byte == 0xc2 && static_cast<unsigned char>(path[i + 1]) < 0xa0) {
      return PathFault::control;
    }
    i += length;
  }

  const bool absolute = path.front() == '/';
  std::string out;
  if (absolute) out.push_back('/');
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view component = path.substr(start, end - start);
    start = end + 1;
    if (component.empty() || component == ".") continue;
    if (component == "..") return PathFault::parent;
    if (component.size() > kMaxRemotePathComponent) return PathFault::long_component;
    if (!out.empty() && out.back() != '/') out.push_back('/');
    out.append(component);
  }
  if (out.empty()) out = ".";
  if (normalised != nullptr) *normalised = std::move(out);
  return PathFault::none;
}

}  // namespace

Result<std::string> check_remote_path(std::string_view path) noexcept {
  std::string normalised;
  if (inspect(path, &normalised) != PathFault::none) return make_error_code(Error::bad_request);
  return normalised;
}

std::string describe_remote_path_error(std::string_view path) {
  switch (inspect(path, nullptr)) {
    case PathFault::none:
      return {};
    case PathFault::empty:
      return "path is empty";
    case PathFault::too_long:
      return "path is longer than 4096 bytes";
    case PathFault::nul:
      return "path contains a NUL byte";
    case PathFault::control:
      return "path contains a control character";
    case PathFault::bad_utf8:
      return "path is not valid UTF-8";
    case PathFault::parent:
      return "path leaves the allowed folder (..)";
    case PathFault::long_component:
      return "path has a name longer than 255 bytes";
  }
  return "path is not acceptable";
}

}  // namespace tether::protocol
