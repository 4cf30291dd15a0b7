#include "enroller.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "authenticators.hpp"
#include "backup_codes.hpp"
#include "base32.hpp"
#include "confirm.hpp"
#include "enrollment.hpp"
#include "enrollment_flow.hpp"
#include "enrollment_texts.hpp"
#include "file_util.hpp"
#include "i18n.hpp"
#include "outcome.hpp"
#include "privileges.hpp"
#include "qr.hpp"
#include "session.hpp"
#include "setuid.hpp"
#include "status.hpp"
#include "terminal.hpp"
#include "text.hpp"
#include "verify.hpp"

namespace valix::enroll {
namespace {

class Enroller {
 public:
  Enroller(const Options& options, Config config, std::unique_ptr<StateStore> store,
           std::string user, uid_t uid, std::optional<Account> acting_for)
      : o_(options),
        config_(std::move(config)),
        store_(std::move(store)),
        user_(std::move(user)),
        uid_(uid),
        acting_for_(std::move(acting_for)) {}

  int run() {
    const int exit_status = dispatch();
    if (!unsynced_) return exit_status;
    // The new state is in place and was shown; only its durability is in doubt.
    std::fprintf(stderr, "valix-enroll: %s\nvalix-enroll: %s\n", unsynced_->c_str(),
                 tr("the change is in place and in use, but the disk reported an error: if this "
                    "system crashes before it is fixed, check with valix-enroll --status and run "
                    "valix-enroll again."));
    return exit_status == kOk ? kInternal : exit_status;
  }

 private:
  int dispatch() {
    switch (o_.action) {
      case Options::Action::status: return show_status(session());
      case Options::Action::begin: return begin();
      case Options::Action::confirm: {
        const auto code = code_argument(*o_.confirm_code);
        if (!code) return refuse(tr("no code on standard input"));
        return confirm_pending(session(), code->view());
      }
      case Options::Action::regenerate: return regenerate();
      case Options::Action::interactive: return interactive();
      case Options::Action::add: return add_interactively(session(), *o_.add_name);
      case Options::Action::remove: return remove_interactively(session(), *o_.remove_name);
    }
    return kUsage;
  }

