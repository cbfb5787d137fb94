// `tether put S-1 LOCAL REMOTE` and `tether get S-1 REMOTE LOCAL`: one file each way over a
// tool channel, checked end to end with SHA-256 and resumable.
//
// put: the console hashes LOCAL, asks the agent to receive it (file.put); the agent answers
// with the offset it already holds from an earlier attempt of the same content, and the
// console sends the rest, then eof. The agent hashes, renames into place and reports.
// get: the console keeps what it receives in ".LEAF.tether-part" beside LOCAL, with
// ".LEAF.tether-part.json" saying which remote file (path, size, mtime) those bytes are from;
// a later get of the same file asks the agent to start after them. The console hashes the
// whole partial as it grows and renames it onto LOCAL only when its SHA-256 is the agent's.
// Both sides keep their partial when the transfer is interrupted (Ctrl-C, lost connection,
// agent gone), and the console says how to resume. The wire is described in the agent's
// agent/src/tools/file_transfer.hpp.

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "file_transfer_view.hpp"
#include "tether/console/tool_channel.hpp"
#include "tether/console/tool_commands.hpp"
#include "tether/protocol/remote_path.hpp"
#include "tether/protocol/sha256_digest.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::console {

namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;

namespace {

constexpr std::size_t kChunkBytes = 1024 * 1024;
constexpr std::string_view kPartialSuffix = ".tether-part";
constexpr std::string_view kSidecarSuffix = ".tether-part.json";
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

struct FileState {
  std::string session;
  std::string from;
  std::string to;
  bool as_json = false;
};

// ---------------------------------------------------------------- small local helpers

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

std::string errno_text(int err) {
  return std::strerror(err);
}

[[noreturn]] void fail(const std::string& message, int status = 1) {
  throw CommandError(message, status);
}

std::string leaf_of(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

// ".LEAF.tether-part" and ".LEAF.tether-part.json", LEAF shortened on a UTF-8 boundary so
// both names fit in 255 bytes.
std::pair<std::string, std::string> partial_names(std::string_view leaf) {
  const std::size_t budget = 255 - 1 - kSidecarSuffix.size();
  std::size_t keep = 0;
  while (keep < leaf.size()) {
    const std::size_t length = std::max<std::size_t>(1, protocol::utf8_sequence_length(leaf, keep));
    if (keep + length > budget) break;
    keep += length;
  }
  const std::string base = "." + std::string(leaf.substr(0, keep));
  return {base + std::string(kPartialSuffix), base + std::string(kSidecarSuffix)};
}

void read_exact(int fd, std::uint64_t offset, std::size_t length, std::string& buffer,
                const std::string& name) {
  buffer.resize(length);
  std::size_t done = 0;
  while (done < length) {
    const auto n =
        ::pread(fd, buffer.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot read " + name + ": " + errno_text(errno));
    if (n == 0) fail(name + " got shorter while it was being read; run the command again");
    done += static_cast<std::size_t>(n);
  }
}

void hash_file_range(int fd, std::uint64_t from, std::uint64_t to, protocol::Sha256Digest& digest,
                     const std::string& name) {
  if (from >= to) return;
  (void)::posix_fadvise(fd, static_cast<off_t>(from), static_cast<off_t>(to - from),
                        POSIX_FADV_SEQUENTIAL);
  std::string buffer;
  while (from < to) {
    const auto length =
        static_cast<std::size_t>(std::min<std::uint64_t>(to - from, 4 * kChunkBytes));
    read_exact(fd, from, length, buffer, name);
    digest.update(buffer);
    from += length;
  }
}

void write_chunks(int fd, std::uint64_t offset, const std::vector<std::string>& chunks,
                  protocol::Sha256Digest& digest, const std::string& name) {
  std::vector<iovec> iov;
  for (const auto& chunk : chunks) {
    iov.push_back({const_cast<char*>(chunk.data()), chunk.size()});
  }
  std::size_t first = 0;
  while (first < iov.size()) {
    const int count = static_cast<int>(std::min<std::size_t>(iov.size() - first, 64));
    const auto n = ::pwritev(fd, iov.data() + first, count, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("cannot write " + name + ": " + errno_text(errno));
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (left > 0) {
      auto& v = iov[first];
      const auto used = std::min(left, v.iov_len);
      v.iov_base = static_cast<char*>(v.iov_base) + used;
      v.iov_len -= used;
      left -= used;
      if (v.iov_len == 0) ++first;
    }
    while (first < iov.size() && iov[first].iov_len == 0) ++first;
  }
  for (const auto& chunk : chunks) digest.update(chunk);
}

std::optional<std::uint64_t> unsigned_field(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_number_unsigned()) return it->get<std::uint64_t>();
  if (it->is_number_integer() && it->get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(it->get<std::int64_t>());
  }
  return std::nullopt;
}

// What a channel that ended with `code` leaves: an interruption (the partial is kept for the
// next attempt) rather than a refusal or a failure of the transfer itself.
bool is_interruption(const std::string& code) {
  const auto error = protocol::error_from_string(code);
  return code == "interrupted" || error == Error::agent_offline || error == Error::session_ended ||
         error == Error::shutting_down || error == Error::agent_timeout ||
         error == Error::idle_timeout;
}

std::string close_reason(const protocol::ChannelClose& close) {
  if (!close.reason.empty()) return printable(close.reason);
  return std::string(protocol::describe(protocol::error_from_string(close.code.value_or(""))));
}

// The agent's refusal or failure as one line. The reason comes from the user's machine, so it
// is escaped before it reaches the technician's terminal.
[[noreturn]] void fail_with(const protocol::ChannelClose& close) {
  fail(close_reason(close), exit_status_for(close));
}

// ---------------------------------------------------------------- the disk thread

// One thread for a transfer's reads, writes and hashing, so the network keeps moving on the
// console's own thread while a chunk goes to or comes from disk. One job at a time.
class DiskWorker {
 public:
  explicit DiskWorker(asio::any_io_executor home)
      : home_(home), state_(std::make_shared<State>(home)) {}
  ~DiskWorker() { pool_.join(); }  // The console's io_context outlives this (run_tool's body).

  void start(std::function<void()> job) {
    state_->busy = true;
    asio::post(pool_, [state = state_, home = home_, job = std::move(job)] {
      std::exception_ptr error;
      try {
        job();
      } catch (...) {
        error = std::current_exception();
      }
      asio::post(home, [state, error] {
        state->busy = false;
        state->error = error;
        state->done.cancel();
      });
    });
  }

  asio::awaitable<void> wait() {
    auto state = state_;
    while (state->busy) {
      state->done.expires_at(asio::steady_timer::time_point::max());
      co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (auto error = std::exchange(state->error, nullptr)) std::rethrow_exception(error);
  }

  asio::awaitable<void> run(std::function<void()> job) {
    start(std::move(job));
    co_await wait();
  }

 private:
  struct State {
    explicit State(asio::any_io_executor e) : done(std::move(e)) {}
    asio::steady_timer done;
    bool busy = false;
    std::exception_ptr error;
  };
  asio::any_io_executor home_;
  std::shared_ptr<State> state_;
  asio::thread_pool pool_{1};
};

// Ctrl-C (or SIGTERM) while bytes move: close the channel so the agent stops and keeps what
// it has; the transfer ends as interrupted.
std::shared_ptr<asio::signal_set> stop_on_signal(ToolSession& tool, bool& interrupted) {
  auto signals = std::make_shared<asio::signal_set>(tool.executor, SIGINT, SIGTERM);
  signals->async_wait([&interrupted, channel = tool.channel](boost::system::error_code ec, int) {
    if (ec) return;
    interrupted = true;
    channel->close("stopped by the technician (Ctrl-C)");
  });
  return signals;
}

bool show_progress(const FileState& state) {
  return !state.as_json && ::isatty(STDERR_FILENO) == 1;
}

// ---------------------------------------------------------------- put

struct PutRun {
  bool accepted = false;
  bool interrupted = false;
  std::uint64_t offset = 0;
  std::uint64_t sent = 0;
  std::optional<std::string> failure;
  std::chrono::steady_clock::duration elapsed{};
};

void run_put(const FileState& state) {
  const std::string session = session_id_argument(state.session);
  const std::string& local = state.from;

  // Like cp and scp, "REMOTE/" means LOCAL's name inside that folder.
  const std::string local_name = leaf_of(local);
  std::string remote_text = state.to;
  if (!remote_text.empty() && remote_text.back() == '/') remote_text += local_name;
  auto remote = protocol::check_remote_path(remote_text);
  if (!remote) fail("REMOTE: " + protocol::describe_remote_path_error(remote_text), kExitUsage);

  Fd file(::open(local.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!file) fail("cannot open " + printable(local) + ": " + errno_text(errno), kExitUsage);
  struct stat st {};
  if (::fstat(file.get(), &st) != 0)
    fail("cannot read " + printable(local) + ": " + errno_text(errno));
  if (S_ISDIR(st.st_mode)) fail(printable(local) + " is a folder; put copies one file", kExitUsage);
  if (!S_ISREG(st.st_mode)) fail(printable(local) + " is not a regular file", kExitUsage);
  const auto size = static_cast<std::uint64_t>(st.st_size);

  // The whole file is hashed first: the agent checks what it assembled against this.
  const bool progress = show_progress(state);
  if (progress && size > 64 * kChunkBytes) {
    std::cerr << "computing the SHA-256 of " << printable(local) << " (" << transfer_size_text(size)
              << ")..." << std::flush;
  }
  protocol::Sha256Digest digest;
  hash_file_range(file.get(), 0, size, digest, printable(local));
  const std::string sha256 = digest.hex();
  if (progress && size > 64 * kChunkBytes) std::cerr << "\r\x1b[K" << std::flush;

  auto client = ApiClient::from_saved_credentials();
  ToolRequest request;
  request.session = session;
  request.kind = "file.put";
  request.params = {{"path", *remote},
                    {"size", size},
                    {"sha256", sha256},
                    {"mode", static_cast<unsigned>(st.st_mode & 07777)}};
  if (auto name = protocol::check_remote_path(local_name);
      name && *name == local_name && local_name != "." && local_name != "/") {
    request.params["name"] = local_name;
  }
  request.window = protocol::kInteractiveChannelWindow;

  PutRun run;
  const int fd = file.get();
  const std::string name = printable(local);
  auto close = run_tool(client, request, [&](ToolSession& tool) -> asio::awaitable<void> {
    auto channel = tool.channel;
    auto signals = stop_on_signal(tool, run.interrupted);
    const auto offset = unsigned_field(channel->accept_params(), "offset");
    if (!offset || *offset > size) {
      channel->close("the agent answered with an invalid offset", json::object(),
                     Error::bad_message);
      run.failure =
          "the agent answered with an offset outside the file; is it a different version?";
      signals->cancel();
      co_return;
    }
    run.accepted = true;
    run.offset = run.sent = *offset;
    ProgressBar bar(std::cerr, progress, size, *offset, terminal_columns(STDERR_FILENO));
    bar.update(*offset, true);

    // Double buffering: the worker reads the next chunk while this one goes to the channel.
    DiskWorker worker(tool.executor);
    std::string buffers[2];
    int current = 0;
    std::uint64_t position = *offset;
    auto chunk_at = [size](std::uint64_t at) {
      return static_cast<std::size_t>(std::min<std::uint64_t>(kChunkBytes, size - at));
    };
    try {
      if (position < size) {
        worker.start([fd, position, length = chunk_at(position), &buffer = buffers[0], &name] {
          read_exact(fd, position, length, buffer, name);
        });
      }
      while (position < size) {
        co_await worker.wait();
        const std::uint64_t next = position + buffers[current].size();
        if (next < size) {
          worker.start([fd, next, length = chunk_at(next), &buffer = buffers[1 - current], &name] {
            read_exact(fd, next, length, buffer, name);
          });
        }
        if (!co_await channel->write(buffers[current])) break;
        position = next;
        run.sent = position;
        current = 1 - current;
        bar.update(position);
      }
      co_await worker.wait();
    } catch (const CommandError& e) {
      run.failure = e.what();
      channel->close("the technician's computer could not read the file");
    }
    if (position == size && !channel->closed()) {
      bar.update(position, true);
      channel->send_eof();
    }
    // The agent now checks the hash, flushes and renames: its channel_close ends the wait.
    co_await channel->wait_closed();
    run.elapsed = bar.elapsed();
    bar.clear();
    signals->cancel();
  });

  if (run.failure) fail(*run.failure);
  if (run.interrupted) fail(interrupted_text(run.sent, size), kExitInterrupted);
  if (close.code) {
    if (run.accepted && is_interruption(*close.code)) {
      fail(close_reason(close) + "; " + interrupted_text(run.sent, size), exit_status_for(close));
    }
    fail_with(close);
  }
  const auto& result = close.result;
  if (result.value("sha256", std::string()) != sha256) {
    fail("the PC reported a different SHA-256 for the uploaded file; check it and upload again");
  }
  if (state.as_json) {
    auto out = result;
    out["local"] = local;
    out["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(run.elapsed).count();
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << transfer_summary("uploaded", local, result.value("path", *remote), size, run.offset,
                                run.elapsed, sha256)
            << (result.value("replaced", false) ? " (replaced the file there)" : "") << "\n";
}

// ---------------------------------------------------------------- get

// Where a download lands on the technician's computer: LOCAL's folder, open, and the names
// in it.
struct LocalTarget {
  Fd dir;
  std::string dir_path;
  std::string leaf;
  std::string partial;
  std::string sidecar;
  std::string display;  // LOCAL as the technician will find it.
};

LocalTarget plan_download(const std::string& local, const std::string& remote) {
  const std::string remote_leaf = leaf_of(remote);
  if (remote == "." || remote == "/" || remote_leaf.empty()) {
    fail("REMOTE names a folder; get copies one file", kExitUsage);
  }
  std::string path = local;
  struct stat st {};
  if (::stat(local.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    path = (local.back() == '/' ? local : local + "/") + remote_leaf;
  } else if (!local.empty() && local.back() == '/') {
    fail("no such local folder: " + printable(local), kExitUsage);
  }
  LocalTarget target;
  const auto slash = path.rfind('/');
  target.dir_path = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  target.leaf = slash == std::string::npos ? path : path.substr(slash + 1);
  if (target.leaf.empty() || target.leaf == "." || target.leaf == "..") {
    fail("LOCAL must name a file or a folder", kExitUsage);
  }
  target.display = path;
  target.dir = Fd(::open(target.dir_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!target.dir) {
    fail("cannot use the local folder " + printable(target.dir_path) + ": " + errno_text(errno),
         kExitUsage);
  }
  if (::fstatat(target.dir.get(), target.leaf.c_str(), &st, 0) == 0 && S_ISDIR(st.st_mode)) {
    fail(printable(path) + " is a folder", kExitUsage);
  }
  std::tie(target.partial, target.sidecar) = partial_names(target.leaf);
  return target;
}

// The sidecar's record of which remote file the partial holds the start of.
json read_sidecar(const LocalTarget& target) {
  Fd fd(::openat(target.dir.get(), target.sidecar.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return nullptr;
  std::string text(4096, '\0');
  const auto n = ::read(fd.get(), text.data(), text.size());
  if (n <= 0) return nullptr;
  text.resize(static_cast<std::size_t>(n));
  auto record = json::parse(text, nullptr, false);
  return record.is_object() ? record : json(nullptr);
}

void write_sidecar(const LocalTarget& target, const json& record) {
  Fd fd(::openat(target.dir.get(), target.sidecar.c_str(),
                 O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  const std::string text = record.dump() + "\n";
  if (!fd || ::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    fail("cannot write " + printable(target.sidecar) + " in " + printable(target.dir_path) + ": " +
         errno_text(errno));
  }
}

mode_t current_umask() {
  const mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

// One download at a time into the same partial; the lock goes with the process.
void lock_partial(const Fd& partial, const LocalTarget& target) {
  if (::flock(partial.get(), LOCK_EX | LOCK_NB) != 0) {
    fail("another download to " + printable(target.display) + " is running");
  }
}

void discard_download(const LocalTarget& target) {
  (void)::unlinkat(target.dir.get(), target.partial.c_str(), 0);
  (void)::unlinkat(target.dir.get(), target.sidecar.c_str(), 0);
}

struct GetRun {
  bool accepted = false;
  bool interrupted = false;
  bool complete = false;
  bool discard = false;  // What arrived is wrong: the partial is of no use later.
  std::uint64_t size = 0;
  std::uint64_t offset = 0;
  std::uint64_t received = 0;
  std::string sha256;
  std::string remote_display;
  std::optional<std::string> failure;
  std::chrono::steady_clock::duration elapsed{};
};

void run_get(const FileState& state) {
  const std::string session = session_id_argument(state.session);
  auto remote = protocol::check_remote_path(state.from);
  if (!remote) fail("REMOTE: " + protocol::describe_remote_path_error(state.from), kExitUsage);
  auto target = plan_download(state.to, *remote);

  // What an earlier attempt left. The partial is created only once the agent accepted, so a
  // refusal or a Ctrl-C while connecting leaves nothing behind.
  Fd partial(::openat(target.dir.get(), target.partial.c_str(),
                      O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY));
  if (!partial && errno != ENOENT) {
    fail("cannot open " + printable(target.partial) + " in " + printable(target.dir_path) + ": " +
         errno_text(errno));
  }
  std::uint64_t have = 0;
  if (partial) {
    lock_partial(partial, target);
    struct stat st {};
    if (::fstat(partial.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
      fail(printable(target.partial) + " is not a regular file; remove it and try again");
    }
    have = static_cast<std::uint64_t>(st.st_size);
  }

  // Resume only from bytes of this remote file; the agent also checks it did not change.
  json params = {{"path", *remote}, {"offset", 0}};
  const auto record = read_sidecar(target);
  if (have > 0 && record.is_object() && record.value("remote", std::string()) == *remote &&
      unsigned_field(record, "size") && record.contains("mtime") &&
      record["mtime"].is_number_integer()) {
    params["offset"] = have;
    params["size"] = *unsigned_field(record, "size");
    params["mtime"] = record["mtime"];
  }

  auto client = ApiClient::from_saved_credentials();
  ToolRequest request;
  request.session = session;
  request.kind = "file.get";
  request.params = params;
  request.window = protocol::kBulkChannelWindow;

  GetRun run;
  const bool progress = show_progress(state);
  const std::string name = printable(target.partial);
  auto body = [&](ToolSession& tool) -> asio::awaitable<void> {
    auto channel = tool.channel;
    auto signals = stop_on_signal(tool, run.interrupted);
    const auto& accept = channel->accept_params();
    const auto size = unsigned_field(accept, "size");
    const auto offset = unsigned_field(accept, "offset");
    const bool has_mtime = accept.contains("mtime") && accept["mtime"].is_number_integer();
    if (!size || !offset || !has_mtime || *offset > *size || *offset > have) {
      channel->close("the agent's answer is not usable", json::object(), Error::bad_message);
      run.failure =
          "the agent answered with a size or offset that does not fit; nothing was changed";
      signals->cancel();
      co_return;
    }
    try {
      if (!partial) {
        partial = Fd(::openat(target.dir.get(), target.partial.c_str(),
                              O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
        if (!partial) fail("cannot create " + name + ": " + errno_text(errno));
        lock_partial(partial, target);
      }
      if (have > *offset && ::ftruncate(partial.get(), static_cast<off_t>(*offset)) != 0) {
        fail("cannot shorten " + name + ": " + errno_text(errno));
      }
      write_sidecar(target, {{"remote", *remote}, {"size", *size}, {"mtime", accept["mtime"]}});
    } catch (const CommandError& e) {
      channel->close("the technician's computer cannot store the file");
      run.failure = e.what();
      signals->cancel();
      co_return;
    }
    const int fd = partial.get();
    run.accepted = true;
    run.size = *size;
    run.offset = run.received = *offset;
    run.remote_display = accept.value("path", *remote);
    // The agent sends nothing before this: no data can overtake its channel_accept.
    channel->send_control({{"start", true}});

    ProgressBar bar(std::cerr, progress, *size, *offset, terminal_columns(STDERR_FILENO));
    bar.update(*offset, true);
    // The worker hashes the bytes an earlier attempt left while the rest starts arriving,
    // then writes and hashes each batch while the next one is read off the channel.
    DiskWorker worker(tool.executor);
    protocol::Sha256Digest digest;
    worker.start(
        [fd, offset = *offset, &digest, &name] { hash_file_range(fd, 0, offset, digest, name); });
    std::uint64_t batch_at = run.received;
    std::vector<std::string> batch;
    std::size_t batch_bytes = 0;
    try {
      for (;;) {
        auto data = co_await channel->read();
        if (data) {
          if (data->size() > run.size - run.received) {
            run.failure = "the agent sent more than the file's size; nothing was kept";
            run.discard = true;
            channel->close("more data than the file's size", json::object(), Error::bad_message);
            break;
          }
          run.received += data->size();
          batch_bytes += data->size();
          batch.push_back(std::move(*data));
          bar.update(run.received);
          if (batch_bytes < kChunkBytes) continue;
        }
        co_await worker.wait();
        if (!batch.empty()) {
          worker.start([fd, at = batch_at, chunks = std::move(batch), &digest, &name] {
            write_chunks(fd, at, chunks, digest, name);
          });
          batch.clear();
          batch_bytes = 0;
          batch_at = run.received;
        }
        if (!data) break;
      }
      co_await worker.wait();
      if (!run.failure && channel->eof_received() && run.received == run.size) {
        co_await worker.run([&] {
          run.sha256 = digest.hex();
          if (::fsync(fd) != 0) fail("cannot flush " + name + " to disk: " + errno_text(errno));
        });
        run.complete = true;
      }
    } catch (const CommandError& e) {
      // Kept for a later attempt: the technician may free space and run the command again.
      run.failure =
          std::string(e.what()) + "; what arrived is kept, run the command again to resume";
      channel->close("the technician's computer could not store the file");
    }
    bar.update(run.received, true);
    // The agent's channel_close carries its SHA-256 of the whole file.
    co_await channel->wait_closed();
    run.elapsed = bar.elapsed();
    bar.clear();
    signals->cancel();
  };

  const auto close = run_tool(client, request, body);

  if (run.failure) {
    if (run.discard) discard_download(target);
    fail(*run.failure);
  }
  if (run.interrupted) fail(interrupted_text(run.received, run.size), kExitInterrupted);
  if (close.code) {
    if (!run.accepted) fail_with(close);  // Refused: nothing was created here.
    if (is_interruption(*close.code)) {
      fail(close_reason(close) + "; " + interrupted_text(run.received, run.size),
           exit_status_for(close));
    }
    discard_download(target);  // The agent could not send this file as it was: start over.
    fail_with(close);
  }
  if (!run.complete) fail(interrupted_text(run.received, run.size));
  const auto& result = close.result;
  if (result.value("sha256", std::string()) != run.sha256 ||
      unsigned_field(result, "size") != run.size) {
    discard_download(target);
    fail(
        "the downloaded data does not match the SHA-256 computed on the PC (did the file change "
        "during the download?); nothing was written to " +
        printable(target.display) + ", run the command again");
  }
  // A new file gets the usual permissions (0666 less the umask), a replaced one keeps its own,
  // as cp and scp do; the partial was private until now.
  mode_t mode = 0666 & ~current_umask();
  struct stat existing {};
  if (::fstatat(target.dir.get(), target.leaf.c_str(), &existing, 0) == 0 &&
      S_ISREG(existing.st_mode)) {
    mode = existing.st_mode & 07777;
  }
  (void)::fchmod(partial.get(), mode);
  if (::renameat(target.dir.get(), target.partial.c_str(), target.dir.get(), target.leaf.c_str()) !=
      0) {
    fail("cannot rename " + name + " to " + printable(target.display) + ": " + errno_text(errno));
  }
  (void)::fsync(target.dir.get());
  (void)::unlinkat(target.dir.get(), target.sidecar.c_str(), 0);

  if (state.as_json) {
    auto out = result;
    out["local"] = target.display;
    out["duration_ms"] = std::chrono::duration_cast<std::chrono::milliseconds>(run.elapsed).count();
    std::cout << out.dump(2) << "\n";
    return;
  }
  std::cout << transfer_summary("downloaded", run.remote_display, target.display, run.size,
                                run.offset, run.elapsed, run.sha256)
            << "\n";
}

}  // namespace

void add_file_commands(CLI::App& app, std::function<void()>& action) {
  auto put_state = std::make_shared<FileState>();
  auto* put = app.add_subcommand("put", "Upload a file to the session's PC (resumable)");
  put->add_option("SESSION", put_state->session, "Session, e.g. S-1")->required();
  put->add_option("LOCAL", put_state->from, "File on this computer")->required();
  put->add_option("REMOTE", put_state->to,
                  "Where on the PC, relative to the allowed folder (the user's home) or absolute "
                  "inside it; a folder means the same name inside it")
      ->required();
  put->add_flag("--json", put_state->as_json, "Print the result as JSON");
  put->callback([put_state, &action] { action = [put_state] { run_put(*put_state); }; });

  auto get_state = std::make_shared<FileState>();
  auto* get = app.add_subcommand("get", "Download a file from the session's PC (resumable)");
  get->add_option("SESSION", get_state->session, "Session, e.g. S-1")->required();
  get->add_option("REMOTE", get_state->from,
                  "File on the PC, relative to the allowed folder (the user's home) or absolute "
                  "inside it")
      ->required();
  get->add_option("LOCAL", get_state->to,
                  "Where on this computer; a folder means the remote name inside it")
      ->required();
  get->add_flag("--json", get_state->as_json, "Print the result as JSON");
  get->callback([get_state, &action] { action = [get_state] { run_get(*get_state); }; });
}

}  // namespace tether::console
