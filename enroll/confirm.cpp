#include "confirm.hpp"

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "auth.hpp"
#include "authenticators.hpp"
#include "enrollment.hpp"
#include "i18n.hpp"
#include "outcome.hpp"
#include "secure.hpp"

namespace valix::enroll {
namespace {

constexpr const char* kNothingToConfirm = N_("nothing to confirm: run valix-enroll --begin first");

enum class End {
  confirmed,        // the code matched: an enrollment made (codes) or an authenticator added
  wrong,            // not a code of the pending secret; tries remain
  nothing_pending,  // no pending enrollment (none begun, or another run confirmed it)
  expired,          // older than pending_lifetime: dropped
  stale,            // begun over another enrollment than the one there now: dropped
  used_up,          // its tries are used: dropped
  replaced,         // another --begin replaced the one this run's try was counted at
};

// Drops current's pending enrollment (and says why) when it may no longer be confirmed: past
// its lifetime, or begun over another enrollment than the one there now (an authenticator
// revoked, a reset or a new enrollment since: whoever began it may have held what was
// revoked). nullopt: it may be tried.
Result<std::optional<End>> drop_if_unusable(std::optional<UserState>& current) {
  if (current->pending->expires_at < now()) {
    current->pending.reset();
    return End::expired;
  }
  auto begun_over = enrollment_is(current, current->pending->made_for);
  if (!begun_over) return std::unexpected(begun_over.error());
  if (!*begun_over) {
    current->pending.reset();
    return End::stale;
  }
  return std::nullopt;
}

// Counts one try at the pending enrollment, durably (Errc::unsynced is an error here), before
// any code is judged against it. Returns End::confirmed with secret set when the try is
// counted: the secret tells the judging that it finds the pending enrollment it was counted at.
Result<End> charge_try(const Session& session, SecretBytes& secret) {
  End end = End::nothing_pending;
  auto charged =
      session.update_durably([&](std::optional<UserState>& current) -> Result<StateChange> {
        end = End::nothing_pending;  // only the committed run's outputs count
        secret = SecretBytes();
        if (!current || !current->pending) return StateChange::keep;
        auto unusable = drop_if_unusable(current);
        if (!unusable) return std::unexpected(unusable.error());
        if (*unusable) {
          end = **unusable;
          return StateChange::write;
        }
        // Its tries used, its last one counted but not judged (the run was stopped).
        if (current->pending->attempts >= kEnrollmentTries) {
          current->pending.reset();
          end = End::used_up;
          return StateChange::write;
        }
        ++current->pending->attempts;
        secret = current->pending->secret.clone();
        end = End::confirmed;
        return StateChange::write;
      });
  if (!charged) return std::unexpected(charged.error());
  return end;
}

struct Judged {
  End end = End::nothing_pending;
  std::optional<std::string> added;        // confirmed: the authenticator added, if one was
  std::vector<SecretString> backup_codes;  // confirmed: an enrollment's, shown once
};

// Judges code against the pending enrollment whose try charge_try counted (its secret), under
// the store's update, into judged. A right code makes it the enrollment (or adds its
// authenticator); a wrong one changes nothing, but drops it once its tries are used.
Result<void> judge(const Session& session, std::string_view code, const SecretBytes& charged,
                   Judged& judged) {
  return session.update([&](std::optional<UserState>& current) -> Result<StateChange> {
    // Every run starts from nothing: a run whose write lost the compare-and-swap made codes
    // that exist nowhere.
    judged = Judged{};
    if (!current || !current->pending) return StateChange::keep;
    if (!constant_time_equal(current->pending->secret, charged)) {
      judged.end = End::replaced;
      return StateChange::keep;
    }
    auto unusable = drop_if_unusable(current);
    if (!unusable) return std::unexpected(unusable.error());
    if (*unusable) {
      judged.end = **unusable;
      return StateChange::write;
    }
    auto step = verify_new_secret(current->pending->secret, current->pending->otp, code, now(),
                                  session.config.window);
    if (!step) return std::unexpected(step.error());
    if (!*step) {
      if (current->pending->attempts < kEnrollmentTries) {
        judged.end = End::wrong;
        return StateChange::keep;
      }
      current->pending.reset();
      judged.end = End::used_up;
      return StateChange::write;
    }
    judged.added = current->pending->name;
    if (judged.added) {
      if (auto ok = add_pending_authenticator(*current, **step, now()); !ok)
        return std::unexpected(ok.error());
    } else {
      auto activated = activate_enrollment(*current, **step, now(), session.config);
      if (!activated) return std::unexpected(activated.error());
      judged.backup_codes = std::move(*activated);
    }
    judged.end = End::confirmed;
    return StateChange::write;
  });
}

int refusal(End end) {
  switch (end) {
    case End::nothing_pending: return refuse(tr(kNothingToConfirm));
    case End::expired: return refuse(tr("the enrollment expired; run valix-enroll --begin again"));
    case End::stale:
      return refuse(
          tr("your 2FA changed since valix-enroll --begin (an authenticator was added, "
             "removed or replaced, or 2FA was reset): nothing was confirmed; run "
             "valix-enroll --begin again"));
    case End::used_up:
      return refuse(
          tr("too many wrong codes: the pending enrollment was dropped; run valix-enroll "
             "--begin again"));
    case End::replaced:
      return refuse(
          tr("another valix-enroll --begin replaced the pending enrollment meanwhile: "
             "nothing was confirmed"));
    case End::wrong:
    case End::confirmed: break;
  }
  return refuse(tr("that code is not correct; check the time on your phone and try again"));
}

}  // namespace

int confirm_pending(const Session& session, std::string_view code) {
  SecretBytes charged;
  auto counted = charge_try(session, charged);
  if (!counted) return internal(counted.error());
  if (*counted != End::confirmed) return refusal(*counted);
  Judged judged;
  if (auto ok = judge(session, code, charged, judged); !ok) {
    // The authenticator's own refusal (its name taken meanwhile) is the user's to hear.
    return judged.added ? refused_change(ok.error()) : internal(ok.error());
  }
  if (judged.end == End::confirmed)
    return judged.added ? announce_added(*judged.added) : session.show_codes(judged.backup_codes);
  // As a login does: a judged code that is refused costs the delay (its try is already
  // counted), so this tool is no faster an oracle than a login.
  if (judged.end == End::wrong || judged.end == End::used_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(session.config.fail_delay_ms));
  return refusal(judged.end);
}

}  // namespace valix::enroll
