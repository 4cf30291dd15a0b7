#include "module.hpp"

#include <security/pam_ext.h>
#include <sys/resource.h>
#include <syslog.h>
#include <unistd.h>

#include <ctime>
#include <optional>
#include <string>

#include "auth.hpp"
#include "enrollment.hpp"
#include "enrollment_flow.hpp"
#include "enrollment_texts.hpp"
#include "grace.hpp"
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

// A resource limit below what a directory connection may need (see store_failed), by name.
std::optional<std::string> limit_set_too_low() {
  struct Floor {
    int resource;
    rlim_t at_least;
    const char* name;
  };
  constexpr rlim_t kGiB = rlim_t{1} << 30;
  const Floor floors[] = {{RLIMIT_NOFILE, 256, "RLIMIT_NOFILE"},
                          {RLIMIT_AS, kGiB, "RLIMIT_AS"},
                          {RLIMIT_DATA, kGiB, "RLIMIT_DATA"},
                          {RLIMIT_STACK, rlim_t{1} << 20, "RLIMIT_STACK"}};
  for (const auto& f : floors) {
    rlimit limit{};
    if (getrlimit(f.resource, &limit) != 0) return std::string(f.name);
    if (limit.rlim_cur != RLIM_INFINITY && limit.rlim_cur < f.at_least) return std::string(f.name);
  }
  return std::nullopt;
}

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
    items_ = login_items(session_);
  }

  int run() {
    auto owner = state_owner(user_);
    if (!owner) return internal_error(owner.error().message);
    if (owner->account) {
      account_name_ = owner->key.empty() ? owner->account->name : owner->key;
    }
    auto store = open_store_(config_);
    if (!store) return store_failed(owner->account, store.error());
    store_ = std::move(*store);
    auto found = load_login_state(*store_, *owner);
    if (!found) return store_failed(owner->account, found.error());
    if (!found->key) {
      log(LogLevel::notice, Event::note, Reason::invalid_user_name,
          "user name is not valid for 2FA state; treating as not enrolled");
      store_.reset();
      return not_enrolled(owner->account, false);
    }
    state_key_ = *found->key;
    const std::optional<UserState>& state = found->state;
    if (state && state->enrollment) {
      if (auto granted = grace(*state)) return *granted;
      return challenge(*state->enrollment);
    }
    return not_enrolled(owner->account, state && state->required);
  }

 private:
  void log(LogLevel level, Event event, Reason reason, std::string_view message,
           const LogFields& extra = {}) {
    LogLine line(event, reason);
    line.add(login_fields(user_, account_name_, items_)).add(extra);
    session_.logger().log_line(level, line, message);
  }

  int internal_error(std::string_view why, Reason reason = Reason::internal_error) {
    log(LogLevel::error, Event::denied, reason, "denied: " + std::string(why));
    session_.tell(tr(kUnavailable), MessageKind::error);
    return PAM_AUTH_ERR;
  }

  // A store that cannot be reached (the fleet's directory down, or refusing this host) says
  // nothing about who is enrolled, so it denies everyone, enrolled or not: an attacker who
  // knocks the directory over must not make users look unenrolled. Members of exempt_groups
  // are the way back in for administrators, and pass as if 2FA were not required.
  //
  // The caller of a setuid PAM application (su, sudo) sets its resource limits: a limit too
  // small for a socket, a CA file or a TLS session makes the directory look unreachable from
  // here while it is up, so then nobody is let through.
  int store_failed(const std::optional<Account>& account, const Error& error) {
    if (error.code == Errc::unreachable && account && !config_.exempt_groups.empty()) {
      if (auto limit = limit_set_too_low()) {
        return internal_error(error.message + "; not taken for a directory that is down: " +
                              *limit + " is below what a connection needs (set by the caller?)");
      }
      auto exempt = member_of_any(*account, config_.exempt_groups, MissingGroup::has_no_members);
      if (exempt && *exempt) {
        log(LogLevel::warning, Event::ignored, Reason::exempt_unreachable,
            "2FA state cannot be read (" + error.message +
                "); let through without a code: member of exempt_groups");
        return PAM_IGNORE;
      }
    }
    return internal_error(error.message);
  }

  std::string prompt() const { return code_prompt(config_); }

  // What a grace period of this login is keyed on (grace.hpp): this host and the PAM items.
  LoginOrigin origin() const {
    return LoginOrigin{grace_host(config_), items_.rhost, items_.service, items_.tty};
  }

  // PAM_SUCCESS without a code when a grace period lets this login in; nullopt: ask. It reads
  // the state the login loaded and writes nothing: a grace use never renews itself, and a
  // lockout or a failure since the success (which removed the entry) means a code is asked.
  std::optional<int> grace(const UserState& state) {
    if (config_.grace_seconds <= 0) return std::nullopt;
    auto key = grace_key(origin(), config_);
    if (!key) {
      internal_error(key.error().message);
      return PAM_AUTH_ERR;
    }
    grace_key_ = *key;
    if (!*key) return std::nullopt;
    const auto until = grace_until(state, **key, clock_(), config_);
    if (!until) return std::nullopt;
    log(LogLevel::info, Event::grace, Reason::grace_period,
        "let in without a code: within the grace period of a 2FA login until " + iso_time(*until),
        {{"grace_until", iso_time(*until)}});
    return PAM_SUCCESS;
  }

  // Who gave the answer: the user (at this module's prompt, or through an earlier module with
  // use_first_pass), or an earlier module whose password may only look like a code
  // (try_first_pass). A wrong answer of the second kind is counted at once (so a login killed
  // at the next prompt still paid for it), but may not be the one that starts a lockout, and
  // the user is then asked.
  enum class AnswerKind { typed, maybe_a_password };

  Result<SecretString> collect_answer(const Enrollment& enrollment, AnswerKind& kind) {
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
        if (*token && answer_shape((*token)->view(), enrollment) != AnswerShape::other) {
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
        kind == AnswerKind::maybe_a_password ? FailureGrace::one_more : FailureGrace::none,
        AnswerOrigin{items_.rhost, grace_key_});
  }

  int challenge(const Enrollment& enrollment) {
    AnswerKind kind = AnswerKind::typed;
    auto answer = collect_answer(enrollment, kind);
    if (!answer) {
      log(LogLevel::error, Event::denied, Reason::no_answer, "denied: " + answer.error().message);
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
      log(LogLevel::notice, Event::retry, verdict_reason(*verdict),
          "the earlier module's password is not a valid code (" +
              std::string(outcome_name(verdict->outcome)) + "); asking for the code");
      answer = session_.ask(prompt(), Echo::off);
      if (!answer) {
        log(LogLevel::error, Event::denied, Reason::no_answer, "denied: " + answer.error().message);
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
        session_,
        [this](LogLevel level, Event event, Reason reason, std::string_view message,
               const LogFields& extra) { log(level, event, reason, message, extra); },
        verdict);
  }

  int not_enrolled(const std::optional<Account>& account, bool admin_flag) {
    auto reason = required_by(config_, account, admin_flag);
    if (!reason) return internal_error(reason.error().message);
    if (*reason == RequiredBy::nobody) {
      // info, not debug: a login let through without 2FA is worth an audit trail.
      log(LogLevel::info, Event::ignored, Reason::not_required,
          "not enrolled and not required to use 2FA: ignored");
      return PAM_IGNORE;
    }
    const bool enroll =
        *reason == RequiredBy::admin_flag || config_.unenrolled == UnenrolledAction::enroll;
    if (enroll && store_) return enroll_at_login(account.has_value());
    log(LogLevel::notice, Event::denied, Reason::not_enrolled,
        "denied: 2FA required (" + std::string(required_by_name(*reason)) + ") but not enrolled",
        {{"required_by", std::string(required_by_name(*reason))}});
    session_.tell(tr(kNotSetUp), MessageKind::error);
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
      log(LogLevel::notice, Event::denied, Reason::no_answer,
          "in-login enrollment abandoned: " + flow->why);
      return PAM_AUTH_ERR;
    }
    if (flow->end != EnrollmentEnd::verified) {
      log(LogLevel::notice, Event::denied, Reason::enrollment_failed,
          "denied: in-login enrollment failed (no correct code)");
      session_.tell(tr(texts::kLoginNotSetUp), MessageKind::error);
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
    const std::string_view set_up = tr(texts::kLoginSetUp);
    text.str().reserve(set_up.size() + 2 + codes.size());  // never reallocated
    text.str().append(set_up).append("\n\n").append(codes.view());
    session_.tell(text.view(), MessageKind::info);
    log(LogLevel::notice, Event::enrollment, Reason::at_login,
        "2FA set up at login; stored once the login completes (setcred)");
    return PAM_SUCCESS;
  }

  PamSession& session_;
  const Config& config_;
  const ModuleOptions& options_;
  std::string user_;          // as the PAM client sent it
  StateKey state_key_;        // the account's own name, under which its state is filed, and its uid
  std::string account_name_;  // the account's own name, when the user name reaches an account
  LoginItems items_;
  std::optional<std::string> grace_key_;  // this login's grace key, when grace applies to it
  const Clock& clock_;
  const StoreOpener& open_store_;
  std::unique_ptr<StateStore> store_;
};

