// valix-admin import-google-authenticator: moves a user's existing TOTP secret over so their
// phone keeps working.
//
// Scratch codes are not imported: google-authenticator's are 8 digits (27 bits), Valix backup
// codes are 10 Crockford characters (50 bits) that can never look like a TOTP code. Accepting
// the old form would weaken every user's backup codes and make an 8-digit answer ambiguous
// for 8-digit TOTP enrollments, so the user gets new Valix backup codes instead (or none,
// with --no-backup-codes, and makes their own with valix-enroll).
#include <cstdio>

#include "admin.hpp"
#include "enrollment.hpp"
#include "google_authenticator.hpp"
#include "i18n.hpp"
#include "otp.hpp"

namespace valix::admin {

// google-authenticator's widest window reaches 50 steps ahead (WINDOW_SIZE 100), plus its
// learned skew; beyond an hour's worth of steps a recorded step is not plausible.
constexpr std::uint64_t kMaxStepsAhead = 120;

Exit cmd_import_google_authenticator(const Context& ctx, const std::string& typed,
                                     const std::optional<std::string>& file,
                                     BackupCodesOnImport backup, ExistingEnrollment existing) {
  constexpr std::string_view action = "import-google-authenticator";
  auto target = resolve_user(ctx.store, typed);
  if (!target) {
    return ctx.error(action, typed, say("{error}; nothing changed", {{"error", target.error()}}),
                     target.error().code == Errc::invalid ? Exit::refused : Exit::failed);
  }
  if (!target->account) {
    return ctx.error(action, typed,
                     say("there is no user named '{user}'; nothing changed", {{"user", typed}}),
                     Exit::refused);
  }
  const std::string& user = target->name;  // the account's own name, as the module uses
  const StateKey key = target->key();
  const Account& account = *target->account;
  std::string path;
  if (file) {
    path = *file;
  } else {
    if (account.home.empty() || account.home.front() != '/') {
      return ctx.error(
          action, user,
          say("{user} has no absolute home directory; give the file", {{"user", user}}),
          Exit::failed);
    }
    path = account.home + (account.home.back() == '/' ? "" : "/") + ".google_authenticator";
  }

  // Checked again under the lock below; this early check only avoids reading the file (and
  // printing notes about it) for nothing.
  auto current = ctx.store.load(key);
  if (!current) return ctx.error(action, user, current.error(), Exit::failed);
  if (*current && (*current)->enrollment && existing == ExistingEnrollment::refuse) {
    return ctx.error(action, user,
                     say("{user} is already enrolled in Valix; nothing changed (use --force to "
                         "replace their enrollment)",
                         {{"user", user}}),
                     Exit::refused);
  }

  auto text = read_file_as_user(account, path);
  if (!text) {
    return ctx.error(action, user,
                     say("cannot use {file}: {error}; nothing changed",
                         {{"file", shown(path)}, {"error", text.error()}}),
                     Exit::failed);
  }
  auto parsed = parse_google_authenticator(text->view());
  if (!parsed) {
    // TRANSLATORS: {error} says what is wrong in the google-authenticator file {file}.
    return ctx.error(
        action, user,
        say("{file}: {error}; nothing changed", {{"file", shown(path)}, {"error", parsed.error()}}),
        Exit::failed);
  }
  GoogleAuthenticatorFile& ga = *parsed;
  // google-authenticator only ever generates SHA1, 6-digit codes.
  const OtpParameters otp{OtpAlgorithm::sha1, 6, ga.step_size};
  if (!valid_otp_parameters(otp)) {
    return ctx.error(action, user,
                     say("{file}: unsupported STEP_SIZE; nothing changed", {{"file", shown(path)}}),
                     Exit::failed);
  }
  // A used step far beyond now cannot come from a working clock; honouring it would make
  // every code fail for years, ignoring it could allow a replay. Refuse instead.
  const std::uint64_t current_step = totp_step(ctx.now, otp.period);
  if (ga.last_used_step > current_step + kMaxStepsAhead) {
    return ctx.error(action, user,
                     say("{file}: DISALLOW_REUSE lists a time step far in the future; check the "
                         "file and the clock; nothing changed",
                         {{"file", shown(path)}}),
                     Exit::failed);
  }
  // Every code shown up to now (the current one included, and any the old module recorded
  // as used) stays refused, so a code seen before the import cannot be replayed after it.
  const std::uint64_t watermark = std::max(current_step, ga.last_used_step);

  std::vector<SecretString> codes;
  bool replaced = false;
  auto done = ctx.store.update(key, [&](std::optional<UserState>& state) -> Result<StateChange> {
    if (state && state->enrollment && existing == ExistingEnrollment::refuse) {
      return fail_said(Errc::conflict, "{user} enrolled in the meantime; nothing changed",
                       {{"user", user}});
    }
    replaced = state && state->enrollment;
    if (!state) state.emplace();
    const std::uint64_t first =
        watermark_replacing(state->enrollment ? &*state->enrollment : nullptr, ga.secret,
                            AuthenticatorKind::totp, otp.period, watermark);
    state->enrollment.reset();
    state->pending =
        PendingEnrollment{ga.secret.clone(), otp, ctx.now + ctx.config.pending_lifetime};
    auto activated = activate_enrollment(*state, first, ctx.now, ctx.config);
    if (!activated) return std::unexpected(activated.error());
    codes = std::move(*activated);
    if (backup == BackupCodesOnImport::none) {
      state->enrollment->backup.hashes.clear();
      codes.clear();
    }
    return StateChange::write;
  });
  // Errc::unsynced: the import is in place and in use; its backup codes are shown like any
  // other import's (they are the ones that work), and the error is reported at the end.
  std::optional<Error> unsynced;
  if (!done) {
    // Errc::conflict: the user enrolled while this ran, a refusal like any "already enrolled".
    if (done.error().code == Errc::conflict)
      return ctx.error(action, user, done.error(), Exit::refused);
    if (done.error().code != Errc::unsynced)
      return ctx.error(action, user, done.error(), Exit::failed);
    unsynced = done.error();
  }

  std::string what = "imported from " + shown(path) + " (TOTP SHA1, 6 digits, " +
                     std::to_string(otp.period) + " s steps)";
  if (replaced) what += ", replacing an existing enrollment";
  what += "; " + std::to_string(codes.size()) + " new backup codes; " +
          std::to_string(ga.scratch_codes) + " scratch codes not imported";
  ctx.audit(action, user, what);

  std::printf("%s\n", fill(tr("Imported the google-authenticator setup of {user} from {file}."),
                           {{"user", user}, {"file", shown(path)}})
                          .c_str());
  if (replaced) std::printf("%s\n", tr("Their previous Valix enrollment has been replaced."));
  std::printf("%s\n",
              fill(tr("Their authenticator app keeps working (TOTP, SHA1, 6 digits, "
                      "{seconds}-second steps). Codes shown before the import are not accepted; "
                      "the next one is."),
                   {{"seconds", std::to_string(otp.period)}})
                  .c_str());
  std::printf("%s\n", tr("Not carried over:"));
  if (ga.window_size) {
    // TRANSLATORS: {config} is the path of valix.conf.
    std::printf("  - %s\n",
                fill(tr("WINDOW_SIZE {size}: ignored; Valix accepts {window} step(s) either side "
                        "of the current one for every user (window in {config})."),
                     {{"size", std::to_string(*ga.window_size)},
                      {"window", std::to_string(ctx.config.window)},
                      {"config", ctx.config_path}})
                    .c_str());
  }
  if (ga.rate_limit) {
    // TRANSLATORS: {limit} is google-authenticator's setting, such as "3 logins per 30 s".
    std::printf("  - %s\n", fill(tr("RATE_LIMIT ({limit}): ignored; Valix's lockout settings "
                                    "apply (max_failures, lockout_seconds)."),
                                 {{"limit", *ga.rate_limit}})
                                .c_str());
  }
  if (ga.time_skew && *ga.time_skew != 0) {
    std::printf("  - %s\n", fill(tr("TIME_SKEW {skew}: ignored; if codes are refused, the "
                                    "phone's clock needs correcting."),
                                 {{"skew", std::to_string(*ga.time_skew)}})
                                .c_str());
  }
  std::printf("  - %s\n",
              fill(trn("{count} scratch code: google-authenticator's 8-digit scratch codes do "
                       "not work with Valix.",
                       "{count} scratch codes: google-authenticator's 8-digit scratch codes do "
                       "not work with Valix.",
                       ga.scratch_codes),
                   {{"count", std::to_string(ga.scratch_codes)}})
                  .c_str());
  if (codes.empty()) {
    std::printf("%s\n", fill(tr("{user} has no backup codes now. They can create some with "
                                "'valix-enroll --regenerate-backup-codes'."),
                             {{"user", user}})
                            .c_str());
  } else {
    print_new_backup_codes(user, codes);
  }
  std::printf("\n%s\n", fill(tr("{file} was not changed. Remove it, and pam_google_authenticator "
                                "from the PAM configuration, once the switch to Valix is done."),
                             {{"file", shown(path)}})
                            .c_str());
  if (unsynced) {
    return ctx.error(action, user,
                     say("{error}; the import is in use, but if this system crashes before the "
                         "disk is fixed, run the import again",
                         {{"error", *unsynced}}),
                     Exit::failed);
  }
  return Exit::ok;
}

}  // namespace valix::admin
