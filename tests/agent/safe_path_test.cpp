// AllowedRoot and the partial-file helpers against a real folder tree in a temp dir: hostile
// names, links that lead out, hard links, FIFOs, sockets and folders where a file is
// expected. Every case states its outcome: refused with a given error, or allowed and the
// opened file is the one inside the allowed folder that the test made for it.

#include "tether/agent/tools/safe_path.hpp"

#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "tether/protocol/remote_path.hpp"

namespace tether::agent::tools {
namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;
using protocol::Error;

static_assert(!std::is_copy_constructible_v<AllowedRoot>);
static_assert(std::is_nothrow_move_constructible_v<AllowedRoot>);
static_assert(!std::is_copy_constructible_v<UniqueFd>);

std::string visible(const std::string& text) {
  std::string out;
  for (const char c : text.substr(0, 100)) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte >= 0x7f) {
      char hex[5];
      std::snprintf(hex, sizeof hex, "\\x%02x", byte);
      out += hex;
    } else {
      out.push_back(c);
    }
  }
  return text.size() > 100 ? out + "...(" + std::to_string(text.size()) + " bytes)" : out;
}

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

void write_file(const std::string& path, std::string_view content) {
  const UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  ASSERT_TRUE(fd) << path;
  ASSERT_EQ(::write(fd.get(), content.data(), content.size()),
            static_cast<ssize_t>(content.size()));
}

std::string slurp(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd ? read_all(fd.get()) : "<missing>";
}

void make_symlink(const std::string& target, const std::string& link) {
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0) << link;
}

bool is_symlink(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

// A refusal is one printable line: no control characters for a terminal to act on.
void expect_one_line(const std::string& message) {
  EXPECT_FALSE(message.empty());
  for (const char c : message) {
    EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f) << visible(message);
  }
}

// base/root is the allowed folder; base/outside holds what must never be reached.
class SafePathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "tether-safe-path-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    base_ = fs::canonical(pattern).string();
    root_ = base_ + "/root";
    outside_ = base_ + "/outside";
    ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir(outside_.c_str(), 0700), 0);
    ASSERT_EQ(::mkdir((base_ + "/root-evil").c_str(), 0700), 0);
    write_file(outside_ + "/secret.txt", "SECRET");
    write_file(base_ + "/root-evil/secret.txt", "SECRET-SIBLING");

    // Ordinary and literal-but-odd names inside.
    write_file(root_ + "/inside.txt", "INSIDE");
    ASSERT_EQ(::mkdir((root_ + "/sub").c_str(), 0700), 0);
    write_file(root_ + "/sub/file.txt", "SUB");
    ASSERT_EQ(::mkdir((root_ + "/%2e%2e").c_str(), 0700), 0);
    write_file(root_ + "/%2e%2e/x", "PERCENT");
    write_file(root_ + "/....", "FOUR-DOTS");
    write_file(root_ + "/...", "THREE-DOTS");
    write_file(root_ + "/..\\..\\windows", "BACKSLASH");
    ASSERT_EQ(::mkdir((root_ + "/~root").c_str(), 0700), 0);
    write_file(root_ + "/~root/x", "TILDE");
    write_file(root_ + "/-rf", "DASH");
    write_file(root_ + "/ ..", "SPACE-DOTS");
    write_file(root_ + "/.. ", "DOTS-SPACE");
    write_file(root_ +
                   "/\xe2\x80\xae"
                   "txt.exe",
               "RLO");
    write_file(root_ + "/caf\xc3\xa9.txt", "CAFE");

    // Links that stay inside.
    ASSERT_EQ(::mkdir((root_ + "/links").c_str(), 0700), 0);
    make_symlink("../inside.txt", root_ + "/links/to_inside");
    make_symlink("../sub", root_ + "/links/dir_in");
    make_symlink("to_inside", root_ + "/links/chain_in");
    // Links that lead out.
    make_symlink(outside_ + "/secret.txt", root_ + "/links/abs_out");
    make_symlink("../../outside/secret.txt", root_ + "/links/rel_out");
    make_symlink(outside_, root_ + "/links/dir_out");
    make_symlink("../../outside", root_ + "/links/dir_out_rel");
    make_symlink("chain2", root_ + "/links/chain1");
    make_symlink("../sub/chain3", root_ + "/links/chain2");
    make_symlink("../../outside/secret.txt", root_ + "/sub/chain3");
    make_symlink("/proc/self/root", root_ + "/links/proc_root");
    make_symlink("/proc/self/fd/0", root_ + "/links/proc_fd");
    make_symlink("../../../../../../../../../../etc/passwd", root_ + "/links/deep_out");
    make_symlink(root_ + "/inside.txt", root_ + "/links/abs_in");  // absolute, even inside
    make_symlink("nothing-here", root_ + "/links/dangling");
    make_symlink("../../nowhere", root_ + "/links/dangling_out");
    make_symlink("loop2", root_ + "/links/loop1");
    make_symlink("loop1", root_ + "/links/loop2");

    // A second name for a file outside, on the same file system.
    write_file(outside_ + "/linked.txt", "LINKED-OUTSIDE");
    ASSERT_EQ(::link((outside_ + "/linked.txt").c_str(), (root_ + "/hardlink.txt").c_str()), 0);
    ASSERT_EQ(::mkfifo((root_ + "/fifo").c_str(), 0600), 0);
    make_socket(root_ + "/sock");

    auto root = AllowedRoot::open(root_);
    ASSERT_TRUE(root.has_value()) << root.error();
    root_handle_.emplace(std::move(*root));
  }

  void TearDown() override {
    root_handle_.reset();
    if (!base_.empty()) {
      std::error_code ignored;
      fs::remove_all(base_, ignored);
    }
  }

  void make_socket(const std::string& path) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    ASSERT_LT(path.size(), sizeof address.sun_path) << "temp dir path too long for a socket";
    std::copy(path.begin(), path.end(), address.sun_path);
    const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    ASSERT_TRUE(fd);
    ASSERT_EQ(::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }

  const AllowedRoot& root() const { return *root_handle_; }

  std::string base_;
  std::string root_;
  std::string outside_;
  std::optional<AllowedRoot> root_handle_;
};

