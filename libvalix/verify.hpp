// Checking an answer against a user's stored state: the one protocol the module and
// valix-enroll share.
#pragma once

#include <cstdint>
#include <string_view>

#include "auth.hpp"
#include "config.hpp"
#include "error.hpp"
#include "store.hpp"

namespace valix {

// No answer is judged for free. Two ways, chosen under the store's lock before the answer is
// looked at, by what is known without judging it (its shape and the state):
//
// One flush (a login's usual path): when the store offers the update room in place
// (store.hpp: a write of one fixed offset and length over space already allocated, and a
// write ahead) and both states the answer can leave fit it (outcomes_fit: the charge, or a
// success), the answer is charged, the charged state is written ahead into the place of the
// commit (visible to every reader; no signal, kill or limit on this process can take it back
// from then on), and only then is the answer judged; its result is written over the charge in
// the same place and synced once. So the charge is recorded before the answer is looked at,
// as in the two-write way; nothing of the verdict leaves this function before the sync; and
// whether a write can fail does not depend on the verdict (a file-size limit or a full disk
// hits the write ahead, before any judging). A crash before the sync leaves the state before
// the login, the charge, or (for a right answer) the success, which was not yet reported.
//
// Two writes (otherwise: a directory, a file of the old format, a state near its slot's
// size): first the failure the answer would cost (its shape's count, and the lockout it would
// start) is committed to the store; only once that commit succeeded is the
// answer compared with any secret, in a second update on a fresh read that commits the
// watermark or the consumed backup code when the answer is right, and writes nothing when it
// is wrong (the failure is already counted), unless a success (another login's, racing this
// one) cleared the counts in between: then the wrong answer is counted again. So no answer is
// ever judged for free: a caller whose write fails (a file-size limit, a full disk, a signal,
// a kill, a directory that is down) has either paid for the guess or learned nothing about
// it. A locked shape is refused without judging and without a write (except to shorten a
// lockout that exceeds policy). An error from either update is returned: the caller must
// deny. The verdict counts only when this returns it.
//
// The charge also records the failure (last_failure, from origin.rhost) and removes every
// grace entry (grace.hpp). A right answer's update gives both back, as they were before its
// charge, when no other answer was charged or accepted in between (otherwise the other
// answer's record stands: the conservative side), and grants origin.grace_key's entry.
Result<Verdict> verify_and_record(StateStore& store, const StateKey& key, std::string_view answer,
                                  std::int64_t now, const Config& config,
                                  FailureGrace grace = FailureGrace::none,
                                  const AnswerOrigin& origin = {});

}  // namespace valix
