#include "ldap_store.hpp"

#include <strings.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "i18n.hpp"
#include "secure.hpp"
#include "username.hpp"

namespace valix {
namespace {

// Each conflict means another writer's change went in, so the attempts bound only how long
// one login waits behind others (32 at once with one code is a tested case).
constexpr int kMaxAttempts = 64;

Result<std::string> new_generation(std::string_view old) {
  for (;;) {
    std::uint8_t bytes[8];
    if (auto ok = random_bytes(bytes); !ok) return std::unexpected(ok.error());
    std::uint64_t value = 0;
    for (const auto b : bytes) value = (value << 8) | b;
    // Random rather than a counter: after a lost answer, a re-read can tell our write from
    // another writer's, and no two writes ever leave the same value behind (no ABA).
    std::string text = std::to_string(value >> 1);
    if (text != old) return text;
  }
}

std::vector<std::string> values_of(const std::vector<SecretString>& values) {
  std::vector<std::string> out;
  out.reserve(values.size());
  for (const auto& v : values) out.emplace_back(v.view());
  return out;
}

// The changes that turn attributes from into to: every changed value deleted by its exact
// old value (which fails if it changed meanwhile) and the new one added.
std::vector<LdapChange> changes_between(const LdapAttributes& from, const LdapAttributes& to) {
  std::vector<LdapChange> changes;
  std::vector<std::string> names;
  for (const auto& [name, values] : from) names.push_back(name);
  for (const auto& [name, values] : to) names.push_back(name);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  static const std::vector<SecretString> kNone;
  for (const auto& name : names) {
    const auto f = from.find(name), t = to.find(name);
    std::vector<std::string> old_values = values_of(f == from.end() ? kNone : f->second);
    std::vector<std::string> new_values = values_of(t == to.end() ? kNone : t->second);
    std::sort(old_values.begin(), old_values.end());
    std::sort(new_values.begin(), new_values.end());
    std::vector<std::string> removed, added;
    std::set_difference(old_values.begin(), old_values.end(), new_values.begin(), new_values.end(),
                        std::back_inserter(removed));
    std::set_difference(new_values.begin(), new_values.end(), old_values.begin(), old_values.end(),
                        std::back_inserter(added));
    if (!removed.empty()) changes.push_back({LdapChange::Op::remove, name, std::move(removed)});
    if (!added.empty()) changes.push_back({LdapChange::Op::add, name, std::move(added)});
    for (auto& v : old_values) wipe(v.data(), v.size());
    for (auto& v : new_values) wipe(v.data(), v.size());
  }
  return changes;
}

void wipe_changes(std::vector<LdapChange>& changes) {
  for (auto& c : changes) {
    for (auto& v : c.values) wipe(v.data(), v.size());
  }
}

void pause_before(int attempt) {
  auto jitter = random_below(static_cast<std::uint32_t>(200 * std::min(attempt, 20)));
  std::this_thread::sleep_for(std::chrono::microseconds(jitter ? *jitter : 100));
}

}  // namespace

struct LdapStateStore::Found {
  bool exists = false;        // the entry named by the key
  std::string generation;     // its valixGeneration
  LdapAttributes attributes;  // its state attributes, as read
  std::optional<UserState> state;
  std::optional<Error> unreadable;           // why its attributes are not a state
  std::optional<std::string> filed_for_uid;  // another name holding state of key.uid
};

LdapStateStore::LdapStateStore(LdapSettings settings, LdapBind bind, uid_t trusted_uid,
                               LdapConnection connection)
    : settings_(std::move(settings)),
      bind_(std::move(bind)),
      trusted_uid_(trusted_uid),
      connection_(std::move(connection)) {}

Result<std::unique_ptr<LdapStateStore>> LdapStateStore::open(const LdapSettings& settings,
                                                             const LdapBind& bind,
                                                             uid_t trusted_uid) {
  auto connection = LdapConnection::open(settings, bind, trusted_uid);
  if (!connection) return std::unexpected(connection.error());
  return std::unique_ptr<LdapStateStore>(
      new LdapStateStore(settings, bind, trusted_uid, std::move(*connection)));
}

LdapStateStore::~LdapStateStore() = default;

std::string LdapStateStore::dn_of(std::string_view name) const {
  return "uid=" + escape_dn_value(name) + "," + settings_.base;
}

Result<LdapStateStore::Found> LdapStateStore::find(const StateKey& key) {
  if (!valid_username(key.name)) return fail(Errc::invalid, "invalid user name");
  std::string filter = "(&(objectClass=valixState)";
  const std::string named = "(uid=" + escape_filter_value(key.name) + ")";
  if (key.uid) {
    filter += "(|" + named + "(valixUidNumber=" + std::to_string(*key.uid) + ")))";
  } else {
    filter += named + ")";
  }
  auto entries = connection_.search_children(filter);
  if (!entries) return std::unexpected(entries.error());
  Found found;
  std::vector<std::string> others;
  for (auto& entry : *entries) {
    // The entry is named by its RDN, which the directory matches without regard to case (as
    // it matches the DN); further uid values, which the filter also matches, name nothing.
    const bool is_named = strcasecmp(entry.name.c_str(), key.name.c_str()) == 0;
    auto state = attributes_to_state(entry.attributes);
    if (is_named) {
      if (!entry.generation || entry.generation->empty()) {
        return fail(Errc::corrupt,
                    "directory entry " + dn_of(key.name) + " has no single valixGeneration");
      }
      found.exists = true;
      found.generation = *entry.generation;
      if (state) {
        found.state = std::move(*state);
      } else {
        found.unreadable = Error{Errc::corrupt, "directory entry " + dn_of(key.name) +
                                                    " is corrupt: " + state.error().message};
      }
      found.attributes = std::move(entry.attributes);
    } else if (key.uid && (!state || (*state && (*state)->uid == key.uid))) {
      // Another entry holding state of this account (or unreadable state that records its
      // uid, which an administrator must look at all the same). One matched only by an extra
      // uid value and holding another account's state is not this account's business.
      auto recorded = entry.attributes.find("valixUidNumber");
      const bool records_uid = recorded != entry.attributes.end() && recorded->second.size() == 1 &&
                               recorded->second.front().view() == std::to_string(*key.uid);
      if (state || records_uid) {
        others.push_back(entry.name.empty() ? "(an entry not named uid=NAME)" : entry.name);
      }
    }
  }
  std::sort(others.begin(), others.end());
  if (!others.empty()) found.filed_for_uid = others.front();
  return found;
}

// What load and update refuse in an entry they found: unreadable state, and the StateKey rules.
Result<void> LdapStateStore::usable_for(const StateKey& key, const Found& found) {
  if (found.unreadable) return std::unexpected(*found.unreadable);
  return check_state_owner(key, found.state, found.filed_for_uid);
}

Result<std::optional<UserState>> LdapStateStore::load(const StateKey& key) {
  cached_.reset();
  auto found = find(key);
  if (!found) return std::unexpected(found.error());
  if (auto usable = usable_for(key, *found); !usable) return std::unexpected(usable.error());
  std::optional<UserState> state;
  if (found->state) state = found->state->clone();
  remember(key, std::move(*found));
  return state;
}

Result<void> LdapStateStore::update(const StateKey& key, const Mutator& mutate) {
  bool lost_a_race = false;
  for (int attempt = 1; attempt <= kMaxAttempts; ++attempt) {
    // The entry as this store last read or wrote it, if it is key's: the compare-and-swap
    // finds out if it is out of date, and a decision to keep it is checked on a fresh read
    // below, so it saves a search without ever deciding on an old entry.
    const bool from_cache = cached_ && cached_key_ == key;
    if (lost_a_race) pause_before(attempt);
    lost_a_race = false;
    Result<Found> found = from_cache ? Result<Found>(std::move(*cached_)) : find(key);
    cached_.reset();
    if (!found) return std::unexpected(found.error());
    if (auto usable = usable_for(key, *found); !usable) return std::unexpected(usable.error());
    // A fresh copy for every run: the mutator may change it, and only a committed run counts.
    std::optional<UserState> state;
    if (found->state) state = found->state->clone();
    const std::optional<uid_t> recorded = state ? state->uid : std::nullopt;
    auto change = mutate(state);
    if (!change) return std::unexpected(change.error());
    std::optional<UserState> target;
    switch (*change) {
      case StateChange::keep:
        if (from_cache) continue;  // decided on what was read before: decide again, fresh
        remember(key, std::move(*found));
        return {};
      case StateChange::remove: break;
      case StateChange::write:
        if (!state) return fail(Errc::invalid, "write requested without a state");
        if (!state->empty()) {
          state->uid = key.uid ? key.uid : recorded;
          target = std::move(state);
        }
        break;
    }
    auto written = write(key.name, *found, target);
    if (written) {
      remember(key, std::move(*written));
      return {};
    }
    if (written.error().code != Errc::conflict) return std::unexpected(written.error());
    lost_a_race = true;
  }
  return fail_said(Errc::busy,
                   "the directory entry of {user} kept changing ({attempts} attempts); nothing "
                   "written",
                   {{"user", key.name}, {"attempts", std::to_string(kMaxAttempts)}});
}

void LdapStateStore::remember(const StateKey& key, Found found) {
  cached_key_ = key;
  cached_ = std::make_unique<Found>(std::move(found));
}

Result<LdapStateStore::Found> LdapStateStore::write(const std::string& name, const Found& found,
                                                    const std::optional<UserState>& state) {
  LdapAttributes target;
  if (state) {
    target = state_to_attributes(*state);
    // What would not read back must never replace what does (as in the file store).
    if (auto reread = attributes_to_state(target); !reread) {
      return fail(Errc::internal, "the new state of " + name + " would not read back (" +
                                      reread.error().message + "); nothing written");
    }
  }
  const std::string dn = dn_of(name);
  std::string generation = found.generation;
  // What the entry holds once the write is committed.
  auto committed = [&](std::string new_generation) {
    Found after;
    after.exists = true;
    after.generation = std::move(new_generation);
    for (const auto& [attribute, values] : target) {
      for (const auto& v : values) after.attributes[attribute].emplace_back(v.view());
    }
    if (state) after.state = state->clone();
    after.filed_for_uid = found.filed_for_uid;
    return after;
  };
  if (!found.exists) {
    if (!state) return Found{};
    auto first = new_generation("");
    if (!first) return std::unexpected(first.error());
    // Created bare, then filled by the compare-and-swap below, so that an entry only ever
    // gains a secret through the modify the directory's ACL judges.
    std::vector<LdapChange> bare{{LdapChange::Op::add, "objectClass", {"valixState"}},
                                 {LdapChange::Op::add, "uid", {name}},
                                 {LdapChange::Op::add, "valixGeneration", {*first}}};
    if (auto added = connection_.add(dn, bare); !added) return std::unexpected(added.error());
    generation = *first;
  }
  std::vector<LdapChange> changes = changes_between(found.attributes, target);
  if (changes.empty()) return committed(generation);
  auto next = new_generation(generation);
  if (!next) return std::unexpected(next.error());
  changes.push_back({LdapChange::Op::remove, "valixGeneration", {generation}});
  changes.push_back({LdapChange::Op::add, "valixGeneration", {*next}});
  auto modified = connection_.modify(dn, changes);
  wipe_changes(changes);
  if (!modified && modified.error().code == Errc::outcome_unknown) {
    modified = settle(name, *next, modified.error());
  }
  if (!modified) return std::unexpected(modified.error());
  return committed(*next);
}

Result<void> LdapStateStore::settle(const std::string& name, const std::string& generation,
                                    const Error& lost) {
  // The answer to our modify was lost: it may or may not have been applied. Only a re-read
  // over a new connection can say; anything short of seeing our own generation is a failure.
  auto reconnected = LdapConnection::open(settings_, bind_, trusted_uid_);
  if (!reconnected) {
    return fail(Errc::outcome_unknown,
                lost.message + "; cannot re-read to settle it: " + reconnected.error().message);
  }
  connection_ = std::move(*reconnected);
  auto found = find(StateKey{name, std::nullopt});
  if (!found) {
    return fail(Errc::outcome_unknown,
                lost.message + "; cannot re-read to settle it: " + found.error().message);
  }
  if (found->exists && found->generation == generation) return {};
  return fail(Errc::outcome_unknown, lost.message +
                                         "; the re-read shows the write was not "
                                         "applied as sent; nothing is assumed");
}

Result<std::optional<std::string>> LdapStateStore::name_filed_for(uid_t uid) {
  auto entries = connection_.search_children(
      "(&(objectClass=valixState)(valixUidNumber=" + std::to_string(uid) + "))");
  if (!entries) return std::unexpected(entries.error());
  std::vector<std::string> names;
  for (const auto& entry : *entries) {
    if (entry.name.empty()) continue;  // not a state entry's name: see find
    auto state = attributes_to_state(entry.attributes);
    if (!state) {
      return fail(Errc::corrupt,
                  "directory entry of " + entry.name + " is corrupt: " + state.error().message);
    }
    if (*state && (*state)->uid == uid) names.push_back(entry.name);
  }
  if (names.empty()) return std::optional<std::string>{};
  std::sort(names.begin(), names.end());
  if (names.size() > 1) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    return fail_said(Errc::misfiled,
                     "2FA state of uid {uid} is filed under several names ({names}); an "
                     "administrator must remove all but one",
                     {{"uid", std::to_string(uid)}, {"names", list}});
  }
  return std::optional<std::string>(names.front());
}

