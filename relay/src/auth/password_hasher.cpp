#include "tether/relay/password_hasher.hpp"

#include <array>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <stdexcept>
#include <vector>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

namespace tether::relay {
namespace {

constexpr int kLogN = 15;
constexpr int kR = 8;
constexpr int kP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kKeyBytes = 32;
// Bounds for hashes read back, so a tampered database cannot make a login take minutes.
constexpr int kMaxLogN = 20;
constexpr int kMaxR = 16;
constexpr int kMaxP = 4;

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string base64url(const unsigned char* data, std::size_t size) {
  std::string out;
  out.reserve((size * 4 + 2) / 3);
  std::uint32_t buffer = 0;
  int bits = 0;
  for (std::size_t i = 0; i < size; ++i) {
    buffer = (buffer << 8) | data[i];
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::optional<std::vector<unsigned char>> from_base64url(std::string_view text) {
  std::vector<unsigned char> out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const char* at = std::char_traits<char>::find(kAlphabet, 64, c);
    if (at == nullptr) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(at - kAlphabet);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<unsigned char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

bool scrypt(std::string_view password, const unsigned char* salt, std::size_t salt_size, int log_n,
            int r, int p, unsigned char* out, std::size_t out_size) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "SCRYPT", nullptr);
  if (kdf == nullptr) return false;
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return false;
  std::uint64_t n = std::uint64_t{1} << log_n;
  std::uint32_t r32 = static_cast<std::uint32_t>(r);
  std::uint32_t p32 = static_cast<std::uint32_t>(p);
  // Room for N = 2^20 with r = 16 (2 GiB would be refused; this is 128 * r * N plus slack).
  std::uint64_t maxmem = 128ull * r * n + (16u << 20);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, const_cast<char*>(password.data()),
                                        password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<unsigned char*>(salt),
                                        salt_size),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r32),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p32),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
      OSSL_PARAM_construct_end()};
  const bool ok = EVP_KDF_derive(ctx, out, out_size, params) == 1;
  EVP_KDF_CTX_free(ctx);
  return ok;
}

std::optional<int> parse_param(std::string_view text, std::string_view name) {
  if (text.substr(0, name.size()) != name || text.size() <= name.size() ||
      text[name.size()] != '=') {
    return std::nullopt;
  }
  int value = 0;
  const auto digits = text.substr(name.size() + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (;;) {
    const auto at = text.find(separator, start);
    parts.push_back(text.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

void random_bytes(unsigned char* out, std::size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    std::fputs("tether-relay: the system random number generator failed\n", stderr);
    std::abort();
  }
}

}  // namespace

std::string hash_password(std::string_view password) {
  std::array<unsigned char, kSaltBytes> salt{};
  random_bytes(salt.data(), salt.size());
  std::array<unsigned char, kKeyBytes> key{};
  if (!scrypt(password, salt.data(), salt.size(), kLogN, kR, kP, key.data(), key.size())) {
    throw std::runtime_error("scrypt is not available from OpenSSL");
  }
  return "$scrypt$ln=" + std::to_string(kLogN) + ",r=" + std::to_string(kR) +
         ",p=" + std::to_string(kP) + "$" + base64url(salt.data(), salt.size()) + "$" +
         base64url(key.data(), key.size());
}

bool verify_password(std::string_view password, std::string_view encoded) {
  // "", "scrypt", "ln=15,r=8,p=1", salt, key
  const auto parts = split(encoded, '$');
  if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt") return false;
  const auto params = split(parts[2], ',');
  if (params.size() != 3) return false;
  const auto log_n = parse_param(params[0], "ln");
  const auto r = parse_param(params[1], "r");
  const auto p = parse_param(params[2], "p");
  if (!log_n || !r || !p || *log_n < 1 || *log_n > kMaxLogN || *r < 1 || *r > kMaxR || *p < 1 ||
      *p > kMaxP) {
    return false;
  }
  const auto salt = from_base64url(parts[3]);
  const auto expected = from_base64url(parts[4]);
  if (!salt || !expected || salt->empty() || expected->size() < 16 || expected->size() > 64) {
    return false;
  }
  std::vector<unsigned char> key(expected->size());
  if (!scrypt(password, salt->data(), salt->size(), *log_n, *r, *p, key.data(), key.size())) {
    return false;
  }
  return CRYPTO_memcmp(key.data(), expected->data(), key.size()) == 0;
}

std::string random_token(std::size_t bytes) {
  std::vector<unsigned char> data(bytes);
  random_bytes(data.data(), data.size());
  return base64url(data.data(), data.size());
}

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1) {
    std::fputs("tether-relay: SHA-256 failed\n", stderr);
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < size; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

}  // namespace tether::relay
