#include "auth.hpp"

#include <algorithm>

#include "otp.hpp"

namespace valix {
namespace {

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

void record_failure(UserState& state, std::int64_t now, const Config& config, Verdict& verdict,
                    FailureGrace grace) {
  state.failures = std::min(state.failures + 1, 1'000'000);
  const int locks_at = config.max_failures + (grace == FailureGrace::one_more ? 1 : 0);
  if (state.failures < locks_at) return;
  // Back-off: the first lockout lasts lockout_seconds, each further failure doubles it.
  const int extra = std::min(state.failures - config.max_failures, 20);
  const std::int64_t duration = std::min<std::int64_t>(
      static_cast<std::int64_t>(config.lockout_seconds) << extra, config.lockout_max_seconds);
  state.locked_until = now + duration;
  verdict.locked_for = duration;
}

std::string_view outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::totp_accepted: return "totp code accepted";
    case Outcome::backup_accepted: return "backup code accepted";
    case Outcome::wrong: return "wrong code";
    case Outcome::replayed: return "code already used";
    case Outcome::malformed: return "answer is not a code";
    case Outcome::locked: return "locked out";
  }
  return "unknown";
}

std::optional<std::string_view> as_totp_code(std::string_view answer, int digits) {
  answer = trim_spaces(answer);
  if (answer.size() != static_cast<std::size_t>(digits)) return std::nullopt;
  if (!std::all_of(answer.begin(), answer.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  return answer;
}

Result<std::optional<std::uint64_t>> verify_new_secret(const SecretBytes& secret,
                                                       const OtpParameters& otp,
                                                       std::string_view answer, std::int64_t now,
                                                       int window) {
  const auto code = as_totp_code(answer, otp.digits);
  if (!code) return std::optional<std::uint64_t>{};
  return find_totp_step(secret.span(), *code, totp_step(now, otp.period), window, otp);
}

Result<Verdict> verify_answer(UserState& state, std::string_view answer, std::int64_t now,
                              const Config& config) {
  if (!state.enrollment) return fail(Errc::invalid, "verify_answer: user is not enrolled");
  Enrollment& enrollment = *state.enrollment;
  Verdict verdict;
  if (state.locked_until > now) {
    verdict.outcome = Outcome::locked;
    verdict.locked_for = state.locked_until - now;
    verdict.backup_codes_left = enrollment.backup.hashes.size();
    return verdict;
  }
  // Same verdict as the last branch on purpose: an over-long answer is refused unparsed.
  if (answer.size() > 256) {  // NOLINT(bugprone-branch-clone)
    verdict.outcome = Outcome::malformed;
  } else if (const auto code = as_totp_code(answer, enrollment.otp.digits)) {
    auto step =
        find_totp_step(enrollment.secret.span(), *code, totp_step(now, enrollment.otp.period),
                       config.window, enrollment.otp);
    if (!step) return std::unexpected(step.error());
    if (!*step) {
      verdict.outcome = Outcome::wrong;
    } else if (**step <= enrollment.last_step) {
      verdict.outcome = Outcome::replayed;
    } else {
      enrollment.last_step = **step;
      verdict.outcome = Outcome::totp_accepted;
    }
  } else if (normalize_backup_code(trim_spaces(answer))) {
    auto index = find_backup_code(enrollment.backup, trim_spaces(answer));
    if (!index) return std::unexpected(index.error());
    if (*index) {
      enrollment.backup.hashes.erase(enrollment.backup.hashes.begin() +
                                     static_cast<std::ptrdiff_t>(**index));
      verdict.outcome = Outcome::backup_accepted;
    } else {
      verdict.outcome = Outcome::wrong;
    }
  } else {
    verdict.outcome = Outcome::malformed;
  }

  if (verdict.accepted()) {
    state.failures = 0;
    state.locked_until = 0;
    state.last_login = now;
  } else {
    record_failure(state, now, config, verdict);
  }
  verdict.backup_codes_left = enrollment.backup.hashes.size();
  return verdict;
}

}  // namespace valix
