// Per-user state storage: the interface every backend provides (a consistent read, and an
// atomic read-modify-write), and the one place that picks the backend from the configuration.
// The front ends (module, tools) hold a StateStore& and never name a backend.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "state.hpp"

namespace valix {

// What a mutator decided to do with the state it was given. A write of a state with nothing
// worth keeping (UserState::empty) removes it: the store decides that, not each caller.
enum class StateChange { keep, write, remove };

// Whose state is meant: the name it is filed under (valid_username) and the uid of the
// account that name belongs to now, nullopt when the name has no account (or, for an
// administrator looking at a file as it is, when no account is meant).
//
// State belongs to an account, not to a name: names change (usermod -l) and several passwd
// entries can share a uid. So a store records the uid in every state it writes and keeps an
// index from each uid to the name its state is filed under. With a uid, load and update refuse
// (Errc::misfiled) rather than treat the account as one without state:
//  - a state under name that records another uid (the name now belongs to another account);
//  - a state of this uid filed under another name (the account was renamed, or another login
//    name for the uid now comes first), until an administrator moves it (rename).
// A state that records no uid (written before uids were recorded) is taken as the named
// account's, and is given the uid on its next write.
struct StateKey {
  std::string name;
  std::optional<uid_t> uid;

  bool operator==(const StateKey&) const = default;
};

class StateStore {
 public:
  virtual ~StateStore() = default;

  // The state, nullopt when there is none. A state that exists but cannot be trusted or
  // parsed is an error, never nullopt; so is state misfiled as above (Errc::misfiled).
  virtual Result<std::optional<UserState>> load(const StateKey& key) = 0;

  // Runs mutate on the current state (nullopt when there is none) while holding the name's
  // exclusive lock, then applies its decision atomically before releasing the lock. Either
  // the old state or the whole new one is visible afterwards, never a mix. An error from
  // mutate is returned unchanged and nothing is written. A new state that load() could not
  // read back (parse_state, the size limit) is Errc::internal and nothing is written; a state
  // misfiled as above, found under the lock, is Errc::misfiled and nothing is written. A written
  // state records key.uid (when given; otherwise the uid it recorded). Errc::unsynced: the new
  // state is in place, but the directory sync after it failed.
  //
  // mutate may run more than once: a store that detects a concurrent writer (a
  // compare-and-swap directory) runs it again on a fresh read. So it must not consume what it
  // captures (move out of it), and only the outputs of the run whose result was committed
  // count: a caller reads its outputs after update returned success, and each run overwrites
  // them. A network store may also fail with Errc::unreachable (nothing was written) or
  // Errc::outcome_unknown (the write was sent, its answer lost, and a re-read could not tell
  // whether it was applied): both deny, and neither is ever taken as success.
  using Mutator = std::function<Result<StateChange>(std::optional<UserState>&)>;
  virtual Result<void> update(const StateKey& key, const Mutator& mutate) = 0;

  // update, for a mutator that commits in one flush what it must record before it decides
  // (verify.hpp: an answer's charge, then its verdict). The mutator is also given room:
  //  - room.bytes: the largest state (serialize_state bytes, as this store writes it) that the
  //    commit writes in place, over space already allocated, with one write of the same
  //    offset and length whatever the content, so that a file-size limit, a full disk or any
  //    other failure hits every content alike; 0 when the store cannot promise this (this
  //    default, a file in the old format, a state without its uid recorded, a directory).
  //  - room.write_ahead(state) (only when bytes is not 0): writes state where the commit will
  //    go, without syncing it. Every reader sees it from then on, and no signal, kill or limit
  //    on this process can take it back (only a crash before the commit's sync can, and then
  //    nothing was reported). The commit then writes the final state over it, in the same
  //    place, and syncs once; if the mutator fails or keeps, what was written ahead is synced
  //    and stands. It may be called more than once (each replaces the last).
  // A mutator that relies on either sets room.relied_on; then a write ahead or a commit that
  // would exceed room.bytes, replace anything or remove the state is refused (Errc::internal)
  // and nothing more is written. Otherwise the commit is update's. A store that may run a
  // mutator more than once (compare-and-swap) never offers room: a write ahead cannot be
  // taken back by a retry.
  struct InPlaceRoom {
    std::size_t bytes = 0;
    bool relied_on = false;
    std::function<Result<void>(const UserState&)> write_ahead;
  };
  using RoomMutator = std::function<Result<StateChange>(std::optional<UserState>&, InPlaceRoom&)>;
  virtual Result<void> update_in_place(const StateKey& key, const RoomMutator& mutate) {
    return update(key, [&](std::optional<UserState>& state) {
      InPlaceRoom none;
      return mutate(state, none);
    });
  }

  // The name the state of uid is filed under, nullopt when no state records uid. An index
  // entry whose state is missing or records another uid (a crash between the two writes) is
  // stale and ignored, never trusted.
  virtual Result<std::optional<std::string>> name_filed_for(uid_t uid) = 0;

  // Moves the state filed under from.name to to.name, under both names' locks, so that it is
  // under one of them at every moment; it then records to.uid. from.uid is the uid from.name's
  // account has now, if any. Refused: Errc::conflict when to.name already has state;
  // Errc::misfiled when the state belongs to another account than to.uid (the uid it records
  // or, when it records none, from.uid), or when another name holds state of to.uid;
  // Errc::not_found when from.name has none. to.uid is required.
  virtual Result<void> rename(const StateKey& from, const StateKey& to) = 0;

  // Every user that has state, sorted.
  virtual Result<std::vector<std::string>> list_users() = 0;

  // Removes the user's state when it exists but cannot be read as a state (load() says
  // Errc::corrupt, or it is too large), under the user's lock, and returns why it could not be
  // read. Nothing is removed, and it is an error, when the state reads fine (Errc::conflict),
  // there is none (Errc::not_found) or the store would not trust it whatever it held
  // (Errc::unsafe): the last are signs of tampering, for an administrator to look at rather
  // than to have cleaned away. Errc::unsynced: removed, but the directory sync failed. A store
  // that cannot hold unreadable state need not override this.
  virtual Result<std::string> remove_unreadable(std::string_view user) {
    return fail(Errc::invalid,
                "this state store cannot remove unreadable state of " + std::string(user));
  }
};

// The StateKey rules above, for a state found under key.name and the name (if any) that holds
// state of key.uid: Errc::misfiled saying what an administrator must do. Every store's load
// and update apply them.
Result<void> check_state_owner(const StateKey& key, const std::optional<UserState>& state,
                               const std::optional<std::string>& filed_for_uid);

// Who opens the store. It matters to a directory (store = ldap), whose access control lets a
// host verify codes and enroll, and lets administrators change everything (ldap_admin_bind_dn;
// without it, valix-admin binds as the host and the directory decides).
enum class StoreUser { host, admin };

// The store valix.conf names (the files under state_dir, or the fleet's directory), opened
// and checked. trusted_uid owns the store's files, including a directory's password files
// (root in production; the effective uid for tests run as a user).
// A directory is connected and bound here, so a setuid program opens its store while still
// privileged (the password file is root's) and keeps the connection when it drops privileges.
Result<std::unique_ptr<StateStore>> open_state_store(const Config& config, uid_t trusted_uid,
                                                     StoreUser user = StoreUser::host);

}  // namespace valix
