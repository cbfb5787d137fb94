#include "tether/relay/password_hasher.hpp"

#include <set>

#include <gtest/gtest.h>

namespace tether::relay {
namespace {

TEST(PasswordHasher, VerifiesTheRightPasswordOnly) {
  const auto hash = hash_password("correct horse battery staple");
  EXPECT_TRUE(hash.starts_with("$scrypt$ln=15,r=8,p=1$")) << hash;
  EXPECT_TRUE(verify_password("correct horse battery staple", hash));
  EXPECT_FALSE(verify_password("correct horse battery stapler", hash));
  EXPECT_FALSE(verify_password("", hash));
}

TEST(PasswordHasher, SaltsEveryHash) {
  EXPECT_NE(hash_password("same"), hash_password("same"));
}

TEST(PasswordHasher, MalformedOrExpensiveHashesNeverVerify) {
  const auto good = hash_password("pw");
  const auto tail = good.substr(good.find("$", 8));  // "$salt$key"
  for (const std::string& bad : {std::string(), std::string("pw"), std::string("$scrypt$"),
                                 std::string("$argon2id$ln=15,r=8,p=1") + tail,
                                 "$scrypt$ln=15,r=8" + tail, "$scrypt$ln=40,r=8,p=1" + tail,
                                 "$scrypt$ln=15,r=8,p=99" + tail, "$scrypt$ln=x,r=8,p=1" + tail,
                                 std::string("$scrypt$ln=15,r=8,p=1$!!$AAAA"), good + "$extra"}) {
    EXPECT_FALSE(verify_password("pw", bad)) << bad;
  }
}

TEST(Secrets, RandomTokensAreUrlSafeAndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    const auto token = random_token();
    EXPECT_EQ(token.size(), 43u);  // 32 bytes in base64url without padding
    EXPECT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 200u);
}

TEST(Secrets, Sha256MatchesTheStandardVector) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

}  // namespace
}  // namespace tether::relay
