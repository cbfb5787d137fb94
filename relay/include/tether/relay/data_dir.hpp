#pragma once
/// `tether-relay init`: creates a relay's data directory — configuration, database, CA and
/// server certificate, and the first (admin) technician.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

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

/// What `tether-relay token create` asks for.
struct EnrollmentTokenOptions {
  std::chrono::seconds ttl{30 * 60};  ///< 1 minute to 30 days.
  int uses = 1;                       ///< 1 to 10000 enrollments.
  std::string group = "default";      ///< [a-z0-9._-]{1,64}.
  std::string created_by;             ///< Recorded with the token (e.g. "cli:<login>").
};

/// A new enrollment token; `token` is shown once and only its SHA-256 is stored.
struct CreatedEnrollmentToken {
  std::string token;  ///< "tt_" + 52 base32 characters (256 random bits).
  std::chrono::system_clock::time_point expires_at;
  int uses = 1;
  std::string group;
};

/// `tether-relay token create`: stores a new enrollment token for managed devices in an
/// existing data directory. Throws ConfigError for a missing data directory or an option out
/// of range (the message names the option and its bounds).
CreatedEnrollmentToken create_enrollment_token(const std::filesystem::path& data_dir,
                                               const EnrollmentTokenOptions& options);

/// True for a group name of 1 to 64 characters from [a-z0-9._-].
bool valid_group_name(std::string_view name);

}  // namespace tether::relay
