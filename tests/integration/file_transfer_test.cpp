// `tether put` and `tether get` end to end with the real relay, agent and console: files
// arrive whole and byte-identical, interrupted transfers (console killed, Ctrl-C, agent killed)
// resume from where they stopped, hostile paths and oversized files are refused with nothing
// written outside the allowed folder, the files scope is enforced, and every transfer is on
// the ticket with its size and SHA-256.

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "relay_fixture.hpp"
#include "tether/protocol/sha256_digest.hpp"

namespace tether::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string sha256_of_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  protocol::Sha256Digest digest;
  std::string buffer(1 << 20, '\0');
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    digest.update(std::string_view(buffer.data(), static_cast<std::size_t>(in.gcount())));
  }
  return digest.hex();
}

// Random bytes from the kernel (fast enough for hundreds of MiB, and never compressible).
void make_random_file(const fs::path& path, std::size_t size) {
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::ofstream out(path, std::ios::binary);
  std::string buffer(1 << 20, '\0');
  while (size > 0) {
    const auto n = std::min(size, buffer.size());
    random.read(buffer.data(), static_cast<std::streamsize>(n));
    out.write(buffer.data(), static_cast<std::streamsize>(n));
    size -= n;
  }
}

std::uintmax_t size_or_zero(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

std::set<std::string> names_in(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.insert(entry.path().filename());
  return names;
}

// The agent's partial files in `dir` (".NAME.TAG.tether-part").
std::vector<fs::path> partials_in(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().ends_with(".tether-part")) found.push_back(entry.path());
  }
  return found;
}

class FileTransfer : public RelayFixture {
 protected:
  void SetUp() override {
    RelayFixture::SetUp();
    root_ = dir_ / "files";
    local_ = dir_ / "local";
    outside_ = dir_ / "outside";
    for (const auto& d : {root_, local_, outside_}) fs::create_directories(d);
  }

  void TearDown() override {
    // What the user saw, to tell a failure of the agent from one of the console.
    if (HasFailure() && agent_)
      std::cerr << "agent stdout:\n"
                << agent_->out() << "\nagent stderr:\n"
                << agent_->err() << "\n";
    RelayFixture::TearDown();
  }

  void start(std::vector<std::string> agent_args = {}) {
    agent_args.insert(agent_args.begin(), {"--files-root", root_.string()});
    agent_ = start_session(std::move(agent_args));
    ASSERT_TRUE(agent_);
  }

  // A long-running `tether ARGS…` with this test's console configuration.
  std::unique_ptr<Process> console_process(std::vector<std::string> args) {
    args.insert(args.begin(), TETHER_CONSOLE_BIN);
    return std::make_unique<Process>(
        std::move(args),
        std::map<std::string, std::string>{{"TETHER_CONFIG_DIR", (dir_ / "console").string()}});
  }

  // Polls until `condition` holds or `process` ends; true when the condition held first.
  template <class Condition>
  bool wait_while_running(Process& process, Condition condition,
                          std::chrono::milliseconds timeout = 120s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (condition()) return true;
      if (process.wait(0ms)) return condition();
      std::this_thread::sleep_for(1ms);
    }
    return false;
  }

  json timeline() { return console_json({"ticket", "show", "T-1"})["timeline"]; }

  std::vector<json> entries_of_kind(const std::string& kind) {
    std::vector<json> found;
    for (const auto& entry : timeline()) {
      if (entry.value("kind", "") == kind) found.push_back(entry);
    }
    return found;
  }

  fs::path root_, local_, outside_;
  std::unique_ptr<Process> agent_;
};

