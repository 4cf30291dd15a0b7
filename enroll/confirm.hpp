// valix-enroll --confirm CODE: finishes the pending enrollment that --begin stored (for
// --add NAME --begin: adds that authenticator). Every code tried is counted with the pending
// enrollment, durably, before it is judged, and after kEnrollmentTries the pending enrollment
// is dropped: whoever has the user's shell but not the new secret cannot guess at it for the
// whole pending_lifetime.
#pragma once

#include <string_view>

#include "session.hpp"

namespace valix::enroll {

int confirm_pending(const Session& session, std::string_view code);

}  // namespace valix::enroll
