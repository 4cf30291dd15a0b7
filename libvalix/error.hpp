// Error values shared by every part of Valix. Nothing in the core throws for an expected
// failure: functions return Result<T>, and callers decide how to fail closed.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace valix {

// Each kind has one meaning, and next to it what a caller does with it. Whatever the kind, a
// login that meets an error is denied (the module never lets an error through, except an
// unreachable store for a member of exempt_groups); the tools tell the message and exit with
// "refused" (the user or operator can act on it) or "failed"/"internal error".
enum class Errc {
  // A system call failed. Deny; the tools report an internal error.
  io,
  // The file system is full (ENOSPC/EDQUOT). Deny; the tools report an internal error.
  no_space,
  // Something Valix trusts exists but does not parse: a state file or directory entry, a
  // valix-check answer. Deny; an administrator can remove an unreadable state
  // (valix-admin reset).
  corrupt,
  // Ownership, mode or file type is not what Valix trusts: a sign of tampering. Deny; nothing
  // cleans it away, an administrator looks at it.
  unsafe,
  // The thing asked for does not exist (a state, a group, a pending enrollment to confirm).
  // The tools refuse with the message.
  not_found,
  // Bad input from a caller or an administrator (a user name, a command line, an argument).
  // The tools refuse with the message (exit "refused" or "usage").
  invalid,
  // valix.conf (or a module option) is wrong. Deny; an administrator fixes the file.
  config,
  // OpenSSL or libcrypt failed. Deny; internal error.
  crypto,
  // A lock could not be taken in time, or a state kept changing under every retry. Deny; the
  // user tries again later (the caller does not loop).
  busy,
  // The state changed since a decision was made on it (another login or tool wrote
  // meanwhile), or an operation would replace state that exists; nothing was written. A
  // compare-and-swap store retries its own lost races; any other caller refuses with the
  // message ("run it again"), never retries a decision made on the old state.
  conflict,
  // The state found belongs to another account than the one meant, or the account's state is
  // filed under another name (a renamed account, another login name for the uid): the
  // StateKey rules of store.hpp. Deny, and refuse with the message, which names the
  // administrator's fix (valix-admin rename, or remove).
  misfiled,
  // Written, durability in doubt: the new content is in place and in use, but the sync after
  // it failed, so a crash before the disk recovers could bring the old one back. A caller that
  // must show what was written (new backup codes) shows it and reports the error; a login does
  // not succeed on it.
  unsynced,
  // The store (the fleet's directory) cannot be reached, timed out, failed TLS or refused the
  // bind; nothing was read or written. Deny everyone (it says nothing about who is enrolled),
  // except members of exempt_groups at login (PAM_IGNORE with a warning).
  unreachable,
  // The directory's access control refused this identity the operation. Deny; the tools
  // refuse with the message (an administrator's job, such as valix-admin reset).
  denied,
  // A write was sent but its answer was lost, and a re-read could not settle whether it was
  // applied. Deny, never taken as success; the user checks (valix-enroll --status) and retries.
  outcome_unknown,
  // No answer came: the PAM conversation failed or was abandoned, or input ended. Deny (or,
  // in the tools, refuse) without a message of its own; nothing was judged.
  no_answer,
  // A rule of our own code was broken (a bug). Deny; internal error.
  internal,
};

struct Error {
  Errc code;
  // In English: what log lines say (they stay English, log.hpp), and what a terminal shows
  // when shown is empty.
  std::string message;
  // The same in the user's language, for a terminal, when the error was made from a msgid
  // (fail_said, i18n.hpp); empty otherwise. Printed through shown_message().
  std::string shown{};
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// "what: strerror(err)", mapping ENOSPC/EDQUOT to Errc::no_space.
std::unexpected<Error> fail_errno(std::string_view what, int err);

}  // namespace valix
