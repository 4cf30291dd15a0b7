// valix.conf: "key = value" lines, '#' comments. The parser is pure (text in, Config or the
// first error with file and line out); load_config() adds the file-safety checks.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "otp.hpp"

namespace valix {

inline constexpr std::string_view kDefaultConfigPath = VALIX_DEFAULT_CONFIG;
inline constexpr std::string_view kDefaultStateDir = VALIX_DEFAULT_STATE_DIR;
inline constexpr int kMaxGraceSeconds = 43200;  // 12 hours

// Who must use 2FA. Enrolled users are always challenged, whatever this says.
enum class Requirement { none, all, groups };

// What happens when a user who must use 2FA is not enrolled (and not flagged by an admin,
// which always means enrollment at login).
enum class UnenrolledAction { deny, enroll };

enum class QrStyle { utf8, ansi, none };

// Where per-user state is kept: files under state_dir on this host, or entries in an LDAP
// directory that every host of a fleet shares (ldap_store.hpp).
enum class StoreKind { files, ldap };

// The directory of store = ldap. A bind is simple (dn and the password in a root-only file)
// or, with no dn, SASL EXTERNAL over ldapi:// (the peer credentials of the local socket).
struct LdapBind {
  std::string dn;
  std::string password_file;
};

struct LdapSettings {
  std::vector<std::string> uris;  // ldap:// (StartTLS demanded), ldaps:// or ldapi://, in order
  std::string base;               // the existing entry under which each account has uid=NAME
  LdapBind host;                  // every login and valix-enroll
  LdapBind admin;                 // valix-admin; empty: the host's bind
  std::string ca_file;            // CA certificates to verify the server; empty: the system's
  int timeout_ms = 3000;          // every connect and every operation
};

struct Config {
  StoreKind store = StoreKind::files;
  std::string state_dir{kDefaultStateDir};
  LdapSettings ldap;
  std::string issuer;        // empty: the host name; with store = ldap, the domain of ldap_base
  OtpParameters otp;         // for new enrollments; each enrollment keeps its own
  int window = 1;            // accepted steps on each side of the current one
  int hotp_look_ahead = 10;  // HOTP tokens: values accepted from the next counter on
  Requirement require = Requirement::none;
  std::vector<std::string> require_groups;
  std::vector<std::string> exempt_groups;
  UnenrolledAction unenrolled = UnenrolledAction::deny;
  int max_failures = 5;          // consecutive failed TOTP (or malformed) answers before a lockout
  int backup_max_failures = 10;  // consecutive failed backup codes before their own lockout
  int lockout_seconds = 60;      // first lockout; doubles with each further failure
  int lockout_max_seconds = 3600;
  int fail_delay_ms = 2000;  // pam_fail_delay after a failure
  int backup_codes = 10;
  int pending_lifetime = 600;  // seconds a `valix-enroll --begin` stays confirmable
  // After a real 2FA success, the same user from the same host, remote host, service and tty
  // is not asked again for this many seconds (0: off; grace.hpp). grace_local: also for a
  // login with no remote host or a local one (localhost, 127.0.0.0/8, ::1).
  int grace_seconds = 0;
  bool grace_local = false;
  std::string prompt = "Verification code:";
  QrStyle qr = QrStyle::utf8;
};

// Sets one key. The error message names the key and says what is allowed.
Result<void> apply_setting(Config& config, std::string_view key, std::string_view value);

// The rules that tie keys together, which no single key can check: lockout_max_seconds is at
// least lockout_seconds, and require = groups names at least one group in require_groups
// (without one it would require nobody while reading as if it required someone). Run on
// every finished Config: parse_config does, and so must anything that changes a Config after
// it (module options). The message names the keys, not a file.
Result<void> validate_config(const Config& config);

// Parses a whole file's text on top of the defaults. Errors read "FILE:LINE: message".
// Unknown keys, duplicate keys, malformed lines and a failed validate_config ("FILE: message")
// are errors.
Result<Config> parse_config(std::string_view text, std::string_view filename);

// Reads and parses path after checking that it is a regular file (no symlink) owned by
// trusted_uid and writable by nobody else.
Result<Config> load_config(const std::string& path, uid_t trusted_uid);

std::string_view requirement_name(Requirement requirement);

// The name authenticator apps show for a new enrollment: issuer, or its default (above).
std::string default_issuer(const Config& config);

}  // namespace valix
