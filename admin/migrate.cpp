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
namespace {

Said not_copied(const Error& error) {
  // TRANSLATORS: {error} says why one user's state could not be copied.
  return say("{error}; not copied", {{"error", error}});
}

}  // namespace

Exit cmd_migrate(const Context& ctx, const std::optional<std::string>& state_dir,
                 ExistingEnrollment existing) {
  constexpr std::string_view action = "migrate";
  if (ctx.config.store != StoreKind::ldap) {
    return ctx.error(action, "-",
                     say("migrate copies state files into the directory: set store = ldap in "
                         "{config} first",
                         {{"config", ctx.config_path}}),
                     Exit::failed);
  }
  const std::string dir = state_dir ? *state_dir : ctx.config.state_dir;
  auto files = FileStateStore::open(dir, geteuid());
  if (!files) return ctx.error(action, "-", files.error(), Exit::failed);
  auto users = files->list_users();
  if (!users) return ctx.error(action, "-", users.error(), Exit::failed);
  Exit result = Exit::ok;
  int copied = 0, kept = 0;
  for (const std::string& user : *users) {
    auto state = files->load(StateKey{user, std::nullopt});
    if (!state) {
      result = worse(result, ctx.error(action, user, not_copied(state.error()), Exit::failed));
      continue;
    }
    if (!*state) continue;
    // Whose it is: the uid it records, else the account the name has now.
    std::optional<uid_t> uid = (*state)->uid;
    if (!uid) {
      auto account = lookup_account(user);
      if (!account) {
        result = worse(result, ctx.error(action, user, not_copied(account.error()), Exit::failed));
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
      result = worse(result, ctx.error(action, user, not_copied(done.error()), Exit::failed));
      continue;
    }
    if (had_state && existing == ExistingEnrollment::refuse) {
      ++kept;
      std::printf("%s\n", fill(tr("{user}: already has 2FA state in the directory; kept it "
                                  "(--force replaces it)"),
                               {{"user", shown(user)}})
                              .c_str());
      continue;
    }
    ++copied;
    ctx.audit(action, user,
              std::string("state copied from ") + dir + " into the directory" +
                  ((*state)->enrollment ? " (enrolled)" : "") +
                  (had_state ? ", replacing what it held" : ""));
    std::printf("%s\n", fill(had_state ? tr("{user}: copied (replaced)") : tr("{user}: copied"),
                             {{"user", shown(user)}})
                            .c_str());
  }
  std::printf(
      "%s\n",
      fill(tr("{copied} copied, {kept} kept as they were in the directory. The "
              "files in {dir} are left as they are: remove them once every host "
              "uses the directory."),
           {{"copied", std::to_string(copied)}, {"kept", std::to_string(kept)}, {"dir", dir}})
          .c_str());
  return result;
}

}  // namespace valix::admin
