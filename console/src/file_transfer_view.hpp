#pragma once
/// What `tether put` and `tether get` show: a progress bar on stderr while bytes move (only
/// when stderr is a terminal), the one-line summary at the end, and the line that says how to
/// resume an interrupted transfer. Pure text functions plus a small rate-limited drawer; no
/// network, not thread-safe.

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "tether/protocol/size_text.hpp"

namespace tether::console {

/// "512 bytes", "1.5 KiB", "12.0 MiB", "4.0 GiB" (binary units, like the ticket timeline).
inline std::string transfer_size_text(std::uint64_t bytes) {
  return protocol::size_text(bytes);
}
/// "30 MB/s", "1.2 GB/s", "850 kB/s" (decimal units, like network tools).
std::string transfer_rate_text(double bytes_per_second);
/// "0:07", "12:34", "1:02:03"; "--:--" when unknown.
std::string eta_text(double seconds);
/// `text` with control characters (C0, DEL, C1) written as \xNN, so a file name cannot move
/// the cursor or recolour the terminal.
std::string printable(std::string_view text);

/// Where a transfer stands, for one frame of the progress bar.
struct TransferProgress {
  std::uint64_t done = 0;          ///< Bytes of the file the receiver has, resumed part included.
  std::uint64_t total = 0;         ///< Size of the file.
  std::uint64_t resumed_from = 0;  ///< Bytes that were there before this run.
  std::chrono::steady_clock::duration elapsed{};  ///< Since this run's bytes started moving.
};

/// One progress line, at most `width` columns (no newline, no carriage return), e.g.
/// "[#######.......]  45%  90.0 MiB / 200.0 MiB  312 MB/s  ETA 0:03". Rate and ETA count only
/// the bytes moved in this run; they are left out until some have moved.
std::string progress_line(const TransferProgress& progress, std::size_t width);

/// The final line: "uploaded LOCAL → REMOTE: 12.0 MiB in 0.4 s (30 MB/s), SHA-256 abcd…";
/// with ", resumed at 8.0 MiB" after the rate when the run continued an earlier one.
/// `verb` is "uploaded" or "downloaded"; the rate counts the bytes moved in this run.
std::string transfer_summary(std::string_view verb, std::string_view from, std::string_view to,
                             std::uint64_t size, std::uint64_t resumed_from,
                             std::chrono::steady_clock::duration elapsed, std::string_view sha256);

/// "interrupted at 80.0 MiB of 200.0 MiB; run the same command again to resume".
std::string interrupted_text(std::uint64_t done, std::uint64_t total);

/// Draws progress_line() over and over on one terminal line, at most ten times a second.
/// Disabled (draws nothing) when `enabled` is false, e.g. when stderr is not a terminal.
class ProgressBar {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  ProgressBar(std::ostream& out, bool enabled, std::uint64_t total, std::uint64_t resumed_from,
              std::size_t width, Clock clock = &std::chrono::steady_clock::now);

  /// Records `done` bytes and redraws if 100 ms passed since the last drawing (or `force`).
  void update(std::uint64_t done, bool force = false);
  /// Erases the bar, leaving the cursor at the start of an empty line. Idempotent.
  void clear();
  /// Time since the bar was made (when this run's bytes started moving).
  std::chrono::steady_clock::duration elapsed() const;
  /// How many times a line was drawn (for tests).
  std::size_t draws() const { return draws_; }

 private:
  std::ostream& out_;
  bool enabled_;
  std::uint64_t total_;
  std::uint64_t resumed_from_;
  std::size_t width_;
  Clock clock_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
  std::size_t draws_ = 0;
};

/// Columns of the terminal on file descriptor `fd`, or 80 when it is not one.
std::size_t terminal_columns(int fd);

}  // namespace tether::console
