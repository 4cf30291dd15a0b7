#include "base32.hpp"

#include <array>

namespace valix {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int decode_char(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

}  // namespace

SecretString base32_encode(std::span<const std::uint8_t> bytes) {
  SecretString encoded;
  std::string& out = encoded.str();
  out.reserve((bytes.size() * 8 + 4) / 5);  // so that no unwiped copy is left behind
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const std::uint8_t byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out.push_back(kAlphabet[(buffer >> (bits - 5)) & 0x1f]);
      bits -= 5;
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (5 - bits)) & 0x1f]);
  wipe(&buffer, sizeof buffer);
  return encoded;
}

Result<SecretBytes> base32_decode(std::string_view text) {
  // Strip separators and trailing padding, then validate what is left.
  SecretString symbols;
  symbols.str().reserve(text.size());
  std::size_t padding = 0;
  for (const char c : text) {
    if (c == ' ' || c == '-' || c == '\t') continue;
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return fail(Errc::invalid, "base32: padding before the end");
    if (decode_char(c) < 0) return fail(Errc::invalid, "base32: invalid character");
    symbols.str().push_back(c);
  }
  const std::size_t n = symbols.size();
  // Valid unpadded lengths modulo 8 are 0, 2, 4, 5 and 7 (RFC 4648 section 6).
  static constexpr std::array<bool, 8> kValidRemainder = {true, false, true,  false,
                                                          true, true,  false, true};
  if (!kValidRemainder[n % 8]) return fail(Errc::invalid, "base32: impossible length");
  if (padding > 0 && (n + padding) % 8 != 0) return fail(Errc::invalid, "base32: bad padding");

  SecretBytes out(n * 5 / 8);
  std::uint32_t buffer = 0;
  int bits = 0;
  std::size_t pos = 0;
  for (const char c : symbols.view()) {
    buffer = (buffer << 5) | static_cast<std::uint32_t>(decode_char(c));
    bits += 5;
    if (bits >= 8) {
      out.data()[pos++] = static_cast<std::uint8_t>(buffer >> (bits - 8));
      bits -= 8;
    }
  }
  const bool leftover_clean = (buffer & ((1u << bits) - 1)) == 0;
  wipe(&buffer, sizeof buffer);
  if (!leftover_clean) return fail(Errc::invalid, "base32: non-zero trailing bits");
  return out;
}

}  // namespace valix
