// PAM service files (pam.d(5)) as Linux-PAM reads them, and what the auth stack they make
// does with a wrong or a right password and a wrong or a right code: for valix-admin check.
// Pure: text in, lines with their numbers out; file contents come through a callback. The
// messages are in the user's language (i18n.hpp): they are made for valix-admin check.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"

namespace valix {

// One (possibly continued) line: "TYPE CONTROL MODULE ARGS...", or Debian's "@include FILE"
// (type "@include", module FILE).
struct PamLine {
  int line = 0;         // the number of its first physical line
  std::string type;     // auth, account, password, session (without the leading '-'), @include
  std::string control;  // required, requisite, sufficient, optional, include, substack, [...]
  std::string module;
  std::vector<std::string> args;
};

struct PamLineError {
  int line = 0;
  std::string message;
};

struct PamFile {
  std::vector<PamLine> lines;
  std::vector<PamLineError> errors;  // lines libpam would refuse (the stack then fails)
};

// '#' comments, "\" at the end of a line continues it, "[a b]" in the arguments is one
// argument (brackets inside written "\]"), types may carry a leading '-'.
PamFile parse_pam_file(std::string_view text);

// What a module's return value makes the stack do (pam.conf(5) "[value1=action1 ...]").
enum class PamAction { ignore, ok, done, bad, die, reset, jump };
struct PamStep {
  PamAction action = PamAction::bad;
  int jump = 0;  // for PamAction::jump
  bool operator==(const PamStep&) const = default;
};
struct PamControl {
  std::map<std::string, PamStep, std::less<>> by_value;  // "success", "auth_err", ...
  PamStep fallback;                                      // "default"

  const PamStep& step(std::string_view value) const;
};

// required, requisite, sufficient, optional, or the bracket form; anything else is an error.
Result<PamControl> parse_pam_control(std::string_view control);

// One auth line of a service with its includes resolved: the file it is in, the line, and
// for a substack line the substack (evaluated as one module by its parent).
struct AuthEntry {
  std::string file;
  PamLine line;
  PamControl control;
  bool substack = false;
  std::vector<AuthEntry> entries;  // the substack's
};

// Reads a file of the PAM directory by name; an error says why it cannot be read.
using PamFileReader = std::function<Result<std::string>(std::string_view name)>;

struct AuthStack {
  std::vector<AuthEntry> entries;
  std::vector<std::string> files;     // every file read (the service's first)
  std::vector<std::string> problems;  // "FILE:LINE: message" for lines libpam refuses, bad
                                      // includes, files that cannot be read
};

// The auth stack of service: its auth lines, "include"/"substack" lines of type auth and
// "@include" lines followed (16 levels at most) to other files read through read.
AuthStack load_auth_stack(std::string_view service, const PamFileReader& read);

// True for a module path whose file name is pam_valix.so.
bool is_valix_module(std::string_view module);
// The password modules the check knows (pam_unix, pam_sss, pam_ldap, pam_krb5, pam_winbind,
// pam_userdb, pam_pwdfile, pam_radius_auth).
bool is_password_module(std::string_view module);

// Every pam_valix line of the stack, substacks included, in order.
std::vector<const AuthEntry*> valix_entries(const AuthStack& stack);

// What the stack does, found by following every path through it: password modules return
// success, auth_err or user_unknown, pam_valix success, auth_err or ignore, pam_permit
// success, pam_deny auth_err, and every other module PAM_IGNORE (it stays out of the
// decision: deliberate skips such as pam_access or pam_rootok are not findings). Each
// message is one sentence naming the lines; all of them are errors.
std::vector<std::string> check_auth_order(const AuthStack& stack);

}  // namespace valix