void cleanup_result(pam_handle_t*, void* data, int) { delete static_cast<int*>(data); }

// A log line about this transaction outside a Login (before one, or at setcred): the user is
// PAM_USER as it is set (none yet when the options are bad).
void log_transaction(PamSession& session, LogLevel level, Event event, Reason reason,
                     std::string_view message) {
  LogLine line(event, reason);
  line.add(login_fields(session.item(PAM_USER), {}, login_items(session)));
  session.logger().log_line(level, line, message);
}

}  // namespace

Result<std::unique_ptr<StateStore>> open_module_store(const Config& config) {
  return open_state_store(config, geteuid());
}

int authenticate(PamSession& session, const Result<ModuleOptions>& options, const Clock& clock,
                 const StoreOpener& open_store) {
  // Only this authentication's own enrollment, if it makes one, may be stored by setcred.
  session.unset_env(kLoginEnrollmentVariable);
  if (!options) {
    log_transaction(session, LogLevel::error, Event::denied, Reason::config_error,
                    "denied: " + options.error().message);
    session.tell(tr(kUnavailable), MessageKind::error);
    return PAM_AUTH_ERR;
  }
  auto config = load_module_config(*options);
  if (!config) {
    log_transaction(session, LogLevel::error, Event::denied, Reason::config_error,
                    "denied: configuration error: " + config.error().message);
    session.tell(tr(kUnavailable), MessageKind::error);
    return PAM_AUTH_ERR;
  }
  // Set first so that every failure below, internal ones included, is delayed alike.
  session.fail_delay(std::chrono::milliseconds(config->fail_delay_ms));
  auto user = session.user();
  if (!user) {
    log_transaction(session, LogLevel::error, Event::denied, Reason::no_answer,
                    "denied: " + user.error().message);
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
    log_transaction(session, LogLevel::error, Event::denied, Reason::not_stored,
                    "denied: the 2FA set up at login was not stored: " + stored.error().message);
    session.tell(tr(kUnavailable), MessageKind::error);
    return PAM_CRED_ERR;
  }
  log_transaction(session, LogLevel::notice, Event::enrolled, Reason::at_login,
                  "enrolled in 2FA at login");
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
