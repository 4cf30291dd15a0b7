#include "messages.hpp"

#include <security/pam_modules.h>

#include <cstdint>

#include "text.hpp"

namespace valix::pam {
namespace {

std::string minutes_text(std::int64_t seconds) {
  const std::int64_t minutes = (seconds + 59) / 60;
  return std::to_string(minutes) + (minutes == 1 ? " minute" : " minutes");
}

}  // namespace

std::string login_context(PamSession& session) {
  return "service=" + printable_field(session.item(PAM_SERVICE)) +
         " rhost=" + printable_field(session.item(PAM_RHOST));
}

std::string code_prompt(const Config& config) {
  std::string text = config.prompt;
  if (text.back() != ' ') text.push_back(' ');
  return text;
}

int report_verdict(PamSession& session, const LoginLog& log, const Verdict& verdict) {
  if (verdict.accepted()) {
    log(LogLevel::info, std::string(outcome_name(verdict.outcome)));
    if (verdict.outcome == Outcome::backup_accepted) {
      std::string text = "Backup code accepted. You have " +
                         std::to_string(verdict.backup_codes_left) + " backup code" +
                         (verdict.backup_codes_left == 1 ? "" : "s") + " left.";
      if (verdict.backup_codes_left <= 3) {
        text += " Run valix-enroll --regenerate-backup-codes to get new ones.";
      }
      session.tell(text, MessageKind::info);
    }
    return PAM_SUCCESS;
  }
  if (verdict.outcome == Outcome::locked) {
    log(LogLevel::notice,
        "denied: locked out for another " + std::to_string(verdict.locked_for) + " s");
    session.tell(
        verdict.shape == AnswerShape::backup
            ? "Too many wrong backup codes. Try again in " + minutes_text(verdict.locked_for) +
                  ", or ask your administrator to unlock your account."
            : "Too many failed attempts. Try again in " + minutes_text(verdict.locked_for) +
                  ", sign in with a backup code, or ask your administrator to "
                  "unlock your account.",
        MessageKind::error);
    return PAM_AUTH_ERR;
  }
  std::string reason = "denied: " + std::string(outcome_name(verdict.outcome));
  if (verdict.outcome == Outcome::clock_drift && verdict.drift_seconds != 0) {
    reason += " of " + std::string(verdict.drift_seconds > 0 ? "+" : "") +
              std::to_string(verdict.drift_seconds) + " s";
  }
  if (verdict.locked_for > 0)
    reason += "; locked out for " + std::to_string(verdict.locked_for) + " s";
  log(LogLevel::notice, reason);
  session.tell(verdict.outcome == Outcome::replayed
                   ? "This code has already been used. Wait for the next code from your "
                     "authenticator app."
               : verdict.outcome == Outcome::clock_drift
                   ? "Invalid verification code. The time on your phone looks wrong: set it "
                     "to update automatically, then use the next code."
                   : "Invalid verification code.",
               MessageKind::error);
  return PAM_AUTH_ERR;
}

}  // namespace valix::pam
