// The verification rules, applied to a user's state. Pure apart from the hashing: the caller
// passes the time, so tests control the clock. verify.hpp runs them against a store.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "log.hpp"
#include "state.hpp"

namespace valix {

enum class Outcome {
  totp_accepted,    // a TOTP code for a step above the watermark
  hotp_accepted,    // an HOTP token's value within the look-ahead from its next counter
  backup_accepted,  // a backup code, now consumed
  wrong,            // not a valid code (counts as a failure)
  replayed,         // a valid TOTP code at or below the watermark (counts as a failure)
  clock_drift,      // a code right for a step outside the window but within kDriftSteps of
                    // now: a phone (or server) clock that is off; refused and counted as wrong
  out_of_sync,      // an HOTP token's value beyond the look-ahead (its button was pressed
                    // many times unused): refused and counted as wrong; the counter moves past
                    // it, so the token's next value works
  malformed,        // not shaped like any code (counts as a failure)
  locked,           // locked out: the answer was not even looked at
};

// Which kind of code an answer is shaped like, judged without any secret. Each kind has its
// own failure count and lockout (a backup code has 50 bits, a TOTP code 20: a lockout that
// bounds guessing of TOTP codes must not keep the owner from using a backup code). Answers
// that are neither count against the TOTP limit.
enum class AnswerShape { totp, backup, other };

struct Verdict {
  Outcome outcome = Outcome::wrong;
  AnswerShape shape = AnswerShape::other;
  std::int64_t locked_for = 0;  // seconds left in a lockout (locked, or just raised)
  std::size_t backup_codes_left = 0;
  std::int64_t drift_seconds = 0;  // clock_drift: how far the code's step is from now (+ ahead)
  bool hotp = false;               // judged against an HOTP token (for what the user is told)
  // The authenticator the code was judged for (accepted, replayed, drift, out of sync): its
  // name, for the log line; empty for a wrong code, a backup code or no code at all.
  std::string authenticator;
  bool accepted() const {
    return outcome == Outcome::totp_accepted || outcome == Outcome::hotp_accepted ||
           outcome == Outcome::backup_accepted;
  }
};

std::string_view outcome_name(Outcome outcome);

// How far beyond the window a TOTP code is still recognised as the user's own code for another
// step, to tell a clock that is off from a wrong code: 10 steps (5 minutes at 30 s) each way.
// Such a code is refused and counted like a wrong one; one for a step ahead also moves the
// watermark past it, so that a code learned this way never works when its time comes.
inline constexpr int kDriftSteps = 10;

// How far past the look-ahead an HOTP value is still recognised as the token's own (out of
// sync), and how far valix-admin resync looks for two consecutive values.
inline constexpr std::uint64_t kHotpSyncRange = 1000;
inline constexpr std::uint64_t kHotpResyncRange = 10000;

// The reason a verdict is logged with (log.hpp): totp_code, hotp_code, backup_code,
// wrong_code, replayed, clock_drift, out_of_sync, malformed, locked.
Reason verdict_reason(const Verdict& verdict);

// The answer as a TOTP code of `digits` digits: surrounding blanks removed; nullopt when it is
// anything else.
std::optional<std::string_view> as_totp_code(std::string_view answer, int digits);

// The one place that decides an answer's shape (surrounding blanks removed, as everywhere):
// for codes of `digits` digits, or of any of an enrollment's authenticators.
AnswerShape answer_shape(std::string_view answer, int digits);
AnswerShape answer_shape(std::string_view answer, const Enrollment& enrollment);

// Whether a failure may start a lockout at its limit (none), or only one failure later
// (one_more: an answer the user did not type, such as a password an earlier module collected
// that happens to look like a code, must not lock the user out by itself).
enum class FailureGrace { none, one_more };

// What a login adds to the record of an answer: where it came from (PAM_RHOST, "" when none:
// recorded with a failure) and the key of the grace period a success grants (grace_key;
// nullopt: none, as for valix-check and valix-enroll).
struct AnswerOrigin {
  std::string rhost;
  std::optional<std::string> grace_key;
};

// What a charge changes besides the counts: the last failure and the grace entries. A right
// answer was no failure, so its judging puts them back, unless another answer was charged in
// between (verify_and_record checks).
struct FailureRecord {
  std::int64_t last_failure = 0;
  std::string last_failure_rhost;
  std::vector<GraceEntry> grace;

