// valix-admin resync: an authenticator whose clock runs off from the host's (a hardware
// token that drifted, a phone set to the wrong time) is measured once from two consecutive
// codes, and its offset recorded in the user's state, where every login uses it. A user with
// several authenticators names the one.
#include <cstdio>
#include <string>

#include "admin.hpp"
#include "auth.hpp"
#include "i18n.hpp"
#include "state.hpp"
#include "stdin_input.hpp"

namespace valix::admin {
namespace {

// The authenticator a resync is for: the one named, or the user's only one. Messages are made
// with fail_said.
Result<Authenticator*> chosen_authenticator(Enrollment& enrollment,
                                            const std::optional<std::string>& name,
                                            const std::string& user) {
  std::string names;
  for (const Authenticator* a : enrollment.authenticators()) {
    names += (names.empty() ? "" : ", ") + a->name;
  }
  if (name) {
    if (Authenticator* found = enrollment.find(*name)) return found;
    return fail_said(Errc::not_found,
                     "{user} has no authenticator named {name} (they have: {names})",
                     {{"user", user}, {"name", *name}, {"names", names}});
  }
  if (!enrollment.more.empty()) {
    return fail_said(
        Errc::conflict,
        "{user} has {count} authenticators ({names}); name the one to resync: "
        "valix-admin resync {user} NAME CODE1 CODE2",
        {{"user", user}, {"count", std::to_string(enrollment.more.size() + 1)}, {"names", names}});
  }
  return &static_cast<Authenticator&>(enrollment);
}

}  // namespace

Exit cmd_resync(const Context& ctx, const std::string& typed,
                const std::optional<std::string>& name, const std::string& code1,
                const std::string& code2) {
  constexpr std::string_view action = "resync";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  const std::string& user = target->name;
  const bool on_command_line = code1 != "-" || code2 != "-";
  // Before any code is read: which authenticator, and whether its codes may be arguments (an
  // HOTP token's values never expire: one typed on a command line, readable by every user and
  // kept in shell histories, stays usable if the resync fails).
  auto known = ctx.store.load(target->key());
  if (known && *known && (*known)->enrollment) {
    auto a = chosen_authenticator(*(*known)->enrollment, name, user);
    if (!a) {
      return ctx.error(action, user, say("{error}; nothing changed", {{"error", a.error()}}),
                       Exit::refused);
    }
    if ((*a)->kind == AuthenticatorKind::hotp && on_command_line) {
      return ctx.error(action, user,
                       say("give an HOTP token's values on standard input ('-' '-'), never on "
                           "the command line; nothing changed"),
                       Exit::usage);
    }
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
  std::string resynced_name;
  auto done =
      ctx.store.update(target->key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
        found = !state               ? Found::no_state
                : !state->enrollment ? Found::not_enrolled
                                     : Found::resynced;
        if (found != Found::resynced) return StateChange::keep;
        auto a = chosen_authenticator(*state->enrollment, name, user);
        if (!a) return std::unexpected(a.error());
        Authenticator& authenticator = **a;
        period = authenticator.otp.period;
        hotp_token = authenticator.kind == AuthenticatorKind::hotp;
        if (hotp_token && on_command_line) {
          return fail_said(Errc::invalid,
                           "give an HOTP token's values on standard input ('-' '-'), never on "
                           "the command line");
        }
        resynced_name = authenticator.name;
        auto resynced = resync_authenticator(authenticator, first->view(), second->view(), ctx.now);
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
    const std::string counter = std::to_string(result.step + 1);
    ctx.audit(action, user,
              "token counter now " + counter + " (authenticator " + resynced_name + ")");
    std::printf("%s\n",
                fill(name ? tr("{user}'s token {name} is in step again: its counter is now "
                               "{counter}. The two values given have been used.")
                          : tr("{user}'s token is in step again: its counter is now {counter}. "
                               "The two values given have been used."),
                     {{"user", user}, {"name", resynced_name}, {"counter", counter}})
                    .c_str());
    return Exit::ok;
  }
  const std::int64_t seconds = result.offset_steps * period;
  ctx.audit(action, user,
            "clock offset " + std::to_string(seconds) + " s (was " +
                std::to_string(result.previous_offset_steps * period) + " s), watermark " +
                std::to_string(result.step) + " (authenticator " + resynced_name + ")");
  const std::string magnitude = std::to_string(seconds < 0 ? -seconds : seconds);
  const char* text =
      name ? (seconds < 0 ? tr("{user}'s authenticator {name} runs {seconds} s behind this host's "
                               "clock; logins now allow for that. The two codes given have been "
                               "used.")
                          : tr("{user}'s authenticator {name} runs {seconds} s ahead of this "
                               "host's clock; logins now allow for that. The two codes given have "
                               "been used."))
           : (seconds < 0 ? tr("{user}'s authenticator runs {seconds} s behind this host's "
                               "clock; logins now allow for that. The two codes given have "
                               "been used.")
                          : tr("{user}'s authenticator runs {seconds} s ahead of this "
                               "host's clock; logins now allow for that. The two codes "
                               "given have been used."));
  std::printf(
      "%s\n",
      fill(text, {{"user", user}, {"name", resynced_name}, {"seconds", magnitude}}).c_str());
  return Exit::ok;
}

}  // namespace valix::admin