TEST_F(FileTransfer, RoundTripPutThenGetIsByteIdenticalAndOnTheTicket) {
  start();
  make_random_file(local_ / "report.bin", 20 * 1024 * 1024 + 123);
  const auto sha = sha256_of_file(local_ / "report.bin");

  auto put = console({"put", "S-1", (local_ / "report.bin").string(), "report.bin"});
  ASSERT_EQ(put.status, 0) << put.err;
  EXPECT_NE(put.out.find("uploaded "), std::string::npos) << put.out;
  EXPECT_NE(put.out.find(sha.substr(0, 16)), std::string::npos) << put.out;
  EXPECT_EQ(sha256_of_file(root_ / "report.bin"), sha);
  EXPECT_EQ(names_in(root_), std::set<std::string>{"report.bin"});
  EXPECT_TRUE(agent_->wait_for_line("The technician uploaded"));

  auto got = console_json({"get", "S-1", "report.bin", (local_ / "back.bin").string()});
  EXPECT_EQ(got.value("sha256", ""), sha);
  EXPECT_EQ(got.value("size", 0ULL), 20ULL * 1024 * 1024 + 123);
  EXPECT_EQ(got.value("resumed_from", 1ULL), 0ULL);
  EXPECT_EQ(got.value("path", ""), fs::canonical(root_).string() + "/report.bin");
  EXPECT_EQ(sha256_of_file(local_ / "back.bin"), sha);
  EXPECT_EQ(names_in(local_), (std::set<std::string>{"back.bin", "report.bin"}));
  EXPECT_TRUE(agent_->wait_for_line("The technician downloaded"));

  // Uploading over an existing file replaces it, and says so.
  make_random_file(local_ / "v2.bin", 1000);
  auto replace = console_json({"put", "S-1", (local_ / "v2.bin").string(), "report.bin"});
  EXPECT_EQ(replace.value("replaced", false), true);
  EXPECT_EQ(sha256_of_file(root_ / "report.bin"), sha256_of_file(local_ / "v2.bin"));

  const auto uploaded = entries_of_kind("file.uploaded");
  const auto downloaded = entries_of_kind("file.downloaded");
  ASSERT_EQ(uploaded.size(), 2u);
  ASSERT_EQ(downloaded.size(), 1u);
  EXPECT_EQ(uploaded[0]["detail"]["result"].value("sha256", ""), sha);
  EXPECT_EQ(uploaded[0]["detail"]["result"].value("size", 0ULL), 20ULL * 1024 * 1024 + 123);
  EXPECT_NE(uploaded[0].value("summary", "").find("SHA-256 " + sha), std::string::npos)
      << uploaded[0];
  EXPECT_NE(uploaded[0].value("summary", "").find("20.0 MiB"), std::string::npos) << uploaded[0];
  EXPECT_EQ(downloaded[0]["detail"]["result"].value("sha256", ""), sha);
  EXPECT_NE(downloaded[0].value("summary", "").find("report.bin"), std::string::npos);
}

TEST_F(FileTransfer, SubfoldersAndFolderDestinationsWorkLikeScp) {
  start();
  fs::create_directories(root_ / "docs" / "2024");
  std::ofstream(local_ / "a.txt") << "alpha\n";
  ASSERT_EQ(console({"put", "S-1", (local_ / "a.txt").string(), "docs/2024/a-renamed.txt"}).status,
            0);
  EXPECT_EQ(sha256_of_file(root_ / "docs" / "2024" / "a-renamed.txt"),
            sha256_of_file(local_ / "a.txt"));
  // An existing folder, with or without a trailing slash, receives the file under its name.
  ASSERT_EQ(console({"put", "S-1", (local_ / "a.txt").string(), "docs"}).status, 0);
  ASSERT_EQ(console({"put", "S-1", (local_ / "a.txt").string(), "docs/2024/"}).status, 0);
  EXPECT_TRUE(fs::exists(root_ / "docs" / "a.txt"));
  EXPECT_TRUE(fs::exists(root_ / "docs" / "2024" / "a.txt"));
  // An absolute path inside the allowed folder is fine.
  ASSERT_EQ(
      console({"put", "S-1", (local_ / "a.txt").string(), (root_ / "abs.txt").string()}).status, 0);
  EXPECT_TRUE(fs::exists(root_ / "abs.txt"));
  // A missing remote folder is an error, not created on the way.
  auto missing = console({"put", "S-1", (local_ / "a.txt").string(), "nope/a.txt"});
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.err.find("folder does not exist"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(root_ / "nope"));

  // get into a local folder keeps the remote name.
  fs::create_directories(local_ / "in");
  ASSERT_EQ(console({"get", "S-1", "docs/2024/a-renamed.txt", (local_ / "in").string()}).status, 0);
  EXPECT_EQ(sha256_of_file(local_ / "in" / "a-renamed.txt"), sha256_of_file(local_ / "a.txt"));
  EXPECT_EQ(names_in(local_ / "in"), std::set<std::string>{"a-renamed.txt"});
  // A remote folder is not a file.
  auto folder = console({"get", "S-1", "docs", (local_ / "x").string()});
  EXPECT_NE(folder.status, 0);
  EXPECT_FALSE(fs::exists(local_ / "x"));
}

