// An in-memory StateStore for unit tests. Like a compare-and-swap store that lost a race, it
// runs every mutator twice: once on a fresh copy whose result it throws away, then on another
// fresh copy whose result it commits. A mutator that consumes what it captured, or whose
// outputs come from the discarded run, is caught by the tests that use it. Writes can be made
// to fail from a given update on, as a full disk or a file-size limit would, and every read
// to fail, as an unreadable state would.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

class MemoryStore final : public valix::StateStore {
 public:
  valix::Result<std::optional<valix::UserState>> load(const valix::StateKey& key) override {
    if (fail_loads) return std::unexpected(*fail_loads);
    auto it = states_.find(key.name);
    if (it == states_.end()) return std::optional<valix::UserState>{};
    return std::optional<valix::UserState>(it->second.clone());
  }

  valix::Result<void> update(const valix::StateKey& key, const Mutator& mutate) override {
    ++updates;
    if (before_update && updates == before_update_at) {
      auto hook = std::move(before_update);  // runs once, and may itself update the store
      before_update = nullptr;
      hook();
    }
    for (int run = 1; run <= 2; ++run) {
      auto current = load(key);
      if (!current) return std::unexpected(current.error());
      auto change = mutate(*current);
      if (!change) return std::unexpected(change.error());
      if (run == 1) continue;  // the lost race: retried on a fresh read
      return commit(key, *change, *current, true);
    }
    return {};
  }

  // As the file store: room (when set) is offered, with a write ahead that is visible at once;
  // a write beyond the room, or a removal, is refused with nothing more written. With room
  // the mutator runs once, as in a store that holds a lock (a write ahead cannot be retried).
  // interrupt_after_write_ahead: the commit after a write ahead fails, as a kill or a crash of
  // the process would end it there; what was written ahead stands.
  valix::Result<void> update_in_place(const valix::StateKey& key,
                                      const RoomMutator& mutate) override {
    if (room == 0) return StateStore::update_in_place(key, mutate);
    ++updates;
    auto current = load(key);
    if (!current) return std::unexpected(current.error());
    valix::StateStore::InPlaceRoom offered;
    offered.bytes = *current ? room : 0;
    bool wrote_ahead = false;
    auto fits = [&](const valix::UserState& s) { return valix::serialize_state(s).size() <= room; };
    if (offered.bytes != 0) {
      offered.write_ahead = [&](const valix::UserState& ahead) -> valix::Result<void> {
        offered.relied_on = true;
        if (!fits(ahead)) {
          ++refused_beyond_room;
          return valix::fail(valix::Errc::internal, "beyond the room offered (test)");
        }
        if (fail_writes_from != 0 && updates >= fail_writes_from) {
          return valix::fail(valix::Errc::io, "write failed (test)");
        }
        ++writes_ahead;
        states_.insert_or_assign(key.name, ahead.clone());
        wrote_ahead = true;
        return {};
      };
    }
    auto change = mutate(*current, offered);
    if (!change) return std::unexpected(change.error());
    if (*change == valix::StateChange::keep) return {};
    if (wrote_ahead && interrupt_after_write_ahead) {
      return valix::fail(valix::Errc::io, "interrupted after the write ahead (test)");
    }
    if (offered.relied_on &&
        (!*current || *change == valix::StateChange::remove || !fits(**current))) {
      ++refused_beyond_room;
      return valix::fail(valix::Errc::internal, "beyond the room offered (test)");
    }
    return commit(key, *change, *current, !wrote_ahead);
  }

  // Names only: this store keeps no uid index (the file store's uid rules have their own
  // tests).
  valix::Result<std::optional<std::string>> name_filed_for(uid_t) override {
    return std::optional<std::string>{};
  }
  valix::Result<void> rename(const valix::StateKey&, const valix::StateKey&) override {
    return valix::fail(valix::Errc::invalid, "MemoryStore: rename is not supported");
  }

  valix::Result<std::vector<std::string>> list_users() override {
    std::vector<std::string> users;
    for (const auto& [name, state] : states_) users.push_back(name);
    return users;
  }

  void put(const std::string& user, const valix::UserState& state) {
    states_.insert_or_assign(user, state.clone());
  }
  const valix::UserState& at(const std::string& user) const { return states_.at(user); }

  int updates = 0;
  int writes = 0;
  std::size_t room = 0;  // 0: update_in_place offers none (as a directory)
  int refused_beyond_room = 0;
  int writes_ahead = 0;
  bool interrupt_after_write_ahead = false;
  int fail_writes_from = 0;                // 0: never; N: every write from the Nth update on fails
  std::optional<valix::Error> fail_loads;  // set: every read (and so every update) fails so
  // Run once just before the before_update_at-th update: another login racing this one.
  std::function<void()> before_update;
  int before_update_at = 0;

 private:
  // Applies a mutator's decision; a write fails (fail_writes_from) when may_fail.
  valix::Result<void> commit(const valix::StateKey& key, valix::StateChange change,
                             std::optional<valix::UserState>& state, bool may_fail) {
    if (change == valix::StateChange::keep) return {};
    if (may_fail && fail_writes_from != 0 && updates >= fail_writes_from) {
      return valix::fail(valix::Errc::io, "write failed (test)");
    }
    ++writes;
    if (change == valix::StateChange::remove || !state || state->empty()) {
      states_.erase(key.name);
    } else {
      states_.insert_or_assign(key.name, std::move(*state));
    }
    return {};
  }

  std::map<std::string, valix::UserState> states_;
};

// A store that lends another, for code that owns its store (valix-enroll's flows, the
// module): the test's store outlives it, and the test looks at it afterwards.
class BorrowedStore final : public valix::StateStore {
 public:
  explicit BorrowedStore(valix::StateStore& to) : to_(to) {}
  valix::Result<std::optional<valix::UserState>> load(const valix::StateKey& key) override {
    return to_.load(key);
  }
  valix::Result<void> update(const valix::StateKey& key, const Mutator& mutate) override {
    return to_.update(key, mutate);
  }
  valix::Result<void> update_in_place(const valix::StateKey& key,
                                      const RoomMutator& mutate) override {
    return to_.update_in_place(key, mutate);
  }
  valix::Result<std::optional<std::string>> name_filed_for(uid_t uid) override {
    return to_.name_filed_for(uid);
  }
  valix::Result<void> rename(const valix::StateKey& from, const valix::StateKey& to) override {
    return to_.rename(from, to);
  }
  valix::Result<std::vector<std::string>> list_users() override { return to_.list_users(); }

  static std::unique_ptr<valix::StateStore> of(valix::StateStore& store) {
    return std::make_unique<BorrowedStore>(store);
  }

 private:
  valix::StateStore& to_;
};
