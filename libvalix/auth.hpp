// The verification rules, applied to a user's state under the store's lock. Pure apart from
// the hashing: the caller passes the time, so tests control the clock.
#pragma once

#include <cstdint>
#include <string_view>

#include "config.hpp"
#include "error.hpp"
#include "state.hpp"

namespace valix {

enum class Outcome {
  totp_accepted,    // a TOTP code for a step above the watermark
  backup_accepted,  // a backup code, now consumed
  wrong,            // not a valid code (counts as a failure)
  replayed,         // a valid TOTP code at or below the watermark (counts as a failure)
  malformed,        // not shaped like any code (counts as a failure)
  locked,           // locked out: the answer was not even looked at
};

struct Verdict {
  Outcome outcome = Outcome::wrong;
  std::int64_t locked_for = 0;  // seconds left in a lockout (locked, or just raised)
  std::size_t backup_codes_left = 0;
  bool accepted() const {
    return outcome == Outcome::totp_accepted || outcome == Outcome::backup_accepted;
  }
};

std::string_view outcome_name(Outcome outcome);

// Checks answer against an enrolled state at time now and updates the state: the watermark
// or the consumed backup code on success; the failure count and lockout otherwise. The
// caller must write the state back before acting on the verdict. state.enrollment must be set.
Result<Verdict> verify_answer(UserState& state, std::string_view answer, std::int64_t now,
                              const Config& config);

// Whether a failure may start a lockout at max_failures (none), or only one failure later
// (one_more: an answer the user did not type, such as a password an earlier module collected
// that happens to look like a code, must not lock the user out by itself).
enum class FailureGrace { none, one_more };

// Counts one failed answer in state at time now: the failure count, and the lockout (with its
// back-off) once it reaches max_failures (plus the grace), whose length goes to
// verdict.locked_for. Used by verify_answer, and for answers the user did not type.
void record_failure(UserState& state, std::int64_t now, const Config& config, Verdict& verdict,
                    FailureGrace grace = FailureGrace::none);

// The answer as a TOTP code of `digits` digits: surrounding spaces removed; nullopt when it is
// anything else.
std::optional<std::string_view> as_totp_code(std::string_view answer, int digits);

// Checks a first code for a not-yet-active secret (enrollment). Returns the matching step.
Result<std::optional<std::uint64_t>> verify_new_secret(const SecretBytes& secret,
                                                       const OtpParameters& otp,
                                                       std::string_view answer, std::int64_t now,
                                                       int window);

}  // namespace valix