TEST_F(FileTransfer, GetResumesAfterTheConsoleIsKilled) {
  start();
  const std::size_t size = 96 * 1024 * 1024;
  make_random_file(root_ / "big.bin", size);
  const auto sha = sha256_of_file(root_ / "big.bin");
  const auto partial = local_ / ".big.bin.tether-part";

  auto first = console_process({"get", "S-1", "big.bin", (local_ / "big.bin").string()});
  ASSERT_TRUE(wait_while_running(*first, [&] { return size_or_zero(partial) >= 8 * 1024 * 1024; }))
      << "the download ended before it could be cut: " << first->err();
  first->signal(SIGKILL);
  first->wait();
  EXPECT_FALSE(fs::exists(local_ / "big.bin")) << "a partial download reached the final name";
  const auto kept = size_or_zero(partial);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, size);
  EXPECT_TRUE(fs::exists(local_ / ".big.bin.tether-part.json"));

  auto second = console({"get", "S-1", "big.bin", (local_ / "big.bin").string()});
  ASSERT_EQ(second.status, 0) << second.err;
  EXPECT_NE(second.out.find("resumed at"), std::string::npos) << second.out;
  EXPECT_EQ(sha256_of_file(local_ / "big.bin"), sha);
  EXPECT_EQ(names_in(local_), std::set<std::string>{"big.bin"}) << "no partial, no duplicate";

  const auto downloaded = entries_of_kind("file.downloaded");
  ASSERT_EQ(downloaded.size(), 1u) << timeline().dump(2);
  const auto& result = downloaded[0]["detail"]["result"];
  EXPECT_GT(result.value("resumed_from", 0ULL), 0ULL);
  EXPECT_LE(result.value("resumed_from", 0ULL), kept);
  EXPECT_EQ(result.value("sha256", ""), sha);
  EXPECT_NE(downloaded[0].value("summary", "").find("resumed at"), std::string::npos);
  // The cut attempt is on the ticket too, as interrupted.
  EXPECT_EQ(entries_of_kind("action.failed").size(), 1u) << timeline().dump(2);
}

TEST_F(FileTransfer, PutResumesAfterTheConsoleIsKilled) {
  start();
  const std::size_t size = 96 * 1024 * 1024;
  make_random_file(local_ / "big.bin", size);
  const auto sha = sha256_of_file(local_ / "big.bin");

  auto first = console_process({"put", "S-1", (local_ / "big.bin").string(), "big.bin"});
  ASSERT_TRUE(wait_while_running(*first,
                                 [&] {
                                   auto parts = partials_in(root_);
                                   return parts.size() == 1 &&
                                          size_or_zero(parts[0]) >= 8 * 1024 * 1024;
                                 }))
      << "the upload ended before it could be cut: " << first->err();
  first->signal(SIGKILL);
  first->wait();
  // The agent notices the console is gone and keeps what arrived.
  ASSERT_TRUE(agent_->wait_for_line("The upload of")) << agent_->out();
  EXPECT_FALSE(fs::exists(root_ / "big.bin"));
  const auto parts = partials_in(root_);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_NE(parts[0].filename().string().find(sha.substr(0, 16)), std::string::npos);
  const auto kept = size_or_zero(parts[0]);
  EXPECT_LT(kept, size);

  auto second = console_json({"put", "S-1", (local_ / "big.bin").string(), "big.bin"});
  EXPECT_GT(second.value("resumed_from", 0ULL), 0ULL);
  EXPECT_EQ(second.value("sha256", ""), sha);
  EXPECT_EQ(sha256_of_file(root_ / "big.bin"), sha);
  EXPECT_EQ(names_in(root_), std::set<std::string>{"big.bin"}) << "no partial, no duplicate";

  const auto uploaded = entries_of_kind("file.uploaded");
  ASSERT_EQ(uploaded.size(), 1u);
  EXPECT_GT(uploaded[0]["detail"]["result"].value("resumed_from", 0ULL), 0ULL);
}

