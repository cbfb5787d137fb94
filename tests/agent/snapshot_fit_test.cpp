// fit_snapshot: a snapshot too big for one protocol message loses list tails, says so, and
// keeps everything else.

#include <gtest/gtest.h>

#include "tether/agent/diag/snapshot.hpp"

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

json big_snapshot(std::size_t packages, std::size_t processes) {
  json snapshot = {{"schema", 2}, {"system", {{"hostname", "pc"}}}};
  json list = json::array();
  for (std::size_t i = 0; i < packages; ++i) {
    list.push_back({{"name", "package-" + std::to_string(i)}, {"version", "1.0"}});
  }
  snapshot["software"] = {{"packages", list}};
  json procs = json::array();
  for (std::size_t i = 0; i < processes; ++i) procs.push_back({{"pid", i}, {"name", "p"}});
  snapshot["processes"] = {{"list", procs}, {"count", processes}};
  return snapshot;
}

TEST(FitSnapshot, SmallSnapshotIsUntouched) {
  auto snapshot = big_snapshot(10, 10);
  const auto before = snapshot;
  EXPECT_TRUE(fit_snapshot(snapshot, 1 << 20));
  EXPECT_EQ(snapshot, before);
}

TEST(FitSnapshot, BiggestListIsCutFirstAndTheCutIsRecorded) {
  auto snapshot = big_snapshot(20000, 50);
  const auto limit = std::size_t{100 * 1024};
  ASSERT_GT(snapshot.dump().size(), limit);
  EXPECT_TRUE(fit_snapshot(snapshot, limit));
  EXPECT_LE(snapshot.dump().size(), limit);
  EXPECT_EQ(snapshot["software"]["truncated"]["packages"], 20000);
  EXPECT_LT(snapshot["software"]["packages"].size(), 20000U);
  EXPECT_GT(snapshot["software"]["packages"].size(), 100U);
  // The first entries survive, in order; the small list was not needed to shrink.
  EXPECT_EQ(snapshot["software"]["packages"][0]["name"], "package-0");
  EXPECT_EQ(snapshot["processes"]["list"].size(), 50U);
  EXPECT_EQ(snapshot["system"]["hostname"], "pc");
}

TEST(FitSnapshot, ImpossibleLimitIsReported) {
  auto snapshot = big_snapshot(100, 100);
  EXPECT_FALSE(fit_snapshot(snapshot, 10));
}

TEST(FitSnapshot, WrongShapesAreLeftAlone) {
  json snapshot = {{"software", "not an object"}, {"processes", {{"list", 5}}}};
  EXPECT_FALSE(fit_snapshot(snapshot, 5));
  EXPECT_EQ(snapshot["software"], "not an object");
}

}  // namespace
}  // namespace tether::agent::diag
