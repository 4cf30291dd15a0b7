// Error values shared by every part of Valix. Nothing in the core throws for an expected
// failure: functions return Result<T>, and callers decide how to fail closed.
#pragma once

#include <expected>
#include <string>
#include <string_view>

namespace valix {

enum class Errc {
  io,               // a system call failed
  no_space,         // the file system is full (ENOSPC/EDQUOT)
  corrupt,          // a file exists but does not parse
  unsafe,           // ownership, mode or file type is not what we trust
  not_found,        // the thing asked for does not exist
  invalid,          // bad input from a caller or an administrator
  config,           // valix.conf is wrong
  crypto,           // OpenSSL or libcrypt failed
  busy,             // a lock could not be taken in time
  conflict,         // the state changed since a decision was made on it; nothing was written
  unsynced,         // the new content is in place, but the directory could not be synced after it
  unreachable,      // the directory cannot be reached, timed out, failed TLS or refused the bind
  denied,           // the directory's access control refused this identity the operation
  outcome_unknown,  // a write was sent but its answer was lost, and a re-read could not settle it
  internal,         // a rule of our own code was broken (a bug); treated like any failure
};

struct Error {
  Errc code;
  std::string message;
};

template <class T = void>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

// "what: strerror(err)", mapping ENOSPC/EDQUOT to Errc::no_space.
std::unexpected<Error> fail_errno(std::string_view what, int err);

}  // namespace valix
