// sha256_tagged_hex against the FIPS 180-4 examples and against OpenSSL on every length
// around the block and padding boundaries.

#include "tether/agent/diag/sha256.hpp"

#include <openssl/evp.h>

#include <string>

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

std::string openssl_sha256(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr), 1);
  std::string out = "sha256:";
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

TEST(Sha256, StandardExamples) {
  EXPECT_EQ(sha256_tagged_hex(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_tagged_hex("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha256_tagged_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "sha256:248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(Sha256, MatchesOpenSslAcrossBlockBoundaries) {
  std::string data;
  for (int length = 0; length <= 300; ++length) {
    EXPECT_EQ(sha256_tagged_hex(data), openssl_sha256(data)) << "length " << length;
    data += static_cast<char>(length * 37 + 11);
  }
}

}  // namespace
}  // namespace tether::agent::diag
