// valix-admin: what every subcommand shares (the context, exit codes, user resolution and
// the audit log). The rules themselves (policy, state format, locking) live in the core.
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "i18n.hpp"
#include "log.hpp"
#include "policy.hpp"
#include "store.hpp"
#include "text.hpp"

namespace valix::admin {

// Documented in --help and valix-admin(8).
enum class Exit : int {
  ok = 0,
  failed = 1,    // valix.conf, the state store or an import file could not be used; check: an error
  usage = 2,     // bad command line
  refused = 3,   // a named user or group is invalid, unknown, has no state, or is enrolled
  not_root = 4,  // not run as root
};

// The worse of two outcomes: the first failure wins, so the exit code tells what went wrong
// first when several users are named.
inline Exit worse(Exit current, Exit next) { return current == Exit::ok ? next : current; }

struct Context {
  const Config& config;
  std::string config_path;
  StateStore& store;
  // Syslog (LOG_AUTHPRIV, ident valix-admin); errors and warnings also go to stderr.
  Logger& log;
  std::string operator_name;  // who ran the tool: SUDO_USER, else the real user
  std::int64_t now;

  // One audit line, of the shape of every Valix log line (log.hpp):
  //   event=admin reason=done|refused|failed action=ACTION user=USER by=OPERATOR
  //   msg="ACTION USER (by OPERATOR): WHAT"
  // Success is logged at notice level (syslog only; the operator gets a friendlier line on
  // stdout), failures at error level; stderr gets the msg text only, in the operator's
  // language (what.shown) while syslog's stays English (what.message).
  void audit(std::string_view action, std::string_view user, std::string_view what) const;
  Exit error(std::string_view action, std::string_view user, const Said& what, Exit code) const;
  Exit error(std::string_view action, std::string_view user, const Error& what, Exit code) const {
    return error(action, user, said_of(what), code);
  }
};

// A user named on the command line whose name is valid for the state store.
struct Target {
  std::string name;
  std::optional<Account> account;  // nullopt: no passwd entry

  // What the store is asked for: with the account's uid, so that state filed under another
  // name for it, or another account's state under this name, is refused (StateKey).
  StateKey key() const {
    return StateKey{name, account ? std::optional<uid_t>(account->uid) : std::nullopt};
  }
};

// Prints the new backup codes an administrator's command made for user, with what to do with
// them (an import, a token added).
void print_new_backup_codes(const std::string& user, const std::vector<SecretString>& codes);

// A name safe to print on a terminal or in a log line: printable_for_log(name, 128).
std::string shown(std::string_view name);

// Checks name (valid_username) and looks up its account. An invalid name is Errc::invalid.
// The target is named by the account's own name (state_owner), whatever spelling or login
// name was given. State of the account filed under another of its names (by an earlier
// version) is Errc::misfiled, with what to rename: acting on the account's own name would
// miss it. So is state the store refuses for the account (filed under another name for its
// uid, or another account's under its name).
Result<Target> resolve_user(StateStore& store, std::string_view name);

// What a command says when resolve_user failed: refused for an invalid, unknown or misfiled
// name, failed otherwise.
Exit refuse_resolution(const Context& ctx, std::string_view action, const Error& error);

// Every user whose primary or supplementary group is group, sorted. A group that does not
// exist is Errc::not_found.
Result<std::vector<std::string>> group_members(const std::string& group);

// Subcommands. users are the names given on the command line, in order.
Exit cmd_require(const Context& ctx, const std::vector<std::string>& users,
                 const std::vector<std::string>& groups);
Exit cmd_unrequire(const Context& ctx, const std::vector<std::string>& users,
                   const std::vector<std::string>& groups);
Exit cmd_reset(const Context& ctx, const std::string& user);
Exit cmd_unlock(const Context& ctx, const std::string& user);

// The admin's audit line before its message (Context::audit, and main's own errors).
LogLine admin_line(Reason reason, std::string_view action, std::string_view user,
                   std::string_view operator_name);
// Moves the state filed under from to the account to (under its own name), when it is that
// account's: after a rename (usermod -l) or when another login name comes first for the uid.
Exit cmd_rename(const Context& ctx, const std::string& from, const std::string& to);

// Sets the clock offset of the user's authenticator named name (nullopt: their only one) from
// two consecutive codes it shows now (resync_authenticator), each given as CODE or "-" (a
// line of standard input).
Exit cmd_resync(const Context& ctx, const std::string& user, const std::optional<std::string>& name,
                const std::string& code1, const std::string& code2);

// Removes the user's authenticator named name (remove_authenticator: any one but the only
// one); their other authenticators and backup codes stay.
Exit cmd_remove(const Context& ctx, const std::string& user, const std::string& name);

enum class OutputFormat { table, json };
Exit cmd_status(const Context& ctx, const std::vector<std::string>& users, OutputFormat format);

enum class BackupCodesOnImport { generate, none };
enum class ExistingEnrollment { refuse, replace };
Exit cmd_import_google_authenticator(const Context& ctx, const std::string& user,
                                     const std::optional<std::string>& file,
                                     BackupCodesOnImport backup, ExistingEnrollment existing);

// A hardware token's settings (valix-admin add-token): its kind, OTP parameters, and for
// HOTP the counter of its next value.
struct TokenSettings {
  AuthenticatorKind kind = AuthenticatorKind::hotp;
  OtpParameters otp;
  std::uint64_t counter = 0;
};
// Makes a hardware token, its secret read from standard input (hex or base32), the user's
// authenticator, with new backup codes (unless backup is none); an existing enrollment is
// replaced only when existing is replace. With a name, for an enrolled user: the token is
// added as a further authenticator of that name (backup codes untouched), and one of that
// name is replaced only when existing is replace; for a user not enrolled, the enrollment's
// authenticator gets the name.
Exit cmd_add_token(const Context& ctx, const std::string& user,
                   const std::optional<std::string>& name, const TokenSettings& token,
                   BackupCodesOnImport backup, ExistingEnrollment existing);

// Copies the state files under state_dir (default: valix.conf's) into the directory of
// store = ldap; users with state there already are kept unless existing is replace.
Exit cmd_migrate(const Context& ctx, const std::optional<std::string>& state_dir,
                 ExistingEnrollment existing);

}  // namespace valix::admin
