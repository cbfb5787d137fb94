// IdentityIndex: which enrolled devices share a usable identifier with a machine.
#include "fleet/identity_index.hpp"

#include <gtest/gtest.h>

namespace tether::relay::fleet {
namespace {

HardwareIdentity machine(std::string machine_id, std::string uuid, std::vector<std::string> serials,
                         std::vector<std::string> macs) {
  return normalize_identity(
      {std::move(machine_id), std::move(uuid), std::move(serials), std::move(macs), "pc"});
}

TEST(IdentityIndex, CandidatesShareAUsableIdentifier) {
  IdentityIndex index;
  EXPECT_FALSE(index.loaded());
  index.add(1, machine("0f6c1b3e9a2d4c5e8f7a6b5c4d3e2f1a", "4c4c4544-0042-3510-8052-b4c04f4e3432",
                       {"system:5CG1234XYZ"}, {"eth0=3c:52:82:1a:2b:3c"}));
  index.add(2, machine("0f6c1b3e9a2d4c5e8f7a6b5c4d3e2f1a", "6b1f0c3a-2d4e-4f5a-8b9c-0d1e2f3a4b5c",
                       {"system:8CC2031ABC"}, {"eth0=a4:bb:6d:10:20:30"}));
  index.add(3, machine("1111222233334444555566667777aaaa", "", {}, {}));
  index.mark_loaded();
  EXPECT_TRUE(index.loaded());

  // A clone of 1's image: same machine-id → 1 and 2 (who share it too).
  EXPECT_EQ(index.candidates(machine("0f6c1b3e9a2d4c5e8f7a6b5c4d3e2f1a", "", {}, {})),
            (std::vector<std::int64_t>{1, 2}));
  // 2's firmware with a new installation: only 2.
  EXPECT_EQ(index.candidates(machine("99999999999999999999999999999999",
                                     "6b1f0c3a-2d4e-4f5a-8b9c-0d1e2f3a4b5c", {}, {})),
            (std::vector<std::int64_t>{2}));
  // Nothing in common, or nothing usable (placeholders): none.
  EXPECT_TRUE(index.candidates(machine("abababababababababababababababab", "", {}, {})).empty());
  EXPECT_TRUE(index
                  .candidates(machine("", "03000200-0400-0500-0006-000700080009",
                                      {"system:To be filled by O.E.M."}, {}))
                  .empty());
}

}  // namespace
}  // namespace tether::relay::fleet
