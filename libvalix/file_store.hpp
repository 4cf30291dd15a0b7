// The file backend of StateStore: one directory of per-user files.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "slot_file.hpp"
#include "state.hpp"
#include "store.hpp"
#include "unique_fd.hpp"

namespace valix {

// Files under one directory owned by trusted_uid (root in production) and writable by nobody
// else, each created owned by trusted_uid and group 0 when that is root (root:root, whatever
// the gid of a setuid caller), else the process's effective gid:  USER.state (the state, mode
// 0600), USER.lock (flock target, never removed, so every process locks the same inode), .USER.tmp
// (the write-ahead temp file, only touched under the lock). User names never start with '.', so
// temp names cannot collide with them.
//
// USER.state has two slots (slot_file.hpp). An update of an existing file whose new state fits
// its slot size, and that drops none of the secrets the file held, is written in place: one
// pwrite of the older slot, one fdatasync, no new inode, no directory sync, no block
// allocated (both slots were written whole when the file was made). Anything else (a new
// state, a state outgrowing its slots, a reset or re-enrollment, which must leave no old secret
// in the other slot, a file of format 1 from Valix 0.2, a rename) replaces the file by a new
// one through .USER.tmp, with slots sized for the state. For an in-place write, Errc::unsynced
// means that the fdatasync failed: the new state is what every reader sees, but it may not be
// on disk; a write that fails or is cut short leaves the slot invalid, so the state before it
// is what every reader sees (the error says nothing was changed).
// The uid index: +UID.uid holds "NAME\n", the name the state of UID is filed under (written,
// through .+UID.NAME.tmp, under NAME's lock before the state; removed after it). No user name
// contains '+', so these never collide with a user's files.
class FileStateStore final : public StateStore {
 public:
  // Opens and checks the directory. lock_timeout bounds how long update() waits for a lock.
  static Result<FileStateStore> open(
      const std::string& directory, uid_t trusted_uid,
      std::chrono::milliseconds lock_timeout = std::chrono::seconds(15));

  Result<std::optional<UserState>> load(const StateKey& key) override;
  Result<void> update(const StateKey& key, const Mutator& mutate) override;
  // room > 0 for a state file of format 2 that this process can write, whose state records
  // key.uid and is indexed under its name: the payload room of one slot.
  Result<void> update_in_place(const StateKey& key, const RoomMutator& mutate) override;
  Result<std::optional<std::string>> name_filed_for(uid_t uid) override;
  Result<void> rename(const StateKey& from, const StateKey& to) override;
  Result<std::vector<std::string>> list_users() override;
  // Only a state file that passes every check a readable one must (a regular file owned by
  // trusted_uid, mode 0600, one link, no symlink) but does not parse or is too large.
  Result<std::string> remove_unreadable(std::string_view user) override;

 private:
  FileStateStore(UniqueFd dir, uid_t trusted_uid, gid_t trusted_gid,
                 std::chrono::milliseconds lock_timeout)
      : dir_(std::move(dir)),
        trusted_uid_(trusted_uid),
        trusted_gid_(trusted_gid),
        lock_timeout_(lock_timeout) {}
  // A state file as read: its state, and for an update the open file and where the next
  // in-place write goes.
  struct StateFile {
    std::optional<UserState> state;
    UniqueFd fd;  // open read-write (for update) when the file system allows
    bool writable = false;
    std::size_t slot_size = 0;  // 0: no slots to write in (format 1, or no file)
    std::uint64_t seq = 0;      // the newest slot's
    off_t next_offset = 0;      // of the slot the next in-place write goes to
  };
  Result<StateFile> read_file(const std::string& user, bool for_update);
  Result<std::optional<UserState>> read_state(const std::string& user);
  // The user's exclusive lock, held until the returned descriptor is closed: a flock on the
  // inode USER.lock names once the lock is granted (one replaced meanwhile is let go and the
  // new one taken), all within lock_timeout.
  Result<UniqueFd> lock_user(const std::string& user);
  // update and update_in_place: the second offers room to its mutator.
  enum class Placement { in_place_or_replace, in_place_offered };
  Result<void> locked_update(const StateKey& key, const RoomMutator& mutate, Placement placement);
  // Writes a state after checking that it reads back (parse_state, the size limit).
  // In place into `in_place` when given and the state fits its slots, else by a replace
  // (in_place_only: else Errc::internal, nothing written).
  enum class Write { in_place_or_replace, in_place_only };
  Result<void> write_state(const std::string& name, const UserState& state,
                           const StateFile* in_place = nullptr,
                           Write how = Write::in_place_or_replace);
  // The checks write_state makes before it writes: the size limit, and that the text reads
  // back. The text, or Errc::internal.
  static Result<SecretString> checked_text(const std::string& name, const UserState& state);
  // One slot of `in_place` written with the next sequence number, not synced.
  static Result<void> write_slot(const std::string& name, const SecretString& text,
                                 const StateFile& in_place);
  Result<std::optional<UserState>> read_state_retrying(const std::string& user);
  Result<std::optional<std::string>> read_index(uid_t uid);
  Result<void> check_owner(const StateKey& key, const std::optional<UserState>& state);
  Result<void> index_before_write(const StateKey& key, UserState& state,
                                  std::optional<uid_t> recorded);
  Result<void> remove_state(const std::string& name, std::optional<uid_t> uid);
  Result<void> write_index(uid_t uid, const std::string& name);

  UniqueFd dir_;
  uid_t trusted_uid_;
  gid_t trusted_gid_;  // the group of every file created: 0 for a root store
  std::chrono::milliseconds lock_timeout_;
};

// The largest state text (serialize_state) a file may hold, and a format-1 file may be.
inline constexpr std::size_t kMaxStateFileSize = kMaxStateTextSize;

}  // namespace valix
