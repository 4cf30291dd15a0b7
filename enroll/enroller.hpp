// valix-enroll's flows: begin and confirm (scripts), the interactive enrollment on a terminal,
// and new backup codes; --status (status.hpp) and --add/--remove (authenticators.hpp) run on
// the same Session (session.hpp). Each runs against the store interface with the account's
// StateKey, privileged until the state work is done (privileges.hpp).
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "config.hpp"
#include "options.hpp"
#include "policy.hpp"
#include "store.hpp"

namespace valix::enroll {

// Runs the action options name for user (the account's own name) and uid; acting_for is the
// account root acts for with --user (nullopt for a user acting for themselves, or root for
// root): files the user named are created as that account. Returns the exit status.
int run_enroller(const Options& options, Config config, std::unique_ptr<StateStore> store,
                 std::string user, uid_t uid, std::optional<Account> acting_for);

}  // namespace valix::enroll
