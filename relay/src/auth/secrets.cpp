#include "auth/secrets.hpp"

#include <openssl/crypto.h>

namespace tether::relay {

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

const std::string& dummy_password_hash() {
  static const std::string hash = hash_password(random_token(16));
  return hash;
}

}  // namespace tether::relay
