#include "tether/protocol/sha256_digest.hpp"

#include <gtest/gtest.h>

namespace tether::protocol {
namespace {

TEST(Sha256Digest, MatchesTheStandardVectorsFedInPieces) {
  Sha256Digest digest;
  EXPECT_EQ(digest.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  digest.update("a");
  digest.update("bc");
  EXPECT_EQ(digest.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // After hex() the digest starts over.
  digest.update("abc");
  EXPECT_EQ(digest.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  std::string million(1000000, 'a');
  digest.update(million);
  EXPECT_EQ(digest.hex(), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

}  // namespace
}  // namespace tether::protocol
