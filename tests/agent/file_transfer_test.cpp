// The agent's file-transfer steps on a real folder in a temp dir: parameter checks, where an
// upload lands and where it resumes, writing and hashing in chunks, committing, reading for a
// download, and the worker thread that runs the blocking steps.

#include "tools/file_transfer.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

namespace tether::agent::tools {
namespace {

namespace fs = std::filesystem;
namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;

const std::string kShaA(64, 'a');

std::string sha_of(std::string_view bytes) {
  protocol::Sha256Digest digest;
  digest.update(bytes);
  return digest.hex();
}

std::string random_bytes(std::size_t n, unsigned seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (auto& c : out) c = static_cast<char>(random());
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void write_file(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::vector<std::string> partials_in(const fs::path& dir) {
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().ends_with(".tether-part")) {
      found.push_back(entry.path().filename());
    }
  }
  return found;
}

// ---------------------------------------------------------------- params

json with(json object, const std::string& key, json value) {
  object[key] = std::move(value);
  return object;
}

TEST(FilePutParams, AcceptsAFullRequestAndNormalisesThePath) {
  auto request = parse_put_params(
      {{"path", "docs//a.txt"}, {"size", 10}, {"sha256", kShaA}, {"mode", 0755}, {"name", "a.txt"}},
      100);
  ASSERT_TRUE(request) << request.error();
  EXPECT_EQ(request->path, "docs/a.txt");
  EXPECT_EQ(request->size, 10u);
  EXPECT_EQ(request->sha256, kShaA);
  ASSERT_TRUE(request->mode);
  EXPECT_EQ(*request->mode, 0755u);
  EXPECT_EQ(request->name, "a.txt");
}

TEST(FilePutParams, RefusesEachMalformedField) {
  const json good = {{"path", "a"}, {"size", 1}, {"sha256", kShaA}};
  struct Case {
    const char* what;
    json params;
    Error code;
  };
  const std::vector<Case> cases = {
      {"not an object", json::array(), Error::bad_request},
      {"unknown key", with(good, "owner", "root"), Error::bad_request},
      {"no path", {{"size", 1}, {"sha256", kShaA}}, Error::bad_request},
      {"path is a number", with(good, "path", 5), Error::bad_request},
      {"dot-dot", with(good, "path", "../x"), Error::bad_request},
      {"dot-dot inside", with(good, "path", "a/../../x"), Error::bad_request},
      {"newline", with(good, "path", "a\nb"), Error::bad_request},
      {"empty path", with(good, "path", ""), Error::bad_request},
      {"negative size", with(good, "size", -1), Error::bad_request},
      {"size as text", with(good, "size", "1"), Error::bad_request},
      {"short sha", with(good, "sha256", "abc"), Error::bad_request},
      {"upper-case sha", with(good, "sha256", std::string(64, 'A')), Error::bad_request},
      {"mode too big", with(good, "mode", 010000), Error::bad_request},
      {"mode negative", with(good, "mode", -1), Error::bad_request},
      {"name with slash", with(good, "name", "a/b"), Error::bad_request},
      {"name dot-dot", with(good, "name", ".."), Error::bad_request},
      {"name dot", with(good, "name", "."), Error::bad_request},
      {"over the limit", with(good, "size", 101), Error::message_too_large},
  };
  for (const auto& c : cases) {
    auto request = parse_put_params(c.params, 100);
    ASSERT_FALSE(request) << c.what;
    EXPECT_EQ(request.error().code, c.code) << c.what << ": " << request.error().message;
    EXPECT_FALSE(request.error().message.empty()) << c.what;
  }
  auto big = parse_put_params(with(good, "size", 5ULL << 30), 4ULL << 30);
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message.find("5.0 GiB"), std::string::npos) << big.error().message;
  EXPECT_NE(big.error().message.find("4.0 GiB"), std::string::npos) << big.error().message;
}

TEST(FileGetParams, OffsetSizeAndMtimeAreOptional) {
  auto plain = parse_get_params({{"path", "/home/u/x.log"}});
  ASSERT_TRUE(plain) << plain.error();
  EXPECT_EQ(plain->offset, 0u);
  EXPECT_FALSE(plain->size);
  EXPECT_FALSE(plain->mtime_ns);

  auto resume = parse_get_params(
      {{"path", "x"}, {"offset", 5}, {"size", 9}, {"mtime", 1700000000123456789LL}});
  ASSERT_TRUE(resume) << resume.error();
  EXPECT_EQ(resume->offset, 5u);
  EXPECT_EQ(resume->size, 9u);
  EXPECT_EQ(resume->mtime_ns, 1700000000123456789LL);

  for (const json& bad : {json{{"path", "x"}, {"offset", -1}}, json{{"path", "x"}, {"mtime", 1.5}},
                          json{{"path", "x"}, {"size", "9"}}, json{{"path", "x"}, {"extra", 1}},
                          json{{"path", "../x"}}, json{{"offset", 1}}}) {
    auto request = parse_get_params(bad);
    ASSERT_FALSE(request) << bad;
    EXPECT_EQ(request.error().code, Error::bad_request) << bad;
  }
}

TEST(FileGetParams, ResumesOnlyTheSameFileWithinItsSize) {
  GetRequest request;
  request.offset = 100;
  EXPECT_EQ(get_resume_offset(request, 1000, 7), 100u);
  EXPECT_EQ(get_resume_offset(request, 100, 7), 100u);  // All there: only the hash is left.
  EXPECT_EQ(get_resume_offset(request, 99, 7), 0u);     // Longer than the file now.
  request.size = 1000;
  request.mtime_ns = 7;
  EXPECT_EQ(get_resume_offset(request, 1000, 7), 100u);
  EXPECT_EQ(get_resume_offset(request, 1001, 7), 0u);  // Grew.
  EXPECT_EQ(get_resume_offset(request, 1000, 8), 0u);  // Rewritten in place.
  request.offset = 0;
  EXPECT_EQ(get_resume_offset(request, 1000, 7), 0u);
}

TEST(FileTransferText, SizesAndResumeTag) {
  EXPECT_EQ(size_text(0), "0 bytes");
  EXPECT_EQ(size_text(1023), "1023 bytes");
  EXPECT_EQ(size_text(1536), "1.5 KiB");
  EXPECT_EQ(size_text(12ULL << 20), "12.0 MiB");
  EXPECT_EQ(size_text(4ULL << 30), "4.0 GiB");
  EXPECT_EQ(resume_tag("0123456789abcdef0123"), "0123456789abcdef");
}

// ---------------------------------------------------------------- on a real folder

class FileTransferOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("tether-ft-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(std::random_device{}()));
    fs::create_directories(dir_ / "root" / "sub");
    fs::create_directories(dir_ / "outside");
    auto root = AllowedRoot::open((dir_ / "root").string());
    ASSERT_TRUE(root) << root.error();
    root_.emplace(std::move(*root));
  }
  void TearDown() override { fs::remove_all(dir_); }

