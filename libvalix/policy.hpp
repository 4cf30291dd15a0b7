// Who must use 2FA, decided from valix.conf and the admin's per-user flag.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "store.hpp"

namespace valix {

enum class RequiredBy { nobody, admin_flag, host_policy, group_policy };

std::string_view required_by_name(RequiredBy reason);  // "flag", "host", "group", "-"

struct Account {
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string home;
};

// The passwd entry for name; nullopt when there is none.
Result<std::optional<Account>> lookup_account(std::string_view name);
Result<std::optional<Account>> lookup_account(uid_t uid);

// Whose 2FA state a user name reaches. A name service may accept other spellings of an
// account's name (SSSD or winbind matching without regard to case, user@domain forms) and
// answer with the account's own name; a factor that looked up state by the spelling the client
// sent would find none for an enrolled user and treat them as unenrolled. Likewise several
// passwd entries may share a uid (a second login name for one account). So the state of an
// account is always filed under the name its uid maps back to (getpwuid; the passwd entry's
// own name if the uid maps to none), which is also the name valix-enroll uses, and every
// spelling and every login name of the account reaches the same state. A name with no account
// keeps its spelling (its state, if any, was left by an account since removed). key is empty
// when that name cannot be a state file name (valid_username). account is the entry for the
// name as given: its groups are the ones the login gets.
// other_names: the names other than key under which this account's state may have been
// filed by an earlier version, which keyed state by the name typed or by the passwd entry's
// own name (valid state file names only, none equal to key).
// The uid is what ties the state to the account (StateKey): a rename or another login name
// listed first changes key, and the store then finds the account's state under its old name.
struct StateOwner {
  std::string key;
  std::optional<Account> account;
  std::vector<std::string> other_names;

  StateKey state_key() const {
    return StateKey{key, account ? std::optional<uid_t>(account->uid) : std::nullopt};
  }
};
Result<StateOwner> state_owner(std::string_view name);

// The first of owner.other_names that has state in store, if any. Such state is the account's
// but is not where logins look, so it must neither be used nor skipped: a login refuses, and
// an administrator renames (or removes) the file. A state that cannot be read is an error.
Result<std::optional<std::string>> state_filed_elsewhere(StateStore& store,
                                                         const StateOwner& owner);

// What a login (the module, or valix-check for an unprivileged caller) finds for owner, with
// every rule that keeps an enrolled account from looking unenrolled: state filed under another
// name by an earlier version (state_filed_elsewhere), state of the uid filed under another
// name or state of another uid under this name (the store, through the StateKey), and state
// of the uid when the account's name cannot name a state file. Each is an error (the login is
// refused) saying what an administrator must do. key is nullopt when the name cannot have
// state and none of its uid's exists: treated exactly like a user who has none.
struct LoginState {
  std::optional<StateKey> key;
  std::optional<UserState> state;
};
Result<LoginState> load_login_state(StateStore& store, const StateOwner& owner);

// Why account must use 2FA. An admin's flag always counts; otherwise require=all applies to
// everyone not in an exempt group, require=groups to members of require_groups not in an
// exempt group. account may be nullopt (unknown user): then only require=all applies.
Result<RequiredBy> required_by(const Config& config, const std::optional<Account>& account,
                               bool admin_flag);

// What a listed group that the group database does not find means.
enum class MissingGroup { has_no_members, is_error };

// True when account is a member (primary or supplementary) of any group named in groups.
// A group that cannot be found is skipped (has_no_members) or an error (is_error); a lookup
// that fails for another reason is always an error.
Result<bool> member_of_any(const Account& account, const std::vector<std::string>& groups,
                           MissingGroup missing);

}  // namespace valix