TEST_F(FileTransfer, TransfersCutAtRandomPointsEndWithTheSameFile) {
  start();
  const std::size_t size = 64 * 1024 * 1024;
  make_random_file(root_ / "cut.bin", size);
  make_random_file(local_ / "up.bin", size);
  const auto down_sha = sha256_of_file(root_ / "cut.bin");
  const auto up_sha = sha256_of_file(local_ / "up.bin");
  std::mt19937 random(std::random_device{}());
  const auto partial = local_ / ".cut.bin.tether-part";
  int cuts = 0;
  std::string last_output;  // Of a run that ended before it could be cut.

  // Downloads: killed, or stopped with Ctrl-C, each a little further on.
  for (int round = 0; round < 4; ++round) {
    const auto at = size_or_zero(partial) +
                    std::uniform_int_distribution<std::uint64_t>(1, 4 * 1024 * 1024)(random);
    auto get = console_process({"get", "S-1", "cut.bin", (local_ / "cut.bin").string()});
    if (!wait_while_running(*get, [&] { return size_or_zero(partial) >= at; })) {
      last_output = get->out() + get->err();
      break;
    }
    const bool ctrl_c = round % 2 == 1;
    get->signal(ctrl_c ? SIGINT : SIGKILL);
    const auto status = get->wait();
    ASSERT_TRUE(status);
    if (*status == 0) break;  // It finished before the signal landed.
    ++cuts;
    EXPECT_FALSE(fs::exists(local_ / "cut.bin"));
    if (ctrl_c) {
      EXPECT_EQ(*status, 130);
      EXPECT_NE(get->err().find("interrupted at"), std::string::npos) << get->err();
      EXPECT_NE(get->err().find("run the same command again to resume"), std::string::npos);
    }
  }
  EXPECT_GE(cuts, 2) << "the downloads were too fast to cut: " << last_output;
  auto done = console({"get", "S-1", "cut.bin", (local_ / "cut.bin").string()});
  ASSERT_EQ(done.status, 0) << done.err;
  EXPECT_EQ(sha256_of_file(local_ / "cut.bin"), down_sha);

  // Uploads, the same way.
  cuts = 0;
  for (int round = 0; round < 4; ++round) {
    std::uintmax_t already = 0;
    for (const auto& p : partials_in(root_)) already = size_or_zero(p);
    const auto at =
        already + std::uniform_int_distribution<std::uint64_t>(1, 4 * 1024 * 1024)(random);
    auto put = console_process({"put", "S-1", (local_ / "up.bin").string(), "up.bin"});
    if (!wait_while_running(*put, [&] {
          auto parts = partials_in(root_);
          return !parts.empty() && size_or_zero(parts[0]) >= at;
        })) {
      last_output = put->out() + put->err();
      break;
    }
    put->signal(round % 2 == 1 ? SIGINT : SIGKILL);
    const auto status = put->wait();
    ASSERT_TRUE(status);
    if (*status == 0) break;
    ++cuts;
    ASSERT_TRUE(agent_->wait_for_line("The upload of")) << agent_->out();
  }
  EXPECT_GE(cuts, 2) << "the uploads were too fast to cut: " << last_output;
  auto up = console({"put", "S-1", (local_ / "up.bin").string(), "up.bin"});
  ASSERT_EQ(up.status, 0) << up.err;
  EXPECT_EQ(sha256_of_file(root_ / "up.bin"), up_sha);
  EXPECT_EQ(names_in(root_), (std::set<std::string>{"cut.bin", "up.bin"}));
  EXPECT_EQ(names_in(local_), (std::set<std::string>{"cut.bin", "up.bin"}));
}

TEST_F(FileTransfer, ADownloadCutByTheAgentDyingResumesWithTheNextSession) {
  start();
  const std::size_t size = 96 * 1024 * 1024;
  make_random_file(root_ / "big.bin", size);
  const auto partial = local_ / ".big.bin.tether-part";
  auto get = console_process({"get", "S-1", "big.bin", (local_ / "big.bin").string()});
  ASSERT_TRUE(wait_while_running(*get, [&] { return size_or_zero(partial) >= 8 * 1024 * 1024; }));
  agent_->signal(SIGKILL);
  agent_->wait();
  const auto status = get->wait(60s);
  ASSERT_TRUE(status);
  EXPECT_NE(*status, 0);
  EXPECT_NE(get->err().find("run the same command again to resume"), std::string::npos)
      << get->err();
  EXPECT_FALSE(fs::exists(local_ / "big.bin"));

  // The user starts the agent again; the technician joins the new session and reruns.
  std::string code;
  agent_ = start_agent("auto", code, {"--files-root", root_.string()});
  auto session = console_json({"session", "join", code, "--ticket", "T-1"});
  ASSERT_EQ(session.value("id", ""), "S-2");
  ASSERT_TRUE(agent_->wait_for_line("Consent granted automatically"));
  auto again = console_json({"get", "S-2", "big.bin", (local_ / "big.bin").string()});
  EXPECT_GT(again.value("resumed_from", 0ULL), 0ULL);
  EXPECT_EQ(sha256_of_file(local_ / "big.bin"), sha256_of_file(root_ / "big.bin"));
  EXPECT_EQ(names_in(local_), std::set<std::string>{"big.bin"});
}

