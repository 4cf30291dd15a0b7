// valix-admin migrate: copies every state file of this host into the fleet's directory
// (store = ldap), so users keep their phones, their unused backup codes, their watermark (a
// code used here stays used), their admin flag and their lockout.
//
// A user who already has state in the directory is left alone unless --force: two hosts may
// each have had their own enrollment of one user, and which phone they carry is theirs to say.
#include <cstdio>

#include "admin.hpp"
#include "file_store.hpp"

namespace valix::admin {

Exit cmd_migrate(const Context& ctx, const std::optional<std::string>& state_dir,
                 ExistingEnrollment existing) {
  constexpr std::string_view action = "migrate";
  if (ctx.config.store != StoreKind::ldap) {
    return ctx.error(action, "-",
                     "migrate copies state files into the directory: set store = ldap "
                     "in " +
                         ctx.config_path + " first",
                     Exit::failed);
  }
  const std::string dir = state_dir ? *state_dir : ctx.config.state_dir;
  auto files = FileStateStore::open(dir, geteuid());
  if (!files) return ctx.error(action, "-", files.error().message, Exit::failed);
  auto users = files->list_users();
  if (!users) return ctx.error(action, "-", users.error().message, Exit::failed);
  Exit result = Exit::ok;
  int copied = 0, kept = 0;
  for (const std::string& user : *users) {
    auto state = files->load(StateKey{user, std::nullopt});
    if (!state) {
      result = worse(result,
                     ctx.error(action, user, state.error().message + "; not copied", Exit::failed));
      continue;
    }
    if (!*state) continue;
    // Whose it is: the uid it records, else the account the name has now.
    std::optional<uid_t> uid = (*state)->uid;
    if (!uid) {
      auto account = lookup_account(user);
      if (!account) {
        result = worse(result, ctx.error(action, user, account.error().message + "; not copied",
                                         Exit::failed));
        continue;
      }
      if (*account) uid = (*account)->uid;
    }
    bool had_state = false;
    auto done = ctx.store.update(
        StateKey{user, uid}, [&](std::optional<UserState>& current) -> Result<StateChange> {
          had_state = current.has_value();
          if (current && existing == ExistingEnrollment::refuse) return StateChange::keep;
          current = (*state)->clone();  // a copy: the store may run this more than once
          return StateChange::write;
        });
    if (!done) {
      result = worse(result,
                     ctx.error(action, user, done.error().message + "; not copied", Exit::failed));
      continue;
    }
    if (had_state && existing == ExistingEnrollment::refuse) {
      ++kept;
      std::printf("%s: already has 2FA state in the directory; kept it (--force replaces it)\n",
                  shown(user).c_str());
      continue;
    }
    ++copied;
    ctx.audit(action, user,
              std::string("state copied from ") + dir + " into the directory" +
                  ((*state)->enrollment ? " (enrolled)" : "") +
                  (had_state ? ", replacing what it held" : ""));
    std::printf("%s: copied%s\n", shown(user).c_str(), had_state ? " (replaced)" : "");
  }
  std::printf(
      "%d copied, %d kept as they were in the directory. The files in %s are left "
      "as they are: remove them once every host uses the directory.\n",
      copied, kept, dir.c_str());
  return result;
}

}  // namespace valix::admin
