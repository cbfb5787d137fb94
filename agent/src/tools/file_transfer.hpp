#pragma once
/// The agent's side of `tether put` (file.put) and `tether get` (file.get): what both handlers
/// share, kept apart from the channel so it can be tested on a real folder without sockets.
///
/// Wire (params of channel_open → params of channel_accept → result of channel_close):
///   file.put  {path, size, sha256, mode?, name?} → {offset, path}
///             → {path, size, sha256, resumed_from, replaced}
///   file.get  {path, offset?, size?, mtime?} → {size, mtime, offset, path}
///             → {path, size, sha256, resumed_from}
/// `sha256` is lower-case hex of the whole file; `mtime` is nanoseconds since the Unix epoch;
/// `path` in answers is the resolved absolute path on the user's PC. On file.get the agent
/// sends nothing before the console's channel_control {"start": true}, so no data can reach
/// the console ahead of the channel_accept.
///
/// An upload is written to partial_name(leaf, resume_tag(sha256)) beside its destination and
/// renamed into place only once the whole partial hashes to `sha256`; a later upload of the
/// same content to the same path resumes from what that partial holds.
///
/// Everything here that touches the disk blocks: call it on a DiskWorker, not on the Asio
/// thread. Not thread-safe unless stated.

#include <sys/types.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "tether/agent/tools/safe_path.hpp"
#include "tether/protocol/sha256_digest.hpp"
#include "tether/protocol/size_text.hpp"

namespace tether::agent::tools {

/// How much the worker reads or writes per job: big enough that per-call costs vanish, small
/// enough that a stop is noticed quickly.
inline constexpr std::size_t kTransferChunkBytes = 1024 * 1024;

/// A failure of a transfer step, with the code and the line the technician reads. Thrown by
/// the blocking steps below so a worker job can end anywhere; the handler closes with it.
struct TransferFailure : std::runtime_error {
  explicit TransferFailure(PathError e) : std::runtime_error(e.message), error(std::move(e)) {}
  PathError error;
};

/// file.put params, checked.
struct PutRequest {
  std::string path;  ///< As the technician wrote it (checked by check_remote_path).
  std::uint64_t size = 0;
  std::string sha256;          ///< 64 lower-case hex digits.
  std::optional<mode_t> mode;  ///< Permission bits of the technician's file.
  std::string name;            ///< The technician's file name, used when `path` is a folder.
};

/// file.get params, checked.
struct GetRequest {
  std::string path;
  std::uint64_t offset = 0;  ///< Bytes the technician already has.
  /// What the file was when those bytes were fetched; an offset is honoured only if both
  /// still match (when given).
  std::optional<std::uint64_t> size;
  std::optional<std::int64_t> mtime_ns;
};

/// Strict checks of channel_open params: bad_request with one line for anything missing,
/// mistyped or out of range; message_too_large for a put over `max_bytes`.
PathResult<PutRequest> parse_put_params(const nlohmann::json& params, std::uint64_t max_bytes);
PathResult<GetRequest> parse_get_params(const nlohmann::json& params);

/// The part of a partial file's name that ties it to one content: 16 hex digits of its hash.
std::string resume_tag(std::string_view sha256);

/// Where a download continues: `request.offset` when the file is the one those bytes came
/// from (same size and mtime when the technician knows them) and the offset is within it;
/// else 0.
std::uint64_t get_resume_offset(const GetRequest& request, std::uint64_t size,
                                std::int64_t mtime_ns);

/// "512 bytes", "1.5 KiB", "12.0 MiB", "4.0 GiB": the sizes in the user's notices and the
/// refusals, as the console and the relay's timeline write them.
using protocol::size_text;

/// An upload's destination, resolved and with its partial file open and locked.
struct PutTarget {
  WriteTarget target;        ///< The destination's folder and final name.
  std::string partial;       ///< The partial file's name in that folder.
  UniqueFd file;             ///< The partial, open for writing, flock()ed.
  std::uint64_t offset = 0;  ///< Bytes already in the partial (where the upload resumes).
  std::string display;       ///< Absolute path of the destination on this PC.
};

/// Resolves `request.path` beneath `root` (a folder there means `name` inside it), checks the
/// size limit and the free space, and opens the partial: an existing one for this content is
/// reused (its length is the resume offset, unless it is longer than the file), else one is
/// created. Partials of other content for the same name (the file changed between attempts)
/// are removed unless another upload holds them. conflict when another upload of the same
/// file is still writing it after a few seconds (an attempt that was just stopped gets that
/// long to store its last chunks).
PathResult<PutTarget> prepare_put(const AllowedRoot& root, const PutRequest& request);

/// Hashes bytes [from, to) of `fd` into `digest`; conflict if the file is shorter.
void hash_range(int fd, std::uint64_t from, std::uint64_t to, protocol::Sha256Digest& digest);

/// Writes `chunks` back to back at `offset` of `fd` and feeds them to `digest`.
void write_chunks(int fd, std::uint64_t offset, const std::vector<std::string>& chunks,
                  protocol::Sha256Digest& digest);

/// Whether finishing `target` replaces a file that exists now.
bool destination_exists(const PutTarget& target);

/// Gives the partial its final permissions (the replaced file's, else `mode` without group and
/// other write, else 0644), flushes it to disk and renames it onto the destination.
void commit_put(PutTarget& target, std::optional<mode_t> mode);

/// A file to send, open for reading.
struct GetSource {
  UniqueFd file;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string display;  ///< Absolute path on this PC.
};

/// Opens `request.path` beneath `root` for reading (AllowedRoot::open_for_read); refuses a
/// file over `max_bytes` with message_too_large.
PathResult<GetSource> prepare_get(const AllowedRoot& root, const GetRequest& request,
                                  std::uint64_t max_bytes);

/// Reads exactly `length` bytes at `offset` into `buffer` (resized) and hashes them; conflict
/// when the file got shorter meanwhile.
void read_chunk(int fd, std::uint64_t offset, std::size_t length, std::string& buffer,
                protocol::Sha256Digest& digest);

/// One thread for a transfer's blocking disk work, so the Asio thread keeps moving frames
/// while a chunk is read, written or hashed. One job at a time: start() one, do other work,
/// then wait() for it. Used from one coroutine on `home`; the destructor waits for a job that
/// is still running.
class DiskWorker {
 public:
  explicit DiskWorker(boost::asio::any_io_executor home);
  ~DiskWorker();
  DiskWorker(const DiskWorker&) = delete;
  DiskWorker& operator=(const DiskWorker&) = delete;

  /// Runs `job` on the worker thread. Call only when no job is running (after wait()).
  void start(std::function<void()> job);
  /// Waits for the running job, if any; rethrows what it threw.
  boost::asio::awaitable<void> wait();
  /// start() then wait().
  boost::asio::awaitable<void> run(std::function<void()> job);

 private:
  struct State {
    explicit State(boost::asio::any_io_executor e) : done(std::move(e)) {}
    boost::asio::steady_timer done;
    bool busy = false;
    std::exception_ptr error;
    std::mutex mutex;
    bool abandoned = false;  // Set by the destructor: nobody will wait for the job.
  };
  boost::asio::any_io_executor home_;
  std::shared_ptr<State> state_;
  boost::asio::thread_pool pool_{1};
};

}  // namespace tether::agent::tools
