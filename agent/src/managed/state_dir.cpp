#include "tether/agent/managed/state_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tether/agent/support_session.hpp"

namespace tether::agent::managed {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_errno(const std::string& what, const fs::path& file) {
  throw StateDirError("cannot " + what + " " + file.string() + ": " + std::strerror(errno));
}

// Written to a temporary file that is private from its first byte, flushed to disk, then
// renamed over `file`: a reader sees the old content or the new one, never half.
void write_private_file(const fs::path& file, const std::string& content) {
  const fs::path temporary = file.parent_path() / ("." + file.filename().string() + ".tmp");
  ::unlink(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) fail_errno("create", temporary);
  std::size_t written = 0;
  while (written < content.size()) {
    const auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int saved = errno;
      ::close(fd);
      ::unlink(temporary.c_str());
      errno = saved;
      fail_errno("write", temporary);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(temporary.c_str());
    fail_errno("write", temporary);
  }
  if (::rename(temporary.c_str(), file.c_str()) != 0) {
    ::unlink(temporary.c_str());
    fail_errno("replace", file);
  }
}

void sync_directory(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

nlohmann::json state_json(const AgentState& state) {
  nlohmann::json out = {{"relay", state.relay}};
  if (!state.fingerprint.empty()) out["fingerprint"] = state.fingerprint;
  if (!state.ca.empty()) out["ca"] = state.ca;
  out["device"] = state.device;
  out["group"] = state.group;
  out["not_after"] = state.not_after;
  return out;
}

}  // namespace

fs::path default_state_dir() {
  if (::geteuid() == 0) return "/var/lib/tether-agent";
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg != nullptr && xdg[0] == '/') {
    return fs::path(xdg) / "tether-agent";
  }
  return home_directory() / ".local" / "state" / "tether-agent";
}

bool is_enrolled(const fs::path& dir) {
  std::error_code ec;
  return fs::exists(state_file(dir), ec);
}

void write_enrollment(const fs::path& dir, const Enrollment& enrollment, bool force) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw StateDirError("cannot create " + dir.string() + ": " + ec.message());
  if (::chmod(dir.c_str(), 0700) != 0) fail_errno("make private", dir);
  if (is_enrolled(dir)) {
    if (!force) {
      throw StateDirError(dir.string() + " already holds an enrollment; use --force to replace it");
    }
    // The old enrollment stops being one before any of its files change.
    if (::unlink(state_file(dir).c_str()) != 0) fail_errno("remove", state_file(dir));
    sync_directory(dir);
  }
  write_private_file(key_file(dir), enrollment.private_key_pem);
  write_private_file(certificate_file(dir), enrollment.certificate_pem);
  write_private_file(ca_file(dir), enrollment.ca_certificate_pem);
  write_private_file(state_file(dir), state_json(enrollment.state).dump(2) + "\n");
  sync_directory(dir);
}

void replace_certificate(const fs::path& dir, const std::string& certificate_pem,
                         const std::string& not_after) {
  auto state = read_state(dir);
  if (!state) throw StateDirError(dir.string() + " holds no enrollment");
  write_private_file(certificate_file(dir), certificate_pem);
  state->not_after = not_after;
  write_private_file(state_file(dir), state_json(*state).dump(2) + "\n");
  sync_directory(dir);
}

std::optional<AgentState> read_state(const fs::path& dir) {
  std::ifstream in(state_file(dir));
  if (!in) {
    if (!is_enrolled(dir)) return std::nullopt;
    throw StateDirError("cannot read " + state_file(dir).string());
  }
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (!json.is_object()) throw StateDirError(state_file(dir).string() + " is not a JSON object");
  auto text = [&](const char* key) {
    auto it = json.find(key);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  AgentState state{text("relay"),  text("fingerprint"), text("ca"),
                   text("device"), text("group"),       text("not_after")};
  if (state.relay.empty() || state.device.empty() ||
      (state.fingerprint.empty() && state.ca.empty())) {
    throw StateDirError(state_file(dir).string() +
                        " lacks relay, device or the relay's fingerprint/CA; enroll again");
  }
  return state;
}

}  // namespace tether::agent::managed
