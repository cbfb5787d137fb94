#include "tether/console/credentials.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace tether::console {

namespace fs = std::filesystem;

fs::path config_dir() {
  if (const char* dir = std::getenv("TETHER_CONFIG_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg != nullptr && *xdg != '\0') {
    return fs::path(xdg) / "tether";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home != nullptr ? home : ".") / ".config" / "tether";
}

std::optional<Credentials> load_credentials() {
  std::ifstream in(config_dir() / "credentials.json");
  if (!in) return std::nullopt;
  const auto json = nlohmann::json::parse(in, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  Credentials c;
  auto get = [&](const char* key) {
    auto it = json.find(key);
    return it != json.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  c.relay = get("relay");
  c.fingerprint = get("fingerprint");
  c.ca_file = get("ca_file");
  c.user = get("user");
  c.token = get("token");
  c.expires_at = get("expires_at");
  if (c.relay.empty() || c.token.empty()) return std::nullopt;
  return c;
}

void save_credentials(const Credentials& c) {
  const auto dir = config_dir();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error("cannot create " + dir.string() + ": " + ec.message());
  fs::permissions(dir, fs::perms::owner_all, ec);
  const nlohmann::json json{{"relay", c.relay},     {"fingerprint", c.fingerprint},
                            {"ca_file", c.ca_file}, {"user", c.user},
                            {"token", c.token},     {"expires_at", c.expires_at}};
  const auto text = json.dump(2) + "\n";
  const auto temp = dir / "credentials.json.tmp";
  // Created 0600 from the start, so the token is never readable by others, even briefly.
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::runtime_error("cannot write " + temp.string());
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::fchmod(fd, 0600);
  ::close(fd);
  if (!written) throw std::runtime_error("cannot write " + temp.string());
  fs::rename(temp, dir / "credentials.json", ec);
  if (ec) throw std::runtime_error("cannot save credentials: " + ec.message());
}

}  // namespace tether::console
