// The fleet store: every account's state in one entry of an OpenLDAP directory that all hosts
// share (store = ldap), so an enrollment, a used code, a failure count and an admin's action
// count on every host at once.
//
// No locks: every write is a compare-and-swap. The modify deletes the valixGeneration value
// that was read and adds a new random one (and deletes each changed value by its exact old
// value); a writer that read an older entry gets noSuchAttribute and the mutator runs again
// on a fresh read, a bounded number of times. A login succeeds only once the directory
// confirmed the write; slapd's back_mdb commits to disk before it answers (unless the
// directory is configured with dbnosync, which gives this up). Writes must all go to one
// provider: two writable providers each accept the same watermark (README, "Fleet").
#pragma once

#include <sys/types.h>

#include <memory>

#include "config.hpp"
#include "ldap_client.hpp"
#include "store.hpp"

namespace valix {

class LdapStateStore final : public StateStore {
 public:
  // Connects and binds as bind (the host's or the administrators' identity).
  static Result<std::unique_ptr<LdapStateStore>> open(const LdapSettings& settings,
                                                      const LdapBind& bind, uid_t trusted_uid);

  ~LdapStateStore() override;
  Result<std::optional<UserState>> load(const StateKey& key) override;
  Result<void> update(const StateKey& key, const Mutator& mutate) override;
  Result<std::optional<std::string>> name_filed_for(uid_t uid) override;
  Result<void> rename(const StateKey& from, const StateKey& to) override;
  Result<std::vector<std::string>> list_users() override;
  Result<std::string> remove_unreadable(std::string_view user) override;

 private:
  LdapStateStore(LdapSettings settings, LdapBind bind, uid_t trusted_uid,
                 LdapConnection connection);

  struct Found;  // what one search finds for a key
  Result<Found> find(const StateKey& key);
  static Result<void> usable_for(const StateKey& key, const Found& found);
  // Writes state (nullopt: clears the entry) over found; returns the entry as committed.
  Result<Found> write(const std::string& name, const Found& found,
                      const std::optional<UserState>& state);
  void remember(const StateKey& key, Found found);
  Result<void> settle(const std::string& name, const std::string& generation, const Error& lost);
  std::string dn_of(std::string_view name) const;

  LdapSettings settings_;
  LdapBind bind_;
  uid_t trusted_uid_;
  LdapConnection connection_;
  // The entry last read or written, for the next update of the same key (a login reads once
  // and then updates twice). Only ever a starting point: see update.
  std::optional<StateKey> cached_key_;
  std::unique_ptr<Found> cached_;
};

}  // namespace valix
