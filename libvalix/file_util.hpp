// File handling every part of Valix shares. No path is trusted: opens use O_NOFOLLOW, and
// every file or directory we rely on is checked with fstat after it is opened.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "error.hpp"
#include "secure.hpp"
#include "unique_fd.hpp"

namespace valix {

enum class FileAccess {
  private_to_owner,    // no group or other permission bits at all (state, locks)
  readable_by_others,  // group/other may read but never write (valix.conf)
};

// Opens name relative to dirfd (AT_FDCWD for a path) without following a final symlink and
// without blocking on a FIFO, then requires: a regular file, owned by trusted_uid, one link,
// and permission bits allowed by access. extra_flags are or-ed into O_RDONLY/O_RDWR etc.
// ENOENT maps to Errc::not_found; other refusals to Errc::unsafe.
Result<UniqueFd> open_trusted_file(int dirfd, std::string_view name, int flags, mode_t create_mode,
                                   uid_t trusted_uid, FileAccess access);

// Reads a whole trusted file of at most max_size bytes (larger is Errc::unsafe).
Result<SecretString> read_trusted_file(int dirfd, std::string_view name, uid_t trusted_uid,
                                       FileAccess access, std::size_t max_size);

// Reads from an already-checked descriptor, at most max_size bytes.
Result<SecretString> read_all(int fd, std::size_t max_size);

// Opens a directory without following a final symlink and requires: owned by trusted_uid,
// writable by nobody else.
Result<UniqueFd> open_trusted_dir(const std::string& path, uid_t trusted_uid);

// Who a file Valix creates belongs to. The creator's ids are not good enough: a setuid
// program runs with its caller's gid.
struct FileOwner {
  uid_t uid;
  gid_t gid;
};

// Writes all of data, retrying on EINTR and short writes.
Result<void> write_all(int fd, std::string_view data);

// Writes all of data at offset (pwrite), retrying on EINTR and short writes: a short write
// followed by a failure (a file-size limit, a full disk) is an error, with part of data
// written. Never used to extend a file: callers write inside what is already allocated.
Result<void> pwrite_all(int fd, std::string_view data, off_t offset);

// Durably replaces dirfd/name with content: writes dirfd/temp_name (O_EXCL, O_NOFOLLOW, mode
// 0600, owned by owner, any stale temp removed first), fsyncs it, renames it over name and fsyncs
// the directory. On a failure before the rename the temp file is removed and name keeps its old
// content; if only the final directory fsync fails, name already has the new content and the
// error is Errc::unsynced (a crash before the disk recovers could bring the old one back). The
// caller must hold a lock that makes it the only writer of temp_name.
Result<void> replace_file_atomically(int dirfd, std::string_view name, std::string_view temp_name,
                                     std::string_view content, FileOwner owner);

// Removes dirfd/name (absent is fine) and fsyncs the directory (Errc::unsynced when only that
// fails: the file is gone).
Result<void> remove_file_durably(int dirfd, std::string_view name);

// Renames dirfd/from to dirfd/to, never replacing an existing to (Errc::conflict), and fsyncs
// the directory (Errc::unsynced when only that fails: the file is under its new name). The
// caller must hold the locks that make it the only writer of both names.
Result<void> move_file_durably(int dirfd, std::string_view from, std::string_view to);

// Creates a new file at path (never overwriting, never following a symlink in its last
// component) with mode 0600 and content, fsynced along with its directory. Used for files
// handed to the user, such as downloaded backup codes. A file that cannot be written whole (a
// full disk) or made durable is removed again, through the directory it was created in.
Result<void> create_new_private_file(const std::string& path, std::string_view content);

}  // namespace valix
