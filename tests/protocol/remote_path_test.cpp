// check_remote_path: a table of hostile paths, each refused for its stated reason, and a
// table of odd but legal names, each accepted and normalised to what Linux would read.

#include "tether/protocol/remote_path.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

namespace tether::protocol {
namespace {

using namespace std::string_literals;

constexpr const char* kControl = "path contains a control character";
constexpr const char* kNul = "path contains a NUL byte";
constexpr const char* kUtf8 = "path is not valid UTF-8";
constexpr const char* kParent = "path leaves the allowed folder (..)";
constexpr const char* kLongName = "path has a name longer than 255 bytes";
constexpr const char* kTooLong = "path is longer than 4096 bytes";
constexpr const char* kEmpty = "path is empty";

struct Refused {
  std::string path;
  const char* reason;
};

// Printable names for the failure messages; the paths themselves may hold terminal escapes.
std::string visible(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 80)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return text.size() > 80 ? out + "...(" + std::to_string(text.size()) + " bytes)" : out;
}

std::vector<Refused> hostile_paths() {
  std::vector<Refused> table = {
      // Leaving the folder by "..".
      {"..", kParent},
      {"../etc/passwd", kParent},
      {"a/../../b", kParent},
      {"./..", kParent},
      {"a/./../..", kParent},
      {"a/..", kParent},
      {"a/b/../../..", kParent},
      {"../", kParent},
      {"..//..//etc", kParent},
      {"/..", kParent},
      {"/root/..", kParent},
      {"/home/ana/../../etc/shadow", kParent},
      {"./../.", kParent},
      {"a/.//..", kParent},
      {"docs/../../../../../../../../etc/passwd", kParent},
      {"x/..", kParent},
      {"/..//etc", kParent},
      {"a/b/c/../../../..", kParent},
      {"....//..", kParent},
      {"../../../../../../../../../../../../../../../../../../../dev/sda", kParent},
      {"/tmp/../etc/passwd", kParent},
      {"..%2f/..", kParent},  // the literal name "..%2f" is fine, the ".." after it is not
      {"a/../b", kParent},    // stays inside lexically, refused anyway: no ".." at all
      // NUL and control characters.
      {"foo\0bar"s, kNul},
      {"\0"s, kNul},
      {"a/\0/b"s, kNul},
      {"../\0"s, kNul},  // bytes are checked before names
      {"\x1b[2J", kControl},
      {"\x1b]0;owned\x07", kControl},
      {"a\nb", kControl},
      {"a\rb", kControl},
      {"a\tb", kControl},
      {"a\x0b"
       "b",
       kControl},  // vertical tab
      {"\x1b", kControl},
      {"/\x1b", kControl},
      {"\x7f", kControl},
      {"a\x7f", kControl},
      {"\x01", kControl},
      {"\x1f", kControl},
      {"file\x08\x08\x08.exe", kControl},
      {"\xc2\x9b"
       "31m",
       kControl},              // C1 CSI, U+009B
      {"\xc2\x85", kControl},  // C1 NEL, U+0085
      {"\xc2\x80", kControl},  // U+0080
      // Invalid UTF-8.
      {"\xff", kUtf8},
      {"\xfe\xff", kUtf8},
      {"a\x80"
       "b",
       kUtf8},
      {"\xc0\xae\xc0\xae/x", kUtf8},  // overlong "..": would decode to ".." elsewhere
      {"\xc0\xaf"
       "etc",
       kUtf8},                          // overlong '/'
      {"\xe0\x80\xaf", kUtf8},          // overlong '/', 3 bytes
      {"\xed\xa0\x80", kUtf8},          // surrogate
      {"\xf4\x90\x80\x80", kUtf8},      // above U+10FFFF
      {"\xe2\x82", kUtf8},              // cut short
      {"\xc2", kUtf8},                  // cut short, 2 bytes
      {"\xed\xbf\xbf", kUtf8},          // surrogate U+DFFF
      {"caf\xe9", kUtf8},               // Latin-1 é
      {"\xf8\x88\x80\x80\x80", kUtf8},  // 5-byte form
      // Lengths.
      {"", kEmpty},
      {std::string(256, 'a'), kLongName},
      {"dir/" + std::string(256, 'b'), kLongName},
      {"/" + std::string(300, 'c') + "/x", kLongName},
      {std::string(5000, 'a'), kTooLong},
      {std::string(4097, '/'), kTooLong},
      {std::string(2049, 'a').append("/").append(2047, 'b') + "/", kTooLong},
  };
  // A path of 17 components of 255 bytes is 4351 bytes: over the whole-path limit.
  std::string many;
  for (int i = 0; i < 17; ++i) many += std::string(255, 'd') + "/";
  table.push_back({many, kTooLong});
  // 1400 ".." components: over the length limit, which is checked first.
  std::string dots;
  for (int i = 0; i < 1400; ++i) dots += "../";
  table.push_back({dots, kTooLong});
  return table;
}

TEST(RemotePath, HostilePathsAreRefusedWithTheirReason) {
  const auto table = hostile_paths();
  ASSERT_GE(table.size(), 60U);
  for (const auto& entry : table) {
    SCOPED_TRACE(visible(entry.path));
    const auto result = check_remote_path(entry.path);
    ASSERT_FALSE(result.has_value()) << "accepted as " << visible(*result);
    EXPECT_EQ(result.error(), make_error_code(Error::bad_request));
    EXPECT_EQ(describe_remote_path_error(entry.path), entry.reason);
  }
}

struct Accepted {
  std::string path;
  std::string normalised;
};

TEST(RemotePath, OddButLegalNamesAreLiteralAndNormalised) {
  const std::vector<Accepted> table = {
      {"a", "a"},
      {"a/b", "a/b"},
      {"a//b", "a/b"},
      {"a/./b", "a/b"},
      {"./a", "a"},
      {"a/", "a"},
      {"a/b/", "a/b"},
      {"a/.", "a"},
      {".", "."},
      {"./", "."},
      {"./././/", "."},
      {"/", "/"},
      {"//", "/"},
      {"/.", "/"},
      {"/home/ana/", "/home/ana"},
      {"//home//ana//x", "/home/ana/x"},
      {"/etc/shadow", "/etc/shadow"},  // syntax only: the agent decides it is outside
      {"/proc/self/root/etc/passwd", "/proc/self/root/etc/passwd"},
      {"/proc/self/fd/0", "/proc/self/fd/0"},
      {"/dev/zero", "/dev/zero"},
      {"%2e%2e/x", "%2e%2e/x"},  // no URL decoding
      {"%2e%2e%2fetc%2fpasswd", "%2e%2e%2fetc%2fpasswd"},
      {"....//", "...."},
      {"...", "..."},
      {".../x", ".../x"},
      {"..a", "..a"},
      {"a..", "a.."},
      {". .", ". ."},
      {".. ", ".. "},
      {" ..", " .."},
      {"..\\..\\windows", "..\\..\\windows"},  // backslash is an ordinary byte on Linux
      {"~root/x", "~root/x"},                  // no tilde expansion
      {"~", "~"},
      {"$HOME/x", "$HOME/x"},
      {"-rf", "-rf"},
      {"*", "*"},
      {"C:\\Windows", "C:\\Windows"},
      {".hidden", ".hidden"},
      {"caf\xc3\xa9.txt", "caf\xc3\xa9.txt"},
      {"\xe2\x80\xae"
       "txt.exe",
       "\xe2\x80\xae"
       "txt.exe"},  // U+202E: legal, shown escaped later
      {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
      {"\xc2\xa0", "\xc2\xa0"},  // U+00A0 is not a control character
      {std::string(255, 'a'), std::string(255, 'a')},
  };
  for (const auto& entry : table) {
    SCOPED_TRACE(visible(entry.path));
    const auto result = check_remote_path(entry.path);
    ASSERT_TRUE(result.has_value()) << describe_remote_path_error(entry.path);
    EXPECT_EQ(*result, entry.normalised);
    EXPECT_EQ(describe_remote_path_error(entry.path), "");
  }
}

TEST(RemotePath, ExactlyAtTheLimitsIsAccepted) {
  std::string path;
  while (path.size() + 201 <= kMaxRemotePath) path += std::string(200, 'x') + "/";
  path += std::string(kMaxRemotePath - path.size(), 'y');
  ASSERT_EQ(path.size(), kMaxRemotePath);
  const auto result = check_remote_path(path);
  ASSERT_TRUE(result.has_value()) << describe_remote_path_error(path);
  EXPECT_TRUE(*result == path);
  EXPECT_FALSE(check_remote_path(path + "y").has_value());

  const std::string name(kMaxRemotePathComponent, 'n');
  EXPECT_TRUE(check_remote_path("/a/" + name + "/b").has_value());
  EXPECT_FALSE(check_remote_path("/a/" + name + "n/b").has_value());
  // A 255-byte name of 2-byte characters plus one byte is 257 bytes: refused by bytes.
  std::string wide;
  for (int i = 0; i < 127; ++i) wide += "\xc3\xa9";
  EXPECT_TRUE(check_remote_path(wide + "a").has_value());
  EXPECT_FALSE(check_remote_path(wide + "\xc3\xa9").has_value());
}

TEST(RemotePath, NormalisedPathIsStable) {
  for (const std::string path : {"a//b/./c/", "/x/./y//", "./", "....//"}) {
    const auto once = check_remote_path(path);
    ASSERT_TRUE(once.has_value());
    const auto twice = check_remote_path(*once);
    ASSERT_TRUE(twice.has_value());
    EXPECT_EQ(*once, *twice);
  }
}

TEST(RemotePath, NormalisedPathNeverHoldsADotDotComponent) {
  // Every accepted path of up to four components drawn from tricky pieces normalises to one
  // without "." or ".." components, empty components or a trailing slash.
  const std::vector<std::string> pieces = {"", ".", "..", "...", "a", ".a", "a.", "%2e"};
  std::size_t accepted = 0;
  for (const auto& p1 : pieces)
    for (const auto& p2 : pieces)
      for (const auto& p3 : pieces)
        for (const auto& p4 : pieces) {
          for (const std::string lead : {"", "/"}) {
            const std::string path = lead + p1 + "/" + p2 + "/" + p3 + "/" + p4;
            const auto result = check_remote_path(path);
            const bool has_parent = p1 == ".." || p2 == ".." || p3 == ".." || p4 == "..";
            ASSERT_EQ(result.has_value(), !has_parent) << path;
            if (!result) continue;
            ++accepted;
            const std::string& out = *result;
            if (out == "." || out == "/") continue;
            EXPECT_NE(out.back(), '/') << path;
            EXPECT_EQ(out.find("//"), std::string::npos) << path;
            EXPECT_EQ(("/" + out + "/").find("/../"), std::string::npos) << path;
            EXPECT_EQ(("/" + out + "/").find("/./"), std::string::npos) << path;
          }
        }
  EXPECT_GT(accepted, 1000U);
}

}  // namespace
}  // namespace tether::protocol
