#include "file_store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "file_util.hpp"
#include "i18n.hpp"
#include "username.hpp"

namespace valix {
namespace {

constexpr std::string_view kStateSuffix = ".state";
constexpr std::size_t kMaxIndexFileSize = 256;

// TRANSLATORS: {reason} says what is wrong in the file (technical, in English).
constexpr const char* kCorrupt = N_("state file of {user} is corrupt: {reason}");
// TRANSLATORS: {error} says why the state file of {user} cannot be read or checked.
constexpr const char* kNotRemoved = N_("state file of {user}: {error}; nothing removed");

// "+UID.uid": '+' is in no valid user name, so no user's file can have this name.
std::string index_file(uid_t uid) { return "+" + std::to_string(uid) + ".uid"; }

Result<std::string> checked_user(std::string_view user) {
  if (!valid_username(user)) return fail(Errc::invalid, "invalid user name");
  return std::string(user);
}

// Waits for an exclusive flock on fd, polling so that a stuck holder cannot hang a login.
Result<void> lock_exclusive(int fd, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return {};
    if (errno != EWOULDBLOCK && errno != EINTR) return fail_errno("flock", errno);
    if (std::chrono::steady_clock::now() >= deadline) {
      return fail_said(Errc::busy, "timed out waiting for the state lock");
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
}

}  // namespace

Result<FileStateStore> FileStateStore::open(const std::string& directory, uid_t trusted_uid,
                                            std::chrono::milliseconds lock_timeout) {
  auto dir = open_trusted_dir(directory, trusted_uid);
  if (!dir) return fail(dir.error().code, "state directory: " + dir.error().message);
  // root:root in production. A store run by another user (unit tests) cannot give files
  // away: its files keep that user's effective gid.
  const gid_t trusted_gid = trusted_uid == 0 ? 0 : getegid();
  return FileStateStore(std::move(*dir), trusted_uid, trusted_gid, lock_timeout);
}

Result<FileStateStore::StateFile> FileStateStore::read_file(const std::string& user,
                                                            bool for_update) {
  const std::string file = user + std::string(kStateSuffix);
  StateFile out;
  auto fd = open_trusted_file(dir_.get(), file, for_update ? O_RDWR : O_RDONLY, 0, trusted_uid_,
                              FileAccess::private_to_owner);
  out.writable = for_update && fd.has_value();
  if (!fd && for_update && fd.error().code == Errc::io) {
    // A read-only file system (EROFS) still reads: a login that writes nothing (a lockout)
    // goes on, and a write fails when it tries to replace the file.
    fd = open_trusted_file(dir_.get(), file, O_RDONLY, 0, trusted_uid_,
                           FileAccess::private_to_owner);
  }
  if (!fd) {
    if (fd.error().code == Errc::not_found) return out;
    return std::unexpected(fd.error());
  }
  auto bytes = read_all(fd->get(), kMaxSlotFileSize);
  if (!bytes) return fail_at(bytes.error().code, "'" + file + "'", bytes.error());
  auto content = decode_state_file(bytes->view());
  if (!content) {
    if (content.error().code == Errc::unsafe) {
      return fail_at(Errc::unsafe, "'" + file + "'", content.error());
    }
    return fail_said(Errc::corrupt, kCorrupt, {{"user", user}, {"reason", content.error()}});
  }
  auto state = parse_state(content->text);
  if (!state)
    return fail_said(Errc::corrupt, kCorrupt, {{"user", user}, {"reason", state.error()}});
  out.state = std::move(*state);
  if (content->slots) {
    out.slot_size = content->slots->slot_size;
    out.seq = content->slots->seq;
    out.next_offset = static_cast<off_t>(content->slots->next_offset());
  }
  out.fd = std::move(*fd);
  return out;
}

Result<std::optional<UserState>> FileStateStore::read_state(const std::string& user) {
  auto file = read_file(user, false);
  if (!file) return std::unexpected(file.error());
  return std::move(file->state);
}

Result<std::optional<UserState>> FileStateStore::read_state_retrying(const std::string& user) {
  // Writers replace the file by rename, so a reader without the lock still sees one whole
  // version; if a rename lands between its open and fstat it sees 0 links (Errc::busy) and
  // reads again, rather than failing a login that merely ran next to another.
  for (int attempt = 1;; ++attempt) {
    auto state = read_state(user);
    if (state || state.error().code != Errc::busy || attempt == 5) return state;
  }
}

Result<std::optional<UserState>> FileStateStore::load(const StateKey& key) {
  auto name = checked_user(key.name);
  if (!name) return std::unexpected(name.error());
  auto state = read_state_retrying(*name);
  if (!state) return state;
  if (auto owned = check_owner(key, *state); !owned) return std::unexpected(owned.error());
  return state;
}

Result<UniqueFd> FileStateStore::lock_user(const std::string& user) {
  const std::string name = user + ".lock";
  const auto deadline = std::chrono::steady_clock::now() + lock_timeout_;
  auto time_left = [&] {
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  for (;;) {
    auto lock = open_trusted_file(dir_.get(), name, O_RDWR | O_CREAT, 0600, trusted_uid_,
                                  FileAccess::private_to_owner);
    if (!lock) {
      // Errc::busy: replaced between our open and its check; the new one is tried below.
      if (lock.error().code != Errc::busy || time_left().count() == 0) {
        return fail(lock.error().code, "lock file: " + lock.error().message);
      }
      continue;
    }
    if (auto locked = lock_exclusive(lock->get(), time_left()); !locked) {
      return std::unexpected(locked.error());
    }
    // A lock file that was replaced or removed while we waited for it (by hand, or a restore
    // from backup) is an inode nobody else will lock any more: the holder of the one the name
    // leads to now would run beside us. Only that one counts; take it instead.
    struct stat held {
    }, named{};
    if (fstat(lock->get(), &held) != 0) return fail_errno("cannot stat the lock file", errno);
    if (fstatat(dir_.get(), name.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return fail_errno("cannot stat the lock file", errno);
    } else if (held.st_dev == named.st_dev && held.st_ino == named.st_ino) {
      // Created with our effective gid, which in a setuid program is the caller's (and lock
      // files made by earlier versions kept it).
      if (held.st_gid != trusted_gid_ && fchown(lock->get(), trusted_uid_, trusted_gid_) != 0) {
        return fail_errno("cannot give the lock file to its owner", errno);
      }
      return std::move(*lock);
    }
    if (time_left().count() == 0) {
      return fail_said(Errc::busy, "timed out waiting for the state lock (its file kept changing)");
    }
  }
}

namespace {

// The fdatasync that makes a slot written in place durable. Errc::unsynced when it fails: the
// slot is what every reader sees, but may not be on disk.
Result<void> sync_in_place(int fd, const std::string& name) {
  if (fdatasync(fd) != 0) {
    const int err = errno;
    return fail_said(Errc::unsynced,
                     "the new state of {user} is in place, but syncing it failed: {reason}",
                     {{"user", name}, {"reason", std::strerror(err)}});
  }
  return {};
}

}  // namespace

Result<SecretString> FileStateStore::checked_text(const std::string& name, const UserState& state) {
  SecretString text = serialize_state(state);
  // A state that would not read back (a secret or a count out of bounds, too large a file)
  // must never replace one that does: every login and tool would refuse the user from then
  // on, and only removing the file by hand would help.
  if (text.size() > kMaxStateFileSize) {
    return fail(Errc::internal, "the new state of " + name + " is larger than " +
                                    std::to_string(kMaxStateFileSize) + " bytes; nothing written");
  }
  if (auto reread = parse_state(text.view()); !reread) {
    return fail(Errc::internal, "the new state of " + name + " would not read back (" +
                                    reread.error().message + "); nothing written");
  }
  return text;
}

Result<void> FileStateStore::write_slot(const std::string& name, const SecretString& text,
                                        const StateFile& in_place) {
  const SecretString slot = encode_slot(text.view(), in_place.seq + 1, in_place.slot_size);
  if (auto written = pwrite_all(in_place.fd.get(), slot.view(), in_place.next_offset); !written) {
    // The slot written to is invalid now (its trailer, written last, is not the new one):
    // every reader sees the state before, as if nothing had been written.
    return fail(written.error().code, "cannot write the state of " + name + " in place (" +
                                          written.error().message + "); nothing changed");
  }
  return {};
}

Result<void> FileStateStore::write_state(const std::string& name, const UserState& state,
                                         const StateFile* in_place, Write how) {
  auto text = checked_text(name, state);
  if (!text) return std::unexpected(text.error());
  if (in_place && in_place->writable && in_place->slot_size != 0 &&
      fits_slot(text->size(), in_place->slot_size)) {
    if (auto written = write_slot(name, *text, *in_place); !written) return written;
    return sync_in_place(in_place->fd.get(), name);
  }
  if (how == Write::in_place_only) {
    return fail(Errc::internal, "the new state of " + name +
                                    " does not fit the room its update was offered; nothing "
                                    "written");
  }
  const SecretString file = encode_slot_file(text->view(), (in_place ? in_place->seq : 0) + 1);
  return replace_file_atomically(dir_.get(), name + std::string(kStateSuffix), "." + name + ".tmp",
                                 file.view(), FileOwner{trusted_uid_, trusted_gid_});
}

namespace {

// Every secret a state holds (each authenticator, pending, login enrollment).
std::vector<SecretBytes> secrets_of(const UserState& state) {
  std::vector<SecretBytes> out;
  if (state.enrollment) {
    for (const Authenticator* a : state.enrollment->authenticators())
      out.push_back(a->secret.clone());
  }
  if (state.pending) out.push_back(state.pending->secret.clone());
  if (state.login_enrollment) out.push_back(state.login_enrollment->enrollment.secret.clone());
  return out;
}

// True when state still holds every one of secrets (in any role: a login enrollment that is
// installed keeps its secret).
bool keeps_secrets(const std::vector<SecretBytes>& secrets, const UserState& state) {
  const std::vector<SecretBytes> now = secrets_of(state);
  return std::ranges::all_of(secrets, [&](const SecretBytes& old) {
    return std::ranges::any_of(
        now, [&](const SecretBytes& s) { return std::ranges::equal(s.span(), old.span()); });
  });
}

}  // namespace

Result<void> FileStateStore::update(const StateKey& key, const Mutator& mutate) {
  return locked_update(
      key, [&](std::optional<UserState>& state, InPlaceRoom&) { return mutate(state); },
      Placement::in_place_or_replace);
}

Result<void> FileStateStore::update_in_place(const StateKey& key, const RoomMutator& mutate) {
  return locked_update(key, mutate, Placement::in_place_offered);
}

Result<void> FileStateStore::locked_update(const StateKey& key, const RoomMutator& mutate,
                                           Placement placement) {
  auto name = checked_user(key.name);
  if (!name) return std::unexpected(name.error());
  auto lock = lock_user(*name);
  if (!lock) return std::unexpected(lock.error());
  // Held until `lock` closes at the end of this function.
  auto file = read_file(*name, true);
  if (!file) return std::unexpected(file.error());
  std::optional<UserState>* state = &file->state;
  if (auto owned = check_owner(key, *state); !owned) return std::unexpected(owned.error());
  const std::optional<uid_t> recorded = *state ? (*state)->uid : std::nullopt;
  const std::vector<SecretBytes> secrets =
      *state ? secrets_of(**state) : std::vector<SecretBytes>{};
  // Room only where the write is sure to be the slot write: no index entry or uid to add.
  InPlaceRoom room;
  if (placement == Placement::in_place_offered && *state && file->writable &&
      file->slot_size != 0 && (!key.uid || recorded == key.uid)) {
    auto indexed = key.uid ? read_index(*key.uid) : Result<std::optional<std::string>>{};
    if (!indexed) return std::unexpected(indexed.error());
    // write_state's own limit bounds the room too: a state it refuses must not be in it.
    if (!key.uid || *indexed == *name) {
      room.bytes = std::min(file->slot_size - kSlotTrailerSize, kMaxStateFileSize);
    }
  }
  // What the promise allows: the slot write of a state that keeps every secret and the uid.
  auto within_room = [&](const UserState* s, StateChange change) -> Result<void> {
    if (room.bytes == 0 || change == StateChange::remove || s == nullptr || s->empty() ||
        !keeps_secrets(secrets, *s) || s->uid != recorded) {
      return fail(Errc::internal,
                  "an update offered room in place asked for another change of "
                  "the state of " +
                      *name + "; nothing more written");
    }
    return {};
  };
  bool wrote_ahead = false;
  SecretString ahead_text;  // what was written ahead
  if (room.bytes != 0) {
    room.write_ahead = [&](const UserState& ahead) -> Result<void> {
      room.relied_on = true;
      if (auto ok = within_room(&ahead, StateChange::write); !ok) return ok;
      auto text = checked_text(*name, ahead);
      if (!text) return std::unexpected(text.error());
      if (text->size() > room.bytes) {
        return fail(Errc::internal, "a state written ahead does not fit its room");
      }
      if (auto written = write_slot(*name, *text, *file); !written) return written;
      wrote_ahead = true;
      ahead_text = std::move(*text);
      return {};
    };
  }
  auto change = mutate(*state, room);
  // What was written ahead stands whatever follows (an error, a keep): it is made durable.
  if (!change || *change == StateChange::keep) {
    if (wrote_ahead) {
      if (auto synced = sync_in_place(file->fd.get(), *name); !synced) return synced;
    }
    if (!change) return std::unexpected(change.error());
    return {};
  }
  if (room.relied_on) {
    // A commit refused or failed after a write ahead: what was written ahead stands, synced;
    // if even that sync fails, that is the error to report.
    auto keeping_ahead = [&](Error why) -> Result<void> {
      if (wrote_ahead) {
        if (auto synced = sync_in_place(file->fd.get(), *name); !synced) return synced;
      }
      return std::unexpected(std::move(why));
    };
    if (auto ok = within_room(*state ? &**state : nullptr, *change); !ok) {
      return keeping_ahead(ok.error());
    }
    // Over what was written ahead, if anything: the same slot, the same sequence number.
    auto written = write_state(*name, **state, &*file, Write::in_place_only);
    if (written || !wrote_ahead || written.error().code == Errc::unsynced) return written;
    // Whatever the slot holds now, what was written ahead must stand.
    if (auto again = write_slot(*name, ahead_text, *file); !again) return again;
    return keeping_ahead(written.error());
  }
  switch (*change) {
    case StateChange::keep: return {};
    case StateChange::remove: return remove_state(*name, recorded ? recorded : key.uid);
    case StateChange::write:
      if (!*state) return fail(Errc::invalid, "write requested without a state");
      if ((*state)->empty()) return remove_state(*name, recorded ? recorded : key.uid);
      // Errc::unsynced here is made good by the directory sync of the state's replace just
      // below (so that write is not made in place).
      auto indexed = index_before_write(key, **state, recorded);
      if (!indexed && indexed.error().code != Errc::unsynced) {
        return std::unexpected(indexed.error());
      }
      // A secret dropped (reset, re-enrollment) must not live on in the other slot: replaced.
      const bool in_place = indexed && keeps_secrets(secrets, **state);
      return write_state(*name, **state, in_place ? &*file : nullptr);
  }
  return fail(Errc::invalid, "unknown state change");
}

Result<std::string> FileStateStore::remove_unreadable(std::string_view user) {
  auto name = checked_user(user);
  if (!name) return std::unexpected(name.error());
  auto lock = lock_user(*name);
  if (!lock) return std::unexpected(lock.error());
  const std::string file = *name + std::string(kStateSuffix);
  // The same checks as every read: what fails them was not written by Valix and is kept.
  auto fd =
      open_trusted_file(dir_.get(), file, O_RDONLY, 0, trusted_uid_, FileAccess::private_to_owner);
  if (!fd) {
    return fail_said(fd.error().code, kNotRemoved, {{"user", *name}, {"error", fd.error()}});
  }
  std::string why;
  auto text = read_all(fd->get(), kMaxSlotFileSize);
  auto content = text ? decode_state_file(text->view()) : Result<StateFileContent>{};
  if (!text) {
    // Of a file already checked, only its size is "unsafe"; anything else is an I/O error,
    // which says nothing about the content.
    if (text.error().code != Errc::unsafe) {
      return fail_said(text.error().code, kNotRemoved, {{"user", *name}, {"error", text.error()}});
    }
    why = text.error().message;
  } else if (!content) {
    why = content.error().message;  // no intact slot, or too large for format 1
  } else if (auto parsed = parse_state(content->text); !parsed) {
    why = parsed.error().message;
  } else {
    return fail_said(Errc::conflict, "the state of {user} can be read; nothing removed",
                     {{"user", *name}});
  }
  // The name still leads to the file just judged: the directory is writable only by its
  // owner and we hold the lock, but removing another file than the one read would be wrong.
  struct stat opened {
  }, named{};
  if (fstat(fd->get(), &opened) != 0 ||
      fstatat(dir_.get(), file.c_str(), &named, AT_SYMLINK_NOFOLLOW) != 0 ||
      opened.st_dev != named.st_dev || opened.st_ino != named.st_ino) {
    return fail_said(Errc::busy,
                     "state file of {user} was replaced while being checked; nothing removed",
                     {{"user", *name}});
  }
  if (auto removed = remove_file_durably(dir_.get(), file); !removed) {
    return std::unexpected(removed.error());
  }
  return why;
}

Result<std::optional<std::string>> FileStateStore::read_index(uid_t uid) {
  const std::string file = index_file(uid);
  for (int attempt = 1;; ++attempt) {
    auto text = read_trusted_file(dir_.get(), file, trusted_uid_, FileAccess::private_to_owner,
                                  kMaxIndexFileSize);
    if (!text && text.error().code == Errc::busy && attempt < 5) continue;  // as in load
    if (!text && text.error().code == Errc::not_found) return std::optional<std::string>{};
    if (!text) return fail(text.error().code, "uid index: " + text.error().message);
    std::string_view content = text->view();
    if (!content.ends_with('\n') || !valid_username(content.substr(0, content.size() - 1))) {
      return fail(Errc::corrupt, "uid index " + file + " is corrupt");
    }
    return std::optional<std::string>(content.substr(0, content.size() - 1));
  }
}

Result<std::optional<std::string>> FileStateStore::name_filed_for(uid_t uid) {
  auto indexed = read_index(uid);
  if (!indexed || !*indexed) return indexed;
  auto state = read_state_retrying(**indexed);
  if (!state) return std::unexpected(state.error());
  if (!*state || (*state)->uid != uid) return std::optional<std::string>{};  // stale
  return indexed;
}

Result<void> FileStateStore::check_owner(const StateKey& key,
                                         const std::optional<UserState>& state) {
  if (!key.uid) return {};
  std::optional<std::string> filed;
  if (!state || !state->uid || *state->uid == *key.uid) {
    // An index entry naming key.name is ours whether or not it is stale: no need to read that
    // state again to judge it (a login makes three of these checks).
    auto indexed = read_index(*key.uid);
    if (!indexed) return std::unexpected(indexed.error());
    if (*indexed && **indexed != key.name) {
      auto found = name_filed_for(*key.uid);
      if (!found) return std::unexpected(found.error());
      filed = std::move(*found);
    }
  }
  return check_state_owner(key, state, filed);
}

Result<void> FileStateStore::write_index(uid_t uid, const std::string& name) {
  // The temp name carries the state's name: the caller holds that name's lock, not one for
  // the uid.
  const std::string file = index_file(uid);
  return replace_file_atomically(dir_.get(), file, "." + file + "." + name + ".tmp", name + "\n",
                                 FileOwner{trusted_uid_, trusted_gid_});
}

Result<void> FileStateStore::index_before_write(const StateKey& key, UserState& state,
                                                std::optional<uid_t> recorded) {
  // Without an account for the name, the state keeps the uid it recorded and the index is left
  // to a write that knows the account.
  state.uid = key.uid ? key.uid : recorded;
  if (!key.uid) return {};
  // check_owner (or rename) has found the entry missing, stale or already ours, so replacing
  // it never hides another name's state.
  auto indexed = read_index(*key.uid);
  if (!indexed) return std::unexpected(indexed.error());
  if (*indexed == key.name) return {};
  return write_index(*key.uid, key.name);
}

Result<void> FileStateStore::remove_state(const std::string& name, std::optional<uid_t> uid) {
  // The state first: a crash before the index entry goes leaves it pointing at a name without
  // state, which is stale and ignored; the other order could leave state nothing points at.
  auto removed = remove_file_durably(dir_.get(), name + std::string(kStateSuffix));
  if (!removed && removed.error().code != Errc::unsynced) return removed;
  if (uid) {
    auto indexed = read_index(*uid);
    if (!indexed) return std::unexpected(indexed.error());
    if (*indexed == name) {
      if (auto unindexed = remove_file_durably(dir_.get(), index_file(*uid)); !unindexed) {
        return unindexed;
      }
    }
  }
  return removed;
}

Result<void> FileStateStore::rename(const StateKey& from, const StateKey& to) {
  auto from_name = checked_user(from.name);
  if (!from_name) return std::unexpected(from_name.error());
  auto to_name = checked_user(to.name);
  if (!to_name) return std::unexpected(to_name.error());
  if (!to.uid) return fail(Errc::invalid, "a state can only be moved to an account's name");
  if (*from_name == *to_name) {
    return fail_said(Errc::invalid, "the state is already filed under '{user}'",
                     {{"user", *to_name}});
  }
  // Always in name order, so that two moves between the same names cannot deadlock.
  const bool from_first = *from_name < *to_name;
  auto first = lock_user(from_first ? *from_name : *to_name);
  if (!first) return std::unexpected(first.error());
  auto second = lock_user(from_first ? *to_name : *from_name);
  if (!second) return std::unexpected(second.error());
  // Both held until the end of this function.
  auto state = read_state(*from_name);
  if (!state) return std::unexpected(state.error());
  if (!*state) {
    return fail_said(Errc::not_found, "'{user}' has no 2FA state", {{"user", *from_name}});
  }
  auto existing = read_state(*to_name);
  if (!existing) return std::unexpected(existing.error());
  if (*existing) {
    return fail_said(Errc::conflict, "'{user}' already has 2FA state; keep one of the two",
                     {{"user", *to_name}});
  }
  const std::optional<uid_t> owner = (*state)->uid ? (*state)->uid : from.uid;
  if (owner && *owner != *to.uid) {
    return fail_said(Errc::misfiled,
                     "the 2FA state filed under '{from}' belongs to uid {owner}, not to '{to}' "
                     "(uid {uid})",
                     {{"from", *from_name},
                      {"owner", std::to_string(*owner)},
                      {"to", *to_name},
                      {"uid", std::to_string(*to.uid)}});
  }
  auto filed = name_filed_for(*to.uid);
  if (!filed) return std::unexpected(filed.error());
  if (*filed && **filed != *from_name) {
    return fail_said(Errc::misfiled,
                     "uid {uid} already has 2FA state under '{user}'; keep one of the two",
                     {{"uid", std::to_string(*to.uid)}, {"user", **filed}});
  }
  // One rename moves the state, so it is under exactly one of the names at every moment. Until
  // the index follows, it points at a name without state: stale, ignored, and logins by
  // to.name find the state under their own name meanwhile.
  if (auto moved = move_file_durably(dir_.get(), *from_name + std::string(kStateSuffix),
                                     *to_name + std::string(kStateSuffix));
      !moved && moved.error().code != Errc::unsynced) {
    return moved;
  }
  auto moved_but = [&](const Error& error) {
    return fail_said(error.code,
                     "the state was moved to '{user}', but recording its uid failed (its next "
                     "write records it): {error}",
                     {{"user", *to_name}, {"error", error}});
  };
  // As in update: an unsynced step is made good by the directory sync of the next.
  auto indexed = index_before_write(to, **state, (*state)->uid);
  if (!indexed && indexed.error().code != Errc::unsynced) return moved_but(indexed.error());
  auto stamped = write_state(*to_name, **state);
  if (!stamped) return moved_but(stamped.error());
  return {};
}

Result<std::vector<std::string>> FileStateStore::list_users() {
  const int fd = openat(dir_.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno("cannot list the state directory", errno);
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int err = errno;
    close(fd);
    return fail_errno("cannot list the state directory", err);
  }
  std::vector<std::string> users;
  errno = 0;
  while (const dirent* entry = readdir(dir)) {
    std::string_view name(entry->d_name);
    if (!name.ends_with(kStateSuffix)) continue;
    name.remove_suffix(kStateSuffix.size());
    if (valid_username(name)) users.emplace_back(name);
  }
  const int err = errno;
  closedir(dir);
  if (err != 0) return fail_errno("cannot list the state directory", err);
  std::sort(users.begin(), users.end());
  return users;
}

}  // namespace valix
