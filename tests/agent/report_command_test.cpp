// run_report_command and thresholds_from_config: what `tether-agent diag|inventory` do with
// a saved snapshot, a config file, and files they cannot read or write.

#include "tether/agent/diag/report_command.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace tether::agent::diag {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("tether-report-" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return dir_ / name;
  }
  fs::path dir_;
};

const json kSnapshot = {
    {"schema", 2},
    {"collected_at", "2026-11-25T10:00:00Z"},
    {"system", {{"hostname", "reception-pc"}, {"os", {{"pretty_name", "Debian GNU/Linux 12"}}}}},
    {"findings", json::array({{{"id", "disk.space"},
                               {"severity", "critical"},
                               {"summary", "/ is 99% full (1.0 GiB free)"},
                               {"hint", "Free space"},
                               {"evidence", json::object()}}})},
    {"checks_skipped", json::array()}};

TEST_F(ReportCommandTest, SavedSnapshotIsWrittenBackAsJson) {
  const auto input = write("in.json", kSnapshot.dump());
  std::ostringstream out, err;
  const ReportCommand command{.format = "json", .input = input};
  EXPECT_EQ(run_report_command(command, out, err), 0) << err.str();
  EXPECT_EQ(json::parse(out.str()), kSnapshot);
}

TEST_F(ReportCommandTest, TextReportStartsWithTheFindings) {
  const auto input = write("in.json", kSnapshot.dump());
  std::ostringstream out, err;
  EXPECT_EQ(run_report_command({.format = "text", .input = input}, out, err), 0);
  const auto text = out.str();
  const auto finding = text.find("/ is 99% full");
  ASSERT_NE(finding, std::string::npos) << text;
  EXPECT_NE(text.find("reception-pc"), std::string::npos);
}

TEST_F(ReportCommandTest, RedactedHtmlLosesTheHostName) {
  const auto input = write("in.json", kSnapshot.dump());
  const auto html = dir_ / "report.html";
  std::ostringstream out, err;
  EXPECT_EQ(
      run_report_command({.format = "html", .redact = true, .input = input, .out = html}, out, err),
      0)
      << err.str();
  std::ifstream in(html);
  const std::string written((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(written.find("<html"), std::string::npos);
  EXPECT_EQ(written.find("reception-pc"), std::string::npos);
  EXPECT_TRUE(out.str().empty());
}

TEST_F(ReportCommandTest, UnreadableOrMalformedInputIsOneClearLine) {
  std::ostringstream out, err;
  EXPECT_EQ(run_report_command({.input = dir_ / "missing.json"}, out, err), 1);
  EXPECT_NE(err.str().find("not a readable JSON snapshot"), std::string::npos);
  std::ostringstream err2;
  EXPECT_EQ(run_report_command({.input = write("bad.json", "{\"schema\": ")}, out, err2), 1);
  EXPECT_NE(err2.str().find("bad.json"), std::string::npos);
}

TEST_F(ReportCommandTest, UnwritableOutputFails) {
  const auto input = write("in.json", kSnapshot.dump());
  std::ostringstream out, err;
  EXPECT_EQ(run_report_command({.input = input, .out = dir_ / "no-such-dir" / "x.txt"}, out, err),
            1);
  EXPECT_NE(err.str().find("cannot write"), std::string::npos);
}

TEST_F(ReportCommandTest, GlpiInventoryFromASavedSnapshot) {
  const auto input = write("in.json", kSnapshot.dump());
  std::ostringstream out, err;
  EXPECT_EQ(
      run_report_command({.kind = ReportCommand::Kind::inventory, .format = "glpi", .input = input},
                         out, err),
      0)
      << err.str();
  const auto glpi = json::parse(out.str());
  EXPECT_EQ(glpi["itemtype"], "Computer");
  EXPECT_EQ(glpi["action"], "inventory");
}

TEST_F(ReportCommandTest, ConfigOverridesAThreshold) {
  const auto config = write("agent.toml", "[thresholds]\ndisk_used_warning_pct = 70\n");
  std::ostringstream err;
  const auto thresholds = thresholds_from_config(config, err);
  ASSERT_TRUE(thresholds) << err.str();
  EXPECT_EQ(thresholds->disk_used_warning_pct, 70);
  EXPECT_EQ(thresholds->disk_used_critical_pct, Thresholds{}.disk_used_critical_pct);
}

TEST_F(ReportCommandTest, BadConfigNamesTheKey) {
  const auto config = write("agent.toml", "[thresholds]\ndisk_used_warnig_pct = 70\n");
  std::ostringstream err;
  EXPECT_FALSE(thresholds_from_config(config, err));
  EXPECT_NE(err.str().find("disk_used_warnig_pct"), std::string::npos) << err.str();
}

TEST_F(ReportCommandTest, MissingExplicitConfigIsAnError) {
  std::ostringstream err;
  EXPECT_FALSE(thresholds_from_config(dir_ / "absent.toml", err));
  EXPECT_FALSE(err.str().empty());
}

}  // namespace
}  // namespace tether::agent::diag
