// What the module says to the user and writes to the log, shared by the privileged path
// (module.cpp, which checks state itself) and the unprivileged one (unprivileged.cpp, which
// has valix-check do it), so that both say the same thing for the same verdict.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "config.hpp"
#include "i18n.hpp"
#include "log.hpp"
#include "pam_session.hpp"

namespace valix::pam {

// Constants are msgids (N_): tell the user tr(kUnavailable).
inline constexpr const char* kUnavailable =
    N_("Two-factor authentication is not available right now. Please contact your administrator.");
inline constexpr const char* kNotSetUp =
    N_("Two-factor authentication (2FA) is required for this account, but it has not been set up. "
       "Ask your administrator to require 2FA on your next login, so that you can set it up.");

// The PAM items a login is logged with (and a grace period keyed on): "" when unset.
struct LoginItems {
  std::string service;
  std::string rhost;
  std::string tty;
};
LoginItems login_items(PamSession& session);

// The keys every log line about a login has after event and reason: user (as the client
// sent it), account (the account's own name, only when it differs), service, rhost, tty.
LogFields login_fields(std::string_view user, std::string_view account, const LoginItems& items);

// The configured prompt, ending in one space (the default one translated, a configured one as it
// is).
std::string code_prompt(const Config& config);

// Writes one log line about this login (the caller adds who and where, then extra).
using LoginLog =
    std::function<void(LogLevel, Event, Reason, std::string_view message, const LogFields& extra)>;

// Tells the user and the log what a recorded verdict means for this login; returns
// PAM_SUCCESS for an accepted answer, PAM_AUTH_ERR otherwise.
int report_verdict(PamSession& session, const LoginLog& log, const Verdict& verdict);

}  // namespace valix::pam
