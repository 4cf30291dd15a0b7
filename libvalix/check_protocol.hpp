// The line protocol between pam_valix, when it runs without privilege (a screen locker, any
// PAM application running as the user), and the setuid helper valix-check, which checks the
// caller's own code as root. One place for both sides, so they cannot drift apart.
//
// helper -> module, first line, what the account is:
//   "enrolled DIGITS"   the module then sends exactly one answer line
//   "not-required"      not enrolled, and policy does not require 2FA (exit kNotRequired)
//   "required"          not enrolled but required (exit kRefused): an unprivileged caller
//                       cannot enroll at login
// module -> helper: the answer, one line (answer_line).
// helper -> module, once the answer was charged and judged (verify_and_record):
//   "verdict OUTCOME SHAPE LOCKED_FOR BACKUP_CODES_LEFT"   (exit kAccepted or kRefused)
// The exit status must agree with the last line; the module denies on any disagreement.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "error.hpp"
#include "secure.hpp"

namespace valix::check {

enum class AccountStatus { enrolled, not_required, required };

struct StatusLine {
  AccountStatus status = AccountStatus::required;
  int digits = 0;  // enrolled: the enrollment's code length, for the answer's shape
};

// Exit statuses of valix-check.
enum class HelperExit : int {
  accepted = 0,      // a verdict that accepts the answer
  refused = 1,       // a verdict that refuses it, "required", or no answer arrived
  not_allowed = 2,   // usage error, or the account named is not the caller's
  internal = 3,      // anything that went wrong (logged to syslog by the helper)
  not_required = 4,  // "not-required"
};

// The longest line either side sends, newline excluded. An answer is at most kMaxAnswerLength
// bytes (answer_line).
inline constexpr std::size_t kMaxLineLength = 256;
inline constexpr std::size_t kMaxAnswerLength = 200;

std::string format_status(const StatusLine& line);
Result<StatusLine> parse_status(std::string_view line);

std::string format_verdict(const Verdict& verdict);
Result<Verdict> parse_verdict(std::string_view line);

// The exit status that goes with a verdict or an account status.
HelperExit exit_for(const Verdict& verdict);
HelperExit exit_for(AccountStatus status);

// The answer as the line the helper reads. An answer that cannot travel as one line (it holds
// a newline, or is longer than kMaxAnswerLength) is no code of any shape, so it is sent as a
// one-character stand-in that is not one either: the helper charges and refuses it as
// malformed, exactly as the privileged path would the answer itself.
SecretString answer_line(std::string_view answer);

}  // namespace valix::check
