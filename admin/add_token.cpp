// valix-admin add-token: a hardware OATH token (HOTP, RFC 4226, or TOTP with the token's own
// algorithm, digits and period) becomes the user's authenticator, or (add-token USER NAME, for
// an enrolled user) one more of their authenticators. Token vendors ship each token's secret
// in a seed file, in hex (YubiKey, most vendors) or base32; it is read from standard input,
// never from the command line, which every user can read.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

#include "admin.hpp"
#include "auth.hpp"
#include "base32.hpp"
#include "enrollment.hpp"
#include "i18n.hpp"
#include "otp.hpp"
#include "stdin_input.hpp"

namespace valix::admin {
namespace {

// Hex when the text is an even number of hex digits, else base32; blanks are ignored.
Result<SecretBytes> decode_token_secret(std::string_view typed) {
  std::string text;
  text.reserve(typed.size());  // no reallocation: no unwiped copy of the secret left behind
  for (const char c : typed) {
    if (c != ' ' && c != '\t' && c != '-') text.push_back(c);
  }
  const bool hex = !text.empty() && text.size() % 2 == 0 &&
                   text.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  Result<SecretBytes> secret = fail(Errc::invalid, "");
  if (hex) {
    std::vector<std::uint8_t> bytes;
    bytes.reserve(text.size() / 2);
    for (std::size_t i = 0; i < text.size(); i += 2) {
      bytes.push_back(static_cast<std::uint8_t>(std::stoi(text.substr(i, 2), nullptr, 16)));
    }
    secret = SecretBytes(bytes);
    wipe(bytes.data(), bytes.size());
  } else {
    secret = base32_decode(text);
  }
  wipe(text.data(), text.size());
  if (!secret) {
    return fail_said(Errc::invalid, "the secret is neither hex nor base32");
  }
  if (secret->size() < kMinSecretBytes || secret->size() > kMaxSecretBytes) {
    return fail_said(
        Errc::invalid, "the secret must be {min} to {max} bytes long",
        {{"min", std::to_string(kMinSecretBytes)}, {"max", std::to_string(kMaxSecretBytes)}});
  }
  return secret;
}

}  // namespace

Exit cmd_add_token(const Context& ctx, const std::string& typed,
                   const std::optional<std::string>& name, const TokenSettings& token,
                   BackupCodesOnImport backup, ExistingEnrollment existing) {
  constexpr std::string_view action = "add-token";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  if (!target->account) {
    return ctx.error(action, typed,
                     say("there is no user named '{user}'; nothing changed", {{"user", typed}}),
                     Exit::refused);
  }
  const std::string& user = target->name;
  if (!valid_otp_parameters(token.otp)) {
    return ctx.error(action, user, say("unsupported token settings; nothing changed"), Exit::usage);
  }
  auto line = stdin_line();
  if (!line) {
    return ctx.error(action, user, say("no secret on standard input; nothing changed"),
                     Exit::usage);
  }
  auto secret = decode_token_secret(line->view());
  if (!secret) {
    return ctx.error(action, user, say("{error}; nothing changed", {{"error", secret.error()}}),
                     Exit::refused);
  }
  const bool hotp_token = token.kind == AuthenticatorKind::hotp;
  // TOTP: every step up to now stays refused, so a code the token showed before it was added
  // cannot be replayed. HOTP values never expire: the token's two next values (after the
  // secret, on standard input) set its counter past them, so every value it ever showed
  // before (on this or another system, or before a reset) stays refused; the search for
  // them starts at --counter.
  std::uint64_t watermark = totp_step(ctx.now, token.otp.period);
  if (hotp_token) {
    auto first = stdin_line();
    auto second = first ? stdin_line() : std::nullopt;
    if (!first || !second) {
      return ctx.error(action, user,
                       say("an HOTP token needs its next two values on standard input, after "
                           "its secret; nothing changed"),
                       Exit::usage);
    }
    Authenticator probe;
    probe.secret = secret->clone();
    probe.otp = token.otp;
    probe.last_step = token.counter;
    probe.kind = AuthenticatorKind::hotp;
    auto found = resync_authenticator(probe, first->view(), second->view(), ctx.now);
    if (!found) {
      return ctx.error(action, user, say("{error}; nothing changed", {{"error", found.error()}}),
                       Exit::refused);
    }
    watermark = probe.last_step;
  }
  std::vector<SecretString> codes;
  // What the token became, recomputed from the state given on every run of the mutator: the
  // enrollment (replacing an earlier one, or not), or a further authenticator NAME of an
  // enrollment (added, or replacing the one of that name).
  enum class Became { enrollment, added, replaced_one } became = Became::enrollment;
  bool replaced = false;
  std::uint64_t stored_watermark = watermark;  // raised to a replaced one's
  auto done =
      ctx.store.update(target->key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
        codes.clear();
        replaced = false;
        became = Became::enrollment;
        if (name && state && state->enrollment) {
          Enrollment& enrollment = *state->enrollment;
          Authenticator* old = enrollment.find(*name);
          if (old && existing == ExistingEnrollment::refuse) {
            return fail_said(Errc::conflict,
                             "{user} has an authenticator named {name} already; nothing changed "
                             "(use --force to replace it)",
                             {{"user", user}, {"name", *name}});
          }
          Authenticator added;
          added.name = *name;
          added.secret = secret->clone();
          added.otp = token.otp;
          added.enrolled_at = ctx.now;
          // Replacing one: a value it accepted stays refused when it is the same token.
          added.last_step =
              watermark_replacing(&enrollment, *secret, token.kind, token.otp.period, watermark);
          added.kind = token.kind;
          stored_watermark = added.last_step;
          if (!old) {
            auto done_adding = add_authenticator(enrollment, std::move(added));
            if (!done_adding) return std::unexpected(done_adding.error());
            became = Became::added;
            return StateChange::write;
          }
          // The first keeps the enrollment's time (when the user enrolled), as a removal does.
          if (old == &enrollment) added.enrolled_at = enrollment.enrolled_at;
          *old = std::move(added);
          if (holds_secret(enrollment, *old)) {
            return fail_said(Errc::conflict,
                             "another of {user}'s authenticators has that secret; nothing changed",
                             {{"user", user}});
          }
          became = Became::replaced_one;
          return StateChange::write;
        }
        if (state && state->enrollment && existing == ExistingEnrollment::refuse) {
          return fail_said(Errc::conflict,
                           "{user} is already enrolled; nothing changed (use --force to replace "
                           "their enrollment)",
                           {{"user", user}});
        }
        replaced = state && state->enrollment;
        if (!state) state.emplace();
        // A code any replaced authenticator accepted stays refused if the token is one of them.
        const std::uint64_t first =
            watermark_replacing(state->enrollment ? &*state->enrollment : nullptr, *secret,
                                token.kind, token.otp.period, watermark);
        stored_watermark = first;
        state->enrollment.reset();
        state->pending =
            PendingEnrollment{secret->clone(), token.otp, ctx.now + ctx.config.pending_lifetime};
        auto activated = activate_enrollment(*state, first, ctx.now, ctx.config);
        if (!activated) return std::unexpected(activated.error());
        state->enrollment->kind = token.kind;
        if (name) state->enrollment->name = *name;
        codes = std::move(*activated);
        if (backup == BackupCodesOnImport::none) {
          state->enrollment->backup.hashes.clear();
          codes.clear();
        }
        return StateChange::write;
      });
  if (!done && done.error().code != Errc::unsynced) {
    return ctx.error(action, user, done.error(),
                     done.error().code == Errc::conflict ? Exit::refused : Exit::failed);
  }
  const std::string kind = hotp_token ? "HOTP" : "TOTP";
  const std::string settings = kind + ", " + std::string(otp_algorithm_name(token.otp.algorithm)) +
                               ", " + std::to_string(token.otp.digits) + " digits" +
                               (hotp_token ? ", counter " + std::to_string(stored_watermark)
                                           : ", " + std::to_string(token.otp.period) + " s steps");
  if (became == Became::enrollment) {
    ctx.audit(action, user,
              "token added (" + settings + ")" + (name ? " as authenticator " + *name : "") +
                  (replaced ? ", replacing an enrollment" : "") + "; " +
                  std::to_string(codes.size()) + " new backup codes");
    std::printf("%s\n", fill(tr("{user}'s authenticator is now the token ({settings})."),
                             {{"user", user}, {"settings", settings}})
                            .c_str());
    if (replaced) std::printf("%s\n", tr("Their previous Valix enrollment has been replaced."));
  } else {
    const bool added = became == Became::added;
    ctx.audit(action, user,
              "token " + std::string(added ? "added as" : "replaced") + " authenticator " + *name +
                  " (" + settings + "); other authenticators and backup codes unchanged");
    std::printf("%s\n",
                fill(added ? tr("The token ({settings}) has been added to {user}'s "
                                "authenticators as {name}.")
                           : tr("{user}'s authenticator {name} is now the token ({settings})."),
                     {{"user", user}, {"name", *name}, {"settings", settings}})
                    .c_str());
    std::printf("%s\n", tr("Their other authenticators and their backup codes are unchanged."));
  }
  if (!codes.empty()) {
    print_new_backup_codes(user, codes);
  }
  if (!done) {
    return ctx.error(action, user,
                     say("{error}; the token is in use, but if this system crashes before the "
                         "disk is fixed, add it again",
                         {{"error", done.error()}}),
                     Exit::failed);
  }
  return Exit::ok;
}

}  // namespace valix::admin
