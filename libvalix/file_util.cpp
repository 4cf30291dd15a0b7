#include "file_util.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>  // renameat2
#include <cstring>

#include "i18n.hpp"

namespace valix {
namespace {

std::string quoted(std::string_view name) { return "'" + std::string(name) + "'"; }

Result<void> check_file(int fd, std::string_view name, uid_t trusted_uid, FileAccess access) {
  struct stat st {};
  if (fstat(fd, &st) != 0) return fail_errno("cannot stat " + quoted(name), errno);
  if (!S_ISREG(st.st_mode)) {
    return fail_said(Errc::unsafe, "{file} is not a regular file", {{"file", quoted(name)}});
  }
  if (st.st_uid != trusted_uid) {
    return fail_said(Errc::unsafe, "{file} is owned by uid {uid}, expected uid {expected}",
                     {{"file", quoted(name)},
                      {"uid", std::to_string(st.st_uid)},
                      {"expected", std::to_string(trusted_uid)}});
  }
  const mode_t forbidden = access == FileAccess::private_to_owner ? 077 : 022;
  if ((st.st_mode & forbidden) != 0) {
    return fail_said(Errc::unsafe, "{file} has unsafe permissions", {{"file", quoted(name)}});
  }
  // 0 links: a writer renamed a new version over the file between our openat and fstat (a
  // reader without the lock can see that); the caller may retry. Never trusted as is: a lock
  // file nobody can reach any more would lock nothing.
  if (st.st_nlink == 0) {
    return fail_said(Errc::busy, "{file} was replaced while being opened",
                     {{"file", quoted(name)}});
  }
  if (st.st_nlink != 1) {
    return fail_said(Errc::unsafe, "{file} has more than one hard link", {{"file", quoted(name)}});
  }
  return {};
}

// fsync of the directory once a change to target in it is visible: a failure is
// Errc::unsynced, whose message (a msgid with {file} and {reason}) says what was already done
// ("replaced", "removed") rather than "nothing changed". The message is built only on
// failure: this runs on every login.
Result<void> sync_directory_after(int dirfd, const std::string& target, const char* message) {
  if (fsync(dirfd) == 0) return {};
  const int err = errno;
  return fail_said(Errc::unsynced, message,
                   {{"file", quoted(target)}, {"reason", std::strerror(err)}});
}

}  // namespace

Result<UniqueFd> open_trusted_file(int dirfd, std::string_view name, int flags, mode_t create_mode,
                                   uid_t trusted_uid, FileAccess access) {
  const std::string path(name);
  UniqueFd fd(openat(dirfd, path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
                     create_mode));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return fail_said(Errc::not_found, "{file} does not exist", {{"file", quoted(name)}});
    }
    if (err == ELOOP) {
      return fail_said(Errc::unsafe, "{file} is a symbolic link", {{"file", quoted(name)}});
    }
    return fail_errno("cannot open " + quoted(name), err);
  }
  if (auto ok = check_file(fd.get(), name, trusted_uid, access); !ok) {
    return std::unexpected(ok.error());
  }
  // Regular file confirmed; blocking I/O from here on. F_SETFL sets only the file status
  // flags (O_APPEND, O_ASYNC, O_DIRECT, O_NOATIME, O_NONBLOCK) and ignores the others, so
  // the flags it was opened with less O_NONBLOCK leave it as F_GETFL's would (one syscall
  // fewer per file, four per login).
  if (fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    return fail_errno("fcntl " + quoted(name), errno);
  }
  return fd;
}

