#pragma once
/// `tether-relay init`: creates a relay's data directory — configuration, database, CA and
/// server certificate, and the first (admin) technician.

#include <filesystem>
#include <optional>
#include <string>

namespace tether::relay {

struct InitOptions {
  std::filesystem::path data_dir;
  std::string hostname;  ///< Extra certificate name; empty: none.
  std::string admin_user = "admin";
  std::optional<std::string> admin_password;  ///< Generated when absent.
  std::string listen = "127.0.0.1:8443";
};

struct InitResult {
  std::string fingerprint;  ///< "SHA256:<64 hex>" of the CA certificate.
  std::string admin_user;
  std::string admin_password;  ///< Only when generated; empty when it was given.
};

/// Creates everything under `options.data_dir` (mode 0700; keys and database 0600). Refuses
/// (ConfigError) when the directory already holds a relay, so a second run never replaces
/// the CA that agents have pinned.
InitResult init_data_dir(const InitOptions& options);

/// `tether-relay user add`: adds a technician (role "technician" or "admin") to an existing
/// data directory, working at support `level` ("L1".."L3"; empty: L1 for technicians, L3 for
/// admins). Returns the password, generated when `password` is empty. Throws ConfigError for
/// a missing data directory, a bad role or level, or a name already taken.
std::string add_user(const std::filesystem::path& data_dir, const std::string& name,
                     const std::string& role, std::optional<std::string> password,
                     const std::string& level = {});

}  // namespace tether::relay
