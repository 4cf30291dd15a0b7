// One-time backup codes.
//
// A code is 10 characters of Crockford base32 (50 bits from the CSPRNG), shown as
// "xxxxx-xxxxx". It always contains a letter, so it can never be mistaken for a numeric TOTP
// code. Typed codes are normalised: case, spaces and hyphens do not matter, and the look-alike
// letters o, i and l read as 0, 1 and 1.
//
// Codes are stored as libcrypt hashes. All of a user's codes share one salt (the "setting"),
// so checking a typed code costs exactly one hash evaluation: hash once, then compare the
// result with every stored hash in constant time.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "secure.hpp"

namespace valix {

inline constexpr std::size_t kBackupCodeLength = 10;

struct BackupCodeHashes {
  std::string setting;              // crypt(5) setting string shared by every code
  std::vector<std::string> hashes;  // one crypt(5) hash per unused code
};

// count fresh codes, formatted "xxxxx-xxxxx".
Result<std::vector<SecretString>> generate_backup_codes(std::size_t count);

// The canonical 10-character form of a typed code, or nullopt when it cannot be one.
std::optional<SecretString> normalize_backup_code(std::string_view typed);

// Hashes codes (typed or canonical) under one new salt from crypt_gensalt_rn's preferred
// method (yescrypt on Debian 12).
Result<BackupCodeHashes> hash_backup_codes(const std::vector<SecretString>& codes);

// Index of the stored hash that matches the typed code, or nullopt. One crypt_rn call.
Result<std::optional<std::size_t>> find_backup_code(const BackupCodeHashes& stored,
                                                    std::string_view typed);

// True when a setting or hash string is safe to store on one line of the state file.
bool valid_crypt_string(std::string_view text);

}  // namespace valix
