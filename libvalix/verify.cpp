#include "verify.hpp"

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
                                  std::int64_t now, const Config& config, FailureGrace grace) {
  // Both mutators may run more than once (a store may retry on a conflict): each recomputes
  // its outputs from the state it is given and consumes nothing it captured.
  Charge charge;
  Verdict locked;
  auto charged = store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (auto enrolled = require_enrolled(current); !enrolled)
      return std::unexpected(enrolled.error());
    const AnswerShape shape = answer_shape(answer, current->enrollment->otp.digits);
    const std::int64_t locked_until_before = current->locked_until;
    const std::int64_t backup_locked_until_before = current->backup_locked_until;
    charge = charge_failure(*current, shape, now, config, grace);
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
    auto checked = judge_answer(*current, answer, now, config);
    if (!checked) return std::unexpected(checked.error());
    verdict = *checked;
    return verdict.accepted() ? StateChange::write : StateChange::keep;
  });
  if (!judged) return std::unexpected(judged.error());
  if (!verdict.accepted()) verdict.locked_for = charge.locked_for;
  return verdict;
}

}  // namespace valix