TEST_F(FileTransfer, HostilePathsAreRefusedAndNothingIsWrittenOutsideTheFolder) {
  start();
  fs::create_directory_symlink("/etc", root_ / "etc-link");
  fs::create_directory_symlink(outside_, root_ / "escape");
  std::ofstream(outside_ / "secret.txt") << "secret\n";
  std::ofstream(local_ / "payload.txt") << "payload\n";
  fs::create_directories(local_ / "dl");
  const auto passwd_before = sha256_of_file("/etc/passwd");

  struct Case {
    std::string remote;
    int status;  // 2: refused by the console before connecting; 4: refused by the agent.
  };
  const std::vector<Case> cases = {
      {"../x", 2},
      {"a/../../x", 2},
      {"..", 2},
      {"x/..", 2},
      {"a\nb", 2},
      {"a\x1b[2Jb", 2},
      {"", 2},
      {"/etc/passwd", 4},
      {"/", 4},
      {(dir_ / "outside" / "secret.txt").string(), 4},
      {"etc-link/passwd", 4},
      {"etc-link/x", 4},
      {"escape/secret.txt", 4},
      {"escape/new.txt", 4},
  };
  for (const auto& c : cases) {
    auto put = console({"put", "S-1", (local_ / "payload.txt").string(), c.remote});
    EXPECT_NE(put.status, 0) << "put " << c.remote;
    EXPECT_EQ(put.status, c.status) << "put " << c.remote << ": " << put.err;
    EXPECT_EQ(std::count(put.err.begin(), put.err.end(), '\n'), 1) << "one line: " << put.err;
    auto get = console({"get", "S-1", "--", c.remote, (local_ / "dl").string() + "/"});
    EXPECT_NE(get.status, 0) << "get " << c.remote;
    EXPECT_EQ(names_in(local_ / "dl"), std::set<std::string>{}) << "get " << c.remote;
  }
  EXPECT_EQ(names_in(outside_), std::set<std::string>{"secret.txt"});
  EXPECT_EQ(names_in(dir_), (std::set<std::string>{"admin-password", "console", "files", "local",
                                                   "outside", "relay"}));
  EXPECT_EQ(sha256_of_file("/etc/passwd"), passwd_before);
  EXPECT_FALSE(fs::exists("/etc/x"));
  EXPECT_EQ(names_in(root_), (std::set<std::string>{"escape", "etc-link"}));
}

TEST_F(FileTransfer, FilesOverTheLimitAreRefusedBothWays) {
  start({"--max-file-size", "1000"});
  make_random_file(local_ / "big.bin", 2000);
  make_random_file(local_ / "fits.bin", 1000);
  make_random_file(root_ / "big-remote.bin", 2000);

  auto put = console({"put", "S-1", (local_ / "big.bin").string(), "big.bin"});
  EXPECT_EQ(put.status, 1) << put.err;
  EXPECT_NE(put.err.find("1000 bytes"), std::string::npos) << put.err;
  EXPECT_FALSE(fs::exists(root_ / "big.bin"));
  EXPECT_TRUE(partials_in(root_).empty());

  auto get = console({"get", "S-1", "big-remote.bin", (local_ / "got.bin").string()});
  EXPECT_EQ(get.status, 1) << get.err;
  EXPECT_NE(get.err.find("1000 bytes"), std::string::npos) << get.err;
  EXPECT_FALSE(fs::exists(local_ / "got.bin"));
  EXPECT_EQ(names_in(local_), (std::set<std::string>{"big.bin", "fits.bin"}));

  EXPECT_EQ(console({"put", "S-1", (local_ / "fits.bin").string(), "fits.bin"}).status, 0);
  EXPECT_EQ(sha256_of_file(root_ / "fits.bin"), sha256_of_file(local_ / "fits.bin"));
}

TEST_F(FileTransfer, WithoutTheFilesScopeNothingMoves) {
  start({"--grant", "diagnostics,shell"});
  std::ofstream(local_ / "a.txt") << "a\n";
  std::ofstream(root_ / "b.txt") << "b\n";
  auto put = console({"put", "S-1", (local_ / "a.txt").string(), "a.txt"});
  EXPECT_EQ(put.status, 4);
  EXPECT_NE(put.err.find("not permitted by the user"), std::string::npos) << put.err;
  auto get = console({"get", "S-1", "b.txt", (local_ / "b.txt").string()});
  EXPECT_EQ(get.status, 4);
  EXPECT_NE(get.err.find("not permitted by the user"), std::string::npos) << get.err;
  EXPECT_EQ(names_in(root_), std::set<std::string>{"b.txt"});
  EXPECT_EQ(names_in(local_), std::set<std::string>{"a.txt"});
  EXPECT_EQ(entries_of_kind("action.refused").size(), 2u) << timeline().dump(2);
}

}  // namespace
}  // namespace tether::testing
