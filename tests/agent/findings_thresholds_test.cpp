// The [thresholds] table of the agent's config file, read from real temporary files.

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <string>

#include "tether/agent/diag/thresholds.hpp"

namespace tether::agent::diag {
namespace {

namespace fs = std::filesystem;

class ThresholdsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device random;
    dir_ = fs::temp_directory_path() / ("tether-thresholds-" + std::to_string(random()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
  fs::path write(const std::string& text) {
    const fs::path file = dir_ / "agent.toml";
    std::ofstream(file) << text;
    return file;
  }
  fs::path dir_;
};

TEST_F(ThresholdsFileTest, KeysOverrideTheDefaultsAndOtherTablesAreIgnored) {
  const auto loaded = load_thresholds(write(R"(
relay = "wss://relay.example.com"

[thresholds]
disk_used_warning_pct = 85
load_warning_per_thread = 1.5
journal_errors_warning = 500

[support]
consent = "always-ask"
)"));
  ASSERT_TRUE(loaded.thresholds) << loaded.error;
  EXPECT_TRUE(loaded.error.empty());
  EXPECT_EQ(loaded.thresholds->disk_used_warning_pct, 85);
  EXPECT_EQ(loaded.thresholds->load_warning_per_thread, 1.5);
  EXPECT_EQ(loaded.thresholds->journal_errors_warning, 500);
  EXPECT_EQ(loaded.thresholds->disk_used_critical_pct, Thresholds{}.disk_used_critical_pct);
}

TEST_F(ThresholdsFileTest, AFileWithoutThresholdsGivesTheDefaults) {
  const auto loaded = load_thresholds(write("[support]\nconsent = \"always-ask\"\n"));
  ASSERT_TRUE(loaded.thresholds) << loaded.error;
  EXPECT_EQ(loaded.thresholds->disk_used_warning_pct, 90);
  EXPECT_EQ(loaded.thresholds->disk_free_critical_gib, 5);
}

TEST_F(ThresholdsFileTest, AnUnknownKeyIsNamedWithItsLine) {
  const auto file = write("[thresholds]\ndisk_used_warning_pct = 85\ndisk_warn = 80\n");
  const auto loaded = load_thresholds(file);
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(loaded.error, file.string() +
                              ":3: [thresholds] disk_warn: unknown key (docs/diagnostics.md "
                              "lists the thresholds)");
}

TEST_F(ThresholdsFileTest, AWrongTypeIsNamed) {
  const auto file = write("[thresholds]\nswap_used_warning_pct = \"90\"\n");
  const auto loaded = load_thresholds(file);
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(
      loaded.error,
      file.string() + ":2: [thresholds] swap_used_warning_pct: expected a number, got a string");
}

TEST_F(ThresholdsFileTest, WarningBeyondCriticalIsRefused) {
  const auto file = write("[thresholds]\ndisk_used_warning_pct = 99\n");
  const auto loaded = load_thresholds(file);
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(loaded.error, file.string() +
                              ": [thresholds] disk_used_warning_pct (99) must not be above "
                              "disk_used_critical_pct (98)");
}

TEST_F(ThresholdsFileTest, ForLowerIsWorseLimitsTheWarningMustBeTheHigher) {
  const auto file = write("[thresholds]\nmemory_available_warning_pct = 3\n");
  const auto loaded = load_thresholds(file);
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(loaded.error, file.string() +
                              ": [thresholds] memory_available_warning_pct (3) must not be below "
                              "memory_available_critical_pct (5)");
}

TEST_F(ThresholdsFileTest, OutOfRangeValuesAreRefused) {
  struct Case {
    std::string line;
    std::string message;
  };
  for (const Case& c : {
           Case{"disk_used_critical_pct = 120", "120 is out of range; a percentage is 0 to 100"},
           Case{"var_free_warning_mib = -1", "-1 is negative; it must be 0 or more"},
           Case{"oom_kills_warning = 1.5", "expected a whole number, got 1.5"},
           Case{"clock_offset_warning_ms = nan", "must be a finite number"},
           Case{"uptime_info_days = true", "expected a number, got true/false"},
       }) {
    const auto file = write("[thresholds]\n" + c.line + "\n");
    const auto loaded = load_thresholds(file);
    EXPECT_FALSE(loaded.thresholds) << c.line;
    EXPECT_NE(loaded.error.find(c.message), std::string::npos) << loaded.error;
    EXPECT_NE(loaded.error.find(c.line.substr(0, c.line.find(' '))), std::string::npos);
  }
}

TEST_F(ThresholdsFileTest, AMissingFileIsAnError) {
  const auto loaded = load_thresholds(dir_ / "absent.toml");
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(loaded.error,
            (dir_ / "absent.toml").string() + ": cannot read the config file: no such file");
}

TEST_F(ThresholdsFileTest, ASyntaxErrorGivesItsPosition) {
  const auto file = write("[thresholds]\ndisk_used_warning_pct = = 3\n");
  const auto loaded = load_thresholds(file);
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_EQ(loaded.error.rfind(file.string() + ":2:", 0), 0u) << loaded.error;
  EXPECT_EQ(loaded.error.find('\n'), std::string::npos);
}

TEST_F(ThresholdsFileTest, ThresholdsMustBeATable) {
  const auto loaded = load_thresholds(write("thresholds = 5\n"));
  EXPECT_FALSE(loaded.thresholds);
  EXPECT_NE(loaded.error.find("thresholds must be a table"), std::string::npos);
}

// Every key the table knows can be written back with its default and read again, and every
// key is documented in docs/diagnostics.md.
TEST_F(ThresholdsFileTest, EveryKeyRoundTripsAndIsDocumented) {
  std::string text = "[thresholds]\n";
  for (const auto& [name, value] : threshold_values(Thresholds{})) {
    text += std::string(name) + " = " + std::to_string(value) + "\n";
  }
  const auto loaded = load_thresholds(write(text));
  ASSERT_TRUE(loaded.thresholds) << loaded.error;
  EXPECT_EQ(threshold_values(*loaded.thresholds).size(), threshold_values(Thresholds{}).size());

  std::ifstream docs(fs::path(TETHER_SOURCE_DIR) / "docs" / "diagnostics.md");
  const std::string markdown((std::istreambuf_iterator<char>(docs)), {});
  for (const auto& [name, value] : threshold_values(Thresholds{})) {
    EXPECT_NE(markdown.find("`" + std::string(name) + "`"), std::string::npos)
        << name << " is not documented";
  }
}

}  // namespace
}  // namespace tether::agent::diag
