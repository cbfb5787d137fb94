#include "tools/file_transfer.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <system_error>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "tether/protocol/remote_path.hpp"

namespace tether::agent::tools {

namespace asio = boost::asio;
using json = nlohmann::json;
using protocol::Error;

namespace {

constexpr std::size_t kMaxIovecs = 64;
constexpr std::chrono::milliseconds kLockPatience{3000};
constexpr std::size_t kPartialSuffixLength = std::string_view(".tether-part").size();
// Permission bits an upload may ask for: no set-id or sticky bits, and nothing writable by
// others than the user unless the file being replaced already was.
constexpr mode_t kUploadModeMask = 0777 & ~022;
constexpr mode_t kDefaultUploadMode = 0644;

[[noreturn]] void fail(Error code, std::string message) {
  throw TransferFailure(PathError{code, std::move(message)});
}

[[noreturn]] void fail_errno(int err, const std::string& doing) {
  if (err == ENOSPC || err == EDQUOT) {
    fail(Error::internal, "the disk of the PC is full (" + doing + ")");
  }
  fail(Error::internal, doing + ": " + std::error_code(err, std::generic_category()).message());
}

bool is_hex_digest(const std::string& text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// A non-negative integer that fits in 64 bits (nlohmann keeps small ones signed when built
// from signed types).
std::optional<std::uint64_t> unsigned_value(const json& value) {
  if (value.is_number_unsigned()) return value.get<std::uint64_t>();
  if (value.is_number_integer() && value.get<std::int64_t>() >= 0) {
    return static_cast<std::uint64_t>(value.get<std::int64_t>());
  }
  return std::nullopt;
}

PathResult<void> only_keys(const json& params, std::initializer_list<std::string_view> keys,
                           std::string_view tool) {
  if (!params.is_object()) {
    return PathError{Error::bad_request, std::string(tool) + " params must be an object"};
  }
  for (const auto& item : params.items()) {
    if (std::find(keys.begin(), keys.end(), item.key()) == keys.end()) {
      return PathError{Error::bad_request, "unknown " + std::string(tool) + " parameter"};
    }
  }
  return {};
}

PathResult<std::string> checked_path(const json& params) {
  auto it = params.find("path");
  if (it == params.end() || !it->is_string()) {
    return PathError{Error::bad_request, "give the file's path as text"};
  }
  const auto& text = it->get_ref<const std::string&>();
  auto checked = protocol::check_remote_path(text);
  if (!checked) return PathError{Error::bad_request, protocol::describe_remote_path_error(text)};
  return std::move(*checked);
}

std::string display_of(const AllowedRoot& root, const std::string& path) {
  auto relative = root.relative_path(path);
  if (!relative || *relative == ".") return root.real_path();
  if (root.real_path() == "/") return "/" + *relative;
  return root.real_path() + "/" + *relative;
}

std::int64_t mtime_of(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// Opens the partial for `request` in `dir`: the one an earlier attempt left, or a new one.
PathResult<UniqueFd> open_or_create_partial(int dir, const std::string& name) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto existing = open_partial(dir, name, false);
    if (existing || existing.error().code != Error::not_found) return existing;
    auto created = open_partial(dir, name, true);
    if (created || created.error().code != Error::conflict) return created;
    // Someone made it between the two calls: open theirs.
  }
  return PathError{Error::conflict, "the partial file keeps changing; try again"};
}

// Takes the exclusive lock on `fd`, waiting up to `patience` for whoever holds it.
bool lock_within(int fd, std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  for (;;) {
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return true;
    if (errno != EWOULDBLOCK && errno != EINTR) return false;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// Whether `name` is a partial of an upload to `leaf` (of any content): the name
// partial_name(leaf, tag) gives, with some 16 hex digits as the tag.
bool is_partial_of(std::string_view name, std::string_view leaf) {
  const std::string pattern = partial_name(leaf, std::string(16, '0'));
  if (name.size() != pattern.size()) return false;
  const auto tag_at = pattern.size() - kPartialSuffixLength - 16;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool in_tag = i >= tag_at && i < tag_at + 16;
    if (in_tag ? !std::isxdigit(static_cast<unsigned char>(name[i])) ||
                     std::isupper(static_cast<unsigned char>(name[i]))
               : name[i] != pattern[i]) {
      return false;
    }
  }
  return true;
}

// An upload whose content changed between attempts leaves a partial under another tag that
// no later upload would resume. Those are removed when a new upload to the same name starts,
// except one another upload is writing right now (it holds the lock).
void discard_stale_partials(int dir, std::string_view leaf, std::string_view keep) {
  const int listing_fd = ::openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) return;
  DIR* listing = ::fdopendir(listing_fd);
  if (listing == nullptr) {
    ::close(listing_fd);
    return;
  }
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string_view name = entry->d_name;
    if (name != keep && is_partial_of(name, leaf)) stale.emplace_back(name);
  }
  ::closedir(listing);
  for (const auto& name : stale) {
    auto file = open_partial(dir, name, false);
    if (!file || ::flock(file->get(), LOCK_EX | LOCK_NB) != 0) continue;
    (void)discard_partial(dir, name);
  }
}

}  // namespace

