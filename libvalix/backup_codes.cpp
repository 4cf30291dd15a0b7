#include "backup_codes.hpp"

#include <crypt.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "lazy_library.hpp"

namespace valix {
namespace {

constexpr std::string_view kCrockford = "0123456789abcdefghjkmnpqrstvwxyz";

std::optional<char> crockford_canonical(char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (c == 'o') return '0';
  if (c == 'i' || c == 'l') return '1';
  if (kCrockford.find(c) == std::string_view::npos) return std::nullopt;
  return c;
}

// crypt_rn with heap scratch space, wiped afterwards.
Result<std::string> crypt_once(const char* phrase, const char* setting) {
  auto crypt_rn_function = libcrypt_library().function<decltype(crypt_rn)>("crypt_rn");
  if (!crypt_rn_function) return std::unexpected(crypt_rn_function.error());
  auto data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const char* hashed = (*crypt_rn_function)(phrase, setting, data.get(), sizeof(crypt_data));
  Result<std::string> result;
  if (hashed == nullptr || hashed[0] == '*') {
    result = fail(Errc::crypto, "crypt_rn failed");
  } else {
    result = std::string(hashed);
  }
  wipe(data.get(), sizeof(crypt_data));
  return result;
}

}  // namespace

namespace {

// The characters of crypt(3)'s output: [a-zA-Z0-9$./=,_-], one table lookup each (a login
// checks about 60 hashes of 80 characters: every backup code of six parses).
constexpr std::array<bool, 256> make_crypt_characters() {
  std::array<bool, 256> ok{};
  for (int c = 0; c < 256; ++c) {
    ok[static_cast<std::size_t>(c)] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                      (c >= '0' && c <= '9') || c == '$' || c == '.' || c == '/' ||
                                      c == '=' || c == ',' || c == '-' || c == '_';
  }
  return ok;
}
constexpr std::array<bool, 256> kCryptCharacters = make_crypt_characters();

}  // namespace

bool valid_crypt_string(std::string_view text) {
  if (text.empty() || text.size() > 512) return false;
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return kCryptCharacters[static_cast<unsigned char>(c)]; });
}

Result<std::vector<SecretString>> generate_backup_codes(std::size_t count) {
  std::vector<SecretString> codes;
  codes.reserve(count);
  while (codes.size() < count) {
    SecretString code;
    code.str().reserve(kBackupCodeLength + 2);
    bool has_letter = false;
    for (std::size_t i = 0; i < kBackupCodeLength; ++i) {
      if (i == kBackupCodeLength / 2) code.str().push_back('-');
      auto index = random_below(static_cast<std::uint32_t>(kCrockford.size()));
      if (!index) return std::unexpected(index.error());
      const char c = kCrockford[*index];
      has_letter = has_letter || (c >= 'a' && c <= 'z');
      code.str().push_back(c);
    }
    // An all-digit code could be read as a numeric one; draw again (probability ~2^-20).
    if (!has_letter) continue;
    bool duplicate = false;
    for (const auto& existing : codes) duplicate = duplicate || existing.str() == code.str();
    if (!duplicate) codes.push_back(std::move(code));
  }
  return codes;
}

std::optional<SecretString> normalize_backup_code(std::string_view typed) {
  if (typed.size() > 64) return std::nullopt;
  SecretString canonical;
  canonical.str().reserve(typed.size() + 1);
  for (const char c : typed) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    const auto mapped = crockford_canonical(c);
    if (!mapped) return std::nullopt;
    canonical.str().push_back(*mapped);
  }
  if (canonical.size() != kBackupCodeLength) return std::nullopt;
  return canonical;
}

Result<BackupCodeHashes> hash_backup_codes(const std::vector<SecretString>& codes) {
  auto gensalt = libcrypt_library().function<decltype(crypt_gensalt_rn)>("crypt_gensalt_rn");
  if (!gensalt) return std::unexpected(gensalt.error());
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if ((*gensalt)(nullptr, 0, nullptr, 0, setting, sizeof setting) == nullptr) {
    return fail(Errc::crypto, "crypt_gensalt_rn failed");
  }
  BackupCodeHashes result;
  result.setting = setting;
  if (!valid_crypt_string(result.setting)) return fail(Errc::crypto, "unexpected crypt setting");
  for (const auto& code : codes) {
    auto canonical = normalize_backup_code(code.view());
    if (!canonical) return fail(Errc::invalid, "not a backup code");
    auto hashed = crypt_once(canonical->c_str(), setting);
    if (!hashed) return std::unexpected(hashed.error());
    result.hashes.push_back(std::move(*hashed));
  }
  return result;
}

Result<std::optional<std::size_t>> find_backup_code(const BackupCodeHashes& stored,
                                                    std::string_view typed) {
  auto canonical = normalize_backup_code(typed);
  if (!canonical || stored.hashes.empty()) return std::optional<std::size_t>{};
  auto hashed = crypt_once(canonical->c_str(), stored.setting.c_str());
  if (!hashed) return std::unexpected(hashed.error());
  std::optional<std::size_t> found;
  for (std::size_t i = 0; i < stored.hashes.size(); ++i) {
    if (constant_time_equal(stored.hashes[i], *hashed) && !found) found = i;
  }
  return found;
}

}  // namespace valix
