#include "tether/relay/data_dir.hpp"

#include <sys/stat.h>

#include <openssl/rand.h>

#include <fstream>

#include "auth/secrets.hpp"
#include "tether/protocol/tls.hpp"
#include "tether/relay/certificate_authority.hpp"
#include "tether/relay/relay_config.hpp"
#include "tether/relay/sqlite_store.hpp"

namespace tether::relay {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path& file, const std::string& content, fs::perms perms) {
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    if (!out) throw ConfigError("cannot write " + file.string());
    out << content;
  }
  fs::permissions(file, perms);
}

}  // namespace

InitResult init_data_dir(const InitOptions& options) {
  RelayConfig config;
  config.data_dir = options.data_dir;
  config.listen = options.listen;
  if (!options.hostname.empty()) config.hostname = options.hostname;
  if (fs::exists(config.config_file()) || fs::exists(config.database_file())) {
    throw ConfigError(options.data_dir.string() +
                      " already holds a relay; refusing to replace its CA and database");
  }
  std::error_code ec;
  fs::create_directories(options.data_dir, ec);
  if (ec) throw ConfigError("cannot create " + options.data_dir.string() + ": " + ec.message());
  fs::permissions(options.data_dir, fs::perms::owner_all, ec);

  const auto owner_rw = fs::perms::owner_read | fs::perms::owner_write;
  const auto ca = create_certificate_authority(config.hostname, std::chrono::hours(24 * 3650));
  std::vector<std::string> names{"localhost"};
  if (config.hostname != "localhost") names.push_back(config.hostname);
  const auto server =
      issue_server_certificate(ca, names, {"127.0.0.1", "::1"}, std::chrono::hours(24 * 825));
  write_file(config.ca_certificate_file(), ca.certificate_pem,
             owner_rw | fs::perms::group_read | fs::perms::others_read);
  write_file(config.ca_key_file(), ca.private_key_pem, owner_rw);
  write_file(config.server_chain_file(), server.certificate_pem + ca.certificate_pem, owner_rw);
  write_file(config.server_key_file(), server.private_key_pem, owner_rw);

  InitResult result;
  result.fingerprint = protocol::certificate_fingerprint(ca.certificate_pem);
  result.admin_user = options.admin_user;
  std::string password;
  if (options.admin_password) {
    password = *options.admin_password;
  } else {
    password = random_token(18);
    result.admin_password = password;
  }
  auto store = SqliteStore::open(config.database_file());
  store->create_user(options.admin_user, "admin", hash_password(password), 3);
  store.reset();

  // The configuration is written last: its presence marks a complete data directory.
  write_file(config.config_file(), config.to_json().dump(2) + "\n", owner_rw);
  return result;
}

std::string add_user(const std::filesystem::path& data_dir, const std::string& name,
                     const std::string& role, std::optional<std::string> password,
                     const std::string& level) {
  const auto config = RelayConfig::load(data_dir);
  if (role != "technician" && role != "admin") {
    throw ConfigError("--role must be technician or admin");
  }
  if (name.empty() || name.size() > 64 ||
      name.find_first_not_of(
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-@") !=
          std::string::npos) {
    throw ConfigError("a user name is 1 to 64 letters, digits, '.', '_', '-' or '@'");
  }
  int level_number = 0;
  if (level.size() == 2 && (level[0] == 'L' || level[0] == 'l') && level[1] >= '1' &&
      level[1] <= '3') {
    level_number = level[1] - '0';
  } else if (!level.empty()) {
    throw ConfigError("--level must be L1, L2 or L3");
  }
  // Admins work at every level; a technician starts at L1 unless told otherwise.
  if (level_number == 0) level_number = role == "admin" ? 3 : 1;
  std::string generated;
  if (!password) {
    generated = random_token(18);
    password = generated;
  }
  auto store = SqliteStore::open(config.database_file());
  if (store->find_user(name)) throw ConfigError("there is already a user named " + name);
  store->create_user(name, role, hash_password(*password), level_number);
  return generated;
}

bool valid_group_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789._-") ==
             std::string_view::npos;
}

CreatedEnrollmentToken create_enrollment_token(const std::filesystem::path& data_dir,
                                               const EnrollmentTokenOptions& options) {
  const auto config = RelayConfig::load(data_dir);
  if (options.ttl < std::chrono::minutes(1) || options.ttl > std::chrono::days(30)) {
    throw ConfigError("--ttl must be from 1m to 30d (e.g. 30m, 12h, 7d)");
  }
  if (options.uses < 1 || options.uses > 10000) {
    throw ConfigError("--uses must be a whole number from 1 to 10000");
  }
  if (!valid_group_name(options.group)) {
    throw ConfigError("--group must be 1 to 64 characters from a-z, 0-9, '.', '_', '-'");
  }
  // 256 random bits in RFC 4648 base32 (lower case, no padding): easy to paste, no '+' or '/'.
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("no entropy for a token");
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  std::string token = "tt_";
  unsigned buffer = 0;
  int bits = 0;
  for (unsigned char b : bytes) {
    buffer = (buffer << 8) | b;
    bits += 8;
    while (bits >= 5) {
      token += kAlphabet[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) token += kAlphabet[(buffer << (5 - bits)) & 31];

  const auto created_at = std::chrono::system_clock::now();
  EnrollmentToken record{sha256_hex(token),
                         options.group,
                         options.created_by.empty() ? "cli" : options.created_by,
                         created_at,
                         created_at + options.ttl,
                         options.uses};
  auto store = SqliteStore::open(config.database_file());
  store->save_enrollment_token(record);
  return {token, record.expires_at, options.uses, options.group};
}

}  // namespace tether::relay
