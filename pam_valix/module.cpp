#include "module.hpp"

#include <security/pam_ext.h>
#include <syslog.h>
#include <unistd.h>

#include <ctime>
#include <string>

#include "auth.hpp"
#include "enrollment.hpp"
#include "enrollment_flow.hpp"
#include "enrollment_texts.hpp"
#include "messages.hpp"
#include "policy.hpp"
#include "qr.hpp"
#include "setuid.hpp"
#include "store.hpp"
#include "text.hpp"
#include "unprivileged.hpp"
#include "username.hpp"
#include "verify.hpp"

namespace valix::pam {
namespace {

constexpr const char* kResultKey = "valix_auth_result";
// The PAM environment variable holding the token of an enrollment made at login.
constexpr std::string_view kLoginEnrollmentVariable = "VALIX_LOGIN_ENROLLMENT";
// The enrollment flow's dialog over the PAM conversation: codes are asked with echo on (a
// code being set up is no secret yet), the QR code drawn without colours unless qr = none.
class LoginDialog final : public EnrollmentDialog {
 public:
  LoginDialog(PamSession& session, const Config& config) : session_(session), config_(config) {}
  void show(std::string_view text, Tone tone) override {
    session_.tell(text, tone == Tone::error ? MessageKind::error : MessageKind::info);
  }
  Result<SecretString> qr_code(std::string_view uri) override {
    if (config_.qr == QrStyle::none) return SecretString();
    return render_qr_text_plain(uri);
  }
  Result<SecretString> ask(std::string_view prompt) override {
    return session_.ask(prompt, Echo::on);
  }

 private:
  PamSession& session_;
  const Config& config_;
};

class Login {
 public:
  Login(PamSession& session, const Config& config, const ModuleOptions& options, std::string user,
        const Clock& clock, const StoreOpener& open_store)
      : session_(session),
        config_(config),
        options_(options),
        user_(std::move(user)),
        clock_(clock),
        open_store_(open_store) {
    where_ = login_context(session_);
    shown_user_ = valid_username(user_) ? user_ : "(invalid user name)";
  }

  int run() {
    auto owner = state_owner(user_);
    if (!owner) return internal_error(owner.error().message);
    if (owner->account) {
      const std::string& account_name = owner->key.empty() ? owner->account->name : owner->key;
      if (account_name != user_) shown_user_ += " (account " + printable_field(account_name) + ")";
    }
    auto store = open_store_(config_);
    if (!store) return store_failed(owner->account, store.error());
    store_ = std::move(*store);
    auto found = load_login_state(*store_, *owner);
    if (!found) return store_failed(owner->account, found.error());
    if (!found->key) {
      log(LogLevel::notice, "user name is not valid for 2FA state; treating as not enrolled");
      store_.reset();
      return not_enrolled(owner->account, false);
    }
    state_key_ = *found->key;
    const std::optional<UserState>& state = found->state;
    if (state && state->enrollment) return challenge(*state->enrollment);
    return not_enrolled(owner->account, state && state->required);
  }

 private:
  void log(LogLevel level, std::string_view message) {
    session_.logger().log(level,
                          "user " + shown_user_ + " (" + where_ + "): " + std::string(message));
  }

  int internal_error(std::string_view why) {
    log(LogLevel::error, "denied: " + std::string(why));
    session_.tell(kUnavailable, MessageKind::error);
    return PAM_AUTH_ERR;
  }

  // A store that cannot be reached (the fleet's directory down, or refusing this host) says
  // nothing about who is enrolled, so it denies everyone, enrolled or not: an attacker who
  // knocks the directory over must not make users look unenrolled. Members of exempt_groups
  // are the way back in for administrators, and pass as if 2FA were not required.
  int store_failed(const std::optional<Account>& account, const Error& error) {
    if (error.code == Errc::unreachable && account && !config_.exempt_groups.empty()) {
      auto exempt = member_of_any(*account, config_.exempt_groups, MissingGroup::has_no_members);
      if (exempt && *exempt) {
        log(LogLevel::warning, "2FA state cannot be read (" + error.message +
                                   "); let through without a code: member of exempt_groups");
        return PAM_IGNORE;
      }
    }
    return internal_error(error.message);
  }

