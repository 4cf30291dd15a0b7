#include "verify.hpp"

#include <algorithm>

#include "grace.hpp"
#include "otp.hpp"

namespace valix {
namespace {

Result<void> require_enrolled(const std::optional<UserState>& current) {
  if (!current || !current->enrollment) {
    return fail(Errc::conflict, "2FA state was removed or reset during the login");
  }
  return {};
}

// Whether every state an answer of this shape can leave is known, without judging it, to be
// one the store writes in its room: a refused answer leaves its charge (and, for a
// clock-drift code, a watermark moved at most kDriftSteps ahead); an accepted one leaves its
// counts cleared, the grace granted and the watermark at most as far. Each of these reads
// back (the store refuses a state that would not, and that refusal must not depend on the
// verdict either) and the larger fits. The states the answer really leaves differ from
// these only by a watermark no further and a consumed backup code, which only shrinks them.
bool outcomes_fit(const UserState& current, AnswerShape shape, std::int64_t now,
                  const Config& config, FailureGrace grace, const AnswerOrigin& origin,
                  std::size_t room) {
  const auto furthest = [&](const Authenticator& a) {
    return a.kind == AuthenticatorKind::hotp
               ? a.last_step + static_cast<std::uint64_t>(config.hotp_look_ahead) + kHotpSyncRange
               : a.authenticator_step(now) +
                     static_cast<std::uint64_t>(std::max(config.window, kDriftSteps));
  };
  UserState refused = current.clone();
  (void)charge_failure(refused, shape, now, config, grace, origin.rhost);
  UserState accepted = current.clone();
  accepted.clear_failures();
  accepted.last_login = now;
  if (origin.grace_key) grant_grace(accepted, *origin.grace_key, now);
  for (UserState* outcome : {&refused, &accepted}) {
    // Every authenticator at its furthest, and used now: more than any one answer changes.
    for (Authenticator* a : outcome->enrollment->authenticators()) {
      a->last_step = std::max(a->last_step, furthest(*a));
      a->last_used = std::max(a->last_used, now);
    }
    const SecretString text = serialize_state(*outcome);
    if (text.size() > room || !parse_state(text.view())) return false;
  }
  return true;
}

// Each authenticator's watermark, the first first (an authenticator added or removed changes
// the list too).
std::vector<std::uint64_t> watermarks(const Enrollment& enrollment) {
  std::vector<std::uint64_t> out;
  for (const Authenticator* a : enrollment.authenticators()) out.push_back(a->last_step);
  return out;
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
    std::vector<std::uint64_t> last_steps;
    std::size_t backup_codes = 0;
    std::int64_t enrolled_at = 0;
    bool operator==(const Successes&) const = default;
  };
  auto successes_in = [](const UserState& state) {
    return Successes{watermarks(*state.enrollment), state.enrollment->backup.hashes.size(),
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
  bool one_write = false;
  Verdict verdict;
  auto charged = store.update_in_place(
      key,
      [&](std::optional<UserState>& current, StateStore::InPlaceRoom& room) -> Result<StateChange> {
        if (auto enrolled = require_enrolled(current); !enrolled)
          return std::unexpected(enrolled.error());
        const AnswerShape shape = answer_shape(answer, *current->enrollment);
        const std::int64_t locked_until_before = current->locked_until;
        const std::int64_t backup_locked_until_before = current->backup_locked_until;
        const auto lockout_shortened = [&] {
          return current->locked_until != locked_until_before ||
                 current->backup_locked_until != backup_locked_until_before;
        };
        one_write = room.bytes != 0 &&
                    outcomes_fit(*current, shape, now, config, grace, origin, room.bytes);
        room.relied_on = one_write;
        if (one_write) {
          // The charge is written where the verdict will go before the answer is looked at:
          // from then on no signal, kill or limit on this process takes it back, and nothing
          // the judging does (its time included) can be seen before that.
          auto checked =
              verify_answer(*current, answer, now, config, grace, origin, room.write_ahead);
          if (!checked) return std::unexpected(checked.error());
          verdict = *checked;
          if (verdict.outcome != Outcome::locked) return StateChange::write;
          return lockout_shortened() ? StateChange::write : StateChange::keep;
        }
        before_charge = FailureRecord::of(*current);
        charge = charge_failure(*current, shape, now, config, grace, origin.rhost);
        at_charge = successes_in(*current);
        after_charge = charged_in(*current);
        locked = Verdict{};
        locked.outcome = Outcome::locked;
        locked.shape = shape;
        locked.locked_for = charge.locked_for;
        locked.backup_codes_left = current->enrollment->backup.hashes.size();
        if (!charge.locked) return StateChange::write;
        return lockout_shortened() ? StateChange::write : StateChange::keep;
      });
  if (!charged) return std::unexpected(charged.error());
  if (one_write) return verdict;
  if (charge.locked) return locked;

  auto judged = store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto enrolled = require_enrolled(current); !enrolled)
      return std::unexpected(enrolled.error());
    const bool success_since_charge = !(successes_in(*current) == at_charge);
    const std::vector<std::uint64_t> watermarks_before = watermarks(*current->enrollment);
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
    // A clock-drift code for a step ahead moved a watermark past it: that must be stored.
    const bool burned = watermarks(*current->enrollment) != watermarks_before;
    if (!success_since_charge) return burned ? StateChange::write : StateChange::keep;
    verdict.locked_for = count_failure(*current, verdict.shape, now, config, grace, origin.rhost);
    return StateChange::write;
  });
  if (!judged) return std::unexpected(judged.error());
  return verdict;
}

}  // namespace valix