  PutRequest put_request(std::string path, std::string_view content) {
    PutRequest request;
    request.path = std::move(path);
    request.size = content.size();
    request.sha256 = sha_of(content);
    return request;
  }

  // Writes `content` from `offset` in chunks of 1000 bytes and commits, as the handler does.
  std::string upload(PutTarget& target, std::string_view content, std::optional<mode_t> mode) {
    protocol::Sha256Digest digest;
    hash_range(target.file.get(), 0, target.offset, digest);
    std::vector<std::string> chunks;
    for (auto at = target.offset; at < content.size(); at += 1000) {
      chunks.emplace_back(content.substr(at, 1000));
    }
    write_chunks(target.file.get(), target.offset, chunks, digest);
    auto sha = digest.hex();
    commit_put(target, mode);
    return sha;
  }

  fs::path dir_;
  std::optional<AllowedRoot> root_;
};

TEST_F(FileTransferOnDisk, UploadLandsOnlyAfterCommitWithTheRightContentAndMode) {
  const auto content = random_bytes(123'456, 1);
  auto request = put_request("sub/new.bin", content);
  auto target = prepare_put(*root_, request);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->offset, 0u);
  EXPECT_EQ(target->display, fs::canonical(dir_ / "root").string() + "/sub/new.bin");
  const auto partial =
      dir_ / "root" / "sub" /
      ("." + std::string("new.bin.") + resume_tag(request.sha256) + ".tether-part");
  EXPECT_TRUE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(dir_ / "root" / "sub" / "new.bin"));
  EXPECT_FALSE(destination_exists(*target));

  EXPECT_EQ(upload(*target, content, 0777), request.sha256);
  EXPECT_EQ(read_file(dir_ / "root" / "sub" / "new.bin"), content);
  EXPECT_FALSE(fs::exists(partial));
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "root" / "sub" / "new.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u) << "group and other write are dropped";
}

