// valix-enroll --status: what the user's 2FA state is, without secrets.
#pragma once

#include "session.hpp"

namespace valix::enroll {

// In words, or one JSON object (--json): enrolled or not, since when, the backup codes left,
// the authenticators (name, kind, when added, when last used), a pending enrollment, an
// administrator's requirement, a lockout.
int show_status(const Session& session);

}  // namespace valix::enroll
