#pragma once
/// What `tether login` remembers: the relay, how to verify it, and the API token. Stored as
/// JSON with mode 0600 in $TETHER_CONFIG_DIR, else $XDG_CONFIG_HOME/tether, else
/// ~/.config/tether.

#include <filesystem>
#include <optional>
#include <string>

namespace tether::console {

struct Credentials {
  std::string relay;        ///< https://HOST:PORT
  std::string fingerprint;  ///< SHA256:… (or empty when ca_file is used)
  std::string ca_file;      ///< Absolute path (or empty when fingerprint is used)
  std::string user;
  std::string token;
  std::string expires_at;
};

/// The directory credentials live in (not created).
std::filesystem::path config_dir();

/// Loads saved credentials; nullopt when there are none or they do not parse.
std::optional<Credentials> load_credentials();

/// Writes credentials atomically with mode 0600 (directory 0700). Throws std::runtime_error.
void save_credentials(const Credentials& credentials);

}  // namespace tether::console