  std::string prompt() const { return code_prompt(config_); }

  // Who gave the answer: the user (at this module's prompt, or through an earlier module with
  // use_first_pass), or an earlier module whose password may only look like a code
  // (try_first_pass). A wrong answer of the second kind is counted at once (so a login killed
  // at the next prompt still paid for it), but may not be the one that starts a lockout, and
  // the user is then asked.
  enum class AnswerKind { typed, maybe_a_password };

  Result<SecretString> collect_answer(int digits, AnswerKind& kind) {
    kind = AnswerKind::typed;
    switch (options_.source) {
      case AnswerSource::prompt: return session_.ask(prompt(), Echo::off);
      case AnswerSource::use_first_pass: {
        auto token = session_.authtok();
        if (!token) return std::unexpected(token.error());
        if (!*token)
          return fail(Errc::invalid, "use_first_pass: no PAM_AUTHTOK from an earlier module");
        return std::move(**token);
      }
      case AnswerSource::try_first_pass: {
        auto token = session_.authtok();
        if (!token) return std::unexpected(token.error());
        if (*token && answer_shape((*token)->view(), digits) != AnswerShape::other) {
          kind = AnswerKind::maybe_a_password;
          return std::move(**token);
        }
        return session_.ask(prompt(), Echo::off);
      }
    }
    return fail(Errc::invalid, "unknown answer source");
  }

  // The verdict counts only once verify_and_record has it: the failure it would cost was on
  // disk before the answer was judged, and a right answer's new state after.
  Result<Verdict> check(std::string_view answer, AnswerKind kind) {
    // The time is read after the answer arrived: the user may have taken a while to type.
    const SignalShield shield;  // around the lock: see SignalShield
    return verify_and_record(
        *store_, state_key_, answer, clock_(), config_,
        kind == AnswerKind::maybe_a_password ? FailureGrace::one_more : FailureGrace::none);
  }

  int challenge(const Enrollment& enrollment) {
    AnswerKind kind = AnswerKind::typed;
    auto answer = collect_answer(enrollment.otp.digits, kind);
    if (!answer) {
      log(LogLevel::error, "denied: " + answer.error().message);
      return PAM_AUTH_ERR;
    }
    // try_first_pass may have taken a password that only looks like a code: if it is not the
    // code, the user is asked. It counts as a failure at once, so it is never a free guess,
    // but never starts a lockout by itself.
    // An accepted code whose watermark could not be written must not log anyone in.
    auto verdict = check(answer->view(), kind);
    if (!verdict) return internal_error(verdict.error().message);
    if (kind == AnswerKind::maybe_a_password && !verdict->accepted() &&
        verdict->outcome != Outcome::locked && verdict->locked_for == 0) {
      log(LogLevel::notice, "the earlier module's password is not a valid code (" +
                                std::string(outcome_name(verdict->outcome)) +
                                "); asking for the code");
      answer = session_.ask(prompt(), Echo::off);
      if (!answer) {
        log(LogLevel::error, "denied: " + answer.error().message);
        return PAM_AUTH_ERR;
      }
      verdict = check(answer->view(), AnswerKind::typed);
      if (!verdict) return internal_error(verdict.error().message);
    }
    return report(*verdict);
  }

  // Tells the user and the log what a recorded verdict means for this login.
  int report(const Verdict& verdict) {
    return report_verdict(
        session_, [this](LogLevel level, std::string_view message) { log(level, message); },
        verdict);
  }

  int not_enrolled(const std::optional<Account>& account, bool admin_flag) {
    auto reason = required_by(config_, account, admin_flag);
    if (!reason) return internal_error(reason.error().message);
    if (*reason == RequiredBy::nobody) {
      log(LogLevel::debug, "not enrolled and not required to use 2FA: ignored");
      return PAM_IGNORE;
    }
    const bool enroll =
        *reason == RequiredBy::admin_flag || config_.unenrolled == UnenrolledAction::enroll;
    if (enroll && store_) return enroll_at_login(account.has_value());
    log(LogLevel::notice,
        "denied: 2FA required (" + std::string(required_by_name(*reason)) + ") but not enrolled");
    session_.tell(kNotSetUp, MessageKind::error);
    return PAM_AUTH_ERR;
  }

