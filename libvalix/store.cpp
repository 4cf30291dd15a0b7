#include "store.hpp"

#include "file_store.hpp"
#include "i18n.hpp"
#include "ldap_store.hpp"

namespace valix {

Result<void> check_state_owner(const StateKey& key, const std::optional<UserState>& state,
                               const std::optional<std::string>& filed_for_uid) {
  if (!key.uid) return {};
  const std::string uid = std::to_string(*key.uid);
  if (state && state->uid && *state->uid != *key.uid) {
    // TRANSLATORS: {state_uid} is the uid the state records, {uid} the account's.
    return fail_said(
        Errc::misfiled,
        "the 2FA state filed under '{name}' belongs to uid {state_uid}, not to this "
        "account (uid {uid}): the name was given to another account; an "
        "administrator must move the state to the account it belongs to "
        "(valix-admin rename {name} NEWNAME) or remove it",
        {{"name", key.name}, {"state_uid", std::to_string(*state->uid)}, {"uid", uid}});
  }
  if (!filed_for_uid || *filed_for_uid == key.name) return {};
  // TRANSLATORS: {filed} is the name the state is filed under, {name} the account's own name.
  return fail_said(Errc::misfiled,
                   "2FA state of uid {uid} is filed under '{filed}', not under the account's own "
                   "name '{name}' (the account was renamed, or another login name for the uid "
                   "comes first); an administrator must move it: valix-admin rename {filed} "
                   "{name}",
                   {{"uid", uid}, {"filed", *filed_for_uid}, {"name", key.name}});
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
