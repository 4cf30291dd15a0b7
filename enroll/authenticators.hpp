// valix-enroll's further authenticators: --add NAME (on a terminal, or --begin then
// --confirm CODE in scripts) and --remove NAME. Both need a current code from any of the
// user's authenticators; the backup codes stay as they are.
#pragma once

#include <cstdint>
#include <string>

#include "session.hpp"

namespace valix::enroll {

// Allowed to add an authenticator named name: enrolled, the name one add_authenticator
// accepts, and the current code verifies. nullopt when allowed (seen: the enrollment the
// decision was about), otherwise the exit status (the refusal told).
std::optional<int> may_add(const Session& session, const std::string& name, SeenEnrollment& seen);

// valix-enroll --add NAME on a terminal: the new secret's QR code and its first code, then
// the authenticator added to the enrollment seen.
int add_interactively(const Session& session, const std::string& name);

// Confirms state.pending, an authenticator's (pending->name set, --add NAME --begin) whose
// first code matched at first_step: it is added to the enrollment under that name, and the
// pending enrollment cleared. Errc::conflict when the user is no longer enrolled; the errors
// of add_authenticator (the name taken meanwhile).
Result<void> add_pending_authenticator(UserState& state, std::uint64_t first_step,
                                       std::int64_t now);

// What valix-enroll says once the authenticator name is added (and the privileges dropped).
int announce_added(const std::string& name);

// valix-enroll --remove NAME.
int remove_interactively(const Session& session, const std::string& name);

}  // namespace valix::enroll
