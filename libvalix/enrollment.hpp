// Enrollment steps shared by valix-enroll and the module's in-login enrollment, so both
// produce the same secrets, URIs and backup codes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "state.hpp"
#include "store.hpp"

namespace valix {

inline constexpr std::size_t kSecretBytes = 20;  // 160 bits, RFC 4226's recommendation

// A fresh pending enrollment with a CSPRNG secret and the configured OTP parameters.
Result<PendingEnrollment> new_pending_enrollment(const Config& config, std::int64_t now);

// The issuer authenticator apps show: config.issuer; without one, the fleet's domain with
// store = ldap (default_issuer), else the host name.
std::string issuer_name(const Config& config);

// "user@host", or "user@fleet" with store = ldap: a fleet enrollment is not one host's.
std::string account_label(const Config& config, std::string_view user);

// otpauth://totp/ISSUER:LABEL?secret=...&issuer=...&algorithm=...&digits=...&period=...
SecretString otpauth_uri(std::string_view issuer, std::string_view label, const SecretBytes& secret,
                         const OtpParameters& otp);

// The base32 secret in groups of four, for typing into an app by hand.
SecretString grouped_secret(const SecretBytes& secret);

// A verified first code (matched at first_step) turns a pending enrollment into an
// enrollment: watermark at first_step, new backup codes (hashed in the enrollment, returned in
// clear once).
struct Activation {
  Enrollment enrollment;
  std::vector<SecretString> backup_codes;
};
Result<Activation> make_enrollment(const PendingEnrollment& pending, std::uint64_t first_step,
                                   std::int64_t now, const Config& config);

// Makes enrollment the state's active one: pending enrollment, admin flag, failure counts
// and lockouts cleared.
void install_enrollment(UserState& state, Enrollment enrollment);

// An enrollment made at login (see LoginEnrollment) is kept in the store until that login
// completes. The login holds a fresh token (128 bits from the CSPRNG, hex); the store holds
// only its digest.
Result<SecretString> new_login_token();

// Stores enrollment as key's login enrollment, replacing an earlier one (an abandoned or
// failed login's), unless the account is enrolled (Errc::conflict). It changes nothing a login
// or tool acts on: the user stays not enrolled, and an admin's flag stays.
Result<void> keep_login_enrollment(StateStore& store, const StateKey& key,
                                   const Enrollment& enrollment, std::string_view token,
                                   std::int64_t expires_at);

// Installs key's login enrollment if token is its token and it has not expired at now, and
// clears it. Errc::conflict: the account was enrolled meanwhile; Errc::not_found: no login
// enrollment for this token (another login's replaced it, or it expired).
Result<void> complete_login_enrollment(StateStore& store, const StateKey& key,
                                       std::string_view token, std::int64_t now);

// The watermark for an authenticator with `secret` that replaces `old` or one of its
// authenticators (an administrator's --force): `wanted`, but never below the watermark of any
// of old's authenticators with the same secret, kind and period (the watermarks count the same
// steps or values), so that a code used, or burned, before the replacement cannot be used
// after it.
std::uint64_t watermark_replacing(const Enrollment* old, const SecretBytes& secret,
                                  AuthenticatorKind kind, int period, std::uint64_t wanted);

// Turns state.pending into the active enrollment (first code matched at first_step): new
// backup codes (returned in clear, once), watermark at first_step, admin flag and failure
// count cleared. state.pending must be set.
Result<std::vector<SecretString>> activate_enrollment(UserState& state, std::uint64_t first_step,
                                                      std::int64_t now, const Config& config);

// Replaces the backup codes of an enrollment; returns the new codes in clear.
Result<std::vector<SecretString>> replace_backup_codes(Enrollment& enrollment,
                                                       const Config& config);

// Adds a further authenticator to an enrollment (valix-enroll --add, valix-admin add-token
// NAME). Errc::invalid: its name is not 1 to 32 of [A-Za-z0-9._-]; Errc::conflict: the
// enrollment has an authenticator of that name, or kMaxAuthenticators already. Messages are
// made with fail_said.
Result<void> add_authenticator(Enrollment& enrollment, Authenticator authenticator);

// Removes the named authenticator from an enrollment. The first one (the enrollment's own) is
// removed only when `first` is may_remove (an administrator: the next one takes its place);
// the only one never is (valix-admin reset removes an enrollment). Errc::not_found: no such
// name; Errc::conflict: not removable.
enum class FirstAuthenticator { keep, may_remove };
Result<void> remove_authenticator(Enrollment& enrollment, std::string_view name,
                                  FirstAuthenticator first);

// The text shown with backup codes (numbered list and how to keep them).
SecretString format_backup_codes(const std::vector<SecretString>& codes);

}  // namespace valix