struct ReadCase {
  std::string path;
  std::optional<Error> refused;  // nullopt: allowed
  std::string inside;            // when allowed: the file under root it must be
  std::string content;
};

ReadCase refuse(std::string path, Error code) {
  return {std::move(path), code, {}, {}};
}
ReadCase allow(std::string path, std::string inside, std::string content) {
  return {std::move(path), std::nullopt, std::move(inside), std::move(content)};
}

TEST_F(SafePathTest, HostileCorpusForReading) {
  const std::vector<ReadCase> table = {
      // Lexically hostile: refused before the file system is consulted.
      refuse("../outside/secret.txt", Error::bad_request),
      refuse("../etc/passwd", Error::bad_request),
      refuse("a/../../outside/secret.txt", Error::bad_request),
      refuse("..", Error::bad_request),
      refuse("./..", Error::bad_request),
      refuse("a/./../..", Error::bad_request),
      refuse("sub/../inside.txt", Error::bad_request),
      refuse("foo\0bar"s, Error::bad_request),
      refuse("inside.txt\0.png"s, Error::bad_request),
      refuse("\x1b[2J", Error::bad_request),
      refuse("a\nb", Error::bad_request),
      refuse("a\rb", Error::bad_request),
      refuse("\x7f", Error::bad_request),
      refuse("\xc2\x9b"
             "1m",
             Error::bad_request),
      refuse(std::string(256, 'a'), Error::bad_request),
      refuse(std::string(5000, 'a'), Error::bad_request),
      refuse("\xff\xfe", Error::bad_request),
      refuse("caf\xe9.txt", Error::bad_request),
      refuse("\xc0\xae\xc0\xae/outside/secret.txt", Error::bad_request),
      refuse("", Error::bad_request),
      refuse("/root/..", Error::bad_request),
      refuse(root_ + "/../outside/secret.txt", Error::bad_request),
      refuse(root_ + "/sub/../../outside/secret.txt", Error::bad_request),
      // Absolute paths outside the folder.
      refuse("/etc/shadow", Error::forbidden),
      refuse("/etc/passwd", Error::forbidden),
      refuse("/proc/self/root/etc/passwd", Error::forbidden),
      refuse("/proc/self/fd/0", Error::forbidden),
      refuse("/dev/zero", Error::forbidden),
      refuse("/", Error::forbidden),
      refuse(outside_ + "/secret.txt", Error::forbidden),
      refuse(base_ + "/root-evil/secret.txt", Error::forbidden),  // prefix, not a child
      refuse(base_, Error::forbidden),
      // Literal names: allowed, and the file opened is the one inside.
      allow("inside.txt", "inside.txt", "INSIDE"),
      allow("./inside.txt", "inside.txt", "INSIDE"),
      allow(".//inside.txt", "inside.txt", "INSIDE"),
      allow(root_ + "/inside.txt", "inside.txt", "INSIDE"),
      allow(root_ + "//./inside.txt", "inside.txt", "INSIDE"),
      allow("sub/file.txt", "sub/file.txt", "SUB"),
      allow("%2e%2e/x", "%2e%2e/x", "PERCENT"),
      allow("....//", "....", "FOUR-DOTS"),
      allow("...", "...", "THREE-DOTS"),
      allow("..\\..\\windows", "..\\..\\windows", "BACKSLASH"),
      allow("~root/x", "~root/x", "TILDE"),
      allow("-rf", "-rf", "DASH"),
      allow(" ..", " ..", "SPACE-DOTS"),
      allow(".. ", ".. ", "DOTS-SPACE"),
      allow("\xe2\x80\xae"
            "txt.exe",
            "\xe2\x80\xae"
            "txt.exe",
            "RLO"),
      allow("caf\xc3\xa9.txt", "caf\xc3\xa9.txt", "CAFE"),
      // Literal names that happen not to exist: looked up inside, nowhere else.
      refuse("%2e%2e/outside/secret.txt", Error::not_found),
      refuse("..%2f..%2foutside%2fsecret.txt", Error::not_found),
      refuse(".../outside/secret.txt", Error::not_found),
      refuse("\\..\\outside\\secret.txt", Error::not_found),
      refuse("~/secret.txt", Error::not_found),
      refuse("proc/self/root/etc/passwd", Error::not_found),
      refuse("dev/zero", Error::not_found),
      refuse("etc/shadow", Error::not_found),
      refuse("missing.txt", Error::not_found),
      refuse("inside.txt/x", Error::not_found),  // a file used as a folder
      // Symbolic links.
      allow("links/to_inside", "inside.txt", "INSIDE"),
      allow("links/chain_in", "inside.txt", "INSIDE"),
      allow("links/dir_in/file.txt", "sub/file.txt", "SUB"),
      allow(root_ + "/links/dir_in/file.txt", "sub/file.txt", "SUB"),
      refuse("links/abs_out", Error::forbidden),
      refuse("links/rel_out", Error::forbidden),
      refuse("links/dir_out/secret.txt", Error::forbidden),
      refuse("links/dir_out_rel/secret.txt", Error::forbidden),
      refuse(root_ + "/links/dir_out/secret.txt", Error::forbidden),
      refuse("links/chain1", Error::forbidden),
      refuse("links/proc_root", Error::forbidden),
      refuse("links/proc_root/etc/passwd", Error::forbidden),
      refuse("links/proc_fd", Error::forbidden),
      refuse("links/deep_out", Error::forbidden),
      refuse("links/abs_in", Error::forbidden),  // absolute targets are refused outright
      refuse("links/dangling", Error::not_found),
      refuse("links/dangling_out", Error::forbidden),
      refuse("links/loop1", Error::forbidden),
      // Things that are not one regular file.
      refuse("hardlink.txt", Error::forbidden),
      refuse("fifo", Error::forbidden),
      refuse("sock", Error::forbidden),
      refuse("sub", Error::bad_request),
      refuse("links/dir_in", Error::bad_request),
      refuse(".", Error::bad_request),
      refuse(root_, Error::bad_request),
      refuse(root_ + "/", Error::bad_request),
  };
  ASSERT_GE(table.size(), 60U);

  for (const auto& entry : table) {
    SCOPED_TRACE(visible(entry.path));
    const auto opened = root().open_for_read(entry.path);
    if (entry.refused) {
      ASSERT_FALSE(opened.has_value()) << "opened " << read_all(opened->get());
      EXPECT_EQ(opened.error().code, *entry.refused) << opened.error();
      expect_one_line(opened.error().message);
      continue;
    }
    ASSERT_TRUE(opened.has_value()) << opened.error();
    struct stat got {};
    struct stat want {};
    ASSERT_EQ(::fstat(opened->get(), &got), 0);
    ASSERT_EQ(::stat((root_ + "/" + entry.inside).c_str(), &want), 0);
    EXPECT_EQ(got.st_dev, want.st_dev);
    EXPECT_EQ(got.st_ino, want.st_ino);
    EXPECT_EQ(read_all(opened->get()), entry.content);
  }
  // Nothing the corpus did touched what lies outside.
  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");
  EXPECT_EQ(slurp(outside_ + "/linked.txt"), "LINKED-OUTSIDE");
}

