// What `tether put` and `tether get` print: sizes, rates, ETA, the progress line within the
// terminal's width, the final summary, the resume hint, and a progress bar that redraws at
// most ten times a second (driven by a fake clock).

#include "file_transfer_view.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace tether::console {
namespace {

using namespace std::chrono_literals;

TEST(FileTransferView, SizesRatesAndEta) {
  EXPECT_EQ(transfer_size_text(0), "0 bytes");
  EXPECT_EQ(transfer_size_text(1536), "1.5 KiB");
  EXPECT_EQ(transfer_size_text(12ULL << 20), "12.0 MiB");
  EXPECT_EQ(transfer_size_text(3ULL << 30), "3.0 GiB");
  EXPECT_EQ(transfer_rate_text(30e6), "30 MB/s");
  EXPECT_EQ(transfer_rate_text(1.24e9), "1.2 GB/s");
  EXPECT_EQ(transfer_rate_text(850e3), "850 kB/s");
  EXPECT_EQ(transfer_rate_text(-1), "-- MB/s");
  EXPECT_EQ(eta_text(0), "0:00");
  EXPECT_EQ(eta_text(6.2), "0:07");
  EXPECT_EQ(eta_text(754), "12:34");
  EXPECT_EQ(eta_text(3723), "1:02:03");
  EXPECT_EQ(eta_text(-1), "--:--");
  EXPECT_EQ(eta_text(1e12), "--:--");
}

TEST(FileTransferView, PrintableEscapesTerminalControls) {
  EXPECT_EQ(printable("plain/ütf-8 name.txt"), "plain/ütf-8 name.txt");
  EXPECT_EQ(printable("a\nb"), "a\\x0ab");
  EXPECT_EQ(printable("\x1b[2Jx"), "\\x1b[2Jx");
  EXPECT_EQ(printable("del\x7f"), "del\\x7f");
  EXPECT_EQ(printable("csi\xc2\x9b"), "csi\\x9b");
}

TEST(FileTransferView, ProgressLineShowsPercentSizesRateAndEta) {
  // 90 MiB of 200 MiB, 40 MiB of it moved in this run over 2 s: 21 MB/s, 110 MiB left.
  TransferProgress p{90ULL << 20, 200ULL << 20, 50ULL << 20, 2s};
  const auto line = progress_line(p, 100);
  EXPECT_EQ(line.substr(0, 1), "[");
  EXPECT_NE(line.find(" 45%  90.0 MiB / 200.0 MiB  21 MB/s  ETA 0:06"), std::string::npos) << line;
  EXPECT_LE(line.size(), 100u);
  // The bar is 45% full.
  const auto bar = line.substr(1, line.find(']') - 1);
  const auto filled = std::count(bar.begin(), bar.end(), '#');
  EXPECT_EQ(filled, static_cast<long>(bar.size() * 45 / 100)) << line;
}

TEST(FileTransferView, ProgressLineFitsNarrowTerminalsAndWaitsForARate) {
  TransferProgress p{1ULL << 20, 10ULL << 20, 0, 1s};
  for (std::size_t width : {20u, 40u, 60u, 200u}) {
    EXPECT_LE(progress_line(p, width).size(), width) << width;
  }
  EXPECT_EQ(progress_line(p, 30).find('['), std::string::npos) << "no room for a bar";
  TransferProgress start{0, 10, 0, 0s};
  const auto first = progress_line(start, 80);
  EXPECT_EQ(first.find("MB/s"), std::string::npos) << first;
  EXPECT_EQ(first.find("ETA"), std::string::npos) << first;
  TransferProgress empty{0, 0, 0, 0s};
  EXPECT_NE(progress_line(empty, 80).find("100%"), std::string::npos);
}

TEST(FileTransferView, TheBarKeepsItsLengthWhileTheNumbersChange) {
  const auto bar_length = [](const TransferProgress& p) {
    const auto line = progress_line(p, 120);
    return line.find(']');
  };
  const auto early = bar_length({0, 1000, 0, 0s});
  const auto later = bar_length({(900ULL << 20), (1000ULL << 20), 0, 3s});
  EXPECT_NE(early, std::string::npos);
  EXPECT_EQ(early, later);
}

TEST(FileTransferView, SummaryAndInterruptedLines) {
  const std::string sha = "abcdef0123456789" + std::string(48, '0');
  EXPECT_EQ(transfer_summary("uploaded", "big.iso", "/home/u/big.iso", 12ULL << 20, 0, 400ms, sha),
            "uploaded big.iso \u2192 /home/u/big.iso: 12.0 MiB in 0.4 s (31 MB/s), SHA-256 "
            "abcdef0123456789\u2026");
  EXPECT_EQ(transfer_summary("downloaded", "/home/u/a", "a", 100ULL << 20, 50ULL << 20, 1s, sha),
            "downloaded /home/u/a \u2192 a: 100.0 MiB in 1.0 s (52 MB/s, resumed at 50.0 MiB), "
            "SHA-256 abcdef0123456789\u2026");
  EXPECT_EQ(transfer_summary("downloaded", "x\ny", "z", 10, 10, 0s, sha),
            "downloaded x\\x0ay \u2192 z: 10 bytes in 0.0 s (resumed at 10 bytes), SHA-256 "
            "abcdef0123456789\u2026");
  EXPECT_EQ(interrupted_text(80ULL << 20, 200ULL << 20),
            "interrupted at 80.0 MiB of 200.0 MiB; run the same command again to resume");
}

TEST(FileTransferView, ProgressBarRedrawsAtMostTenTimesASecond) {
  auto now = std::chrono::steady_clock::time_point{} + 1h;
  std::ostringstream out;
  ProgressBar bar(out, true, 1000, 0, 80, [&] { return now; });
  bar.update(0);
  EXPECT_EQ(bar.draws(), 1u);
  for (int i = 1; i <= 50; ++i) {
    now += 10ms;  // 50 updates over 0.5 s...
    bar.update(static_cast<std::uint64_t>(i));
  }
  EXPECT_EQ(bar.draws(), 6u);  // ...draw at 0.1, 0.2, 0.3, 0.4, 0.5 s.
  bar.update(1000, true);
  EXPECT_EQ(bar.draws(), 7u);
  EXPECT_EQ(out.str().substr(0, 1), "\r");
  EXPECT_NE(out.str().find("100%"), std::string::npos);
  bar.clear();
  EXPECT_EQ(out.str().substr(out.str().size() - 4), "\r\x1b[K");
  EXPECT_EQ(bar.elapsed(), 500ms);
}

TEST(FileTransferView, ADisabledBarDrawsNothing) {
  std::ostringstream out;
  ProgressBar bar(out, false, 1000, 0, 80);
  bar.update(10, true);
  bar.clear();
  EXPECT_EQ(out.str(), "");
  EXPECT_EQ(bar.draws(), 0u);
}

}  // namespace
}  // namespace tether::console
