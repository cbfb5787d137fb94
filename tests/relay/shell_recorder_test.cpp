#include "broker/shell_recorder.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

namespace tether::relay {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ShellRecorderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tether-rec-" + std::to_string(std::random_device{}()));
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> lines(const ShellRecorder& recorder) {
    std::ifstream in(session_recordings_dir(dir_, 7) / recorder.name());
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  fs::path dir_;
};

TEST_F(ShellRecorderTest, WritesAnAsciicastV2HeaderAndEvents) {
  ShellRecorder recorder(dir_, 7, 100, 30, "xterm-256color", "S-7 shell by ada");
  recorder.output("hello\r\n");
  recorder.resize(120, 40);
  recorder.finish();
  auto text = lines(recorder);
  ASSERT_EQ(text.size(), 3u);
  auto header = json::parse(text[0]);
  EXPECT_EQ(header["version"], 2);
  EXPECT_EQ(header["width"], 100);
  EXPECT_EQ(header["height"], 30);
  auto output = json::parse(text[1]);
  EXPECT_TRUE(output[0].is_number());
  EXPECT_EQ(output[1], "o");
  EXPECT_EQ(output[2], "hello\r\n");
  EXPECT_EQ(json::parse(text[2])[2], "120x40");
  EXPECT_EQ(fs::status(session_recordings_dir(dir_, 7)).permissions() & fs::perms::others_all,
            fs::perms::none);
}

TEST_F(ShellRecorderTest, AUtf8CharacterSplitAcrossFramesStaysWhole) {
  ShellRecorder recorder(dir_, 7, 80, 24, "xterm", "t");
  const std::string euro = "\xe2\x82\xac";  // €
  recorder.output("a" + euro.substr(0, 1));
  recorder.output(euro.substr(1) + "b");
  recorder.finish();
  auto text = lines(recorder);
  std::string joined;
  for (std::size_t i = 1; i < text.size(); ++i)
    joined += json::parse(text[i])[2].get<std::string>();
  EXPECT_EQ(joined, "a" + euro + "b");
}

TEST_F(ShellRecorderTest, StopsAtTheSizeLimitAndSaysSo) {
  ShellRecorder recorder(dir_, 7, 80, 24, "xterm", "t");
  const std::string chunk(64 * 1024, 'x');
  for (int i = 0; i < 200; ++i) recorder.output(chunk);
  recorder.finish();
  EXPECT_TRUE(recorder.truncated());
  EXPECT_LE(fs::file_size(session_recordings_dir(dir_, 7) / recorder.name()),
            kMaxRecordingBytes + 1024);
  auto text = lines(recorder);
  EXPECT_EQ(json::parse(text.back())[1], "m");
}

}  // namespace
}  // namespace tether::relay
