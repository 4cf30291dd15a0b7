#include "verify.hpp"

#include "grace.hpp"

namespace valix {
namespace {

Result<void> require_enrolled(const std::optional<UserState>& current) {
  if (!current || !current->enrollment) {
    return fail(Errc::conflict, "2FA state was removed or reset during the login");
  }
  return {};
}

}  // namespace

Result<Verdict> verify_and_record(StateStore& store, const StateKey& key, std::string_view answer,
                                  std::int64_t now, const Config& config, FailureGrace grace,
                                  const AnswerOrigin& origin) {
  // Both mutators may run more than once (a store may retry on a conflict): each recomputes
  // its outputs from the state it is given and consumes nothing it captured.
  Charge charge;
  Verdict locked;
  // What a success would change: if one lands between this answer's charge and its judging
  // (another login's, racing this one), it clears every failure count, this answer's charge
  // included, so a wrong answer is then counted again.
  struct Successes {
    std::uint64_t last_step = 0;
    std::size_t backup_codes = 0;
    std::int64_t enrolled_at = 0;
    bool operator==(const Successes&) const = default;
  };
  auto successes_in = [](const UserState& state) {
    return Successes{state.enrollment->last_step, state.enrollment->backup.hashes.size(),
                     state.enrollment->enrolled_at};
  };
  Successes at_charge;
  // What the charge recorded, and what it replaced: a right answer gives the latter back if
  // the former is still what the state holds (no other answer was charged in between).
  struct Charged {
    int failures = 0;
    int backup_failures = 0;
    std::int64_t locked_until = 0;
    std::int64_t backup_locked_until = 0;
    std::int64_t last_failure = 0;
    std::string last_failure_rhost;
    bool operator==(const Charged&) const = default;
  };
  auto charged_in = [](const UserState& state) {
    return Charged{state.failures,     state.backup_failures,
                   state.locked_until, state.backup_locked_until,
                   state.last_failure, state.last_failure_rhost};
  };
  FailureRecord before_charge;
  Charged after_charge;
  auto charged = store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto enrolled = require_enrolled(current); !enrolled)
      return std::unexpected(enrolled.error());
    const AnswerShape shape = answer_shape(answer, current->enrollment->otp.digits);
    const std::int64_t locked_until_before = current->locked_until;
    const std::int64_t backup_locked_until_before = current->backup_locked_until;
    before_charge = FailureRecord::of(*current);
    charge = charge_failure(*current, shape, now, config, grace, origin.rhost);
    at_charge = successes_in(*current);
    after_charge = charged_in(*current);
    locked = Verdict{Outcome::locked, shape, charge.locked_for,
                     current->enrollment->backup.hashes.size()};
    if (!charge.locked) return StateChange::write;
    const bool shortened = current->locked_until != locked_until_before ||
                           current->backup_locked_until != backup_locked_until_before;
    return shortened ? StateChange::write : StateChange::keep;
  });
  if (!charged) return std::unexpected(charged.error());
  if (charge.locked) return locked;

  Verdict verdict;
  auto judged = store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto enrolled = require_enrolled(current); !enrolled)
      return std::unexpected(enrolled.error());
    const bool success_since_charge = !(successes_in(*current) == at_charge);
    const std::uint64_t watermark_before = current->enrollment->last_step;
    const bool untouched_since_charge =
        !success_since_charge && charged_in(*current) == after_charge;
    auto checked = judge_answer(*current, answer, now, config);
    if (!checked) return std::unexpected(checked.error());
    verdict = *checked;
    if (verdict.accepted()) {
      if (untouched_since_charge) before_charge.restore(*current);
      if (origin.grace_key) grant_grace(*current, *origin.grace_key, now);
      return StateChange::write;
    }
    verdict.locked_for = charge.locked_for;
    // A clock-drift code for a step ahead moved the watermark past it: that must be stored.
    const bool burned = current->enrollment->last_step != watermark_before;
    if (!success_since_charge) return burned ? StateChange::write : StateChange::keep;
    verdict.locked_for = count_failure(*current, verdict.shape, now, config, grace, origin.rhost);
    return StateChange::write;
  });
  if (!judged) return std::unexpected(judged.error());
  return verdict;
}

}  // namespace valix