PathResult<PutRequest> parse_put_params(const json& params, std::uint64_t max_bytes) {
  if (auto keys = only_keys(params, {"path", "size", "sha256", "mode", "name"}, "file.put");
      !keys) {
    return keys.error();
  }
  PutRequest request;
  auto path = checked_path(params);
  if (!path) return path.error();
  request.path = std::move(*path);

  auto size = params.find("size");
  auto bytes = size == params.end() ? std::nullopt : unsigned_value(*size);
  if (!bytes) return PathError{Error::bad_request, "give the file's size in bytes"};
  request.size = *bytes;
  if (request.size > max_bytes) {
    return PathError{Error::message_too_large, "the file is " + size_text(request.size) +
                                                   "; this PC accepts files up to " +
                                                   size_text(max_bytes)};
  }

  auto sha = params.find("sha256");
  if (sha == params.end() || !sha->is_string() || !is_hex_digest(sha->get<std::string>())) {
    return PathError{Error::bad_request, "give the file's SHA-256 as 64 lower-case hex digits"};
  }
  request.sha256 = sha->get<std::string>();

  if (auto mode = params.find("mode"); mode != params.end()) {
    auto bits = unsigned_value(*mode);
    if (!bits || *bits > 07777) {
      return PathError{Error::bad_request, "the mode must be permission bits (0 to 07777)"};
    }
    request.mode = static_cast<mode_t>(*bits);
  }
  if (auto name = params.find("name"); name != params.end()) {
    if (!name->is_string()) return PathError{Error::bad_request, "the file name must be text"};
    const auto& text = name->get_ref<const std::string&>();
    auto checked = protocol::check_remote_path(text);
    if (!checked || *checked != text || text == "." || text.find('/') != std::string::npos) {
      return PathError{Error::bad_request, "the file name is not one valid name"};
    }
    request.name = text;
  }
  return request;
}

PathResult<GetRequest> parse_get_params(const json& params) {
  if (auto keys = only_keys(params, {"path", "offset", "size", "mtime"}, "file.get"); !keys) {
    return keys.error();
  }
  GetRequest request;
  auto path = checked_path(params);
  if (!path) return path.error();
  request.path = std::move(*path);
  if (auto offset = params.find("offset"); offset != params.end()) {
    auto value = unsigned_value(*offset);
    if (!value) return PathError{Error::bad_request, "the offset must be a byte count"};
    request.offset = *value;
  }
  if (auto size = params.find("size"); size != params.end()) {
    auto value = unsigned_value(*size);
    if (!value) return PathError{Error::bad_request, "the size must be a byte count"};
    request.size = *value;
  }
  if (auto mtime = params.find("mtime"); mtime != params.end()) {
    if (!mtime->is_number_integer()) {
      return PathError{Error::bad_request, "the mtime must be nanoseconds since 1970"};
    }
    request.mtime_ns = mtime->get<std::int64_t>();
  }
  return request;
}

std::string resume_tag(std::string_view sha256) {
  return std::string(sha256.substr(0, 16));
}

std::uint64_t get_resume_offset(const GetRequest& request, std::uint64_t size,
                                std::int64_t mtime_ns) {
  if (request.offset == 0 || request.offset > size) return 0;
  if (request.size && *request.size != size) return 0;
  if (request.mtime_ns && *request.mtime_ns != mtime_ns) return 0;
  return request.offset;
}