  // For an enrolled user: the current TOTP code (from --code, or asked for) must verify,
  // under the lock, with replay protection and the lockout rules of a login.
  Result<bool> current_code_verifies(const UserState& state) {
    std::optional<SecretString> code;
    if (o_.current_code) code = code_argument(*o_.current_code);
    else if (isatty(STDIN_FILENO))
      code = read_line(
          std::string(tr("You already use 2FA. Enter the current code from your app:")) + " ",
          o_.json);
    if (!code) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   tr("you already use 2FA; give the current code from your app with --code"));
      return false;
    }
    if (answer_shape(code->view(), *state.enrollment) != AnswerShape::totp) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   fill(tr("enter the {digits}-digit code from your authenticator app (not a "
                           "backup code)"),
                        {{"digits", std::to_string(state.enrollment->otp.digits)}})
                       .c_str());
      return false;
    }
    Result<Verdict> verdict = fail(Errc::internal, "not checked");
    {
      const QuietSignals quiet;
      verdict = verify_and_record(*store_, StateKey{user_, uid_}, code->view(), now(), config_);
    }
    // Any error, an unsynced directory included, refuses: a code is good for a change only
    // once both its charge and its watermark are durable.
    if (!verdict) return std::unexpected(verdict.error());
    if (verdict->accepted()) return true;
    // As a login does: every refusal costs the same delay, so this tool is no faster an
    // oracle than a login (the failure is already counted either way).
    std::this_thread::sleep_for(std::chrono::milliseconds(config_.fail_delay_ms));
    if (verdict->outcome == Outcome::locked) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   tr("too many failed attempts; try again later or ask your administrator"));
      return false;
    }
    if (verdict->outcome == Outcome::clock_drift) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   tr("that code is not correct: the time on your phone looks wrong (set it to "
                      "update automatically)"));
      return false;
    }
    if (verdict->outcome == Outcome::out_of_sync) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   tr("that code is not correct: your token has run ahead (press its button "
                      "again and use the new code)"));
      return false;
    }
    std::fprintf(stderr, "valix-enroll: %s\n", tr("that code is not correct"));
    return false;
  }

  // With the uid, the store refuses this account's state filed under another name and another
  // account's state filed under this one, as a login does.
  Result<std::optional<UserState>> load() { return store_->load(StateKey{user_, uid_}); }

  Result<void> update_durably(const StateStore::Mutator& mutate) {
    const QuietSignals quiet;
    return store_->update(StateKey{user_, uid_}, mutate);
  }

  // A state that was replaced but whose directory could not be synced is in use: it counts as
  // written, so the codes it holds are shown, and run() reports the error at the end.
  Result<void> update(const StateStore::Mutator& mutate) {
    auto updated = update_durably(mutate);
    if (!updated && updated.error().code == Errc::unsynced) {
      unsynced_ = shown_message(updated.error());
      return {};
    }
    return updated;
  }

  // Allowed to (re-)enroll: not enrolled, or enrolled and the current code verifies. seen
  // records which enrollment that decision was about.
  std::optional<int> may_enroll(SeenEnrollment& seen) {
    auto state = load();
    if (!state) return internal(state.error());
    if (*state && (*state)->enrollment) {
      auto ok = current_code_verifies(**state);
      if (!ok) return internal(ok.error());
      if (!*ok) return kRefused;
      seen = seen_enrollment(**state);
    }
    return std::nullopt;
  }

  SecretString uri_for(const PendingEnrollment& p) {
    return otpauth_uri(issuer_name(config_), account_label(config_, user_), p.secret, p.otp);
  }

  // The --qr-svg image, if asked for. nullopt when written (or not asked for); otherwise the
  // exit status: refused when the user's file cannot be created (it exists, is a symlink, or
  // the directory is not theirs to write), internal error when the image cannot be made.
  std::optional<int> write_svg(const SecretString& uri) {
    if (!o_.qr_svg) return std::nullopt;
    auto svg = render_qr_svg(uri.view());
    if (!svg) return internal(svg.error());
    if (!run_as_user(acting_for_,
                     [&] { return create_new_private_file(*o_.qr_svg, svg->view()); })) {
      return refuse(fill(tr("could not write the QR image to {file}; nothing was changed"),
                         {{"file", *o_.qr_svg}}));
    }
    return std::nullopt;
  }

  int begin() {
    SeenEnrollment seen;
    if (auto refused = o_.add_name ? may_add(session(), *o_.add_name, seen) : may_enroll(seen))
      return *refused;
    auto pending = new_pending_enrollment(config_, now());
    if (!pending) return internal(pending.error());
    pending->name = o_.add_name;           // confirmed, it adds an authenticator of that name
    pending->made_for = seen.fingerprint;  // and only over the enrollment this decision saw
    const SecretString uri = uri_for(*pending);
    const SecretString secret = base32_encode(pending->secret.span());
    // The image first: if it cannot be written, nothing is stored.
    if (auto refused = write_svg(uri)) return *refused;
    auto stored = update([&](std::optional<UserState>& current) -> Result<StateChange> {
      if (auto unchanged = unchanged_since_seen(current, seen); !unchanged)
        return std::unexpected(unchanged.error());
      if (!current) current.emplace();
      // A copy: the store may run this more than once (StateStore::Mutator).
      current->pending = pending->clone();
      return StateChange::write;
    });
    if (!stored) return failed(stored.error());
    drop_privileges_for_good();
    if (o_.json) {
      std::printf("{\"secret\": %s, \"uri\": %s, \"expires_in\": %d}\n",
                  json_string(secret.view()).c_str(), json_string(uri.view()).c_str(),
                  config_.pending_lifetime);
    } else {
      const int minutes = config_.pending_lifetime / 60;
      std::printf("%s %s\n%s %s\n%s\n", tr("Secret:"), secret.c_str(), tr("URI:"), uri.c_str(),
                  fill(trn("Confirm within {minutes} minute: valix-enroll --confirm CODE",
                           "Confirm within {minutes} minutes: valix-enroll --confirm CODE",
                           static_cast<unsigned long>(minutes)),
                       {{"minutes", std::to_string(minutes)}})
                      .c_str());
    }
    return kOk;
  }

  // Called once the state work is done: shows and saves the codes without privilege.
  int show_codes(const std::vector<SecretString>& codes) {
    drop_privileges_for_good();
    // Built in place (reserved, never reallocated) so that no unwiped copy of a code is freed.
    SecretString text;
    text.str().reserve(codes.size() * (kBackupCodeLength + 2));
    for (const auto& code : codes) text.str().append(code.view()).append("\n");
    if (o_.codes_file) {
      if (!run_as_user(acting_for_,
                       [&] { return create_new_private_file(*o_.codes_file, text.view()); })) {
        std::fprintf(
            stderr, "valix-enroll: %s\n",
            fill(tr("could not save the backup codes to {file}"), {{"file", *o_.codes_file}})
                .c_str());
        std::fprintf(stderr, "valix-enroll: %s\n",
                     tr("2FA is on; write down the codes shown below instead."));
      }
    }
    if (o_.json) {
      // Codes are drawn from a fixed alphabet of letters, digits and '-': nothing to escape.
      SecretString out;
      out.str().reserve(32 + codes.size() * (kBackupCodeLength + 8));
      out.str().append("{\"backup_codes\": [");
      for (std::size_t i = 0; i < codes.size(); ++i)
        out.str().append(i ? ", \"" : "\"").append(codes[i].view()).append("\"");
      out.str().append("]}\n");
      std::fputs(out.c_str(), stdout);
      return kOk;
    }
    std::printf("\n%s\n", texts::backup_codes_screen(codes).c_str());
    return kOk;
  }

  // Stores the interactive run's enrollment (never stored as pending), its first code verified
  // at first_step, unless the state changed since may_enroll's decision (seen).
  Result<std::vector<SecretString>> activate_verified(const PendingEnrollment& pending,
                                                      std::uint64_t first_step,
                                                      const SeenEnrollment& seen) {
    std::vector<SecretString> codes;
    auto updated = update([&](std::optional<UserState>& current) -> Result<StateChange> {
      if (auto unchanged = unchanged_since_seen(current, seen); !unchanged)
        return std::unexpected(unchanged.error());
      if (!current) current.emplace();
      // A copy: the store may run this more than once (StateStore::Mutator).
      current->pending = pending.clone();
      auto activated = activate_enrollment(*current, first_step, now(), config_);
      if (!activated) return std::unexpected(activated.error());
      codes = std::move(*activated);
      return StateChange::write;
    });
    if (!updated) return std::unexpected(updated.error());
    return codes;
  }

  int regenerate() {
    auto state = load();
    if (!state) return internal(state.error());
    if (!*state || !(*state)->enrollment)
      return refuse(tr("2FA is not set up; run valix-enroll first"));
    auto ok = current_code_verifies(**state);
    if (!ok) return internal(ok.error());
    if (!*ok) return kRefused;
    std::vector<SecretString> codes;
    auto updated = update([&](std::optional<UserState>& current) -> Result<StateChange> {
      // Reset (or the state removed) since the code was checked: nothing to give codes to.
      if (!current || !current->enrollment)
        return fail_said(Errc::conflict, "2FA state changed; run valix-enroll again");
      auto fresh = replace_backup_codes(*current->enrollment, config_);
      if (!fresh) return std::unexpected(fresh.error());
      codes = std::move(*fresh);
      return StateChange::write;
    });
    if (!updated) return failed(updated.error());
    if (!o_.json) std::printf("%s\n", tr("New backup codes made; the old ones no longer work."));
    return show_codes(codes);
  }

  int interactive() {
    if (!isatty(STDIN_FILENO)) {
      std::fprintf(stderr, "valix-enroll: %s\n",
                   tr("not on a terminal; use --begin and --confirm CODE in scripts"));
      return kUsage;
    }
    SeenEnrollment seen;
    if (auto refused = may_enroll(seen)) return *refused;
    TerminalDialog dialog(o_.json, o_.qr.value_or(config_.qr), o_.qr_svg,
                          [this](const SecretString& uri) { return write_svg(uri); });
    auto flow = run_enrollment_flow(
        dialog, config_,
        EnrollmentFlow{EnrollmentFront::tool, account_label(config_, user_),
                       texts::tool_code_prompt(config_.otp.digits), kInteractiveLifetime, false},
        [] { return now(); });
    if (!flow) return dialog.refusal ? *dialog.refusal : internal(flow.error());
    switch (flow->end) {
      case EnrollmentEnd::abandoned: return refuse(std::string(tr(texts::kToolAbandoned)));
      case EnrollmentEnd::wrong_codes: return refuse(std::string(tr(texts::kToolWrongCodes)));
      case EnrollmentEnd::expired: return refuse(std::string(tr(texts::kToolExpired)));
      case EnrollmentEnd::verified: break;
    }
    auto codes = activate_verified(flow->pending, flow->first_step, seen);
    if (!codes) return failed(codes.error());
    show_codes(*codes);
    std::printf("\n%s\n", texts::tool_done(flow->pending.otp.digits).c_str());
    return kOk;
  }

  // What the actions outside this file use of this run (session.hpp).
  Session session() {
    return {o_,
            config_,
            user_,
            [this] { return load(); },
            [this](const StateStore::Mutator& mutate) { return update(mutate); },
            [this](const StateStore::Mutator& mutate) { return update_durably(mutate); },
            [this](const UserState& state) { return current_code_verifies(state); },
            [this](const SecretString& uri) { return write_svg(uri); },
            [this](const std::vector<SecretString>& codes) { return show_codes(codes); }};
  }

  const Options& o_;
  Config config_;
  std::unique_ptr<StateStore> store_;  // never null
  std::string user_;
  uid_t uid_;  // the account's, whose state user_ names
  std::optional<Account> acting_for_;
  std::optional<std::string> unsynced_;  // set when a written state's directory sync failed
};

}  // namespace

int run_enroller(const Options& options, Config config, std::unique_ptr<StateStore> store,
                 std::string user, uid_t uid, std::optional<Account> acting_for) {
  Enroller enroller(options, std::move(config), std::move(store), std::move(user), uid,
                    std::move(acting_for));
  return enroller.run();
}

}  // namespace valix::enroll