TEST_F(FileTransferOnDisk, ReplacingAFileKeepsItsPermissions) {
  write_file(dir_ / "root" / "notes.txt", "old");
  ::chmod((dir_ / "root" / "notes.txt").c_str(), 0600);
  auto target = prepare_put(*root_, put_request("notes.txt", "new content"));
  ASSERT_TRUE(target) << target.error();
  EXPECT_TRUE(destination_exists(*target));
  upload(*target, "new content", 0644);
  EXPECT_EQ(read_file(dir_ / "root" / "notes.txt"), "new content");
  struct stat st {};
  ASSERT_EQ(::stat((dir_ / "root" / "notes.txt").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(FileTransferOnDisk, SameContentResumesFromThePartialAndOtherContentDoesNot) {
  const auto content = random_bytes(50'000, 2);
  auto first = prepare_put(*root_, put_request("big.bin", content));
  ASSERT_TRUE(first) << first.error();
  ASSERT_EQ(::pwrite(first->file.get(), content.data(), 20'000, 0), 20'000);

  // Another content for the same name, while the first upload still runs (holds its lock).
  auto other = prepare_put(*root_, put_request("big.bin", random_bytes(50'000, 3)));
  ASSERT_TRUE(other) << other.error();
  EXPECT_EQ(other->offset, 0u) << "different content, different partial";
  other->file = UniqueFd();
  first->file = UniqueFd();  // The first attempt is gone (and so is its lock).

  auto again = prepare_put(*root_, put_request("big.bin", content));
  ASSERT_TRUE(again) << again.error();
  EXPECT_EQ(again->offset, 20'000u);
  EXPECT_EQ(upload(*again, content, std::nullopt), sha_of(content));
  EXPECT_EQ(read_file(dir_ / "root" / "big.bin"), content);
  EXPECT_TRUE(partials_in(dir_ / "root").empty()) << "the other content's partial went too";
}

TEST_F(FileTransferOnDisk, PartialsOfOtherContentForTheSameNameAreCleanedUp) {
  const auto old_content = random_bytes(10'000, 5);
  auto old_request = put_request("doc.bin", old_content);
  auto locked_request = put_request("doc.bin", random_bytes(10'000, 6));
  auto other_name = put_request("other.bin", old_content);
  for (auto* r : {&old_request, &other_name}) {
    auto target = prepare_put(*root_, *r);
    ASSERT_TRUE(target) << target.error();
    ASSERT_EQ(::pwrite(target->file.get(), "abc", 3, 0), 3);
  }
  auto busy = prepare_put(*root_, locked_request);  // Still open and locked: in progress.
  ASSERT_TRUE(busy) << busy.error();
  write_file(dir_ / "root" / ".doc.bin.not-a-tag-at-all.tether-part", "user's own file");

  const auto new_content = random_bytes(10'000, 7);
  auto target = prepare_put(*root_, put_request("doc.bin", new_content));
  ASSERT_TRUE(target) << target.error();
  const auto root = dir_ / "root";
  EXPECT_FALSE(fs::exists(root / partial_name("doc.bin", resume_tag(old_request.sha256))));
  EXPECT_TRUE(fs::exists(root / partial_name("doc.bin", resume_tag(locked_request.sha256))));
  EXPECT_TRUE(fs::exists(root / partial_name("other.bin", resume_tag(other_name.sha256))));
  EXPECT_TRUE(fs::exists(root / ".doc.bin.not-a-tag-at-all.tether-part"));
  upload(*target, new_content, std::nullopt);
  EXPECT_EQ(read_file(root / "doc.bin"), new_content);
}

TEST_F(FileTransferOnDisk, APartialLongerThanTheFileStartsOver) {
  const std::string content = "short";
  auto request = put_request("s.txt", content);
  write_file(dir_ / "root" / partial_name("s.txt", resume_tag(request.sha256)),
             "much longer than it");
  auto target = prepare_put(*root_, request);
  ASSERT_TRUE(target) << target.error();
  EXPECT_EQ(target->offset, 0u);
  upload(*target, content, std::nullopt);
  EXPECT_EQ(read_file(dir_ / "root" / "s.txt"), content);
}

TEST_F(FileTransferOnDisk, ASecondUploadOfTheSameFileWaitsForTheFirst) {
  auto request = put_request("x.bin", "0123456789");
  auto first = prepare_put(*root_, request);
  ASSERT_TRUE(first) << first.error();
  ASSERT_EQ(::pwrite(first->file.get(), "01234", 5, 0), 5);
  auto second = prepare_put(*root_, request);  // The first one never lets go.
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().code, Error::conflict);

  // An attempt that stops while the next one starts: the next one waits and resumes after it.
  std::thread stopping([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    first->file = UniqueFd();
  });
  auto third = prepare_put(*root_, request);
  stopping.join();
  ASSERT_TRUE(third) << third.error();
  EXPECT_EQ(third->offset, 5u);
}

TEST_F(FileTransferOnDisk, AFolderAsDestinationTakesTheTechniciansName) {
  auto request = put_request("sub", "abc");
  request.name = "report.pdf";
  auto target = prepare_put(*root_, request);
  ASSERT_TRUE(target) << target.error();
  upload(*target, "abc", std::nullopt);
  EXPECT_EQ(read_file(dir_ / "root" / "sub" / "report.pdf"), "abc");

  auto at_root = put_request(".", "def");
  at_root.name = "top.txt";
  auto top = prepare_put(*root_, at_root);
  ASSERT_TRUE(top) << top.error();
  upload(*top, "def", std::nullopt);
  EXPECT_EQ(read_file(dir_ / "root" / "top.txt"), "def");

  // A path that is not a folder keeps its own name.
  auto renamed = put_request("sub/other.pdf", "ghi");
  renamed.name = "report.pdf";
  auto plain = prepare_put(*root_, renamed);
  ASSERT_TRUE(plain) << plain.error();
  upload(*plain, "ghi", std::nullopt);
  EXPECT_EQ(read_file(dir_ / "root" / "sub" / "other.pdf"), "ghi");
}

TEST_F(FileTransferOnDisk, RefusesDestinationsOutsideOrMissing) {
  fs::create_directory_symlink(dir_ / "outside", dir_ / "root" / "escape");
  fs::create_directory_symlink("/etc", dir_ / "root" / "etc");
  struct Case {
    std::string path;
    Error code;
  };
  for (const auto& c : std::vector<Case>{{"escape/x", Error::forbidden},
                                         {"etc/passwd", Error::forbidden},
                                         {"/etc/passwd", Error::forbidden},
                                         {"missing/x", Error::not_found},
                                         {"sub", Error::forbidden}}) {
    auto target = prepare_put(*root_, put_request(c.path, "abc"));
    ASSERT_FALSE(target) << c.path;
    EXPECT_EQ(target.error().code, c.code) << c.path << ": " << target.error().message;
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "outside"));
}

TEST_F(FileTransferOnDisk, GetReportsSizeMtimeAndRefusesBigFiles) {
  const auto content = random_bytes(3 * 1024 * 1024 + 17, 4);
  write_file(dir_ / "root" / "sub" / "data.bin", content);
  GetRequest request;
  request.path = "sub/data.bin";
  auto source = prepare_get(*root_, request, 1ULL << 30);
  ASSERT_TRUE(source) << source.error();
  EXPECT_EQ(source->size, content.size());
  EXPECT_GT(source->mtime_ns, 0);
  EXPECT_EQ(source->display, fs::canonical(dir_ / "root" / "sub" / "data.bin").string());

  // Prefix hashed from disk, then the rest in chunks: the hash of the whole file.
  protocol::Sha256Digest digest;
  hash_range(source->file.get(), 0, 1'000'000, digest);
  std::string buffer, received = content.substr(0, 1'000'000);
  for (std::uint64_t at = 1'000'000; at < content.size();) {
    const auto n = std::min<std::uint64_t>(kTransferChunkBytes, content.size() - at);
    read_chunk(source->file.get(), at, n, buffer, digest);
    received += buffer;
    at += n;
  }
  EXPECT_EQ(received, content);
  EXPECT_EQ(digest.hex(), sha_of(content));

  auto big = prepare_get(*root_, request, content.size() - 1);
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().code, Error::message_too_large);
}

TEST_F(FileTransferOnDisk, AFileThatShrinksWhileReadIsAConflict) {
  write_file(dir_ / "root" / "f.txt", "0123456789");
  GetRequest request;
  request.path = "f.txt";
  auto source = prepare_get(*root_, request, 100);
  ASSERT_TRUE(source) << source.error();
  ASSERT_EQ(::truncate((dir_ / "root" / "f.txt").c_str(), 4), 0);
  protocol::Sha256Digest digest;
  std::string buffer;
  try {
    read_chunk(source->file.get(), 0, 10, buffer, digest);
    FAIL() << "no error";
  } catch (const TransferFailure& e) {
    EXPECT_EQ(e.error.code, Error::conflict);
  }
  try {
    hash_range(source->file.get(), 0, 10, digest);
    FAIL() << "no error";
  } catch (const TransferFailure& e) {
    EXPECT_EQ(e.error.code, Error::conflict);
  }
}

// ---------------------------------------------------------------- DiskWorker

TEST(DiskWorker, RunsJobsOnItsOwnThreadInOrderAndPassesErrorsBack) {
  asio::io_context io;
  std::vector<int> order;
  std::thread::id job_thread;
  bool threw = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        DiskWorker worker(io.get_executor());
        co_await worker.run([&] {
          job_thread = std::this_thread::get_id();
          order.push_back(1);
        });
        std::atomic<bool> second{false};
        worker.start([&] { second = true; });  // This thread goes on while the job runs...
        co_await worker.wait();
        co_await worker.wait();  // ...and waiting twice is harmless.
        if (second) order.push_back(2);
        try {
          co_await worker.run([] { throw TransferFailure({Error::conflict, "changed"}); });
        } catch (const TransferFailure& e) {
          threw = e.error.code == Error::conflict;
        }
        co_await worker.run([&] { order.push_back(3); });
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  EXPECT_NE(job_thread, std::this_thread::get_id());
  EXPECT_TRUE(threw);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

}  // namespace
}  // namespace tether::agent::tools
