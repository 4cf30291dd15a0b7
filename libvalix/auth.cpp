#include "auth.hpp"

#include <algorithm>

#include "grace.hpp"
#include "i18n.hpp"
#include "otp.hpp"
#include "text.hpp"

namespace valix {
namespace {

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// One shape's failure count and lockout in a state.
struct Limit {
  int& failures;
  std::int64_t& locked_until;
  int max_failures;
};

Limit limit_for(UserState& state, AnswerShape shape, const Config& config) {
  if (shape == AnswerShape::backup) {
    return {state.backup_failures, state.backup_locked_until, config.backup_max_failures};
  }
  return {state.failures, state.locked_until, config.max_failures};
}

constexpr std::size_t kLongestAnswer = 256;  // longer answers are refused unparsed

// An HOTP value against a token whose next counter is its last_step: accepted within
// [next, next + look_ahead) (the counter moves past it); replayed for one of the look_ahead
// values before next; out of sync within kHotpSyncRange past the look-ahead (the counter
// moves past it too: whoever saw the refusal knows a coming value); wrong otherwise. Every
// value of each range is computed and compared, whatever matches.
Result<Outcome> judge_hotp(Authenticator& enrollment, std::string_view code, int look_ahead) {
  const std::uint64_t next = enrollment.last_step;
  const auto ahead = static_cast<std::uint64_t>(look_ahead);
  auto accepted = find_hotp_counter(enrollment.secret.span(), code, next, ahead, enrollment.otp);
  if (!accepted) return std::unexpected(accepted.error());
  if (*accepted) {
    enrollment.last_step = **accepted + 1;
    return Outcome::hotp_accepted;
  }
  const std::uint64_t back = std::min(next, ahead);
  auto used = find_hotp_counter(enrollment.secret.span(), code, next - back, back, enrollment.otp);
  if (!used) return std::unexpected(used.error());
  if (*used) return Outcome::replayed;
  auto beyond = find_hotp_counter(enrollment.secret.span(), code, next + ahead, kHotpSyncRange,
                                  enrollment.otp);
  if (!beyond) return std::unexpected(beyond.error());
  if (*beyond) {
    enrollment.last_step = **beyond + 1;
    return Outcome::out_of_sync;
  }
  return Outcome::wrong;
}

// A code of the right length against one authenticator, as judge_answer describes.
Result<Outcome> judge_code(Authenticator& authenticator, std::string_view code, std::int64_t now,
                           const Config& config, std::int64_t& drift_seconds) {
  if (authenticator.kind == AuthenticatorKind::hotp)
    return judge_hotp(authenticator, code, config.hotp_look_ahead);
  // The authenticator's own step now: ours, moved by the offset a resync recorded.
  const std::uint64_t current = authenticator.authenticator_step(now);
  const auto secret = authenticator.secret.span();
  auto step = find_totp_step(secret, code, current, config.window, authenticator.otp);
  if (!step) return std::unexpected(step.error());
  if (*step) {
    if (**step <= authenticator.last_step) return Outcome::replayed;
    authenticator.last_step = **step;
    return Outcome::totp_accepted;
  }
  // The user's code for a step a few minutes off: their phone's clock (or ours) is wrong.
  auto drifted = find_totp_step(secret, code, current, std::max(config.window, kDriftSteps),
                                authenticator.otp);
  if (!drifted) return std::unexpected(drifted.error());
  if (!*drifted) return Outcome::wrong;
  drift_seconds = (static_cast<std::int64_t>(**drifted) - static_cast<std::int64_t>(current)) *
                  authenticator.otp.period;
  // Never usable later: whoever saw this refusal knows a code of a coming step.
  if (**drifted > authenticator.last_step) authenticator.last_step = **drifted;
  return Outcome::clock_drift;
}

// Which of several authenticators' outcomes for one code is the verdict (lowest first).
int outcome_rank(Outcome outcome) {
  switch (outcome) {
    case Outcome::totp_accepted:
    case Outcome::hotp_accepted: return 0;
    case Outcome::replayed: return 1;
    case Outcome::out_of_sync:
    case Outcome::clock_drift: return 2;
    default: return 3;
  }
}

}  // namespace

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::totp_accepted: return "totp code accepted";
    case Outcome::hotp_accepted: return "hotp code accepted";
    case Outcome::backup_accepted: return "backup code accepted";
    case Outcome::wrong: return "wrong code";
    case Outcome::replayed: return "code already used";
    case Outcome::clock_drift: return "code for another time (clock drift)";
    case Outcome::out_of_sync: return "token out of sync (a value beyond the look-ahead)";
    case Outcome::malformed: return "answer is not a code";
    case Outcome::locked: return "locked out";
  }
  return "unknown";
}