Result<void> LdapStateStore::rename(const StateKey& from, const StateKey& to) {
  cached_.reset();
  if (!to.uid) return fail(Errc::invalid, "rename needs the uid of the account");
  auto source = find(StateKey{from.name, std::nullopt});
  if (!source) return std::unexpected(source.error());
  if (source->unreadable) return std::unexpected(*source->unreadable);
  if (!source->state) {
    return fail_said(Errc::not_found, "{user} has no 2FA state", {{"user", from.name}});
  }
  const std::optional<uid_t> owner = source->state->uid ? source->state->uid : from.uid;
  if (owner != to.uid) {
    return fail_said(Errc::misfiled,
                     "the state of {from} belongs to another account than {to}; nothing moved",
                     {{"from", from.name}, {"to", to.name}});
  }
  auto target = find(to);
  if (!target) return std::unexpected(target.error());
  if (target->unreadable || target->state) {
    return fail_said(Errc::conflict, "{user} already has 2FA state; nothing moved",
                     {{"user", to.name}});
  }
  if (target->filed_for_uid && *target->filed_for_uid != from.name) {
    return fail_said(Errc::misfiled,
                     "2FA state of uid {uid} is also filed under {user}; nothing moved",
                     {{"uid", std::to_string(*to.uid)}, {"user", *target->filed_for_uid}});
  }
  // An entry without state (left by a reset) would be in the way of the new name.
  if (target->exists) {
    if (auto removed = connection_.remove(dn_of(to.name)); !removed) return removed;
  }
  // One modrdn: the state is under one name or the other at every moment.
  if (auto moved = connection_.rename(dn_of(from.name), "uid=" + escape_dn_value(to.name));
      !moved) {
    return moved;
  }
  return update(to, [](std::optional<UserState>& state) -> Result<StateChange> {
    return state ? StateChange::write : StateChange::keep;  // records to.uid
  });
}

Result<std::vector<std::string>> LdapStateStore::list_users() {
  auto entries = connection_.search_children("(objectClass=valixState)");
  if (!entries) return std::unexpected(entries.error());
  std::vector<std::string> names;
  for (const auto& entry : *entries) {
    if (!valid_username(entry.name)) continue;
    auto state = attributes_to_state(entry.attributes);
    if (!state || *state) names.push_back(entry.name);  // unreadable ones are listed
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::string> LdapStateStore::remove_unreadable(std::string_view user) {
  cached_.reset();
  const std::string name(user);
  auto found = find(StateKey{name, std::nullopt});
  if (!found) return std::unexpected(found.error());
  if (!found->exists || (!found->unreadable && !found->state)) {
    return fail(Errc::not_found, name + " has no 2FA state; nothing removed");
  }
  if (!found->unreadable) {
    return fail(Errc::conflict, "the state of " + name + " can be read; nothing removed");
  }
  std::string why = found->unreadable->message;
  auto cleared = write(name, *found, std::nullopt);
  if (!cleared) return std::unexpected(cleared.error());
  return why;
}

}  // namespace valix
