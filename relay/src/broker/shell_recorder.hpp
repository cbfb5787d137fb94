#pragma once
// The recording of one remote shell, as an asciicast v2 file (one JSON header line, then one
// [seconds, "o", text] event per piece of output and [seconds, "r", "COLSxROWS"] per resize),
// playable with `asciinema play` or `tether session replay`. Files live in
// DATA/recordings/S-<n>/; each is capped so a shell printing without end cannot fill the disk.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace tether::relay {

/// Largest recording kept per shell; past it the recording says so and stops.
inline constexpr std::uint64_t kMaxRecordingBytes = 8 * 1024 * 1024;

class ShellRecorder {
 public:
  /// Creates DIR/S-<session>/<name>.cast with its header. Throws std::runtime_error when the
  /// file cannot be created.
  ShellRecorder(const std::filesystem::path& recordings_dir, std::int64_t session_id,
                std::uint32_t cols, std::uint32_t rows, std::string term, std::string title);
  ~ShellRecorder();

  void output(std::string_view bytes);
  void resize(std::uint32_t cols, std::uint32_t rows);
  /// Flushes and closes; further calls do nothing.
  void finish();

  /// The file name within the session's folder, e.g. "20261130T031500Z-1.cast".
  const std::string& name() const { return name_; }
  std::uint64_t bytes() const { return bytes_; }
  bool truncated() const { return truncated_; }

 private:
  void event(std::string_view code, std::string_view data);

  std::ofstream out_;
  std::string name_;
  std::chrono::steady_clock::time_point started_;
  std::string carry_;  // An incomplete UTF-8 sequence at the end of the last output.
  std::uint64_t bytes_ = 0;
  bool truncated_ = false;
  bool finished_ = false;
};

/// The folder of a session's recordings.
std::filesystem::path session_recordings_dir(const std::filesystem::path& recordings_dir,
                                             std::int64_t session_id);

}  // namespace tether::relay