PathResult<PutTarget> prepare_put(const AllowedRoot& root, const PutRequest& request) {
  // Like cp and scp: a folder as the destination means the technician's file name in it.
  std::string path = request.path;
  std::optional<PathResult<WriteTarget>> target;
  if (!request.name.empty()) {
    std::string inside = (path == "/" ? "" : path) + "/" + request.name;
    if (path == ".") inside = request.name;
    auto in_folder = root.open_dir_for_write(inside);
    // not_found: `path` is no folder (or does not exist); anything else concerns the file
    // that would be replaced inside the folder and is the answer.
    if (in_folder || in_folder.error().code != Error::not_found) {
      target.emplace(std::move(in_folder));
      path = std::move(inside);
    }
  }
  if (!target) target.emplace(root.open_dir_for_write(path));
  if (!*target) return target->error();

  PutTarget put;
  put.target = std::move(**target);
  put.display = display_of(root, path);
  put.partial = partial_name(put.target.leaf, resume_tag(request.sha256));
  discard_stale_partials(put.target.dir.get(), put.target.leaf, put.partial);
  auto file = open_or_create_partial(put.target.dir.get(), put.partial);
  if (!file) return file.error();
  put.file = std::move(*file);
  // The lock keeps two uploads of the same content to the same place from interleaving;
  // it goes away with the descriptor, also when the agent dies. An attempt the technician
  // just stopped may still be storing its last chunks: it gets a moment to finish.
  if (!lock_within(put.file.get(), kLockPatience)) {
    return PathError{Error::conflict, "another upload of this file to this path is running"};
  }
  struct stat st {};
  if (::fstat(put.file.get(), &st) != 0) {
    return PathError{Error::internal, "cannot read the partial file's size"};
  }
  put.offset = static_cast<std::uint64_t>(st.st_size);
  if (put.offset > request.size) {
    // Not from this upload after all (the tag is only part of the hash): start over.
    if (::ftruncate(put.file.get(), 0) != 0) {
      return PathError{Error::internal, "cannot empty the old partial file"};
    }
    put.offset = 0;
  }

  struct statvfs fs {};
  if (::fstatvfs(put.target.dir.get(), &fs) == 0) {
    const auto free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
    const auto needed = request.size - put.offset;
    if (needed > free_bytes) {
      return PathError{Error::conflict, "the PC has " + size_text(free_bytes) +
                                            " free there and the file needs " + size_text(needed) +
                                            " more"};
    }
  }
  return put;
}

void hash_range(int fd, std::uint64_t from, std::uint64_t to, protocol::Sha256Digest& digest) {
  if (from >= to) return;
  (void)::posix_fadvise(fd, static_cast<off_t>(from), static_cast<off_t>(to - from),
                        POSIX_FADV_SEQUENTIAL);
  const std::size_t size =
      static_cast<std::size_t>(std::min<std::uint64_t>(to - from, 4 * kTransferChunkBytes));
  std::unique_ptr<char[]> buffer(new char[size]);
  while (from < to) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, size));
    const auto n = ::pread(fd, buffer.get(), want, static_cast<off_t>(from));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(errno, "cannot read the file");
    }
    if (n == 0) fail(Error::conflict, "the file got shorter while it was being read; try again");
    digest.update(std::string_view(buffer.get(), static_cast<std::size_t>(n)));
    from += static_cast<std::uint64_t>(n);
  }
}

void write_chunks(int fd, std::uint64_t offset, const std::vector<std::string>& chunks,
                  protocol::Sha256Digest& digest) {
  std::size_t next = 0;     // First chunk not fully written.
  std::size_t written = 0;  // Bytes of chunks[next] already written.
  while (next < chunks.size()) {
    iovec iov[kMaxIovecs];
    int count = 0;
    for (std::size_t i = next; i < chunks.size() && count < static_cast<int>(kMaxIovecs); ++i) {
      const std::size_t skip = i == next ? written : 0;
      iov[count].iov_base = const_cast<char*>(chunks[i].data() + skip);
      iov[count].iov_len = chunks[i].size() - skip;
      ++count;
    }
    const auto n = ::pwritev(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(errno, "cannot write the file");
    }
    offset += static_cast<std::uint64_t>(n);
    auto left = static_cast<std::size_t>(n);
    while (left > 0 && next < chunks.size()) {
      const std::size_t rest = chunks[next].size() - written;
      if (left >= rest) {
        left -= rest;
        ++next;
        written = 0;
      } else {
        written += left;
        left = 0;
      }
    }
    while (next < chunks.size() && chunks[next].size() == written) {
      ++next;
      written = 0;
    }
  }
  for (const auto& chunk : chunks) digest.update(chunk);
}

