// RFC 4648 base32: the section 10 vectors, tolerant input and strict rejection.
#include "base32.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

std::string decoded(std::string_view text) {
  auto bytes = base32_decode(text);
  if (!bytes) return "<error>";
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

std::string encoded(std::string_view text) {
  return std::string(
      base32_encode(std::span<const std::uint8_t>(
                        reinterpret_cast<const std::uint8_t*>(text.data()), text.size()))
          .view());
}

void rfc4648_vectors(void**) {
  const char* plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* padded[] = {
      "", "MY======", "MZXQ====", "MZXW6===", "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
  for (int i = 0; i < 7; ++i) {
    std::string unpadded = padded[i];
    unpadded.erase(unpadded.find_last_not_of('=') + 1);
    assert_string_equal(encoded(plain[i]).c_str(), unpadded.c_str());
    assert_string_equal(decoded(padded[i]).c_str(), plain[i]);
    assert_string_equal(decoded(unpadded).c_str(), plain[i]);
  }
}

void tolerant_input(void**) {
  assert_string_equal(decoded("mzxw6ytboi").c_str(), "foobar");
  assert_string_equal(decoded("MZXW 6YTB OI").c_str(), "foobar");
  assert_string_equal(decoded("mzxw-6ytb-oi======").c_str(), "foobar");
  assert_string_equal(decoded("\tMZXW6YTBOI").c_str(), "foobar");
}

void strict_on_garbage(void**) {
  const char* bad[] = {
      "MZXW6YTB0I", "MZXW6YTB1I", "MZXW6YTB8I", "MZXW6YTB9I", "MZ!W6YTB",   "MZ=XW6YTB", "M",
      "MZX",        "MZXW6Y",     "MZ======",   "MZXQ===",    "MZXW6YTBOJ", "MB",        "é"};
  for (const char* text : bad) {
    if (base32_decode(text).has_value()) fail_msg("accepted '%s'", text);
  }
}

void round_trip_random(void**) {
  for (std::size_t n = 0; n < 64; ++n) {
    SecretBytes bytes(n);
    ASSERT_OK(random_bytes(std::span<std::uint8_t>(bytes.data(), bytes.size())));
    auto back = base32_decode(base32_encode(bytes.span()).view());
    ASSERT_OK(back);
    assert_int_equal(back->size(), n);
    assert_memory_equal(back->data(), bytes.data(), n);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc4648_vectors),
      cmocka_unit_test(tolerant_input),
      cmocka_unit_test(strict_on_garbage),
      cmocka_unit_test(round_trip_random),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
