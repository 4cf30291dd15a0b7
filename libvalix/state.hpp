// One user's 2FA state and its on-disk text format (versioned; see state.cpp for the grammar).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backup_codes.hpp"
#include "error.hpp"
#include "otp.hpp"
#include "secure.hpp"

namespace valix {

inline constexpr int kStateVersion = 1;

// The sizes of a secret, after base32 decoding, that parse_state accepts (80 to 1024 bits):
// anything that brings a secret in from outside (an import) checks them first.
inline constexpr std::size_t kMinSecretBytes = 10;
inline constexpr std::size_t kMaxSecretBytes = 128;

// The most a TOTP authenticator's clock may be set off from ours by valix-admin resync, in
// steps either way (a day at 30-second steps).
inline constexpr std::int64_t kMaxOffsetSteps = 2880;

// What kind of authenticator an enrollment is: an app or token showing time-based codes
// (RFC 6238), or a token whose button shows the next counter-based code (RFC 4226).
enum class AuthenticatorKind { totp, hotp };

// The most authenticators one enrollment holds, and the names they may have (the first is
// named kDefaultAuthenticatorName unless given another): 1 to 32 of [A-Za-z0-9._-], so a name
// is safe in a log line, a state line and a command line alike.
inline constexpr std::size_t kMaxAuthenticators = 8;
inline constexpr std::size_t kMaxAuthenticatorNameLength = 32;
inline constexpr std::string_view kDefaultAuthenticatorName = "default";
bool valid_authenticator_name(std::string_view name);

// One device that shows codes: an app, or a hardware token.
struct Authenticator {
  std::string name{kDefaultAuthenticatorName};
  SecretBytes secret;
  OtpParameters otp;
  std::int64_t enrolled_at = 0;  // when it was added
  // Its replay watermark. TOTP: the last accepted step (steps at or below it are refused).
  // HOTP: the counter of the next value (values below it are used).
  std::uint64_t last_step = 0;
  // How far its clock runs from ours, in steps (valix-admin resync; within ±kMaxOffsetSteps):
  // codes are looked for around our step plus this. TOTP only.
  std::int64_t offset_steps = 0;
  AuthenticatorKind kind = AuthenticatorKind::totp;
  std::int64_t last_used = 0;  // its last accepted code (0: none yet, or not recorded)

  Authenticator clone() const {
    return {name, secret.clone(), otp, enrolled_at, last_step, offset_steps, kind, last_used};
  }
  // The step the authenticator shows at unix_time (ours plus the offset; 0 at the earliest).
  std::uint64_t authenticator_step(std::int64_t unix_time) const;
};

// An enrollment: its first authenticator (the enrollment itself: its fields are the state's
// original keys and the directory's original attributes, which the directory's ACL ties to
// the act of enrolling), the further ones a user added (valix-enroll --add, valix-admin
// add-token), and the backup codes they share. enrolled_at is the first's: when the user
// enrolled.
struct Enrollment : Authenticator {
  BackupCodeHashes backup;
  std::vector<Authenticator> more;

  Enrollment clone() const;
  // Every authenticator, the first first.
  std::vector<Authenticator*> authenticators();
  std::vector<const Authenticator*> authenticators() const;
  // The authenticator of that name (names are unique), or nullptr.
  Authenticator* find(std::string_view name);
  const Authenticator* find(std::string_view name) const;
  // Removes the named further authenticator; the first cannot be removed (false), nor a name
  // not there. The first may be replaced by promoting another: see remove_authenticator.
  bool remove(std::string_view name);
};

// The order further authenticators are kept in: the time each was added, then the name.
bool added_before(const Authenticator& x, const Authenticator& y);

// Whether an authenticator of enrollment other than candidate itself has candidate's secret
// (compared in constant time). Two with one secret would accept one code twice: as its
// 6-digit tail, or at two clock offsets.
bool holds_secret(const Enrollment& enrollment, const Authenticator& candidate);

// An enrollment of one authenticator, named by default, without backup codes.
Enrollment enrollment_of(SecretBytes secret, OtpParameters otp, std::int64_t enrolled_at,
                         std::uint64_t last_step);

// An enrollment started by `valix-enroll --begin` (or at login) and not yet confirmed.
// With a name (valix-enroll --add NAME --begin), its confirmation adds an authenticator of
// that name to the enrollment; without one, it is a first enrollment or a re-enrollment.
// Codes one shown secret may be tried with before it is dropped: at login and in valix-enroll
// (its interactive run, and --confirm of a pending enrollment).
inline constexpr int kEnrollmentTries = 3;

struct PendingEnrollment {
  SecretBytes secret;
  OtpParameters otp;
  std::int64_t expires_at = 0;
  std::optional<std::string> name = std::nullopt;
  // The enrollment it was begun over (enrollment_fingerprint; empty: none): it is confirmed
  // only over that one, so an authenticator revoked (or a reset, a re-enrollment) since
  // --begin takes what was begun with its codes along.
  std::string made_for = {};
  // Codes tried at it (valix-enroll --confirm), 0 to kEnrollmentTries. Each is counted, and
  // the count durable, before the code is judged, so a pending enrollment cannot be guessed
  // at for its whole lifetime; one that used its tries is dropped.
  int attempts = 0;

