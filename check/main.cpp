// valix-check: checks the 2FA code of the user who runs it, for pam_valix when it runs without
// privilege (a screen locker, or any PAM application running as the user), the way pam_unix
// uses unix_chkpwd for passwords.
//
// Privilege model. Installed setuid root, because the state directory is root's and mode 0700.
// It acts only for the account of the real uid: a user name on the command line must reach
// that same account (root may name anyone). It reads the compiled-in valix.conf and nothing
// the caller names, clears the environment, lifts the file-size and descriptor limits, and
// reads at most one answer, which verify_and_record charges before it judges: a caller that
// kills it, or fills the disk under it, has paid for the guess or learned nothing. A refusal
// is delayed (fail_delay_ms) before the verdict is written, so the delay holds even for a
// caller that would skip pam_fail_delay. It never enrolls: an unprivileged login is no
// place to show a new secret. Protocol: libvalix/check_protocol.hpp. Every decision is one
// syslog line (authpriv), never the code.
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include "auth.hpp"
#include "check_protocol.hpp"
#include "config.hpp"
#include "log.hpp"
#include "policy.hpp"
#include "secure.hpp"
#include "setuid.hpp"
#include "store.hpp"
#include "text.hpp"
#include "username.hpp"
#include "verify.hpp"

using namespace valix;
using check::AccountStatus;
using check::HelperExit;

