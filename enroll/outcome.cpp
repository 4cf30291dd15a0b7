#include "outcome.hpp"

#include <cstdio>
#include <ctime>

#include "i18n.hpp"

namespace valix::enroll {

int refuse(const std::string& message) {
  std::fprintf(stderr, "valix-enroll: %s\n", message.c_str());
  return kRefused;
}

// The fleet's directory refusing this host's identity (Errc::denied) is a refusal, not an
// internal error: the shipped ACL lets a host enroll a user who has no secret, never replace
// a secret or add backup codes.
int internal(const Error& error) {
  if (error.code == Errc::denied) {
    // TRANSLATORS: {reason} is the directory's answer (from the LDAP server, in English).
    return refuse(fill(tr("the directory does not let this host change that ({reason}); to set "
                          "up 2FA again or get new backup codes, ask an administrator to reset "
                          "it first (valix-admin reset)"),
                       {{"reason", shown_message(error)}}));
  }
  std::fprintf(stderr, "valix-enroll: %s\n", shown_message(error).c_str());
  return kInternal;
}

int failed(const Error& error) {
  const bool refusal = error.code == Errc::conflict || error.code == Errc::misfiled;
  return refusal ? refuse(shown_message(error)) : internal(error);
}
std::int64_t now() { return static_cast<std::int64_t>(std::time(nullptr)); }

}  // namespace valix::enroll
