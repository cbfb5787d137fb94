#pragma once
// Secrets the relay handles: passwords (scrypt), API tokens and support codes (stored as
// SHA-256 only), compared in constant time.

#include <string>
#include <string_view>

#include "tether/relay/password_hasher.hpp"

namespace tether::relay {

/// Equal-length-independent, constant-time comparison of two secrets' hashes.
bool constant_time_equal(std::string_view a, std::string_view b);

/// A valid scrypt hash of a random password, computed once: verifying against it costs the
/// same as against a real user's hash, so failed logins do not reveal which users exist.
const std::string& dummy_password_hash();

}  // namespace tether::relay