TEST_F(SafePathTest, RefusalsSayWhyInOneLine) {
  EXPECT_EQ(root().open_for_read("../x").error().message, "path leaves the allowed folder (..)");
  EXPECT_EQ(root()
                .open_for_read("a\x1b"
                               "b")
                .error()
                .message,
            "path contains a control character");
  EXPECT_EQ(root().open_for_read("/etc/shadow").error().message,
            "the path is outside the allowed folder");
  EXPECT_EQ(root().open_for_read("links/rel_out").error().message,
            "the path leads outside the allowed folder through a link");
  EXPECT_EQ(root().open_for_read("fifo").error().message, "the path is a FIFO, not a regular file");
  EXPECT_EQ(root().open_for_read("sock").error().message,
            "the path is a socket, not a regular file");
  EXPECT_EQ(root().open_for_read("sub").error().message, "the path is a folder, not a file");
  EXPECT_EQ(root().open_for_read("hardlink.txt").error().message,
            "the file has other hard links, which may lead outside the allowed folder");
  EXPECT_EQ(root().open_for_read("missing").error().message, "no such file in the allowed folder");
}

TEST_F(SafePathTest, FileOpenedForReadingBlocksAndClosesOnExec) {
  const auto opened = root().open_for_read("inside.txt");
  ASSERT_TRUE(opened.has_value()) << opened.error();
  const int status = ::fcntl(opened->get(), F_GETFL);
  EXPECT_EQ(status & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(status & O_NONBLOCK, 0);
  EXPECT_NE(::fcntl(opened->get(), F_GETFD) & FD_CLOEXEC, 0);
}

TEST_F(SafePathTest, LexicalRefusalsAreTheSameForWriting) {
  const std::vector<std::pair<std::string, Error>> table = {
      {"../outside/x", Error::bad_request},
      {"a/../../x", Error::bad_request},
      {"x\ny", Error::bad_request},
      {"\xff", Error::bad_request},
      {"", Error::bad_request},
      {std::string(256, 'n'), Error::bad_request},
      {"/etc/cron.d/x", Error::forbidden},
      {outside_ + "/new.txt", Error::forbidden},
      {base_ + "/root-evil/x", Error::forbidden},
      {"/proc/self/root/tmp/x", Error::forbidden},
  };
  for (const auto& [path, code] : table) {
    SCOPED_TRACE(visible(path));
    const auto relative = root().relative_path(path);
    ASSERT_FALSE(relative.has_value());
    EXPECT_EQ(relative.error().code, code);
    const auto target = root().open_dir_for_write(path);
    ASSERT_FALSE(target.has_value());
    EXPECT_EQ(target.error().code, code);
    EXPECT_EQ(target.error().message, relative.error().message);
  }
}

TEST_F(SafePathTest, RelativePathMapsAbsolutePathsInsideTheFolder) {
  EXPECT_EQ(root().relative_path(root_).value(), ".");
  EXPECT_EQ(root().relative_path(root_ + "/").value(), ".");
  EXPECT_EQ(root().relative_path(root_ + "/a//b/").value(), "a/b");
  EXPECT_EQ(root().relative_path("a/./b").value(), "a/b");
  EXPECT_EQ(root().relative_path("./").value(), ".");
  EXPECT_EQ(root().real_path(), root_);
}

struct WriteCase {
  std::string path;
  std::optional<Error> refused;
  std::string lands_at;  // when allowed: where the committed file appears under root
};

TEST_F(SafePathTest, DestinationsForWriting) {
  const std::vector<WriteCase> table = {
      {"upload.txt", std::nullopt, "upload.txt"},
      {"./sub//new.txt", std::nullopt, "sub/new.txt"},
      {root_ + "/sub/abs.txt", std::nullopt, "sub/abs.txt"},
      {"links/dir_in/via-link.txt", std::nullopt, "sub/via-link.txt"},
      {"%2e%2e/new", std::nullopt, "%2e%2e/new"},
      {"..\\x", std::nullopt, "..\\x"},
      {"inside.txt", std::nullopt, "inside.txt"},  // an ordinary file may be replaced
      // The destination's folder leads out.
      {"links/dir_out/planted.txt", Error::forbidden, ""},
      {"links/dir_out_rel/planted.txt", Error::forbidden, ""},
      {"links/proc_root/tmp/planted.txt", Error::forbidden, ""},
      {"links/loop1/x", Error::forbidden, ""},
      // The destination's folder is missing or is not one.
      {"missing/x.txt", Error::not_found, ""},
      {"links/dangling/x.txt", Error::not_found, ""},
      {"inside.txt/x", Error::not_found, ""},
      // The destination exists and is not an ordinary file.
      {"links/abs_out", Error::forbidden, ""},
      {"links/to_inside", Error::forbidden, ""},
      {"links/dangling", Error::forbidden, ""},
      {"hardlink.txt", Error::forbidden, ""},
      {"fifo", Error::forbidden, ""},
      {"sock", Error::forbidden, ""},
      {"sub", Error::forbidden, ""},
      // The folder itself.
      {".", Error::bad_request, ""},
      {root_, Error::bad_request, ""},
  };
  int n = 0;
  for (const auto& entry : table) {
    SCOPED_TRACE(visible(entry.path));
    auto target = root().open_dir_for_write(entry.path);
    if (entry.refused) {
      ASSERT_FALSE(target.has_value()) << "leaf " << target->leaf;
      EXPECT_EQ(target.error().code, *entry.refused) << target.error();
      expect_one_line(target.error().message);
      continue;
    }
    ASSERT_TRUE(target.has_value()) << target.error();
    const std::string partial = partial_name(target->leaf, "t" + std::to_string(++n));
    auto file = open_partial(target->dir.get(), partial, true);
    ASSERT_TRUE(file.has_value()) << file.error();
    const std::string content = "UPLOADED " + entry.lands_at;
    ASSERT_EQ(::write(file->get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
    const auto committed = commit_partial(target->dir.get(), partial, target->leaf);
    ASSERT_TRUE(committed.has_value()) << committed.error();
    EXPECT_EQ(slurp(root_ + "/" + entry.lands_at), content);
    struct stat st {};
    EXPECT_NE(::fstatat(target->dir.get(), partial.c_str(), &st, AT_SYMLINK_NOFOLLOW), 0)
        << "the partial file is still there";
  }
  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");
  EXPECT_FALSE(fs::exists(outside_ + "/planted.txt"));
  EXPECT_EQ(slurp(outside_ + "/linked.txt"), "LINKED-OUTSIDE");
}

TEST_F(SafePathTest, PartialFileIsPrivateAndNewEveryTime) {
  auto target = root().open_dir_for_write("new.bin");
  ASSERT_TRUE(target.has_value()) << target.error();
  const std::string partial = partial_name(target->leaf, "abc");
  EXPECT_EQ(partial, ".new.bin.abc.tether-part");
  auto file = open_partial(target->dir.get(), partial, true);
  ASSERT_TRUE(file.has_value()) << file.error();
  struct stat st {};
  ASSERT_EQ(::fstat(file->get(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600U);

  const auto again = open_partial(target->dir.get(), partial, true);
  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, Error::conflict);

  // Resuming reopens the same file.
  ASSERT_EQ(::write(file->get(), "abc", 3), 3);
  auto resumed = open_partial(target->dir.get(), partial, false);
  ASSERT_TRUE(resumed.has_value()) << resumed.error();
  EXPECT_EQ(read_all(resumed->get()), "abc");
  EXPECT_EQ(::fcntl(resumed->get(), F_GETFL) & O_NONBLOCK, 0);

  ASSERT_TRUE(discard_partial(target->dir.get(), partial).has_value());
  EXPECT_FALSE(fs::exists(root_ + "/" + partial));
  EXPECT_TRUE(discard_partial(target->dir.get(), partial).has_value());  // already gone
  const auto missing = open_partial(target->dir.get(), partial, false);
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Error::not_found);
}

TEST_F(SafePathTest, CreatingAPartialNeverFollowsAPlantedLink) {
  auto target = root().open_dir_for_write("doc.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  const std::string partial = partial_name(target->leaf, "t1");
  make_symlink(outside_ + "/secret.txt", root_ + "/" + partial);
  const auto created = open_partial(target->dir.get(), partial, true);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, Error::conflict);
  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");
}

TEST_F(SafePathTest, ResumingRefusesAPartialThatIsNotOurs) {
  auto target = root().open_dir_for_write("doc.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  const int dir = target->dir.get();

  make_symlink(outside_ + "/secret.txt", root_ + "/.a.t.tether-part");
  auto result = open_partial(dir, ".a.t.tether-part", false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Error::forbidden);
  EXPECT_EQ(result.error().message, "the partial file was replaced by a symbolic link");

  ASSERT_EQ(::link((outside_ + "/secret.txt").c_str(), (root_ + "/.b.t.tether-part").c_str()), 0);
  result = open_partial(dir, ".b.t.tether-part", false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Error::forbidden);

  ASSERT_EQ(::mkfifo((root_ + "/.c.t.tether-part").c_str(), 0600), 0);
  result = open_partial(dir, ".c.t.tether-part", false);  // must not block on the FIFO
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Error::forbidden);

  ASSERT_EQ(::mkdir((root_ + "/.d.t.tether-part").c_str(), 0700), 0);
  result = open_partial(dir, ".d.t.tether-part", false);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code, Error::forbidden);

  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");
}

TEST_F(SafePathTest, PartialAndLeafNamesMustBeSingleNames) {
  auto target = root().open_dir_for_write("doc.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  const int dir = target->dir.get();
  for (const std::string& bad :
       std::vector<std::string>{"", ".", "..", "../x", "a/b", "/etc/passwd", "x\ny", "\x1b", "a//",
                                "./a", std::string(256, 'p'), "nul\0x"s}) {
    SCOPED_TRACE(visible(bad));
    const auto opened = open_partial(dir, bad, true);
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code, Error::bad_request);
    EXPECT_EQ(open_partial(dir, bad, false).error().code, Error::bad_request);
    EXPECT_EQ(commit_partial(dir, bad, "doc.txt").error().code, Error::bad_request);
    EXPECT_EQ(commit_partial(dir, ".p.tether-part", bad).error().code, Error::bad_request);
    EXPECT_EQ(discard_partial(dir, bad).error().code, Error::bad_request);
  }
  EXPECT_FALSE(fs::exists(base_ + "/x"));
}

// Writes a finished partial for `leaf` in the target's folder and returns its name.
std::string finished_partial(const WriteTarget& target, const std::string& tag) {
  const std::string partial = partial_name(target.leaf, tag);
  auto file = open_partial(target.dir.get(), partial, true);
  EXPECT_TRUE(file.has_value());
  if (file) EXPECT_EQ(::write(file->get(), "NEW", 3), 3);
  return partial;
}

TEST_F(SafePathTest, CommitRefusesADestinationThatBecameALink) {
  // Checked when the transfer started; a link planted during the upload is caught at commit.
  auto target = root().open_dir_for_write("report.pdf");
  ASSERT_TRUE(target.has_value()) << target.error();
  const std::string partial = finished_partial(*target, "t1");
  make_symlink(outside_ + "/secret.txt", root_ + "/report.pdf");

  const auto committed = commit_partial(target->dir.get(), partial, target->leaf);
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Error::forbidden);
  EXPECT_EQ(committed.error().message,
            "the destination is a symbolic link; the agent does not replace links");
  EXPECT_TRUE(is_symlink(root_ + "/report.pdf"));
  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");
  EXPECT_EQ(slurp(root_ + "/" + partial), "NEW");  // left for the caller to discard
}

TEST_F(SafePathTest, CommitRefusesADestinationThatBecameHardLinkedOrAFolder) {
  auto target = root().open_dir_for_write("a.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  const std::string partial = finished_partial(*target, "t1");

  ASSERT_EQ(::link((outside_ + "/secret.txt").c_str(), (root_ + "/a.txt").c_str()), 0);
  auto committed = commit_partial(target->dir.get(), partial, target->leaf);
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Error::forbidden);
  EXPECT_EQ(slurp(outside_ + "/secret.txt"), "SECRET");

  ASSERT_EQ(::unlink((root_ + "/a.txt").c_str()), 0);
  ASSERT_EQ(::mkdir((root_ + "/a.txt").c_str(), 0700), 0);
  committed = commit_partial(target->dir.get(), partial, target->leaf);
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Error::forbidden);
  EXPECT_TRUE(fs::is_directory(root_ + "/a.txt"));
}

