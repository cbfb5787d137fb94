#pragma once
/// SHA-256 (FIPS 180-4) of a byte string, as "sha256:<64 lowercase hex>". The diagnostics hash
/// a few hundred bytes (device id, inventory section hashes); doing it here rather than through
/// OpenSSL's EVP layer spares `tether-agent diag` the provider initialisation, which costs about
/// 2 MB of resident memory — a fifth of the report's memory budget. The relay and the TLS code
/// keep using OpenSSL. Tests check it against OpenSSL.

#include <string>
#include <string_view>

namespace tether::agent::diag {

std::string sha256_tagged_hex(std::string_view data);

}  // namespace tether::agent::diag
