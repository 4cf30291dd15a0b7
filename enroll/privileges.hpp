// The privileges of the setuid valix-enroll: when it has them, how it gives them up for good,
// and how it does what the user asked for with the user's identity. Security-critical:
// everything that changes an id is here (tests/unit/test_enroll_privileges.cpp).
#pragma once

#include <functional>
#include <optional>

#include "error.hpp"
#include "policy.hpp"

namespace valix::enroll {

// True while the real and effective (or saved) ids differ: running setuid, not dropped yet.
bool privileged();

// Gives up the setuid identity for good (real, effective and saved ids): called as soon as the
// state work is done, so nothing after it (output, files the user named) runs privileged.
// Aborts if it cannot: continuing privileged would be worse than stopping.
void drop_privileges_for_good();

// Runs fn with the user's own identity, so that only the user's permissions decide what a
// path they named (--qr-svg, --backup-codes-file) may reach and the files are theirs. Setuid
// (privileges not dropped yet: the QR image is wanted before the first code is typed): in a
// child that has dropped privileges for good. Root acting for another account (--user): in a
// child that has taken on that account's uid, gid and groups. Otherwise (a user whose
// privileges are already dropped, root for root): here. fn's error is reported on stderr;
// the result only says whether fn succeeded.
Result<void> run_as_user(const std::optional<Account>& acting_for,
                         const std::function<Result<void>()>& fn);

}  // namespace valix::enroll
