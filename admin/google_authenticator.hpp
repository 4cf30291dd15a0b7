// The ~/.google_authenticator file of google-authenticator-libpam (its FILEFORMAT): line 1
// the base32 secret, then option lines starting with '" ', then 8-digit scratch codes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "policy.hpp"
#include "secure.hpp"

namespace valix::admin {

// Generous: FILEFORMAT says the files stay under 1 kB.
inline constexpr std::size_t kMaxGoogleAuthenticatorFileSize = 64 * 1024;

struct GoogleAuthenticatorFile {
  SecretBytes secret;
  int step_size = 30;                     // STEP_SIZE
  std::optional<int> window_size;         // WINDOW_SIZE: codes valid at once (3 = one each side)
  std::optional<std::string> rate_limit;  // RATE_LIMIT: "N logins per M s" (translated)
  bool disallow_reuse = false;            // DISALLOW_REUSE
  std::uint64_t last_used_step = 0;       // the highest time step DISALLOW_REUSE lists
  std::optional<int> time_skew;           // TIME_SKEW: steps the module had learned to adjust by
  std::size_t scratch_codes = 0;
};

// Parses the file's text. Refused (Errc::invalid, naming the line): counter-based (HOTP)
// files, files without TOTP_AUTH, a secret shorter than 80 or longer than 1024 bits (the
// bounds of the state file), unknown options and any
// line that is none of the above. Only time-based files carry over to Valix.
Result<GoogleAuthenticatorFile> parse_google_authenticator(std::string_view text);

// Reads path as account: the open runs with the account's uid, gid and groups (so the kernel
// applies the user's own permissions to every directory on the way, and a symlink or
// directory pointing at a file only root may read gets EACCES), the final component must
// not be a symlink, and the open file must be a regular file owned by the account, without
// group or other permissions and with one link. Root privileges are restored before
// returning; if they cannot be, the process aborts rather than run on as the wrong user.
Result<SecretString> read_file_as_user(const Account& account, const std::string& path);

}  // namespace valix::admin
