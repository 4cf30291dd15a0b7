#include "unprivileged.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "check_helper.hpp"
#include "check_protocol.hpp"
#include "messages.hpp"
#include "policy.hpp"
#include "text.hpp"
#include "username.hpp"

namespace valix::pam {

Privilege module_privilege(const Config& config) {
  if (geteuid() == 0) return Privilege::state_owner;
  // Only the directory's owner is looked at (lstat): whether it is safe to use is the store's
  // question, asked when the module opens it.
  struct stat st {};
  if (lstat(config.state_dir.c_str(), &st) == 0 && st.st_uid == geteuid()) {
    return Privilege::state_owner;
  }
  return Privilege::unprivileged_caller;
}

namespace {

using check::AccountStatus;
using check::HelperExit;

class UnprivilegedLogin {
 public:
  UnprivilegedLogin(PamSession& session, const Config& config, const ModuleOptions& options,
                    const std::string& user)
      : session_(session), config_(config), options_(options), user_(user) {
    fields_ = login_fields(user_, {}, login_items(session_));
    fields_.emplace_back("caller_uid", std::to_string(getuid()));
  }

  int run() {
    auto account = lookup_account(user_);
    if (!account) return unavailable(account.error().message);
    // The helper would refuse too; refusing here says why in this service's log. Never
    // PAM_IGNORE: an unprivileged caller cannot know whether another account is enrolled.
    if (!*account || ((*account)->uid != getuid() && (*account)->uid != geteuid())) {
      return unavailable("unprivileged caller uid " + std::to_string(getuid()) +
                             " cannot check 2FA for " + printable_field(user_),
                         Reason::not_allowed);
    }
    if (auto started = helper_.start(options_.check_helper, user_); !started) {
      return unavailable(started.error().message);
    }
    auto first = helper_.read_line();
    if (!first) return helper_failed(first.error());
    auto status = check::parse_status(*first);
    if (!status) return helper_failed(status.error());
    switch (status->status) {
      case AccountStatus::not_required: {
        if (auto done = expect_exit(check::exit_for(status->status)); !done) {
          return unavailable(done.error().message);
        }
        log(LogLevel::info, Event::ignored, Reason::not_required,
            "not enrolled and not required to use 2FA: ignored");
        return PAM_IGNORE;
      }
      case AccountStatus::required: {
        if (auto done = expect_exit(check::exit_for(status->status)); !done) {
          return unavailable(done.error().message);
        }
        log(LogLevel::notice, Event::denied, Reason::not_enrolled,
            "denied: 2FA required but not enrolled (no enrollment through an unprivileged "
            "caller)");
        session_.tell(tr(kNotSetUp), MessageKind::error);
        return PAM_AUTH_ERR;
      }
      case AccountStatus::enrolled: return challenge();
    }
    return unavailable("unknown account status");
  }

 private:
  void log(LogLevel level, Event event, Reason reason, std::string_view message,
           const LogFields& extra = {}) {
    LogLine line(event, reason);
    line.add(fields_).add(extra);
    session_.logger().log_line(level, line, message);
  }

  int unavailable(std::string_view why, Reason reason = Reason::internal_error) {
    log(LogLevel::error, Event::denied, reason, "denied: " + std::string(why));
    session_.tell(tr(kUnavailable), MessageKind::error);
    return PAM_AUTH_ERR;
  }

  // A helper that stopped talking: its exit status, if it has one, says more (its own syslog
  // line says why).
  int helper_failed(const Error& error) {
    auto exit = helper_.finish();
    if (!exit) return unavailable(error.message);
    if (*exit == 127) return unavailable(error.message + " (it could not be executed)");
    return unavailable(error.message + " (exit status " + std::to_string(*exit) +
                       "; valix-check logs why)");
  }

  Result<void> expect_exit(HelperExit expected) {
    auto exit = helper_.finish();
    if (!exit) return std::unexpected(exit.error());
    if (*exit != static_cast<int>(expected)) {
      return fail(Errc::corrupt, "valix-check's exit status " + std::to_string(*exit) +
                                     " does not match what it said");
    }
    return {};
  }

  Result<SecretString> collect_answer() {
    if (options_.source == AnswerSource::use_first_pass) {
      auto token = session_.authtok();
      if (!token) return std::unexpected(token.error());
      if (!*token)
        return fail(Errc::invalid, "use_first_pass: no PAM_AUTHTOK from an earlier module");
      return std::move(**token);
    }
    return session_.ask(code_prompt(config_), Echo::off);
  }

  int challenge() {
    auto answer = collect_answer();
    if (!answer) {
      // The helper is killed unjudged (~HelperRun): nothing was charged, nothing learned.
      log(LogLevel::error, Event::denied, Reason::no_answer, "denied: " + answer.error().message);
      return PAM_AUTH_ERR;
    }
    if (auto sent = helper_.send(check::answer_line(answer->view()).view()); !sent) {
      return helper_failed(sent.error());
    }
    auto line = helper_.read_line();
    if (!line) return helper_failed(line.error());
    auto verdict = check::parse_verdict(*line);
    if (!verdict) return helper_failed(verdict.error());
    if (auto done = expect_exit(check::exit_for(*verdict)); !done) {
      return unavailable(done.error().message);
    }
    return report_verdict(
        session_,
        [this](LogLevel level, Event event, Reason reason, std::string_view message,
               const LogFields& extra) { log(level, event, reason, message, extra); },
        *verdict);
  }

  PamSession& session_;
  const Config& config_;
  const ModuleOptions& options_;
  const std::string& user_;
  LogFields fields_;  // user, service, rhost, tty, caller_uid
  HelperRun helper_;
};

}  // namespace

int authenticate_unprivileged(PamSession& session, const Config& config,
                              const ModuleOptions& options, const std::string& user) {
  return UnprivilegedLogin(session, config, options, user).run();
}

}  // namespace valix::pam