Reason verdict_reason(const Verdict& verdict) {
  switch (verdict.outcome) {
    case Outcome::totp_accepted: return Reason::totp_code;
    case Outcome::hotp_accepted: return Reason::hotp_code;
    case Outcome::backup_accepted: return Reason::backup_code;
    case Outcome::wrong: return Reason::wrong_code;
    case Outcome::replayed: return Reason::replayed;
    case Outcome::clock_drift: return Reason::clock_drift;
    case Outcome::out_of_sync: return Reason::out_of_sync;
    case Outcome::malformed: return Reason::malformed;
    case Outcome::locked: return Reason::locked;
  }
  return Reason::wrong_code;
}

std::optional<std::string_view> as_totp_code(std::string_view answer, int digits) {
  answer = trim_blanks(answer);
  if (answer.size() != static_cast<std::size_t>(digits)) return std::nullopt;
  if (!std::all_of(answer.begin(), answer.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return answer;
}

AnswerShape answer_shape(std::string_view answer, int digits) {
  if (answer.size() > kLongestAnswer) return AnswerShape::other;
  if (as_totp_code(answer, digits)) return AnswerShape::totp;
  if (normalize_backup_code(trim_blanks(answer))) return AnswerShape::backup;
  return AnswerShape::other;
}

AnswerShape answer_shape(std::string_view answer, const Enrollment& enrollment) {
  AnswerShape shape = AnswerShape::other;
  for (const Authenticator* a : enrollment.authenticators()) {
    shape = answer_shape(answer, a->otp.digits);
    if (shape == AnswerShape::totp) return shape;
  }
  return shape;
}

std::string failure_host(std::string_view rhost) {
  if (rhost.empty()) return "-";
  return printable_for_log(rhost, kMaxFailureHostLength - 3);
}

Charge charge_failure(UserState& state, AnswerShape shape, std::int64_t now, const Config& config,
                      FailureGrace grace, std::string_view rhost) {
  const Limit limit = limit_for(state, shape, config);
  Charge charge;
  if (limit.locked_until > now) {
    // A lockout set while the clock was ahead (a jump that was then corrected) may not
    // outlast the longest one policy allows: it is shortened, and the caller stores that.
    limit.locked_until = std::min(limit.locked_until, now + config.lockout_max_seconds);
    charge.locked = true;
    charge.locked_for = limit.locked_until - now;
    return charge;
  }
  charge.locked_for = count_failure(state, shape, now, config, grace, rhost);
  return charge;
}

std::int64_t count_failure(UserState& state, AnswerShape shape, std::int64_t now,
                           const Config& config, FailureGrace grace, std::string_view rhost) {
  state.last_failure = now;
  state.last_failure_rhost = failure_host(rhost);
  state.clear_grace();
  const Limit limit = limit_for(state, shape, config);
  limit.failures = std::min(limit.failures + 1, 1'000'000);
  const int locks_at = limit.max_failures + (grace == FailureGrace::one_more ? 1 : 0);
  if (limit.failures < locks_at) return 0;
  // Back-off: the first lockout lasts lockout_seconds, each further failure doubles it.
  const int extra = std::clamp(limit.failures - limit.max_failures, 0, 20);
  const std::int64_t duration = std::min<std::int64_t>(
      static_cast<std::int64_t>(config.lockout_seconds) << extra, config.lockout_max_seconds);
  limit.locked_until = now + duration;
  return duration;
}

Result<Verdict> judge_answer(UserState& state, std::string_view answer, std::int64_t now,
                             const Config& config) {
  if (!state.enrollment) return fail(Errc::invalid, "judge_answer: user is not enrolled");
  Enrollment& enrollment = *state.enrollment;
  Verdict verdict;
  verdict.shape = answer_shape(answer, enrollment);
  switch (verdict.shape) {
    case AnswerShape::totp: {
      // Every authenticator that shows codes of this length is tried, each with its own
      // watermark: the best outcome is the verdict (accepted, then replayed, then a code of
      // one of them for another time or count, then wrong), and each one's own findings (a
      // watermark moved past a code seen) stand whatever the others say.
      verdict.outcome = Outcome::wrong;
      int best = outcome_rank(Outcome::wrong);
      for (Authenticator* authenticator : enrollment.authenticators()) {
        const auto code = as_totp_code(answer, authenticator->otp.digits);
        if (!code) continue;
        std::int64_t drift_seconds = 0;
        auto judged = judge_code(*authenticator, *code, now, config, drift_seconds);
        if (!judged) return std::unexpected(judged.error());
        const int rank = outcome_rank(*judged);
        if (rank >= best) continue;
        best = rank;
        verdict.outcome = *judged;
        verdict.drift_seconds = drift_seconds;
        verdict.hotp = authenticator->kind == AuthenticatorKind::hotp;
        verdict.authenticator = authenticator->name;
        if (verdict.accepted()) authenticator->last_used = now;
      }
      break;
    }
    case AnswerShape::backup: {
      auto index = find_backup_code(enrollment.backup, trim_blanks(answer));
      if (!index) return std::unexpected(index.error());
      if (*index) {
        enrollment.backup.hashes.erase(enrollment.backup.hashes.begin() +
                                       static_cast<std::ptrdiff_t>(**index));
        verdict.outcome = Outcome::backup_accepted;
      } else {
        verdict.outcome = Outcome::wrong;
      }
      break;
    }
    case AnswerShape::other: verdict.outcome = Outcome::malformed; break;
  }
  if (verdict.accepted()) {
    state.clear_failures();
    state.last_login = now;
  }
  verdict.backup_codes_left = enrollment.backup.hashes.size();
  return verdict;
}

Result<Verdict> verify_answer(UserState& state, std::string_view answer, std::int64_t now,
                              const Config& config, FailureGrace grace, const AnswerOrigin& origin,
                              const AfterCharge& after_charge) {
  if (!state.enrollment) return fail(Errc::invalid, "verify_answer: user is not enrolled");
  const AnswerShape shape = answer_shape(answer, *state.enrollment);
  const FailureRecord before = FailureRecord::of(state);
  const Charge charge = charge_failure(state, shape, now, config, grace, origin.rhost);
  if (charge.locked) {
    Verdict verdict;
    verdict.outcome = Outcome::locked;
    verdict.shape = shape;
    verdict.locked_for = charge.locked_for;
    verdict.backup_codes_left = state.enrollment->backup.hashes.size();
    return verdict;
  }
  if (after_charge) {
    if (auto done = after_charge(state); !done) return std::unexpected(done.error());
  }
  auto verdict = judge_answer(state, answer, now, config);
  if (verdict && !verdict->accepted()) verdict->locked_for = charge.locked_for;
  if (verdict && verdict->accepted()) {
    before.restore(state);
    if (origin.grace_key) grant_grace(state, *origin.grace_key, now);
  }
  return verdict;
}

namespace {

// The counters in [first, last] at which `second` follows `first` (value C is first's,
// value C + 1 second's): how many such pairs, and the last one's C + 1. Every value of the
// range is computed once.
struct PairSearch {
  int pairs = 0;
  std::uint64_t second_at = 0;
};
Result<PairSearch> find_consecutive_pair(const Authenticator& enrollment, std::string_view first,
                                         std::string_view second, std::uint64_t lowest,
                                         std::uint64_t highest) {
  PairSearch search;
  bool previous_matched = false;
  for (std::uint64_t c = lowest; c <= highest; ++c) {
    auto value = hotp(enrollment.secret.span(), c, enrollment.otp);
    if (!value) return std::unexpected(value.error());
    if (previous_matched && constant_time_equal(value->view(), second)) {
      ++search.pairs;
      search.second_at = c;
    }
    previous_matched = constant_time_equal(value->view(), first);
  }
  return search;
}

Result<Resync> resync_hotp(Authenticator& enrollment, std::string_view first,
                           std::string_view second) {
  const std::uint64_t next = enrollment.last_step;
  auto search = find_consecutive_pair(enrollment, first, second, next, next + kHotpResyncRange - 1);
  if (!search) return std::unexpected(search.error());
  const int pairs = search->pairs;
  const std::uint64_t found = search->second_at;
  if (pairs == 0) {
    return fail_said(Errc::not_found,
                     "the two values are not consecutive values of this user's token within "
                     "10,000 presses of its counter (values already used are never taken)");
  }
  if (pairs > 1) {
    return fail_said(Errc::not_found,
                     "the two values match the token at more than one count; try two later "
                     "values");
  }
  Resync result;
  result.step = found;
  enrollment.last_step = found + 1;
  return result;
}

}  // namespace

Result<Resync> resync_authenticator(Authenticator& enrollment, std::string_view code1,
                                    std::string_view code2, std::int64_t now) {
  const auto first = as_totp_code(code1, enrollment.otp.digits);
  const auto second = as_totp_code(code2, enrollment.otp.digits);
  if (!first || !second) {
    return fail_said(Errc::invalid, "a resync needs two codes of {digits} digits",
                     {{"digits", std::to_string(enrollment.otp.digits)}});
  }
  if (enrollment.kind == AuthenticatorKind::hotp) return resync_hotp(enrollment, *first, *second);
  const auto ours = static_cast<std::int64_t>(totp_step(now, enrollment.otp.period));
  const std::int64_t lowest = std::max<std::int64_t>(0, ours - kMaxOffsetSteps);
  const std::int64_t highest = ours + kMaxOffsetSteps;
  auto search =
      find_consecutive_pair(enrollment, *first, *second, static_cast<std::uint64_t>(lowest),
                            static_cast<std::uint64_t>(highest));
  if (!search) return std::unexpected(search.error());
  const int pairs = search->pairs;
  const std::uint64_t found = search->second_at;
  if (pairs == 0) {
    return fail_said(Errc::not_found,
                     "the two codes are not consecutive codes of this user's authenticator "
                     "within a day of this host's clock");
  }
  if (pairs > 1) {
    return fail_said(Errc::not_found,
                     "the two codes match the authenticator at more than one time; try two "
                     "later codes");
  }
  if (found - 1 <= enrollment.last_step) {
    // Codes of a time at or before the last one used may have been seen: never accepted.
    const std::uint64_t wait = (enrollment.last_step - (found - 1) + 1) *
                               static_cast<std::uint64_t>(enrollment.otp.period);
    return fail_said(Errc::conflict,
                     "the two codes are not newer than the last code used (they were used "
                     "already, or the authenticator runs behind a code used since): resync "
                     "again in {seconds} s or later, with the two codes it shows then",
                     {{"seconds", std::to_string(wait)}});
  }
  Resync result;
  result.previous_offset_steps = enrollment.offset_steps;
  result.offset_steps = static_cast<std::int64_t>(found) - ours;
  result.step = found;
  enrollment.offset_steps = result.offset_steps;
  enrollment.last_step = found;
  return result;
}

Result<std::optional<std::uint64_t>> verify_new_secret(const SecretBytes& secret,
                                                       const OtpParameters& otp,
                                                       std::string_view answer, std::int64_t now,
                                                       int window) {
  const auto code = as_totp_code(answer, otp.digits);
  if (!code) return std::optional<std::uint64_t>{};
  return find_totp_step(secret.span(), *code, totp_step(now, otp.period), window, otp);
}

}  // namespace valix
