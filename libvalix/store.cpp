#include "store.hpp"

#include "file_store.hpp"
#include "ldap_store.hpp"

namespace valix {

Result<void> check_state_owner(const StateKey& key, const std::optional<UserState>& state,
                               const std::optional<std::string>& filed_for_uid) {
  if (!key.uid) return {};
  const std::string uid = std::to_string(*key.uid);
  if (state && state->uid && *state->uid != *key.uid) {
    return fail(Errc::misfiled,
                "the 2FA state filed under '" + key.name + "' belongs to uid " +
                    std::to_string(*state->uid) + ", not to this account (uid " + uid +
                    "): the name was given to another account; an administrator must move the "
                    "state to the account it belongs to (valix-admin rename " +
                    key.name + " NEWNAME) or remove it");
  }
  if (!filed_for_uid || *filed_for_uid == key.name) return {};
  return fail(Errc::misfiled, "2FA state of uid " + uid + " is filed under '" + *filed_for_uid +
                                  "', not under the account's own name '" + key.name +
                                  "' (the account was renamed, or another login name for the "
                                  "uid comes first); an administrator must move it: "
                                  "valix-admin rename " +
                                  *filed_for_uid + " " + key.name);
}

Result<std::unique_ptr<StateStore>> open_state_store(const Config& config, uid_t trusted_uid,
                                                     StoreUser user) {
  if (config.store == StoreKind::ldap) {
    const bool as_admin = user == StoreUser::admin && !config.ldap.admin.dn.empty();
    auto directory = LdapStateStore::open(
        config.ldap, as_admin ? config.ldap.admin : config.ldap.host, trusted_uid);
    if (!directory) return std::unexpected(directory.error());
    return std::unique_ptr<StateStore>(std::move(*directory));
  }
  auto files = FileStateStore::open(config.state_dir, trusted_uid);
  if (!files) return std::unexpected(files.error());
  return std::make_unique<FileStateStore>(std::move(*files));
}

}  // namespace valix