  PendingEnrollment clone() const {
    return {secret.clone(), otp, expires_at, name, made_for, attempts};
  }
};

// What identifies an enrollment for a change decided on it: hex SHA-256 over its time and
// every authenticator's name, kind, parameters and secret; empty for none. Any authenticator
// added, removed or replaced changes it; a login does not.
Result<std::string> enrollment_fingerprint(const Enrollment* enrollment);

// An enrollment made at login (verified, its backup codes shown) that takes effect only when
// that login completes: pam_sm_setcred, which applications call once the whole auth stack and
// account management passed, installs it if the login holds the token whose digest is here.
// Until then it is inert: logins treat the user as not enrolled. It is kept in the state, not
// in the process, because sshd authenticates in a child process and establishes credentials
// in its parent.
struct LoginEnrollment {
  Enrollment enrollment;
  std::string token_digest;  // hex SHA-256 of the token the login keeps in its PAM environment
  std::int64_t expires_at = 0;

  LoginEnrollment clone() const { return {enrollment.clone(), token_digest, expires_at}; }
};

// The most grace entries a state keeps (the oldest is dropped for a new one), and the bound of
// a last failure's remote host as stored (printable ASCII, at most this many bytes).
inline constexpr std::size_t kMaxGraceEntries = 8;
inline constexpr std::size_t kMaxFailureHostLength = 64;

// One grace period (grace_seconds): a real 2FA success of this user at granted_at, from the
// login whose host, remote host, service and tty hash to key (grace.hpp). It is the time of
// the success, not an expiry, that is kept, so that the policy in force decides how long it
// lasts: lowering grace_seconds (or setting it to 0) shortens every entry at once.
struct GraceEntry {
  std::string key;  // 32 lower-case hex digits (grace_key)
  std::int64_t granted_at = 0;
  bool operator==(const GraceEntry&) const = default;
};

struct UserState {
  // The uid of the account the state belongs to, so that a renamed account or a name reused by
  // another account is recognised (see StateStore). nullopt only in a state written before
  // the uid was recorded; the store records it on the next write.
  std::optional<uid_t> uid;
  std::optional<Enrollment> enrollment;
  std::optional<PendingEnrollment> pending;
  std::optional<LoginEnrollment> login_enrollment;
  bool required = false;  // an admin asked for 2FA on the next login (valix-admin require)
  int failures = 0;       // consecutive failed TOTP (or malformed) answers
  std::int64_t locked_until = 0;
  int backup_failures = 0;  // consecutive failed backup-code answers: a limit of their own
  std::int64_t backup_locked_until = 0;
  std::int64_t last_login = 0;  // last successful 2FA login
  // The last failed answer (its charge) and the remote host it came from (printable, at most
  // kMaxFailureHostLength bytes, "-" for none): history for administrators, kept by a success,
  // cleared by valix-admin reset. 0: none recorded.
  std::int64_t last_failure = 0;
  std::string last_failure_rhost;
  // Grace periods granted by real 2FA successes, at most kMaxGraceEntries, oldest first.
  std::vector<GraceEntry> grace;

  UserState clone() const;
  bool has_failures() const {
    return failures != 0 || locked_until != 0 || backup_failures != 0 || backup_locked_until != 0;
  }
  // Both failure counts and lockouts (a success, an enrollment, valix-admin unlock or reset).
  void clear_failures() {
    failures = 0;
    locked_until = 0;
    backup_failures = 0;
    backup_locked_until = 0;
  }
  void clear_grace() { grace.clear(); }
  // True when nothing is worth keeping: the file can be removed.
  bool empty() const {
    return !enrollment && !pending && !login_enrollment && !required && failures == 0 &&
           backup_failures == 0;
  }
};

// The canonical text of a state. Contains the secret: callers wipe it after use.
SecretString serialize_state(const UserState& state);

// Parses text written by serialize_state. Anything else (a missing header or "end" line, an
// unknown key, a bad value) is Errc::corrupt naming the line.
Result<UserState> parse_state(std::string_view text);

}  // namespace valix
