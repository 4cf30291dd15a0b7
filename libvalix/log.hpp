// One logging interface: the module sends it to pam_syslog, the tools to stderr (and, for
// administrative actions, also to syslog). Callers never pass a code or a secret.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "error.hpp"

namespace valix {

enum class LogLevel { error, warning, notice, info, debug };

// The one shape of every line Valix sends to syslog (documented in pam_valix(8), LOG LINES):
//
//   event=EVENT reason=REASON key=value ... msg="human-readable text"
//
// event and reason come first, from a fixed vocabulary (these enums); the keys that follow
// depend on the program (user, service, rhost, tty for a login; action, user, by for an
// administrator); msg comes last. A value from outside (a user name, a remote host) is made
// printable (printable_field: every byte that is not printable ASCII becomes '?', at most
// 128 bytes, "-" when empty) and then has ' ', '"', '=', '\' and '%' percent-encoded (%20,
// %22, %3D, %5C, %25), so that no value holds a blank or an '=': a hostile rhost or user name
// can never add a key, even for a parser that splits on blanks. msg is in double quotes with
// '"' and '\' escaped by a backslash; it is for people, and parsers read the keys before it.
enum class Event {
  success,     // a code was accepted (reason: totp_code, backup_code)
  grace,       // let in without a code: a grace period (reason: grace_period)
  ignored,     // PAM_IGNORE: policy does not require 2FA (not_required, exempt_unreachable)
  denied,      // refused (see Reason)
  retry,       // try_first_pass: the earlier password was not the code; asking (its reason)
  enrollment,  // 2FA set up at a login, kept inert until the login completes (at_login)
  enrolled,    // that enrollment installed at pam_setcred (at_login)
  note,        // something worth knowing that decides nothing by itself (invalid_user_name)
  admin,       // an action of valix-admin (reason: done, refused, failed, warning)
};

enum class Reason {
  totp_code,           // success: a TOTP code
  hotp_code,           // success: an HOTP token's value
  backup_code,         // success: a backup code (now used up)
  grace_period,        // grace: within the grace period of a real 2FA success
  not_required,        // ignored: not enrolled, and policy does not require 2FA
  exempt_unreachable,  // ignored: the state store is unreachable; member of exempt_groups
  wrong_code,          // denied/retry: not a valid code
  replayed,            // denied/retry: a valid TOTP code that was used already
  clock_drift,         // denied/retry: the code of a step a few minutes off (a clock is wrong)
  out_of_sync,         // denied/retry: an HOTP value beyond the look-ahead (the token ran ahead)
  malformed,           // denied/retry: an answer shaped like no code
  locked,              // denied: locked out; the answer was not looked at
  not_enrolled,        // denied: 2FA required but not set up
  no_answer,           // denied: no answer (the conversation failed, or no PAM_AUTHTOK)
  enrollment_failed,   // denied: an enrollment at login got no correct first code
  not_stored,          // denied (setcred): the enrollment made at login could not be stored
  not_allowed,         // denied: an unprivileged caller asked about another account
  config_error,        // denied: valix.conf or the module options are not valid
  internal_error,      // denied: anything else that kept the login from being checked
  invalid_user_name,   // note: a name that cannot have 2FA state (treated as not enrolled)
  at_login,            // enrollment/enrolled: at a login
  done,                // admin: the action was carried out (or found nothing to do)
  refused,             // admin: refused (a user or group unknown, invalid, no state...)
  failed,              // admin: failed (configuration, store, output)
  warning,             // admin: worth a look; the action goes on (a skipped group member)
};

std::string_view event_name(Event event);
std::string_view reason_name(Reason reason);

// A value for a log line: printable_field, then ' ', '"', '=', '\\' and '%' percent-encoded.
std::string log_value(std::string_view text);

// Keys and values to add to a line, in order (key: one of ours, [a-z_]+).
using LogFields = std::vector<std::pair<std::string_view, std::string>>;

// One line of the shape above, built key by key.
class LogLine {
 public:
  LogLine(Event event, Reason reason);
  // Appends " key=value", the value escaped by log_value. key is one of ours: [a-z_]+.
  LogLine& add(std::string_view key, std::string_view value);
  LogLine& add(const LogFields& fields) {
    for (const auto& [key, value] : fields) add(key, value);
    return *this;
  }
  // The line with msg="message" last.
  std::string text(std::string_view message) const;

 private:
  std::string fields_;
};

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
  // A line of the shape above. Syslog gets it whole; a logger for people (a terminal) may
  // show only message: the default writes line.text(message) through log.
  virtual void log_line(LogLevel level, const LogLine& line, std::string_view message) {
    log(level, line.text(message));
  }
  // The same line, with shown for people in place of message: its translation (i18n.hpp).
  // The line itself stays English; a logger that is only a log (the default) ignores shown.
  virtual void log_line_shown(LogLevel level, const LogLine& line, std::string_view message,
                              std::string_view shown) {
    (void)shown;
    log_line(level, line, message);
  }
};

// Writes "PROGRAM: message" to stderr; debug lines only when verbose.
class StderrLogger final : public Logger {
 public:
  StderrLogger(std::string_view program, bool verbose) : program_(program), verbose_(verbose) {}
  void log(LogLevel level, std::string_view message) override;

 private:
  std::string_view program_;
  bool verbose_;
};

// Writes to syslog(3) under LOG_AUTHPRIV with the given ident, and forwards to another logger
// (a line of the key=value shape: syslog gets the line, the other logger its message only).
class SyslogTeeLogger final : public Logger {
 public:
  SyslogTeeLogger(const char* ident, Logger& next);
  ~SyslogTeeLogger() override;
  SyslogTeeLogger(const SyslogTeeLogger&) = delete;
  SyslogTeeLogger& operator=(const SyslogTeeLogger&) = delete;
  void log(LogLevel level, std::string_view message) override;
  void log_line(LogLevel level, const LogLine& line, std::string_view message) override;
  // Syslog gets the line with message, the other logger shown.
  void log_line_shown(LogLevel level, const LogLine& line, std::string_view message,
                      std::string_view shown) override;

 private:
  Logger& next_;
};

int syslog_priority(LogLevel level);

// Flushes stdout and says whether everything written to it arrived. The tools call it last,
// so that output that was lost (a full disk, a closed pipe: backup codes nobody saw) never
// ends in a success exit code; their individual printf calls go unchecked for that reason.
Result<void> flush_stdout();

}  // namespace valix