Result<SecretString> read_all(int fd, std::size_t max_size) {
  // The buffer is sized from fstat rather than max_size, because all of it is wiped when it
  // is freed (a state file is 8 KiB, its limit 64 KiB, and a login reads it twice). The file
  // is read straight into it, one byte more than fstat said, so that a file of the size
  // fstat saw takes one read and one that says end of file.
  struct stat st {};
  std::size_t expected = 4096;
  if (fstat(fd, &st) == 0 && st.st_size > 0) {
    expected = std::min(static_cast<std::size_t>(st.st_size), max_size);
  }
  // Sized without filling: every byte is read into or cut off below (and the whole buffer is
  // wiped when it is freed).
  const auto unfilled = [](char*, std::size_t n) { return n; };
  SecretString out;
  out.str().resize_and_overwrite(expected + 1, unfilled);
  std::size_t have = 0;
  for (;;) {
    if (have == out.size()) {
      // The file grew while being read. Never let std::string reallocate: that would free
      // the old buffer unwiped. Move to a bigger one; `bigger` wipes the old one on its way.
      SecretString bigger;
      bigger.str().resize_and_overwrite(std::min(max_size, 2 * have) + 1, unfilled);
      std::copy_n(out.str().data(), have, bigger.str().data());
      out.str().swap(bigger.str());
    }
    const ssize_t n = read(fd, out.str().data() + have, out.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("read failed", errno);
    }
    if (n == 0) break;
    have += static_cast<std::size_t>(n);
    if (have > max_size) {
      return fail_said(Errc::unsafe, "file is larger than {size} bytes",
                       {{"size", std::to_string(max_size)}});
    }
  }
  out.str().resize(have);
  return out;
}

Result<SecretString> read_trusted_file(int dirfd, std::string_view name, uid_t trusted_uid,
                                       FileAccess access, std::size_t max_size) {
  auto fd = open_trusted_file(dirfd, name, O_RDONLY, 0, trusted_uid, access);
  if (!fd) return std::unexpected(fd.error());
  auto text = read_all(fd->get(), max_size);
  if (!text) return fail_at(text.error().code, quoted(name), text.error());
  return text;
}

Result<UniqueFd> open_trusted_dir(const std::string& path, uid_t trusted_uid) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    const int err = errno;
    if (err == ENOENT) {
      return fail_said(Errc::not_found, "directory {dir} does not exist", {{"dir", quoted(path)}});
    }
    if (err == ELOOP || err == ENOTDIR) {
      return fail_said(Errc::unsafe, "{dir} is not a directory (or is a symbolic link)",
                       {{"dir", quoted(path)}});
    }
    return fail_errno("cannot open directory " + quoted(path), err);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return fail_errno("cannot stat " + quoted(path), errno);
  if (st.st_uid != trusted_uid) {
    return fail_said(Errc::unsafe, "directory {dir} is owned by uid {uid}, expected uid {expected}",
                     {{"dir", quoted(path)},
                      {"uid", std::to_string(st.st_uid)},
                      {"expected", std::to_string(trusted_uid)}});
  }
  if ((st.st_mode & 022) != 0) {
    return fail_said(Errc::unsafe, "directory {dir} is writable by group or others",
                     {{"dir", quoted(path)}});
  }
  return fd;
}

Result<void> write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write failed", errno);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<void> pwrite_all(int fd, std::string_view data, off_t offset) {
  while (!data.empty()) {
    const ssize_t n = pwrite(fd, data.data(), data.size(), offset);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail_errno("write failed", errno);
    }
    if (n == 0) return fail(Errc::io, "write failed: nothing written");
    data.remove_prefix(static_cast<std::size_t>(n));
    offset += n;
  }
  return {};
}

