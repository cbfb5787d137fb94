#pragma once
/// Where a technician's file transfer may read and write on the user's machine: beneath one
/// allowed folder (the user's home by default), and nowhere else.
///
/// Every path first passes protocol::check_remote_path() (no "..", no control characters,
/// valid UTF-8). It is then resolved by the kernel beneath a directory descriptor opened once
/// for the allowed folder, with openat2(2) and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS:
///   - a symbolic link whose target stays beneath the folder is followed (as an intermediate
///     component and as the final one); one that leads out, by an absolute target or by "..",
///     is refused, and /proc "magic" links are never followed;
///   - an absolute path is accepted only when it names something inside the folder, spelled
///     with the folder's real path or with the spelling it was opened with;
///   - only regular files with a single hard link are read (a second link may be the same
///     file as one outside the folder); FIFOs, devices, sockets and folders are refused
///     without ever being opened for reading;
///   - a kernel without openat2 (before Linux 5.6, or a seccomp filter) fails closed.
///
/// Errors are PathResult: a protocol::Error for the wire (bad_request for a malformed path,
/// forbidden for anything outside the folder or of the wrong kind, not_found for a missing
/// file or folder, conflict for a race with another writer, internal for the system) and a
/// one-line message for the technician that never quotes the path back.
///
/// All calls block on the file system: run them off the Asio thread. An AllowedRoot is
/// immutable once opened; its const members may be called from several threads at once.

#include <iosfwd>
#include <string>
#include <string_view>

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include "tether/protocol/error.hpp"

namespace tether::agent::tools {

/// Owns one file descriptor and closes it on destruction. Move-only; -1 when empty.
class UniqueFd {
 public:
  UniqueFd() noexcept = default;
  explicit UniqueFd(int fd) noexcept : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  /// Gives up ownership without closing.
  int release() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  /// Closes the descriptor held (if any) and takes `fd`.
  void reset(int fd = -1) noexcept;

 private:
  int fd_ = -1;
};

/// Why a path was refused: the code that travels on the wire and one line for the technician
/// ("the path leads outside the allowed folder through a symbolic link").
struct PathError {
  protocol::Error code = protocol::Error::internal;
  std::string message;
};

std::ostream& operator<<(std::ostream& out, const PathError& error);
/// Lets PathResult::value() throw std::runtime_error(message) on an error (found by ADL).
[[noreturn]] void throw_exception_from_error(const PathError& error,
                                             const boost::source_location& location);

template <class T>
using PathResult = boost::system::result<T, PathError>;

/// A destination resolved for writing: its folder (open O_RDONLY|O_DIRECTORY, beneath the
/// allowed folder) and the final name, one component, to create or replace in it.
struct WriteTarget {
  UniqueFd dir;
  std::string leaf;
};

class AllowedRoot {
 public:
  /// Opens `directory` (absolute; may itself be or pass through a symbolic link) with
  /// O_PATH|O_DIRECTORY and records its real path. Errors: bad_request when not absolute or
  /// not a folder, not_found when missing, internal when the kernel lacks openat2.
  static PathResult<AllowedRoot> open(const std::string& directory);

  AllowedRoot(AllowedRoot&&) noexcept = default;
  AllowedRoot& operator=(AllowedRoot&&) noexcept = default;
  AllowedRoot(const AllowedRoot&) = delete;
  AllowedRoot& operator=(const AllowedRoot&) = delete;

  /// The folder's real path (symbolic links resolved), e.g. "/var/home/ana".
  const std::string& real_path() const { return real_path_; }
  /// The O_PATH descriptor of the folder; owned by this object.
  int fd() const { return fd_.get(); }

  /// `path` checked and made relative to the folder: "docs/a.txt", or "." for the folder
  /// itself. Lexical only; the file system is not consulted. bad_request for a malformed
  /// path, forbidden for an absolute path outside the folder.
  PathResult<std::string> relative_path(std::string_view path) const;

  /// Opens a regular file beneath the folder for reading (O_RDONLY|O_CLOEXEC, blocking
  /// reads). forbidden: outside the folder, a FIFO/device/socket, a file with more than one
  /// hard link, a link loop or magic link, no permission; bad_request: a folder or a
  /// malformed path; not_found: missing (including a dangling link).
  PathResult<UniqueFd> open_for_read(std::string_view path) const;

  /// Resolves the folder a file is to be written into (it must exist beneath the allowed
  /// folder) and splits off the final name. Refuses early, with the error commit_partial()
  /// would give, a destination that exists and could not be replaced. bad_request for the
  /// allowed folder itself; not_found when the destination's folder is missing.
  PathResult<WriteTarget> open_dir_for_write(std::string_view path) const;

 private:
  AllowedRoot(UniqueFd fd, std::string real_path, std::string given_path)
      : fd_(std::move(fd)), real_path_(std::move(real_path)), given_path_(std::move(given_path)) {}

  PathResult<UniqueFd> resolve(const std::string& relative, int flags, bool for_folder) const;

  UniqueFd fd_;
  std::string real_path_;
  std::string given_path_;  // normalised spelling given to open(); empty if not usable
};

/// ".<leaf>.<tag>.tether-part", with `leaf` shortened (on a UTF-8 boundary) so the name fits
/// in 255 bytes. The dot in front hides it from file managers until commit_partial().
std::string partial_name(std::string_view leaf, std::string_view tag);

/// Opens the partial file `name` (one component) in `dir_fd` for reading and writing, never
/// through a symbolic link. create: made new with mode 0600 (conflict if it exists);
/// otherwise an existing one is reopened to resume, which must be a regular file owned by
/// this process's user with one link (forbidden otherwise; not_found if missing).
PathResult<UniqueFd> open_partial(int dir_fd, std::string_view name, bool create);

/// Renames the partial file onto `leaf` in the same folder. An existing regular file with a
/// single link is replaced; a symbolic link, a folder, any other non-regular file or a file
/// with several links at `leaf` is refused (forbidden), and a name that appears at `leaf`
/// after the check is not overwritten (conflict). The caller fsyncs the file first; the
/// folder is fsynced here.
PathResult<void> commit_partial(int dir_fd, std::string_view partial, std::string_view leaf);

/// Removes a partial file after a failed or cancelled transfer; a missing one is not an error.
PathResult<void> discard_partial(int dir_fd, std::string_view partial);

}  // namespace tether::agent::tools