namespace {

int code(HelperExit exit) { return static_cast<int>(exit); }

// Writes one protocol line to standard output. A caller that went away is no error worth more
// than the exit status (SIGPIPE is ignored: a write to a closed pipe returns EPIPE).
void send_line(const std::string& line) {
  const std::string text = line + "\n";
  std::string_view rest = text;
  while (!rest.empty()) {
    const ssize_t n = write(STDOUT_FILENO, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
}

// The answer: one line from standard input, read byte by byte so that nothing after it is
// consumed. nullopt at end of input, on an error, or for a line longer than the protocol
// allows (the module never sends one): nothing is judged then.
std::optional<SecretString> read_answer() {
  SecretString line;
  line.str().reserve(check::kMaxAnswerLength + 1);  // never reallocated: no unwiped copy
  for (;;) {
    char c = 0;
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    if (c == '\n') return line;
    if (line.size() >= check::kMaxAnswerLength) return std::nullopt;
    line.str().push_back(c);
  }
}

class Check {
 public:
  explicit Check(Logger& logger) : logger_(logger) {}

  int run(int argc, char** argv) {
    if (argc > 2) return refuse_usage("usage: valix-check [USER]");
    auto caller = lookup_account(getuid());
    if (!caller) return internal(caller.error().message);
    if (!*caller)
      return refuse_usage("the caller's uid " + std::to_string(getuid()) + " has no account");
    const std::string name = argc == 2 ? argv[1] : (*caller)->name;
    user_ = name;
    if (geteuid() != 0)
      return internal("not running as root: is valix-check installed setuid root?");
    reset_resource_limits();

    auto owner = state_owner(name);
    if (!owner) return internal(owner.error().message);
    // Root may check anyone (it could read the state anyway); everyone else only the account
    // of their own uid, under whatever login name reaches it.
    if (getuid() != 0 && (!owner->account || owner->account->uid != getuid())) {
      return refuse_usage("refused: the caller may check only their own account");
    }
    // Nothing the caller controls may steer this: the compiled-in configuration, root's.
    auto config = load_config(std::string(kDefaultConfigPath), 0);
    if (!config) return internal("configuration error: " + config.error().message);
    config_ = std::move(*config);
    auto store = open_state_store(config_, 0);
    if (!store) return internal(store.error().message);
    auto found = load_login_state(**store, *owner);
    if (!found) return internal(found.error().message);
    if (!found->key) return not_enrolled(owner->account, false);
    const std::optional<UserState>& state = found->state;
    if (!state || !state->enrollment) return not_enrolled(owner->account, state && state->required);
    return challenge(**store, *found->key, state->enrollment->otp.digits);
  }

 private:
  // The shape of every Valix log line (log.hpp): user (as the module passed it; absent before
  // it is known) and the caller's uid.
  void log(LogLevel level, Event event, Reason reason, std::string_view message,
           const LogFields& extra = {}) {
    LogLine line(event, reason);
    if (user_) line.add("user", *user_);
    line.add("caller_uid", std::to_string(getuid())).add(extra);
    logger_.log_line(level, line, message);
  }

  int internal(std::string_view why) {
    log(LogLevel::error, Event::denied, Reason::internal_error, "denied: " + std::string(why));
    return code(HelperExit::internal);
  }

  int refuse_usage(std::string_view why) {
    log(LogLevel::error, Event::denied, Reason::not_allowed, why);
    return code(HelperExit::not_allowed);
  }

  int not_enrolled(const std::optional<Account>& account, bool admin_flag) {
    auto reason = required_by(config_, account, admin_flag);
    if (!reason) return internal(reason.error().message);
    const AccountStatus status =
        *reason == RequiredBy::nobody ? AccountStatus::not_required : AccountStatus::required;
    if (status == AccountStatus::not_required) {
      log(LogLevel::info, Event::ignored, Reason::not_required,
          "not enrolled and not required to use 2FA: ignored");
    } else {
      log(LogLevel::notice, Event::denied, Reason::not_enrolled,
          "denied: 2FA required (" + std::string(required_by_name(*reason)) +
              ") but not enrolled; no enrollment through an unprivileged caller",
          {{"required_by", std::string(required_by_name(*reason))}});
    }
    send_line(check::format_status({status, 0}));
    return code(check::exit_for(status));
  }

  int challenge(StateStore& store, const StateKey& key, int digits) {
    send_line(check::format_status({AccountStatus::enrolled, digits}));
    const auto answer = read_answer();
    if (!answer) {
      log(LogLevel::notice, Event::denied, Reason::no_answer,
          "denied: no answer (nothing was checked)");
      return code(HelperExit::refused);
    }
    Result<Verdict> verdict;
    {
      // Ctrl-C, Ctrl-Z and a reader that went away must not cut the two updates short.
      const QuietSignals quiet;
      const std::int64_t now = std::time(nullptr);  // after the answer arrived
      verdict = verify_and_record(store, key, answer->view(), now, config_);
    }
    if (!verdict) return internal(verdict.error().message);
    const Reason reason = verdict_reason(*verdict);
    if (verdict->accepted()) {
      LogFields extra;
      if (verdict->outcome == Outcome::backup_accepted) {
        extra.emplace_back("backup_codes_left", std::to_string(verdict->backup_codes_left));
      }
      log(LogLevel::info, Event::success, reason, outcome_name(verdict->outcome), extra);
    } else {
      std::string message = "denied: " + std::string(outcome_name(verdict->outcome));
      LogFields extra;
      if (verdict->outcome == Outcome::clock_drift) {
        message += " of " + std::string(verdict->drift_seconds > 0 ? "+" : "") +
                   std::to_string(verdict->drift_seconds) + " s";
        extra.emplace_back("drift_seconds", std::to_string(verdict->drift_seconds));
      }
      if (verdict->locked_for > 0) {
        message += (verdict->outcome == Outcome::locked ? " for another " : "; locked out for ") +
                   std::to_string(verdict->locked_for) + " s";
        extra.emplace_back("locked_for", std::to_string(verdict->locked_for));
      }
      log(LogLevel::notice, Event::denied, reason, message, extra);
      // The failure is on disk already: killing the helper now saves the caller nothing.
      std::this_thread::sleep_for(std::chrono::milliseconds(config_.fail_delay_ms));
    }
    send_line(check::format_verdict(*verdict));
    return code(check::exit_for(*verdict));
  }

  Logger& logger_;
  Config config_;
  std::optional<std::string> user_;
};

}  // namespace

int main(int argc, char** argv) {
  // Before anything else: nothing the caller set may steer a privileged process, and a
  // caller that closes its end must not kill it between the charge and the judgement.
  clearenv();
  (void)std::signal(SIGPIPE, SIG_IGN);  // cannot fail for a valid signal
  umask(077);
  StderrLogger stderr_logger("valix-check", false);
  SyslogTeeLogger logger("valix-check", stderr_logger);
  try {
    return Check(logger).run(argc, argv);
  } catch (const std::exception& e) {
    logger.log_line(LogLevel::error, LogLine(Event::denied, Reason::internal_error),
                    std::string("denied: internal error: ") + e.what());
  }
  return code(HelperExit::internal);
}
