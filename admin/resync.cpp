// valix-admin resync: an authenticator whose clock runs off from the host's (a hardware
// token that drifted, a phone set to the wrong time) is measured once from two consecutive
// codes, and its offset recorded in the user's state, where every login uses it.
#include <cstdio>
#include <string>

#include "admin.hpp"
#include "auth.hpp"
#include "i18n.hpp"
#include "state.hpp"
#include "stdin_input.hpp"

namespace valix::admin {

Exit cmd_resync(const Context& ctx, const std::string& typed, const std::string& code1,
                const std::string& code2) {
  constexpr std::string_view action = "resync";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  const std::string& user = target->name;
  // An HOTP token's values never expire: one typed on a command line (readable by every
  // user, kept in shell histories) stays usable if the resync fails.
  auto known = ctx.store.load(target->key());
  if (known && *known && (*known)->enrollment &&
      (*known)->enrollment->kind == AuthenticatorKind::hotp && (code1 != "-" || code2 != "-")) {
    return ctx.error(action, user,
                     say("give an HOTP token's values on standard input ('-' '-'), never on the "
                         "command line; nothing changed"),
                     Exit::usage);
  }
  auto first = code_argument(code1);
  auto second = first ? code_argument(code2) : std::nullopt;
  if (!first || !second) {
    return ctx.error(action, user, say("no code on standard input; nothing changed"), Exit::usage);
  }
  enum class Found { resynced, no_state, not_enrolled } found = Found::resynced;
  Resync result;
  int period = 30;
  bool hotp_token = false;
  auto done =
      ctx.store.update(target->key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
        found = !state               ? Found::no_state
                : !state->enrollment ? Found::not_enrolled
                                     : Found::resynced;
        if (found != Found::resynced) return StateChange::keep;
        period = state->enrollment->otp.period;
        hotp_token = state->enrollment->kind == AuthenticatorKind::hotp;
        auto resynced =
            resync_authenticator(*state->enrollment, first->view(), second->view(), ctx.now);
        if (!resynced) return std::unexpected(resynced.error());
        result = *resynced;
        return StateChange::write;
      });
  if (done && found != Found::resynced) {
    return ctx.error(action, user,
                     say("{user} has not set up 2FA; nothing to resync", {{"user", user}}),
                     Exit::refused);
  }
  if (!done) {
    const Errc code = done.error().code;
    const bool refused = code == Errc::not_found || code == Errc::conflict || code == Errc::invalid;
    return ctx.error(action, user, say("{error}; nothing changed", {{"error", done.error()}}),
                     refused ? Exit::refused : Exit::failed);
  }
  if (hotp_token) {
    ctx.audit(action, user, "token counter now " + std::to_string(result.step + 1));
    std::printf("%s\n", fill(tr("{user}'s token is in step again: its counter is now {counter}. "
                                "The two values given have been used."),
                             {{"user", user}, {"counter", std::to_string(result.step + 1)}})
                            .c_str());
    return Exit::ok;
  }
  const std::int64_t seconds = result.offset_steps * period;
  ctx.audit(action, user,
            "clock offset " + std::to_string(seconds) + " s (was " +
                std::to_string(result.previous_offset_steps * period) + " s), watermark " +
                std::to_string(result.step));
  const std::string magnitude = std::to_string(seconds < 0 ? -seconds : seconds);
  std::printf("%s\n",
              fill(seconds < 0 ? tr("{user}'s authenticator runs {seconds} s behind this host's "
                                    "clock; logins now allow for that. The two codes given have "
                                    "been used.")
                               : tr("{user}'s authenticator runs {seconds} s ahead of this "
                                    "host's clock; logins now allow for that. The two codes "
                                    "given have been used."),
                   {{"user", user}, {"seconds", magnitude}})
                  .c_str());
  return Exit::ok;
}

}  // namespace valix::admin
