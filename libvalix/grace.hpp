// The opt-in grace period (grace_seconds): after a real 2FA success, the same user from the
// same host, remote host, service and tty is not asked for a code again for that long.
//
// The rules, and why (pam_google_authenticator's grace period and Duo's refusal of one):
//  - Keyed on all four: this host (in a fleet, its directory identity: a grace on host A says
//    nothing about host B), the remote host, the PAM service and the tty. A NAT makes many
//    people one remote host, so the service and tty narrow it; a user name alone never does.
//  - Never for a login with no remote host or a local one ("", localhost, 127.0.0.0/8, ::1):
//    every local user shares those. grace_local = yes lifts this (a single-user machine).
//  - Only a real 2FA success (a code or a backup code, judged and recorded) grants or renews
//    an entry: its time is set to that success's, so the period runs from the latest code
//    (pam_google_authenticator #193 never renewed it; #129 stopped after the first period).
//    A login let in by a grace period writes nothing, so it can never extend itself.
//  - Every failed answer (wrong, replayed, malformed: its charge, written before it is
//    judged) removes every entry of the user, whichever host, remote host, service or tty it
//    came from: a failure may be someone else with the password. So does a lockout (it comes
//    from failures), valix-admin reset and unlock, and a new enrollment. While a lockout is in
//    force no grace applies, even to an entry that is somehow left.
//  - The entries live in the user's state (at most kMaxGraceEntries, the oldest dropped),
//    each the hash of its key and the time of its success: neither the remote host nor the
//    tty is stored, and the slot stays small. The policy in force decides how long an entry
//    lasts (lowering grace_seconds shortens every entry at once; 0 ends them all).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "error.hpp"
#include "state.hpp"

namespace valix {

// Where a login comes from: the PAM items a grace period is keyed on ("" when unset), and
// this host's identity (grace_host).
struct LoginOrigin {
  std::string host;
  std::string rhost;
  std::string service;
  std::string tty;
};

// This host's name for grace keys: with store = ldap and a bind DN, that DN (every host of a
// fleet has its own); otherwise the host name.
std::string grace_host(const Config& config);

// True for a remote host that is none or this machine: "", "localhost" (any case, with or
// without a trailing dot), an address in 127.0.0.0/8, ::1 and ::ffff:127.x.y.z.
bool local_rhost(std::string_view rhost);

// The key of a login's grace entry: 32 hex digits of the SHA-256 of its four fields. nullopt
// when grace is off (grace_seconds = 0) or does not apply to the login (a local remote host
// without grace_local).
Result<std::optional<std::string>> grace_key(const LoginOrigin& origin, const Config& config);

// When the grace period of key ends, if it lets a login in at now: an entry for key granted
// no more than grace_seconds ago (and not in the future: a clock that went back), and no
// lockout (TOTP or backup codes) in force. nullopt: ask for a code.
std::optional<std::int64_t> grace_until(const UserState& state, std::string_view key,
                                        std::int64_t now, const Config& config);

// Records a real 2FA success at now for key: its entry (new, or moved to the end) granted at
// now; entries older than kMaxGraceSeconds or from the future dropped; then the oldest
// dropped down to kMaxGraceEntries.
void grant_grace(UserState& state, std::string_view key, std::int64_t now);

}  // namespace valix
