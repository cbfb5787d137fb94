#include "broker/shell_recorder.hpp"

#include <atomic>
#include <cmath>
#include <ctime>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tether/protocol/utf8.hpp"

namespace tether::relay {

namespace {

std::string utc_stamp(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

// Length of the longest prefix of `bytes` that does not end inside a UTF-8 sequence.
std::size_t complete_prefix(std::string_view bytes) {
  const std::size_t n = bytes.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto c = static_cast<unsigned char>(bytes[n - back]);
    if ((c & 0xC0) == 0x80) continue;  // A continuation byte: look further back.
    const std::size_t need = (c & 0xE0) == 0xC0   ? 2
                             : (c & 0xF0) == 0xE0 ? 3
                             : (c & 0xF8) == 0xF0 ? 4
                                                  : 1;
    return need > back ? n - back : n;
  }
  return n;
}

}  // namespace

std::filesystem::path session_recordings_dir(const std::filesystem::path& recordings_dir,
                                             std::int64_t session_id) {
  return recordings_dir / ("S-" + std::to_string(session_id));
}

ShellRecorder::ShellRecorder(const std::filesystem::path& recordings_dir, std::int64_t session_id,
                             std::uint32_t cols, std::uint32_t rows, std::string term,
                             std::string title)
    : started_(std::chrono::steady_clock::now()) {
  static std::atomic<std::uint64_t> counter{0};
  const auto dir = session_recordings_dir(recordings_dir, session_id);
  std::filesystem::create_directories(dir);
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);
  const auto wall = std::time(nullptr);
  name_ = utc_stamp(wall) + "-" + std::to_string(++counter) + ".cast";
  out_.open(dir / name_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot create the recording " + (dir / name_).string());
  nlohmann::json header{{"version", 2},
                        {"width", cols},
                        {"height", rows},
                        {"timestamp", static_cast<std::int64_t>(wall)},
                        {"env", {{"TERM", std::move(term)}, {"SHELL", ""}}},
                        {"title", std::move(title)}};
  const auto line = header.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  out_ << line;
  bytes_ += line.size();
}

ShellRecorder::~ShellRecorder() {
  finish();
}

void ShellRecorder::event(std::string_view code, std::string_view data) {
  if (finished_ || truncated_) return;
  const double t =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  nlohmann::json line = nlohmann::json::array({std::round(t * 1e6) / 1e6, code, data});
  auto text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (bytes_ + text.size() > kMaxRecordingBytes) {
    truncated_ = true;
    nlohmann::json marker = nlohmann::json::array(
        {std::round(t * 1e6) / 1e6, "m", "recording stopped: over the size limit"});
    out_ << marker.dump() << "\n";
    out_.flush();
    return;
  }
  out_ << text;
  out_.flush();  // A recording read while the shell runs ends on a whole event.
  bytes_ += text.size();
}

void ShellRecorder::output(std::string_view bytes) {
  if (finished_ || truncated_) return;
  std::string data = carry_;
  data.append(bytes);
  const auto keep = complete_prefix(data);
  carry_ = data.substr(keep);
  data.resize(keep);
  if (!data.empty()) event("o", data);
}

void ShellRecorder::resize(std::uint32_t cols, std::uint32_t rows) {
  event("r", std::to_string(cols) + "x" + std::to_string(rows));
}

void ShellRecorder::finish() {
  if (finished_) return;
  if (!carry_.empty()) event("o", carry_);
  finished_ = true;
  out_.flush();
  out_.close();
}

}  // namespace tether::relay
