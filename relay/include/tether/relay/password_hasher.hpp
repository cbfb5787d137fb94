#pragma once
/// Password hashing and the other secret material the relay makes.
///
/// Passwords are hashed with scrypt (OpenSSL 3 EVP_KDF, memory-hard: N = 2^15, r = 8, p = 1
/// uses 32 MiB and about 0.1 s per hash) into a self-describing string:
///     $scrypt$ln=15,r=8,p=1$<salt, base64url>$<32-byte key, base64url>
/// Thread-safe. Hashing is CPU-heavy: call it off the network threads.

#include <cstddef>
#include <string>
#include <string_view>

namespace tether::relay {

/// Hashes `password` with a fresh 16-byte salt. Throws std::runtime_error if OpenSSL fails.
std::string hash_password(std::string_view password);

/// True when `password` matches `encoded`. False for a wrong password and for any encoded
/// string that is malformed or asks for parameters outside the accepted range.
bool verify_password(std::string_view password, std::string_view encoded);

/// `bytes` random bytes from the CSPRNG, base64url without padding. Aborts without entropy.
std::string random_token(std::size_t bytes = 32);

/// Lower-case hex SHA-256 of `data`; how tokens and support codes are stored.
std::string sha256_hex(std::string_view data);

}  // namespace tether::relay
