// RFC 4648 base32 (the alphabet authenticator apps use for secrets).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "error.hpp"
#include "secure.hpp"

namespace valix {

// Encodes without padding, in upper case (the form otpauth:// URIs use).
SecretString base32_encode(std::span<const std::uint8_t> bytes);

// Decodes text, accepting lower case, spaces, hyphens between groups and missing or present
// trailing '=' padding. Anything else, padding in the middle, an impossible length or
// non-zero leftover bits is an error.
Result<SecretBytes> base32_decode(std::string_view text);

}  // namespace valix