  // The enrollment flow (enrollment_flow.hpp) through the PAM conversation. For a name with no
  // account the same screens are shown and every code is refused, so the flow does not reveal
  // which accounts exist.
  int enroll_at_login(bool real_account) {
    LoginDialog dialog(session_, config_);
    auto flow = run_enrollment_flow(
        dialog, config_,
        EnrollmentFlow{EnrollmentFront::login, account_label(config_, state_key_.name), prompt(),
                       std::nullopt, !real_account},
        clock_);
    if (!flow) return internal_error(flow.error().message);
    if (flow->end == EnrollmentEnd::abandoned) {
      log(LogLevel::notice, "in-login enrollment abandoned: " + flow->why);
      return PAM_AUTH_ERR;
    }
    if (flow->end != EnrollmentEnd::verified) {
      log(LogLevel::notice, "denied: in-login enrollment failed (no correct code)");
      session_.tell(texts::kLoginNotSetUp, MessageKind::error);
      return PAM_AUTH_ERR;
    }

    // Shown now, while the conversation is open; kept inert in the state, and installed only
    // once the whole login has passed (establish_credentials, with this login's token). A
    // login that fails after this point leaves the user as they were: not enrolled.
    auto activation = make_enrollment(flow->pending, flow->first_step, clock_(), config_);
    if (!activation) return internal_error(activation.error().message);
    auto token = new_login_token();
    if (!token) return internal_error(token.error().message);
    if (auto kept =
            [&] {
              const SignalShield shield;  // around the lock: see SignalShield
              return keep_login_enrollment(*store_, state_key_, activation->enrollment,
                                           token->view(), clock_() + config_.pending_lifetime);
            }();
        !kept) {
      return internal_error(kept.error().message);
    }
    if (auto set = session_.set_env(kLoginEnrollmentVariable, token->view()); !set) {
      return internal_error(set.error().message);
    }
    const SecretString codes = texts::backup_codes_screen(activation->backup_codes);
    SecretString text;
    text.str().reserve(texts::kLoginSetUp.size() + 2 + codes.size());  // never reallocated
    text.str().append(texts::kLoginSetUp).append("\n\n").append(codes.view());
    session_.tell(text.view(), MessageKind::info);
    log(LogLevel::notice, "2FA set up at login; stored once the login completes (setcred)");
    return PAM_SUCCESS;
  }