Result<void> replace_file_atomically(int dirfd, std::string_view name, std::string_view temp_name,
                                     std::string_view content, FileOwner owner) {
  const std::string temp(temp_name);
  const std::string target(name);
  // A temp file left by a process killed mid-write; we hold the lock, so it is stale.
  if (unlinkat(dirfd, temp.c_str(), 0) != 0 && errno != ENOENT) {
    return fail_errno("cannot remove stale " + quoted(temp), errno);
  }
  UniqueFd fd(openat(dirfd, temp.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd) return fail_errno("cannot create " + quoted(temp), errno);
  auto cleanup_on_error = [&](Error error) -> Result<void> {
    fd.reset();
    unlinkat(dirfd, temp.c_str(), 0);
    return std::unexpected(std::move(error));
  };
  if (fchmod(fd.get(), 0600) != 0) return cleanup_on_error(fail_errno("fchmod", errno).error());
  // Before any content is in it. Created with our effective gid, which in a setuid program is
  // the caller's.
  if (fchown(fd.get(), owner.uid, owner.gid) != 0) {
    return cleanup_on_error(fail_errno("fchown", errno).error());
  }
  if (auto written = write_all(fd.get(), content); !written) {
    return cleanup_on_error(written.error());
  }
  if (fsync(fd.get()) != 0) return cleanup_on_error(fail_errno("fsync", errno).error());
  if (close(fd.release()) != 0) {
    const int err = errno;
    unlinkat(dirfd, temp.c_str(), 0);
    return fail_errno("close", err);
  }
  if (renameat(dirfd, temp.c_str(), dirfd, target.c_str()) != 0) {
    const int err = errno;
    unlinkat(dirfd, temp.c_str(), 0);
    return fail_errno("cannot rename into " + quoted(target), err);
  }
  // From here the new content is what every reader sees: a failure is not "nothing changed".
  return sync_directory_after(
      dirfd, target, N_("{file} was replaced, but syncing its directory failed: {reason}"));
}

Result<void> remove_file_durably(int dirfd, std::string_view name) {
  const std::string target(name);
  if (unlinkat(dirfd, target.c_str(), 0) != 0) {
    if (errno == ENOENT) return {};
    return fail_errno("cannot remove " + quoted(target), errno);
  }
  return sync_directory_after(dirfd, target,
                              N_("{file} was removed, but syncing its directory failed: {reason}"));
}

Result<void> move_file_durably(int dirfd, std::string_view from, std::string_view to) {
  const std::string source(from);
  const std::string target(to);
  if (renameat2(dirfd, source.c_str(), dirfd, target.c_str(), RENAME_NOREPLACE) != 0) {
    int err = errno;
    // A file system without RENAME_NOREPLACE: the caller's locks already keep every other
    // writer of target away, so a plain rename after the check is as safe.
    if (err == EINVAL || err == ENOSYS) {
      struct stat st {};
      if (fstatat(dirfd, target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) err = EEXIST;
      else if (renameat(dirfd, source.c_str(), dirfd, target.c_str()) == 0) err = 0;
      else err = errno;
    }
    if (err == EEXIST) {
      return fail_said(Errc::conflict, "{file} already exists", {{"file", quoted(target)}});
    }
    if (err != 0)
      return fail_errno("cannot rename " + quoted(source) + " to " + quoted(target), err);
  }
  return sync_directory_after(
      dirfd, target, N_("{file} was moved into place, but syncing its directory failed: {reason}"));
}

Result<void> create_new_private_file(const std::string& path, std::string_view content) {
  // Created and, on failure, removed through one directory descriptor: a later change to the
  // path's directories (a symlink swapped in) cannot make the cleanup remove another file.
  const auto slash = path.rfind('/');
  const std::string directory = slash == std::string::npos ? "."
                                : slash == 0               ? "/"
                                                           : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    return fail_said(Errc::invalid, "{file} does not name a file", {{"file", quoted(path)}});
  }
  UniqueFd dirfd(open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) return fail_errno("cannot open the directory of " + quoted(path), errno);
  UniqueFd fd(openat(dirfd.get(), name.c_str(),
                     O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd) {
    if (errno == EEXIST) {
      return fail_said(Errc::invalid, "{file} already exists", {{"file", quoted(path)}});
    }
    return fail_errno("cannot create " + quoted(path), errno);
  }
  // A file we created but could not fill (a full disk) or make durable is removed, not left
  // half-written.
  auto remove_on_error = [&](Error error) -> Result<void> {
    fd.reset();
    unlinkat(dirfd.get(), name.c_str(), 0);
    return std::unexpected(std::move(error));
  };
  if (fchmod(fd.get(), 0600) != 0)
    return remove_on_error(fail_errno("fchmod " + quoted(path), errno).error());
  if (auto written = write_all(fd.get(), content); !written)
    return remove_on_error(written.error());
  if (fsync(fd.get()) != 0)
    return remove_on_error(fail_errno("fsync " + quoted(path), errno).error());
  if (close(fd.release()) != 0)
    return remove_on_error(fail_errno("close " + quoted(path), errno).error());
  // EINVAL: a file system that cannot sync a directory (some network and FUSE ones); the
  // file itself is on disk.
  if (fsync(dirfd.get()) != 0 && errno != EINVAL)
    return remove_on_error(fail_errno("fsync the directory of " + quoted(path), errno).error());
  return {};
}

}  // namespace valix
