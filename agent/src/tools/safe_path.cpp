#include "tether/agent/tools/safe_path.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <system_error>

#include "tether/protocol/remote_path.hpp"
#include "tether/protocol/utf8.hpp"

namespace tether::agent::tools {
namespace {

using protocol::Error;

constexpr std::string_view kPartialSuffix = ".tether-part";
constexpr int kResolveAttempts = 8;

// What a failed call was about, so the technician reads "the destination folder does not
// exist" rather than a bare "no such file".
enum class Subject { file, folder, root };

PathError from_errno(int err, Subject subject) {
  switch (err) {
    case EXDEV:
      return {Error::forbidden, "the path leads outside the allowed folder through a link"};
    case ELOOP:
      return {Error::forbidden,
              "the path goes through a symbolic link loop or a /proc link, which the agent "
              "does not follow"};
    case ENOENT:
      return {Error::not_found, subject == Subject::folder ? "the destination folder does not exist"
                                : subject == Subject::root ? "the allowed folder does not exist"
                                                           : "no such file in the allowed folder"};
    case ENOTDIR:
      return {Error::not_found, "a part of the path is not a folder"};
    case EISDIR:
      return {Error::bad_request, "the path is a folder, not a file"};
    case EACCES:
    case EPERM:
      return {Error::forbidden, "the user's account has no permission for this path"};
    case ENAMETOOLONG:
      return {Error::bad_request, "the path is too long"};
    case EEXIST:
    case ENOTEMPTY:
      return {Error::conflict, "a file with that name already exists"};
    case EAGAIN:
      return {Error::conflict, "the folder changed while the path was being resolved; try again"};
    case ENOSYS:
      // Falling back to open(2) with O_NOFOLLOW checks would reopen every race openat2 closes.
      return {Error::internal,
              "this kernel has no openat2 (Linux 5.6 or later is needed); file transfer is off"};
    default:
      return {Error::internal,
              "file system error: " + std::error_code(err, std::generic_category()).message()};
  }
}

PathError last_error(Subject subject) {
  return from_errno(errno, subject);
}

std::string_view kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// A regular file with one link is the only thing read. A second hard link may be the same
// inode as a file outside the folder (made before the folder was chosen, or by another user
// where protected_hardlinks is off), and reading it would leak that file.
PathResult<void> check_readable(const struct stat& st) {
  if (S_ISDIR(st.st_mode)) return PathError{Error::bad_request, "the path is a folder, not a file"};
  if (!S_ISREG(st.st_mode)) {
    return PathError{Error::forbidden,
                     "the path is " + std::string(kind_of(st.st_mode)) + ", not a regular file"};
  }
  if (st.st_nlink != 1) {
    return PathError{Error::forbidden,
                     "the file has other hard links, which may lead outside the allowed folder"};
  }
  return {};
}

bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

// One component that check_remote_path leaves untouched: no slash, not "." or "..".
PathResult<void> check_name(std::string_view name) {
  const auto checked = protocol::check_remote_path(name);
  if (!checked || *checked != name || name == "." || name.find('/') != std::string_view::npos) {
    return PathError{Error::bad_request, "the file name is not one valid name"};
  }
  return {};
}

// Whether `leaf` exists in `dir_fd`, and if it does, that renaming onto it replaces nothing
// but one ordinary file. rename(2) never writes through a link, so this is about not
// destroying what the user would not expect a file transfer to touch.
PathResult<bool> check_replaceable(int dir_fd, const std::string& leaf) {
  struct stat st {};
  if (::fstatat(dir_fd, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return false;
    return last_error(Subject::file);
  }
  if (S_ISLNK(st.st_mode)) {
    return PathError{Error::forbidden,
                     "the destination is a symbolic link; the agent does not replace links"};
  }
  if (!S_ISREG(st.st_mode)) {
    return PathError{Error::forbidden, "the destination is " + std::string(kind_of(st.st_mode)) +
                                           ", not a regular file"};
  }
  if (st.st_nlink != 1) {
    return PathError{Error::forbidden,
                     "the destination has other hard links; the agent does not replace it"};
  }
  return true;
}

long call_openat2(int dir_fd, const char* path, int flags, mode_t mode) {
  open_how how{};
  how.flags = static_cast<__u64>(flags);
  how.mode = mode;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  return ::syscall(SYS_openat2, dir_fd, path, &how, sizeof how);
}

}  // namespace

void UniqueFd::reset(int fd) noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

std::ostream& operator<<(std::ostream& out, const PathError& error) {
  return out << protocol::to_string(error.code) << ": " << error.message;
}

void throw_exception_from_error(const PathError& error, const boost::source_location&) {
  throw std::runtime_error(error.message);
}

PathResult<AllowedRoot> AllowedRoot::open(const std::string& directory) {
  if (directory.empty() || directory.front() != '/') {
    return PathError{Error::bad_request, "the allowed folder must be an absolute path"};
  }
  UniqueFd fd(::open(directory.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOTDIR)
      return PathError{Error::bad_request, "the allowed folder is not a folder"};
    return last_error(Subject::root);
  }

  // Absolute paths from the technician are compared with this text; the descriptor is what
  // they are resolved beneath. Both must name the same folder.
  const std::unique_ptr<char, decltype(&std::free)> real(::realpath(directory.c_str(), nullptr),
                                                         &std::free);
  if (!real) return last_error(Subject::root);
  struct stat by_fd {};
  struct stat by_name {};
  if (::fstat(fd.get(), &by_fd) != 0 || ::stat(real.get(), &by_name) != 0 ||
      !same_file(by_fd, by_name)) {
    return PathError{Error::conflict,
                     "the allowed folder changed while it was being opened; try again"};
  }

  // Fail at start, not at the first transfer, on a kernel that cannot confine paths.
  const UniqueFd probe(static_cast<int>(call_openat2(fd.get(), ".", O_PATH | O_CLOEXEC, 0)));
  if (!probe) return last_error(Subject::root);

  std::string given;
  if (auto checked = protocol::check_remote_path(directory)) given = std::move(*checked);
  return AllowedRoot(std::move(fd), real.get(), std::move(given));
}

PathResult<std::string> AllowedRoot::relative_path(std::string_view path) const {
  auto checked = protocol::check_remote_path(path);
  if (!checked) return PathError{Error::bad_request, protocol::describe_remote_path_error(path)};
  std::string& normal = *checked;
  if (normal.front() != '/') return std::move(normal);

  for (const std::string* prefix : {&real_path_, &given_path_}) {
    if (prefix->empty()) continue;
    if (*prefix == "/") return normal.size() == 1 ? std::string(".") : normal.substr(1);
    if (normal == *prefix) return std::string(".");
    if (normal.size() > prefix->size() && normal.starts_with(*prefix) &&
        normal[prefix->size()] == '/') {
      return normal.substr(prefix->size() + 1);
    }
  }
  return PathError{Error::forbidden, "the path is outside the allowed folder"};
}

PathResult<UniqueFd> AllowedRoot::resolve(const std::string& relative, int flags,
                                          bool for_folder) const {
  for (int attempt = 0; attempt < kResolveAttempts; ++attempt) {
    const long fd = call_openat2(fd_.get(), relative.c_str(), flags, 0);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    // EAGAIN: a rename elsewhere raced a ".." in a link target; the kernel asks us to retry.
    if (errno != EAGAIN && errno != EINTR) break;
  }
  return last_error(for_folder ? Subject::folder : Subject::file);
}

PathResult<UniqueFd> AllowedRoot::open_for_read(std::string_view path) const {
  auto relative = relative_path(path);
  if (!relative) return relative.error();

  // Look first through an O_PATH descriptor, which opens nothing: opening a FIFO for reading
  // would block until a writer came, and opening a device can have side effects.
  auto probe = resolve(*relative, O_PATH | O_CLOEXEC, false);
  if (!probe) return probe.error();
  struct stat before {};
  if (::fstat(probe->get(), &before) != 0) return last_error(Subject::file);
  if (auto readable = check_readable(before); !readable) return readable.error();

  // The name may have been swapped since; O_NONBLOCK keeps a FIFO put there from blocking,
  // and the inode comparison refuses whatever replaced the file.
  auto file = resolve(*relative, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, false);
  if (!file) return file.error();
  struct stat after {};
  if (::fstat(file->get(), &after) != 0) return last_error(Subject::file);
  if (!same_file(before, after)) {
    return PathError{Error::conflict, "the file changed while it was being opened; try again"};
  }
  if (auto readable = check_readable(after); !readable) return readable.error();
  const int status = ::fcntl(file->get(), F_GETFL);
  if (status < 0 || ::fcntl(file->get(), F_SETFL, status & ~O_NONBLOCK) != 0) {
    return last_error(Subject::file);
  }
  return std::move(*file);
}

PathResult<WriteTarget> AllowedRoot::open_dir_for_write(std::string_view path) const {
  auto relative = relative_path(path);
  if (!relative) return relative.error();
  if (*relative == ".") {
    return PathError{Error::bad_request, "the path names the allowed folder itself, not a file"};
  }
  const auto slash = relative->rfind('/');
  const std::string parent = slash == std::string::npos ? "." : relative->substr(0, slash);
  std::string leaf = slash == std::string::npos ? *relative : relative->substr(slash + 1);

  // O_RDONLY rather than O_PATH so commit_partial can fsync the folder.
  auto dir = resolve(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC, true);
  if (!dir) return dir.error();
  if (auto replaceable = check_replaceable(dir->get(), leaf); !replaceable) {
    return replaceable.error();
  }
  return WriteTarget{std::move(*dir), std::move(leaf)};
}

std::string partial_name(std::string_view leaf, std::string_view tag) {
  const std::size_t fixed = 2 + tag.size() + kPartialSuffix.size();
  const std::size_t budget =
      fixed >= protocol::kMaxRemotePathComponent ? 0 : protocol::kMaxRemotePathComponent - fixed;
  std::size_t keep = 0;
  while (keep < leaf.size()) {
    const std::size_t length = std::max<std::size_t>(1, protocol::utf8_sequence_length(leaf, keep));
    if (keep + length > budget) break;
    keep += length;
  }
  std::string name = ".";
  name.append(leaf.substr(0, keep)).append(".").append(tag).append(kPartialSuffix);
  return name;
}

PathResult<UniqueFd> open_partial(int dir_fd, std::string_view name, bool create) {
  if (auto valid = check_name(name); !valid) return valid.error();
  const std::string file(name);
  if (create) {
    // O_EXCL: never reuse (or follow) something that is already there.
    UniqueFd fd(::openat(dir_fd, file.c_str(),
                         O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
    if (!fd) return last_error(Subject::file);
    return fd;
  }

  UniqueFd probe(::openat(dir_fd, file.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (!probe) return last_error(Subject::file);
  struct stat before {};
  if (::fstat(probe.get(), &before) != 0) return last_error(Subject::file);
  if (!S_ISREG(before.st_mode) || before.st_nlink != 1) {
    return PathError{Error::forbidden,
                     "the partial file was replaced by " +
                         std::string(S_ISREG(before.st_mode) ? "a file with other hard links"
                                                             : kind_of(before.st_mode))};
  }
  if (before.st_uid != ::geteuid()) {
    return PathError{Error::forbidden, "the partial file belongs to another user"};
  }
  UniqueFd fd(
      ::openat(dir_fd, file.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd) {
    if (errno == ELOOP) {
      return PathError{Error::forbidden, "the partial file was replaced by a symbolic link"};
    }
    return last_error(Subject::file);
  }
  struct stat after {};
  if (::fstat(fd.get(), &after) != 0) return last_error(Subject::file);
  if (!same_file(before, after)) {
    return PathError{Error::conflict, "the partial file changed while it was being opened"};
  }
  const int status = ::fcntl(fd.get(), F_GETFL);
  if (status < 0 || ::fcntl(fd.get(), F_SETFL, status & ~O_NONBLOCK) != 0) {
    return last_error(Subject::file);
  }
  return fd;
}

PathResult<void> commit_partial(int dir_fd, std::string_view partial, std::string_view leaf) {
  if (auto valid = check_name(partial); !valid) return valid.error();
  if (auto valid = check_name(leaf); !valid) return valid.error();
  if (partial == leaf) return PathError{Error::bad_request, "the partial file is the destination"};
  const std::string from(partial);
  const std::string to(leaf);

  struct stat st {};
  if (::fstatat(dir_fd, from.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return PathError{Error::not_found, "the partial file is gone"};
    return last_error(Subject::file);
  }
  if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
    return PathError{Error::forbidden, "the partial file is no longer the one the agent wrote"};
  }

  auto exists = check_replaceable(dir_fd, to);
  if (!exists) return exists.error();
  int rc = 0;
  if (!*exists) {
    // Nothing was there: make sure nothing is replaced if something appeared since.
    rc = ::renameat2(dir_fd, from.c_str(), dir_fd, to.c_str(), RENAME_NOREPLACE);
    // File systems without RENAME_NOREPLACE (some FUSE, older NFS) answer EINVAL.
    if (rc != 0 && errno == EINVAL) rc = ::renameat(dir_fd, from.c_str(), dir_fd, to.c_str());
    if (rc != 0 && errno == EEXIST) {
      return PathError{Error::conflict, "a file appeared at the destination; try again"};
    }
  } else {
    rc = ::renameat(dir_fd, from.c_str(), dir_fd, to.c_str());
  }
  if (rc != 0) {
    if (errno == EISDIR || errno == ENOTEMPTY) {
      return PathError{Error::forbidden, "the destination is a folder, not a regular file"};
    }
    return last_error(Subject::file);
  }
  // The rename is done; a failed flush of the folder only weakens crash durability, which
  // the technician could do nothing about.
  (void)::fsync(dir_fd);
  return {};
}

PathResult<void> discard_partial(int dir_fd, std::string_view partial) {
  if (auto valid = check_name(partial); !valid) return valid.error();
  const std::string name(partial);
  if (::unlinkat(dir_fd, name.c_str(), 0) != 0 && errno != ENOENT) {
    return last_error(Subject::file);
  }
  return {};
}

}  // namespace tether::agent::tools
