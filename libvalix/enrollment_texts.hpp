// What a user reads while turning 2FA on, at login (pam_valix) or on a terminal (valix-enroll):
// the one place for these texts, so that both front ends say the same thing in the same words.
// Where they differ, they differ on purpose (what to do next is not the same) and say so here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "i18n.hpp"
#include "secure.hpp"

namespace valix::texts {

// The constants are msgids (N_): what is shown is tr(kName). The functions return the
// translated text.

// The first screen's heading. At login: why the user sees this. On the terminal: for whom.
inline constexpr const char* kLoginIntro =
    N_("Two-factor authentication (2FA) is required for your account. Set it up now.\n\n");
std::string tool_intro(std::string_view account_label);

inline constexpr const char* kScanStep =
    N_("1. Open your authenticator app (Google Authenticator, Authy or 1Password) and scan this "
       "QR code:\n");
// After the QR code, before the key in groups of four, then before the otpauth URI.
inline constexpr const char* kKeyByHand = N_("   Or enter this key by hand: ");
inline constexpr const char* kSetupUri = N_("\n   Setup URI: ");
std::string code_step(int digits, int period);    // "\n\n2. Your app shows a ..."
std::string qr_file_note(std::string_view path);  // valix-enroll --qr-svg

// valix-enroll's prompt (a login asks with the configured prompt).
std::string tool_code_prompt(int digits);

// A wrong code with tries left.
std::string wrong_code(int tries_left);

// The flow ended without a verified code: at login, sign in again; on the terminal, run the
// tool again (and valix-enroll's refusals start with "valix-enroll: ", hence lower case).
inline constexpr const char* kLoginNotSetUp = N_("2FA was not set up. Sign in again to retry.");
inline constexpr const char* kToolWrongCodes =
    N_("that code is not correct. 2FA was not turned on; run valix-enroll to try again.");
inline constexpr const char* kToolExpired =
    N_("the code came after the setup expired. 2FA was not turned on; run valix-enroll to try "
       "again.");
inline constexpr const char* kToolAbandoned = N_("2FA was not turned on.");
// valix-enroll's guard: the state changed while the user was at the prompt.
inline constexpr const char* kToolChangedMeanwhile =
    N_("your 2FA settings changed while valix-enroll was running; nothing was changed. Run "
       "valix-enroll again.");

// Done. At login it takes effect when the login completes (pam_setcred); on the terminal at once.
inline constexpr const char* kLoginSetUp =
    N_("Two-factor authentication is set up. It takes effect when this login completes; every "
       "login after it will ask for a code from your authenticator app.");
std::string tool_done(int digits);

// The backup codes, numbered, with how to keep them: shown once, after any enrollment and by
// valix-enroll --regenerate-backup-codes. Built in place, so no unwiped copy of a code is freed.
SecretString backup_codes_screen(const std::vector<SecretString>& codes);

}  // namespace valix::texts