TEST_F(SafePathTest, CommitReplacesAnOrdinaryFile) {
  auto target = root().open_dir_for_write("sub/file.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  EXPECT_EQ(target->leaf, "file.txt");
  const std::string partial = finished_partial(*target, "t1");
  const auto committed = commit_partial(target->dir.get(), partial, target->leaf);
  ASSERT_TRUE(committed.has_value()) << committed.error();
  EXPECT_EQ(slurp(root_ + "/sub/file.txt"), "NEW");
  EXPECT_FALSE(fs::exists(root_ + "/sub/" + partial));
}

TEST_F(SafePathTest, CommitOfAMissingPartialIsNotFound) {
  auto target = root().open_dir_for_write("x.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  const auto committed = commit_partial(target->dir.get(), ".x.txt.gone.tether-part", "x.txt");
  ASSERT_FALSE(committed.has_value());
  EXPECT_EQ(committed.error().code, Error::not_found);
  EXPECT_FALSE(fs::exists(root_ + "/x.txt"));
}

TEST_F(SafePathTest, DestinationFolderSwappedForALinkAfterwardsStaysPut) {
  // The folder descriptor was resolved once; replacing the folder's name with a link that
  // leads out afterwards does not move the write.
  auto target = root().open_dir_for_write("sub/late.txt");
  ASSERT_TRUE(target.has_value()) << target.error();
  ASSERT_EQ(::rename((root_ + "/sub").c_str(), (root_ + "/sub-moved").c_str()), 0);
  make_symlink(outside_, root_ + "/sub");
  const std::string partial = finished_partial(*target, "t1");
  ASSERT_TRUE(commit_partial(target->dir.get(), partial, target->leaf).has_value());
  EXPECT_EQ(slurp(root_ + "/sub-moved/late.txt"), "NEW");
  EXPECT_FALSE(fs::exists(outside_ + "/late.txt"));
  // And a new request through the swapped name is refused.
  EXPECT_EQ(root().open_dir_for_write("sub/late2.txt").error().code, Error::forbidden);
}

TEST_F(SafePathTest, PartialNameFitsInOneComponent) {
  std::string leaf;
  for (int i = 0; i < 127; ++i) leaf += "\xc3\xa9";  // 254 bytes of é
  leaf += "x";
  const std::string name = partial_name(leaf, "0123456789abcdef");
  EXPECT_LE(name.size(), protocol::kMaxRemotePathComponent);
  EXPECT_TRUE(name.ends_with(".0123456789abcdef.tether-part"));
  EXPECT_TRUE(name.starts_with(".\xc3\xa9"));
  const auto checked = protocol::check_remote_path(name);
  ASSERT_TRUE(checked.has_value()) << "cut inside a character";
  EXPECT_EQ(*checked, name);

  auto target = root().open_dir_for_write(leaf);
  ASSERT_TRUE(target.has_value()) << target.error();
  EXPECT_TRUE(open_partial(target->dir.get(), name, true).has_value());
}

TEST_F(SafePathTest, RootGivenThroughALinkStillWorks) {
  const std::string link = base_ + "/root-link";
  make_symlink(root_, link);
  auto via_link = AllowedRoot::open(link);
  ASSERT_TRUE(via_link.has_value()) << via_link.error();
  EXPECT_EQ(via_link->real_path(), root_);

  for (const std::string& path : {"inside.txt"s, link + "/inside.txt", root_ + "/inside.txt"}) {
    SCOPED_TRACE(path);
    auto opened = via_link->open_for_read(path);
    ASSERT_TRUE(opened.has_value()) << opened.error();
    EXPECT_EQ(read_all(opened->get()), "INSIDE");
  }
  EXPECT_EQ(via_link->open_for_read(link + "/../outside/secret.txt").error().code,
            Error::bad_request);
  EXPECT_EQ(via_link->open_for_read(outside_ + "/secret.txt").error().code, Error::forbidden);
  EXPECT_EQ(via_link->open_for_read("links/rel_out").error().code, Error::forbidden);
  EXPECT_EQ(via_link->open_for_read(link + "-evil/secret.txt").error().code, Error::forbidden);
}

TEST_F(SafePathTest, OpeningTheRootChecksIt) {
  auto relative = AllowedRoot::open("home/ana");
  ASSERT_FALSE(relative.has_value());
  EXPECT_EQ(relative.error().code, Error::bad_request);

  auto missing = AllowedRoot::open(base_ + "/no-such-folder");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, Error::not_found);
  EXPECT_EQ(missing.error().message, "the allowed folder does not exist");

  auto file = AllowedRoot::open(root_ + "/inside.txt");
  ASSERT_FALSE(file.has_value());
  EXPECT_EQ(file.error().code, Error::bad_request);

  auto dangling = AllowedRoot::open(root_ + "/links/dangling");
  ASSERT_FALSE(dangling.has_value());
  EXPECT_EQ(dangling.error().code, Error::not_found);

  EXPECT_THROW(AllowedRoot::open("relative").value(), std::runtime_error);
}

TEST_F(SafePathTest, MovedFromRootKeepsWorkingInItsNewOwner) {
  auto first = AllowedRoot::open(root_);
  ASSERT_TRUE(first.has_value());
  AllowedRoot moved(std::move(*first));
  EXPECT_EQ(first->fd(), -1);
  auto opened = moved.open_for_read("inside.txt");
  ASSERT_TRUE(opened.has_value()) << opened.error();
  EXPECT_EQ(read_all(opened->get()), "INSIDE");
}

// With the whole file system as the allowed folder, what stops /proc and /dev is the kernel
// (no magic links) and the file-type check, not the prefix comparison.
TEST(SafePathSystemRoot, ProcMagicLinksAndDevicesAreRefused) {
  auto root = AllowedRoot::open("/");
  ASSERT_TRUE(root.has_value()) << root.error();
  const std::vector<std::pair<std::string, Error>> table = {
      {"/proc/self/root/etc/passwd", Error::forbidden},  // magic link
      {"/proc/self/fd/0", Error::forbidden},             // magic link
      {"/proc/self/cwd", Error::forbidden},              // magic link
      {"/proc/self/exe", Error::forbidden},              // magic link
      {"/dev/zero", Error::forbidden},                   // character device
      {"/dev/null", Error::forbidden},                   // character device
      {"dev/zero", Error::forbidden},
      {"/proc", Error::bad_request},  // a folder
      {"/..", Error::bad_request},
  };
  for (const auto& [path, code] : table) {
    SCOPED_TRACE(path);
    const auto opened = root->open_for_read(path);
    ASSERT_FALSE(opened.has_value());
    EXPECT_EQ(opened.error().code, code) << opened.error();
  }
  EXPECT_EQ(root->relative_path("/etc/passwd").value(), "etc/passwd");
  EXPECT_EQ(root->relative_path("/").value(), ".");
}

// openat2 is what confines paths; without it the agent must refuse, not fall back.
TEST_F(SafePathTest, KernelWithoutOpenat2FailsClosed) {
  const std::string root_dir = root_;
  const auto without_openat2 = [&] {
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0) {
      std::fputs("cannot install a seccomp filter\n", stderr);
      std::_Exit(2);
    }
    const auto read = root().open_for_read("inside.txt");
    const auto write = root().open_dir_for_write("new.txt");
    const auto reopened = AllowedRoot::open(root_dir);
    const bool closed = !read && read.error().code == Error::internal &&
                        read.error().message.find("openat2") != std::string::npos && !write &&
                        write.error().code == Error::internal && !reopened &&
                        reopened.error().code == Error::internal;
    std::fputs(closed ? "failed closed\n" : "did not fail closed\n", stderr);
    std::_Exit(closed ? 0 : 1);
  };
  EXPECT_EXIT(without_openat2(), ::testing::ExitedWithCode(0), "failed closed");
}

}  // namespace
}  // namespace tether::agent::tools
