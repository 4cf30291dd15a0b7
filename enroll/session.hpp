// What valix-enroll's actions share (enroller.hpp runs them): the run's options, settings and
// account, its way to the store, the current-code check, and the guard against a state that
// changed while the user was at a prompt.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "options.hpp"
#include "secure.hpp"
#include "state.hpp"
#include "store.hpp"

namespace valix::enroll {

// How long an interactive run may wait for the first code of the secret it showed.
inline constexpr std::int64_t kInteractiveLifetime = 3600;

struct Session {
  const Options& options;
  const Config& config;
  const std::string& user;
  // The account's state, and an update of it (a written state whose directory could not be
  // synced counts as written: the run reports it at its end).
  std::function<Result<std::optional<UserState>>()> load;
  std::function<Result<void>(const StateStore::Mutator&)> update;
  // The same, but durable or an error (Errc::unsynced included): for a charge that must be on
  // disk before what it pays for is judged.
  std::function<Result<void>(const StateStore::Mutator&)> update_durably;
  // For an enrolled user: the current code (from --code, or asked for) verifies, charged,
  // with replay protection and the lockout rules of a login; false (the refusal told) when not.
  std::function<Result<bool>(const UserState&)> current_code_verifies;
  // The --qr-svg image, if asked for: nullopt when written (or not asked for), else the exit
  // status.
  std::function<std::optional<int>(const SecretString& uri)> write_svg;
  // Shows (and saves, --backup-codes-file) new backup codes once the state work is done,
  // without privilege; the exit status.
  std::function<int(const std::vector<SecretString>& codes)> show_codes;
};

// The enrollment a decision to change it was about: none (an empty fingerprint), or the one
// seen, every authenticator of it (enrollment_fingerprint).
struct SeenEnrollment {
  std::string fingerprint;
};
SeenEnrollment seen_enrollment(const UserState& state);

// Whether current's enrollment (or none) is the one with that fingerprint
// (enrollment_fingerprint; empty: none).
Result<bool> enrollment_is(const std::optional<UserState>& current, std::string_view fingerprint);

// Re-checked under the lock before a change the decision allowed is stored: the decision was
// made without it, and an interactive run then waits at a prompt (up to an hour). Without
// this, a run started before the user enrolled (at login, or in another run) could replace
// that enrollment without its code. Errc::conflict (texts::kToolChangedMeanwhile) when the
// enrollment is not the one seen.
Result<void> unchanged_since_seen(const std::optional<UserState>& current,
                                  const SeenEnrollment& seen);

// An error from a change the user asked for: its own refusal when it is the user's (a name
// that is taken or not valid, no such authenticator, one that may not be removed, the state
// changed meanwhile), otherwise failed().
int refused_change(const Error& error);

}  // namespace valix::enroll