  PamSession& session_;
  const Config& config_;
  const ModuleOptions& options_;
  std::string user_;    // as the PAM client sent it
  StateKey state_key_;  // the account's own name, under which its state is filed, and its uid
  std::string shown_user_;
  std::string where_;
  const Clock& clock_;
  const StoreOpener& open_store_;
  std::unique_ptr<StateStore> store_;
};

void cleanup_result(pam_handle_t*, void* data, int) { delete static_cast<int*>(data); }

}  // namespace

Result<std::unique_ptr<StateStore>> open_module_store(const Config& config) {
  return open_state_store(config, geteuid());
}

int authenticate(PamSession& session, const Result<ModuleOptions>& options, const Clock& clock,
                 const StoreOpener& open_store) {
  // Only this authentication's own enrollment, if it makes one, may be stored by setcred.
  session.unset_env(kLoginEnrollmentVariable);
  if (!options) {
    session.logger().log(LogLevel::error, "denied: " + options.error().message);
    session.tell(kUnavailable, MessageKind::error);
    return PAM_AUTH_ERR;
  }
  auto config = load_module_config(*options);
  if (!config) {
    session.logger().log(LogLevel::error, "denied: configuration error: " + config.error().message);
    session.tell(kUnavailable, MessageKind::error);
    return PAM_AUTH_ERR;
  }
  // Set first so that every failure below, internal ones included, is delayed alike.
  session.fail_delay(std::chrono::milliseconds(config->fail_delay_ms));
  auto user = session.user();
  if (!user) {
    session.logger().log(LogLevel::error, "denied: " + user.error().message);
    return PAM_AUTH_ERR;
  }
  // A screen locker or any application running as the user cannot read the state: it has
  // valix-check, the setuid helper, check the user's own code (unprivileged.hpp).
  if (module_privilege(*config) == Privilege::unprivileged_caller) {
    return authenticate_unprivileged(session, *config, *options, *user);
  }
  return Login(session, *config, *options, std::move(*user), clock, open_store).run();
}

int authenticate_entry(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  const auto options = parse_module_options(
      std::span<const char* const>(argv, argc > 0 ? static_cast<std::size_t>(argc) : 0));
  const bool verbose = options && options->verbosity == Verbosity::debug;
  PamHandleSession session(pamh, verbose, (flags & PAM_SILENT) != 0 ? Quiet::yes : Quiet::no);
  const Clock wall_clock = [] { return static_cast<std::int64_t>(std::time(nullptr)); };
  const int result = authenticate(session, options, wall_clock);
  // Remembered for pam_sm_setcred, which must not report success after a failed check.
  auto* stored = new int(result);
  if (pam_set_data(pamh, kResultKey, stored, cleanup_result) != PAM_SUCCESS) delete stored;
  return result;
}

int establish_credentials(PamSession& session, const Result<ModuleOptions>& options, int flags,
                          const StoreOpener& open_store) {
  auto token = session.env(kLoginEnrollmentVariable);
  if (!token || (flags & PAM_DELETE_CRED) != 0) return PAM_IGNORE;
  // Used once, and kept out of the session's environment.
  session.unset_env(kLoginEnrollmentVariable);
  auto user = session.user();
  const std::string shown = user ? printable_field(*user) : "(unknown)";
  const std::string who = "user " + shown + " (" + login_context(session) + "): ";
  auto store_enrollment = [&]() -> Result<void> {
    if (!user) return std::unexpected(user.error());
    if (!options) return std::unexpected(options.error());
    auto config = load_module_config(*options);
    if (!config) return std::unexpected(config.error());
    auto owner = state_owner(*user);
    if (!owner) return std::unexpected(owner.error());
    if (owner->key.empty() || !owner->account) {
      return fail(Errc::invalid, "the user name cannot have 2FA state");
    }
    auto store = open_store(*config);
    if (!store) return std::unexpected(store.error());
    const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
    const SignalShield shield;
    return complete_login_enrollment(**store, StateKey{owner->key, owner->account->uid},
                                     token->view(), now);
  };
  auto stored = store_enrollment();
  if (!stored) {
    // Errc::unsynced: the enrollment is in place, but its durability is in doubt.
    session.logger().log(LogLevel::error, who + "denied: the 2FA set up at login was not stored: " +
                                              stored.error().message);
    session.tell(kUnavailable, MessageKind::error);
    return PAM_CRED_ERR;
  }
  session.logger().log(LogLevel::notice, who + "enrolled in 2FA at login");
  return PAM_SUCCESS;
}

int setcred_entry(pam_handle_t* pamh, int flags, int argc, const char** argv) {
  const void* data = nullptr;
  const bool authenticated_here =
      pam_get_data(pamh, kResultKey, &data) == PAM_SUCCESS && data != nullptr;
  // sshd authenticates in a child process and calls pam_setcred in its parent, where this
  // module's data is absent but the PAM environment (and so the enrollment token) arrives.
  if (authenticated_here) {
    const int result = *static_cast<const int*>(data);
    if (result == PAM_IGNORE) return PAM_IGNORE;
    if (result != PAM_SUCCESS) return PAM_CRED_ERR;
  }
  const auto options = parse_module_options(
      std::span<const char* const>(argv, argc > 0 ? static_cast<std::size_t>(argc) : 0));
  const bool verbose = options && options->verbosity == Verbosity::debug;
  PamHandleSession session(pamh, verbose, (flags & PAM_SILENT) != 0 ? Quiet::yes : Quiet::no);
  const int established = establish_credentials(session, options, flags);
  // PAM_IGNORE: no enrollment to install. After a check in this process, its success stands;
  // with none (sshd's public-key-only path) there is nothing to establish or refuse.
  if (established == PAM_IGNORE && authenticated_here) return PAM_SUCCESS;
  return established;
}

}  // namespace valix::pam