bool destination_exists(const PutTarget& target) {
  struct stat st {};
  return ::fstatat(target.target.dir.get(), target.target.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) ==
         0;
}

void commit_put(PutTarget& target, std::optional<mode_t> mode) {
  struct stat st {};
  mode_t bits = mode ? (*mode & kUploadModeMask) : kDefaultUploadMode;
  if (::fstatat(target.target.dir.get(), target.target.leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) ==
          0 &&
      S_ISREG(st.st_mode)) {
    bits = st.st_mode & 0777;  // Replacing a file keeps its permissions, as cp and scp do.
  }
  if (::fchmod(target.file.get(), bits) != 0) fail_errno(errno, "cannot set the file's mode");
  if (::fsync(target.file.get()) != 0) fail_errno(errno, "cannot flush the file to disk");
  if (auto done = commit_partial(target.target.dir.get(), target.partial, target.target.leaf);
      !done) {
    throw TransferFailure(done.error());
  }
}

PathResult<GetSource> prepare_get(const AllowedRoot& root, const GetRequest& request,
                                  std::uint64_t max_bytes) {
  auto file = root.open_for_read(request.path);
  if (!file) return file.error();
  struct stat st {};
  if (::fstat(file->get(), &st) != 0) {
    return PathError{Error::internal, "cannot read the file's size"};
  }
  GetSource source;
  source.file = std::move(*file);
  source.size = static_cast<std::uint64_t>(st.st_size);
  source.mtime_ns = mtime_of(st);
  source.display = display_of(root, request.path);
  if (source.size > max_bytes) {
    return PathError{Error::message_too_large, "the file is " + size_text(source.size) +
                                                   "; this PC lets files up to " +
                                                   size_text(max_bytes) + " be copied"};
  }
  return source;
}

void read_chunk(int fd, std::uint64_t offset, std::size_t length, std::string& buffer,
                protocol::Sha256Digest& digest) {
  buffer.resize(length);
  std::size_t done = 0;
  while (done < length) {
    const auto n =
        ::pread(fd, buffer.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(errno, "cannot read the file");
    }
    if (n == 0) {
      fail(Error::conflict, "the file got shorter while it was being sent; try again");
    }
    done += static_cast<std::size_t>(n);
  }
  digest.update(buffer);
}

// ---------------------------------------------------------------- DiskWorker

DiskWorker::DiskWorker(asio::any_io_executor home)
    : home_(std::move(home)), state_(std::make_shared<State>(home_)) {}

DiskWorker::~DiskWorker() {
  {
    std::lock_guard lock(state_->mutex);
    state_->abandoned = true;
  }
  pool_.join();
}

void DiskWorker::start(std::function<void()> job) {
  state_->busy = true;
  asio::post(pool_, [state = state_, home = home_, job = std::move(job)] {
    std::exception_ptr error;
    try {
      job();
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(state->mutex);
    if (state->abandoned) return;
    asio::post(home, [state, error] {
      state->busy = false;
      state->error = error;
      state->done.cancel();
    });
  });
}

asio::awaitable<void> DiskWorker::wait() {
  auto state = state_;
  while (state->busy) {
    state->done.expires_at(asio::steady_timer::time_point::max());
    co_await state->done.async_wait(asio::as_tuple(asio::use_awaitable));
  }
  if (auto error = std::exchange(state->error, nullptr)) std::rethrow_exception(error);
}

asio::awaitable<void> DiskWorker::run(std::function<void()> job) {
  start(std::move(job));
  co_await wait();
}

}  // namespace tether::agent::tools
