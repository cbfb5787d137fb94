// dpkg's status file read as a stream, fed in chunks of every size.

#include <gtest/gtest.h>

#include <string>

#include "diag/collectors/dpkg_status.hpp"

namespace tether::agent::diag {
namespace {

const std::string kStatus =
    "Package: adduser\n"
    "Status: install ok installed\n"
    "Priority: important\n"
    "Installed-Size: 686\n"
    "Architecture: all\n"
    "Version: 3.134\n"
    "Description: add and remove users and groups\n"
    " This package includes the 'adduser' and 'deluser' commands.\n"
    " Package: not-a-package\n"
    "\n"
    "Package: linux-image-6.1.0-17-amd64\n"
    "Status: deinstall ok config-files\n"
    "Installed-Size: 398452\n"
    "Architecture: amd64\n"
    "Version: 6.1.69-1\n"
    "\n"
    "Package: libc6\n"
    "Status: hold ok installed\n"
    "Architecture: i386\n"
    "Multi-Arch: same\n"
    "Version: 2.36-9+deb12u4\n"
    "\n"
    "\n"
    "Package: vim\r\n"
    "Status: install ok installed\r\n"
    "Installed-Size: 3731\r\n"
    "Architecture: amd64\r\n"
    "Version: 2:9.0.1378-2\r\n";

std::vector<DpkgPackage> parse_in_chunks(const std::string& text, std::size_t chunk) {
  DpkgStatusParser parser;
  for (std::size_t at = 0; at < text.size(); at += chunk) {
    parser.feed(std::string_view(text).substr(at, chunk));
  }
  parser.finish();
  return parser.packages();
}

TEST(DpkgStatus, KeepsInstalledAndHeldPackagesOnly) {
  const auto packages = parse_in_chunks(kStatus, kStatus.size());
  ASSERT_EQ(packages.size(), 3U);
  EXPECT_EQ(packages[0].name, "adduser");
  EXPECT_EQ(packages[0].version, "3.134");
  EXPECT_EQ(packages[0].architecture, "all");
  EXPECT_EQ(packages[0].installed_size_kib, 686U);
  EXPECT_EQ(packages[1].name, "libc6");  // held: installed all the same
  EXPECT_EQ(packages[1].architecture, "i386");
  EXPECT_FALSE(packages[1].installed_size_kib.has_value());
  EXPECT_EQ(packages[2].name, "vim");  // CRLF line ends, no blank line at the end
  EXPECT_EQ(packages[2].version, "2:9.0.1378-2");
  EXPECT_EQ(packages[2].installed_size_kib, 3731U);
}

TEST(DpkgStatus, ChunkBoundariesDoNotChangeTheResult) {
  const auto whole = parse_in_chunks(kStatus, kStatus.size());
  for (const std::size_t chunk : {1U, 2U, 7U, 13U, 64U}) {
    const auto pieces = parse_in_chunks(kStatus, chunk);
    ASSERT_EQ(pieces.size(), whole.size()) << "chunk " << chunk;
    for (std::size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(pieces[i].name, whole[i].name);
      EXPECT_EQ(pieces[i].version, whole[i].version);
      EXPECT_EQ(pieces[i].architecture, whole[i].architecture);
      EXPECT_EQ(pieces[i].installed_size_kib, whole[i].installed_size_kib);
    }
  }
}

TEST(DpkgStatus, OverlongLinesAreDroppedWithoutLosingThePackage) {
  std::string text = "Package: big\nStatus: install ok installed\nDescription: x\n " +
                     std::string(100000, 'a') + "\nVersion: 1.0\n\n";
  const auto packages = parse_in_chunks(text, 4096);
  ASSERT_EQ(packages.size(), 1U);
  EXPECT_EQ(packages[0].name, "big");
  EXPECT_EQ(packages[0].version, "1.0");
}

TEST(DpkgStatus, MissingFileIsAbsentNotAnError) {
  const auto status = read_dpkg_status("/nonexistent/var/lib/dpkg/status");
  EXPECT_FALSE(status.present);
  EXPECT_TRUE(status.error.empty());
}

TEST(DpkgStatus, DirectoryInPlaceOfTheFileIsAnError) {
  const auto status = read_dpkg_status(TETHER_TEST_DATA_DIR);
  EXPECT_TRUE(status.present);
  EXPECT_FALSE(status.error.empty());
}

}  // namespace
}  // namespace tether::agent::diag
