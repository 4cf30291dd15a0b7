// What the module says to the user and writes to the log, shared by the privileged path
// (module.cpp, which checks state itself) and the unprivileged one (unprivileged.cpp, which
// has valix-check do it), so that both say the same thing for the same verdict.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "auth.hpp"
#include "config.hpp"
#include "log.hpp"
#include "pam_session.hpp"

namespace valix::pam {

inline constexpr std::string_view kUnavailable =
    "Two-factor authentication is not available right now. Please contact your administrator.";
inline constexpr std::string_view kNotSetUp =
    "Two-factor authentication (2FA) is required for this account, but it has not been set up. "
    "Ask your administrator to require 2FA on your next login, so that you can set it up.";

// "service=S rhost=H" for log lines.
std::string login_context(PamSession& session);

// The configured prompt, ending in one space.
std::string code_prompt(const Config& config);

// Writes one log line about this login (the caller adds who and where).
using LoginLog = std::function<void(LogLevel, std::string_view)>;

// Tells the user and the log what a recorded verdict means for this login; returns
// PAM_SUCCESS for an accepted answer, PAM_AUTH_ERR otherwise.
int report_verdict(PamSession& session, const LoginLog& log, const Verdict& verdict);

}  // namespace valix::pam
