// valix-admin remove: one of a user's authenticators (a lost phone, a broken token) stops
// working, while their other authenticators and their backup codes stay as they are.
#include <cstdio>
#include <string>

#include "admin.hpp"
#include "enrollment.hpp"
#include "i18n.hpp"
#include "state.hpp"

namespace valix::admin {

Exit cmd_remove(const Context& ctx, const std::string& typed, const std::string& name) {
  constexpr std::string_view action = "remove";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  const std::string& user = target->name;
  // What the removal found, recomputed from the state given on every run of the mutator.
  bool enrolled = false;
  bool hotp_token = false;
  std::string left;  // the names of the authenticators left, the first first
  std::size_t codes = 0;
  auto done =
      ctx.store.update(target->key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
        enrolled = state && state->enrollment;
        hotp_token = false;
        left.clear();
        codes = 0;
        if (!enrolled) return StateChange::keep;
        Enrollment& enrollment = *state->enrollment;
        if (const Authenticator* a = enrollment.find(name)) {
          hotp_token = a->kind == AuthenticatorKind::hotp;
        }
        auto removed = remove_authenticator(enrollment, name, FirstAuthenticator::may_remove);
        if (!removed) return std::unexpected(removed.error());
        for (const Authenticator* a : enrollment.authenticators()) {
          left += (left.empty() ? "" : ", ") + a->name;
        }
        codes = enrollment.backup.hashes.size();
        return StateChange::write;
      });
  if (!done && done.error().code != Errc::unsynced) {
    const Errc code = done.error().code;
    const bool refused = code == Errc::not_found || code == Errc::conflict;
    return ctx.error(action, user, say("{error}; nothing changed", {{"error", done.error()}}),
                     refused ? Exit::refused : Exit::failed);
  }
  if (!enrolled) {
    return ctx.error(
        action, user,
        target->account ? say("{user} has not set up 2FA; nothing to remove", {{"user", user}})
                        : say("there is no user named '{user}'; nothing changed", {{"user", user}}),
        Exit::refused);
  }
  ctx.audit(action, user,
            "authenticator " + name + " (" + (hotp_token ? "HOTP" : "TOTP") +
                ") removed; left: " + left + "; " + std::to_string(codes) + " backup codes kept");
  std::printf("%s\n",
              fill(tr("{user}'s authenticator {name} has been removed: its codes no longer log "
                      "in. Left: {left}. Their backup codes are unchanged."),
                   {{"user", user}, {"name", name}, {"left", left}})
                  .c_str());
  if (!done) {
    return ctx.error(action, user,
                     say("{error}; the authenticator is removed, but if this system crashes "
                         "before the disk is fixed, remove it again",
                         {{"error", done.error()}}),
                     Exit::failed);
  }
  return Exit::ok;
}

}  // namespace valix::admin
