// base32_decode on arbitrary bytes: never crashes, leaks or hangs, and whatever it decodes
// encodes back to text that decodes to the same bytes (a key shown to a user must round-trip).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base32.hpp"
#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto bytes = valix::base32_decode(text);
  if (!bytes) return 0;
  FUZZ_CHECK(bytes->size() <= text.size());
  const valix::SecretString encoded = valix::base32_encode(bytes->span());
  auto again = valix::base32_decode(encoded.view());
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(std::ranges::equal(again->span(), bytes->span()));
  return 0;
}
