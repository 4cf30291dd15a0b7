#include "messages.hpp"

#include <security/pam_modules.h>

#include <cstdint>

#include "text.hpp"

namespace valix::pam {
namespace {

std::int64_t minutes(std::int64_t seconds) { return (seconds + 59) / 60; }

}  // namespace

LoginItems login_items(PamSession& session) {
  return {session.item(PAM_SERVICE), session.item(PAM_RHOST), session.item(PAM_TTY)};
}

LogFields login_fields(std::string_view user, std::string_view account, const LoginItems& items) {
  LogFields fields;
  fields.emplace_back("user", std::string(user));
  if (!account.empty() && account != user) fields.emplace_back("account", std::string(account));
  fields.emplace_back("service", items.service);
  fields.emplace_back("rhost", items.rhost);
  fields.emplace_back("tty", items.tty);
  return fields;
}

std::string code_prompt(const Config& config) {
  // The default is translated; a configured prompt is shown as the administrator wrote it.
  std::string text =
      config.prompt == Config{}.prompt ? std::string(tr(N_("Verification code:"))) : config.prompt;
  if (text.back() != ' ') text.push_back(' ');
  return text;
}

int report_verdict(PamSession& session, const LoginLog& log, const Verdict& verdict) {
  const Reason reason = verdict_reason(verdict);
  if (verdict.accepted()) {
    LogFields extra;
    if (verdict.outcome == Outcome::backup_accepted) {
      extra.emplace_back("backup_codes_left", std::to_string(verdict.backup_codes_left));
    }
    std::string message(outcome_name(verdict.outcome));
    if (!verdict.authenticator.empty()) {
      message += " from authenticator " + verdict.authenticator;
      extra.emplace_back("authenticator", verdict.authenticator);
    }
    log(LogLevel::info, Event::success, reason, message, extra);
    if (verdict.outcome == Outcome::backup_accepted) {
      const auto left = static_cast<unsigned long>(verdict.backup_codes_left);
      std::string text =
          fill(verdict.backup_codes_left <= 3
                   ? trn("Backup code accepted. You have {count} backup code left. Run "
                         "valix-enroll --regenerate-backup-codes to get new ones.",
                         "Backup code accepted. You have {count} backup codes left. Run "
                         "valix-enroll --regenerate-backup-codes to get new ones.",
                         left)
                   : trn("Backup code accepted. You have {count} backup code left.",
                         "Backup code accepted. You have {count} backup codes left.", left),
               {{"count", std::to_string(verdict.backup_codes_left)}});
      session.tell(text, MessageKind::info);
    }
    return PAM_SUCCESS;
  }
  if (verdict.outcome == Outcome::locked) {
    log(LogLevel::notice, Event::denied, reason,
        "denied: locked out for another " + std::to_string(verdict.locked_for) + " s",
        {{"locked_for", std::to_string(verdict.locked_for)}});
    const std::int64_t wait = minutes(verdict.locked_for);
    const auto n = static_cast<unsigned long>(wait);
    session.tell(fill(verdict.shape == AnswerShape::backup
                          ? trn("Too many wrong backup codes. Try again in {minutes} minute, or "
                                "ask your administrator to unlock your account.",
                                "Too many wrong backup codes. Try again in {minutes} minutes, or "
                                "ask your administrator to unlock your account.",
                                n)
                          : trn("Too many failed attempts. Try again in {minutes} minute, sign "
                                "in with a backup code, or ask your administrator to unlock "
                                "your account.",
                                "Too many failed attempts. Try again in {minutes} minutes, sign "
                                "in with a backup code, or ask your administrator to unlock "
                                "your account.",
                                n),
                      {{"minutes", std::to_string(wait)}}),
                 MessageKind::error);
    return PAM_AUTH_ERR;
  }
  std::string message = "denied: " + std::string(outcome_name(verdict.outcome));
  LogFields extra;
  if (verdict.outcome == Outcome::clock_drift && verdict.drift_seconds != 0) {
    message += " of " + std::string(verdict.drift_seconds > 0 ? "+" : "") +
               std::to_string(verdict.drift_seconds) + " s";
    extra.emplace_back("drift_seconds", std::to_string(verdict.drift_seconds));
  }
  if (verdict.locked_for > 0) {
    message += "; locked out for " + std::to_string(verdict.locked_for) + " s";
    extra.emplace_back("locked_for", std::to_string(verdict.locked_for));
  }
  if (!verdict.authenticator.empty()) {
    message += "; authenticator " + verdict.authenticator;
    extra.emplace_back("authenticator", verdict.authenticator);
  }
  log(LogLevel::notice, Event::denied, reason, message, extra);
  session.tell(verdict.outcome == Outcome::replayed && verdict.hotp
                   ? tr("This code has already been used. Press your token's button for a new "
                        "one.")
               : verdict.outcome == Outcome::replayed
                   ? tr("This code has already been used. Wait for the next code from your "
                        "authenticator app.")
               : verdict.outcome == Outcome::clock_drift
                   ? tr("Invalid verification code. The time on your phone looks wrong: set it "
                        "to update automatically, then use the next code.")
               : verdict.outcome == Outcome::out_of_sync
                   ? tr("Invalid verification code. Your token has run ahead: press its button "
                        "again and use the new code.")
                   : tr("Invalid verification code."),
               MessageKind::error);
  return PAM_AUTH_ERR;
}

}  // namespace valix::pam
