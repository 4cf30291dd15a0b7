// pam_valix in a PAM application that runs as the user (a screen locker such as xscreensaver,
// i3lock, swaylock or kscreenlocker; pamtester run by the user), which can read neither the
// root-only state directory nor anyone's 2FA state. Like pam_unix with unix_chkpwd, the
// module then has the setuid helper valix-check check the code, for the caller's own account
// only, with the same charge-then-judge rules as any login (verify_and_record). A user who
// is not enrolled and not required is left to the rest of the stack (PAM_IGNORE), so enabling
// Valix never locks them out of their own screen. Any other account is refused outright.
#pragma once

#include <string>

#include "config.hpp"
#include "options.hpp"
#include "pam_session.hpp"

namespace valix::pam {

// state_owner: the module runs as root, or as the owner of the state directory (the test
// suite run by an ordinary user, with a sandbox it owns), and reads and writes state itself.
// unprivileged_caller: anything else; the module does not touch the state directory.
enum class Privilege { state_owner, unprivileged_caller };
Privilege module_privilege(const Config& config);

// The whole authentication for an unprivileged caller: PAM_SUCCESS only for an answer the
// helper accepted (and recorded), PAM_IGNORE only for a caller's own account that the helper
// reports not enrolled and not required, PAM_AUTH_ERR for everything else: another account,
// a helper that is missing, not root's setuid program, killed, or talking nonsense, a wrong,
// replayed or malformed code, a lockout, a required account that is not enrolled.
// Supported answer sources: the prompt (default), use_first_pass (PAM_AUTHTOK). try_first_pass
// always asks: the helper cannot be told that an answer may be a password, so a password that
// looks like a code is never sent to it (it would be charged as a wrong code).
int authenticate_unprivileged(PamSession& session, const Config& config,
                              const ModuleOptions& options, const std::string& user);

}  // namespace valix::pam