  static FailureRecord of(const UserState& state) {
    return {state.last_failure, state.last_failure_rhost, state.grace};
  }
  void restore(UserState& state) const {
    state.last_failure = last_failure;
    state.last_failure_rhost = last_failure_rhost;
    state.grace = grace;
  }
};

// What an answer of a given shape costs if it is wrong, decided before it is judged.
struct Charge {
  bool locked = false;          // that shape's limit is locked: the answer must not be judged
  std::int64_t locked_for = 0;  // locked: seconds left; otherwise the lockout this failure starts
};

// Counts one failure of `shape` in state at time now (with its back-off once the count
// reaches its limit plus the grace), unless that shape is locked, in which case nothing
// changes. The caller makes the charged state durable before it judges the answer.
// rhost is where the answer came from ("" when unknown): see count_failure.
Charge charge_failure(UserState& state, AnswerShape shape, std::int64_t now, const Config& config,
                      FailureGrace grace = FailureGrace::none, std::string_view rhost = {});

// Counts one failure of `shape` whatever the lockout says, and returns the lockout it starts
// (0 for none): for an answer already judged wrong whose charge a success erased meanwhile.
// It also records the failure (last_failure = now, last_failure_rhost = rhost made printable
// and cut to kMaxFailureHostLength bytes, "-" when empty) and removes every grace entry
// (grace.hpp): a failure from anywhere ends every grace period of the user.
std::int64_t count_failure(UserState& state, AnswerShape shape, std::int64_t now,
                           const Config& config, FailureGrace grace = FailureGrace::none,
                           std::string_view rhost = {});

// A remote host as last_failure_rhost holds it: printable ASCII, at most
// kMaxFailureHostLength bytes ("..." at the end when cut), "-" when empty.
std::string failure_host(std::string_view rhost);

// Judges answer against an enrolled state at time now, assuming its failure was charged. A
// code is tried against every authenticator that shows codes of its length, each with its
// own watermark. An accepted answer updates the state (that authenticator's watermark and
// last use, or a consumed backup code; both failure counts and lockouts cleared, last login);
// a refused one changes nothing, except a clock_drift code for a step ahead, which moves its
// authenticator's watermark to that step (and out_of_sync its counter). state.enrollment must be
// set. verdict.locked_for is 0: the charge knows the lockout.
Result<Verdict> judge_answer(UserState& state, std::string_view answer, std::int64_t now,
                             const Config& config);

// charge_failure then judge_answer on one in-memory state (tests, the fuzzer). A refused
// answer leaves exactly the charge: one more failure of its shape (and the failure recorded,
// the grace entries removed). An accepted one gives back what its charge recorded and grants
// origin's grace entry, if any, as verify_and_record does.
// after_charge, when given, runs on the charged state before the answer is looked at (the
// store's write ahead); an error from it is returned and nothing is judged.
using AfterCharge = std::function<Result<void>(const UserState&)>;
Result<Verdict> verify_answer(UserState& state, std::string_view answer, std::int64_t now,
                              const Config& config, FailureGrace grace = FailureGrace::none,
                              const AnswerOrigin& origin = {},
                              const AfterCharge& after_charge = {});

// valix-admin resync: code1 and code2, two consecutive codes of the user's TOTP
// authenticator, are looked for at every step within kMaxOffsetSteps of ours now (the
// offset in force is not used: a resync measures the clock afresh). Found at steps S and
// S + 1, both above the watermark: the enrollment's offset becomes S + 1 minus our step and
// its watermark S + 1, so neither code works again. For an HOTP token: two consecutive
// values at counters C and C + 1 within kHotpResyncRange from its next counter; the next
// counter becomes C + 2 (result.step is C + 1, the offset stays 0). Errc::not_found: no such pair,
// or more than one (two codes in a row leave a chance of about 6e-9 that a pair is found by
// accident, and an ambiguous one is refused); Errc::conflict: the pair is at or below the
// watermark (used codes, or older than a login). The enrollment is unchanged on an error.
struct Resync {
  std::int64_t offset_steps = 0;  // the new offset
  std::int64_t previous_offset_steps = 0;
  std::uint64_t step = 0;  // the authenticator's step of code2: the new watermark
};
Result<Resync> resync_authenticator(Authenticator& authenticator, std::string_view code1,
                                    std::string_view code2, std::int64_t now);

// Checks a first code for a not-yet-active secret (enrollment). Returns the matching step.
Result<std::optional<std::uint64_t>> verify_new_secret(const SecretBytes& secret,
                                                       const OtpParameters& otp,
                                                       std::string_view answer, std::int64_t now,
                                                       int window);

}  // namespace valix
