// md RAID state from /proc/mdstat.

#include "diag/collectors/mdstat.hpp"

#include <gtest/gtest.h>

namespace tether::agent::diag {
namespace {

using json = nlohmann::json;

const char* kServer =
    "Personalities : [raid1] [raid6] [raid5] [raid4] [linear] [multipath] [raid0] [raid10] \n"
    "md1 : active raid5 sde1[3] sdd1[1] sdc1[0]\n"
    "      7813894144 blocks super 1.2 level 5, 512k chunk, algorithm 2 [3/2] [UU_]\n"
    "      [==>..................]  recovery = 12.6% (492342272/3906947072) finish=412.3min "
    "speed=138011K/sec\n"
    "      bitmap: 4/30 pages [16KB], 65536KB chunk\n"
    "\n"
    "md0 : active raid1 sdb1[1] sda1[0]\n"
    "      523264 blocks super 1.2 [2/2] [UU]\n"
    "      \n"
    "md127 : inactive sdf1[0](S)\n"
    "      3906886656 blocks super 1.2\n"
    "       \n"
    "unused devices: <none>\n";

TEST(Mdstat, HealthyDegradedRecoveringAndInactive) {
  const auto raid = parse_mdstat(kServer);
  ASSERT_EQ(raid.size(), 3u);
  const auto& md0 = raid[0];
  EXPECT_EQ(md0["name"], "md0");
  EXPECT_EQ(md0["level"], "raid1");
  EXPECT_EQ(md0["state"], "active");
  EXPECT_EQ(md0["devices_total"], 2);
  EXPECT_EQ(md0["devices_active"], 2);
  EXPECT_EQ(md0["degraded"], false);
  EXPECT_EQ(md0["sync_action"], "idle");
  EXPECT_TRUE(md0["sync_pct"].is_null());

  const auto& md1 = raid[1];
  EXPECT_EQ(md1["level"], "raid5");
  EXPECT_EQ(md1["devices_total"], 3);
  EXPECT_EQ(md1["devices_active"], 2);
  EXPECT_EQ(md1["degraded"], true);
  EXPECT_EQ(md1["sync_action"], "recovery");
  EXPECT_DOUBLE_EQ(md1["sync_pct"].get<double>(), 12.6);
  EXPECT_EQ(md1["members"].size(), 3u);
  EXPECT_EQ(md1["members"][0], json({{"device", "sde1"}, {"state", "active"}}));

  const auto& md127 = raid[2];
  EXPECT_EQ(md127["state"], "inactive");
  EXPECT_TRUE(md127["level"].is_null());
  EXPECT_EQ(md127["members"][0]["state"], "spare");
  EXPECT_EQ(md127["degraded"], false);  // not running: its state says so, not "degraded"
  EXPECT_TRUE(md127["sync_action"].is_null());
}

TEST(Mdstat, FailedMemberAndResync) {
  const auto raid = parse_mdstat(
      "md2 : active raid1 sdb2[1](F) sda2[0]\n"
      "      976628736 blocks super 1.2 [2/1] [U_]\n"
      "md3 : active raid10 sdd3[3] sdc3[2] sdb3[1] sda3[0]\n"
      "      1953259520 blocks super 1.2 512K chunks 2 near-copies [4/4] [UUUU]\n"
      "      [=======>.............]  resync = 37.5% (732472320/1953259520) finish=95.1min\n"
      "md4 : active (auto-read-only) raid1 sdf1[1] sde1[0]\n"
      "      1000 blocks [2/2] [UU]\n"
      "        resync=PENDING\n");
  ASSERT_EQ(raid.size(), 3u);
  EXPECT_EQ(raid[0]["devices_failed"], 1);
  EXPECT_EQ(raid[0]["degraded"], true);
  EXPECT_EQ(raid[0]["members"][0], json({{"device", "sdb2"}, {"state", "failed"}}));
  EXPECT_EQ(raid[1]["degraded"], false);
  EXPECT_EQ(raid[1]["sync_action"], "resync");
  EXPECT_DOUBLE_EQ(raid[1]["sync_pct"].get<double>(), 37.5);
  EXPECT_EQ(raid[2]["state"], "auto-read-only");
  EXPECT_EQ(raid[2]["sync_action"], "resync");
  EXPECT_TRUE(raid[2]["sync_pct"].is_null());
}

TEST(Mdstat, RaidZeroWithoutCountsAndGarbage) {
  const auto raid = parse_mdstat(
      "md5 : active raid0 sdb1[1] sda1[0]\n"
      "      1953257472 blocks super 1.2 512k chunks\n");
  ASSERT_EQ(raid.size(), 1u);
  EXPECT_EQ(raid[0]["devices_total"], 2);
  EXPECT_EQ(raid[0]["devices_active"], 2);
  EXPECT_EQ(raid[0]["degraded"], false);
  EXPECT_EQ(parse_mdstat(""), json::array());
  EXPECT_NO_THROW(
      parse_mdstat("md0 : active raid1 sda1[0] sdb1[1](F)\n      123 blocks [2/x] [U_]\n"
                   "      recovery = abc%\nmd9 :\n\xff md1 : \n"));
}

}  // namespace
}  // namespace tether::agent::diag
