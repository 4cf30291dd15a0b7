// HOTP (RFC 4226 Appendix D), TOTP (RFC 6238 Appendix B), the verification window, and a
// cross-check against oathtool, an independent implementation.
#include <unistd.h>

#include <cstdio>

#include "base32.hpp"
#include "otp.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

void rfc4226_appendix_d(void**) {
  const auto key = bytes_of("12345678901234567890");
  const char* expected[] = {"755224", "287082", "359152", "969429", "338314",
                            "254676", "287922", "162583", "399871", "520489"};
  for (std::uint64_t counter = 0; counter < 10; ++counter) {
    auto code = hotp(key.span(), counter, OtpParameters{});
    ASSERT_OK(code);
    assert_string_equal(code->c_str(), expected[counter]);
  }
}

void rfc6238_appendix_b(void**) {
  struct Vector {
    std::int64_t time;
    const char* sha1;
    const char* sha256;
    const char* sha512;
  };
  const Vector vectors[] = {
      {59, "94287082", "46119246", "90693936"},
      {1111111109, "07081804", "68084774", "25091201"},
      {1111111111, "14050471", "67062674", "99943326"},
      {1234567890, "89005924", "91819424", "93441116"},
      {2000000000, "69279037", "90698825", "38618901"},
      {20000000000, "65353130", "77737706", "47863826"},
  };
  const auto k1 = bytes_of("12345678901234567890");
  const auto k256 = bytes_of("12345678901234567890123456789012");
  const auto k512 = bytes_of("1234567890123456789012345678901234567890123456789012345678901234");
  for (const auto& v : vectors) {
    const std::uint64_t step = totp_step(v.time, 30);
    auto a = hotp(k1.span(), step, {OtpAlgorithm::sha1, 8, 30});
    auto b = hotp(k256.span(), step, {OtpAlgorithm::sha256, 8, 30});
    auto c = hotp(k512.span(), step, {OtpAlgorithm::sha512, 8, 30});
    ASSERT_OK(a);
    ASSERT_OK(b);
    ASSERT_OK(c);
    assert_string_equal(a->c_str(), v.sha1);
    assert_string_equal(b->c_str(), v.sha256);
    assert_string_equal(c->c_str(), v.sha512);
  }
}

void steps_and_parameters(void**) {
  assert_int_equal(totp_step(0, 30), 0);
  assert_int_equal(totp_step(29, 30), 0);
  assert_int_equal(totp_step(30, 30), 1);
  assert_int_equal(totp_step(-5, 30), 0);
  assert_true(valid_otp_parameters({OtpAlgorithm::sha1, 6, 30}));
  assert_false(valid_otp_parameters({OtpAlgorithm::sha1, 7, 30}));
  assert_false(valid_otp_parameters({OtpAlgorithm::sha1, 6, 0}));
  const auto key = bytes_of("12345678901234567890");
  assert_false(hotp(key.span(), 0, {OtpAlgorithm::sha1, 5, 30}).has_value());
  assert_true(parse_otp_algorithm("sha256") == OtpAlgorithm::sha256);
  assert_true(parse_otp_algorithm("SHA512") == OtpAlgorithm::sha512);
  assert_false(parse_otp_algorithm("md5").has_value());
  assert_string_equal(std::string(otp_algorithm_name(OtpAlgorithm::sha1)).c_str(), "SHA1");
}

void window(void**) {
  const auto key = bytes_of("12345678901234567890");
  const OtpParameters params;
  const std::uint64_t now = 1000;
  for (int offset = -3; offset <= 3; ++offset) {
    auto code = hotp(key.span(), now + offset, params);
    ASSERT_OK(code);
    auto found = find_totp_step(key.span(), code->view(), now, 1, params);
    ASSERT_OK(found);
    if (offset >= -1 && offset <= 1) {
      assert_true(found->has_value());
      assert_int_equal(**found, now + offset);
    } else if (found->has_value()) {
      // Another step in the window may share the code by chance; never the far one.
      assert_int_not_equal(**found, now + offset);
    }
  }
  auto none = find_totp_step(key.span(), "abcdef", now, 1, params);
  ASSERT_OK(none);
  assert_false(none->has_value());
  auto zero = find_totp_step(key.span(), "000000", 0, 1, params);  // no underflow at step 0
  ASSERT_OK(zero);
}

// hotp(key, 153567) == hotp(key, 153569) == "468457" for the RFC 4226 key (found by search):
// when two steps in the window match, the later one is returned so the watermark moves forward.
void window_returns_latest_match(void**) {
  const auto key = bytes_of("12345678901234567890");
  const OtpParameters params;
  auto early = hotp(key.span(), 153567, params);
  auto late = hotp(key.span(), 153569, params);
  ASSERT_OK(early);
  ASSERT_OK(late);
  assert_string_equal(early->c_str(), "468457");
  assert_string_equal(late->c_str(), "468457");
  auto both = find_totp_step(key.span(), "468457", 153568, 1, params);
  ASSERT_OK(both);
  assert_true(both->has_value());
  assert_int_equal(**both, 153569);
  auto first = find_totp_step(key.span(), "468457", 153567, 1, params);
  ASSERT_OK(first);
  assert_true(first->has_value());
  assert_int_equal(**first, 153567);
  auto outside = find_totp_step(key.span(), "468457", 153571, 1, params);
  ASSERT_OK(outside);
  assert_false(outside->has_value());
}

// A search keys one HMAC context once and starts it again for each counter: every counter in
// it must still give the code hotp() computes on its own, for each algorithm (RFC 6238's
// keys), wherever the counter is in the search.
void search_matches_hotp_at_every_counter(void**) {
  struct Key {
    const char* seed;
    OtpAlgorithm algorithm;
  };
  const Key keys[] = {
      {"12345678901234567890", OtpAlgorithm::sha1},
      {"12345678901234567890123456789012", OtpAlgorithm::sha256},
      {"1234567890123456789012345678901234567890123456789012345678901234", OtpAlgorithm::sha512},
  };
  for (const Key& k : keys) {
    const auto key = bytes_of(k.seed);
    const OtpParameters params{k.algorithm, 8, 30};
    for (std::uint64_t counter = 100; counter < 116; ++counter) {
      auto code = hotp(key.span(), counter, params);
      ASSERT_OK(code);
      auto found = find_hotp_counter(key.span(), code->view(), 100, 16, params);
      ASSERT_OK(found);
      assert_true(found->has_value());
      assert_int_equal(**found, counter);
    }
    auto none = find_hotp_counter(key.span(), "00000000", 100, 0, params);
    ASSERT_OK(none);
    assert_false(none->has_value());
  }
}

void oathtool_cross_check(void**) {
  // Missing oathtool fails this test: the cross-check is the point, not an optional extra.
  if (access(VALIX_OATHTOOL, X_OK) != 0)
    fail_msg("oathtool not found at '%s' (install the Debian package oathtool)", VALIX_OATHTOOL);
  const OtpAlgorithm algorithms[] = {OtpAlgorithm::sha1, OtpAlgorithm::sha256,
                                     OtpAlgorithm::sha512};
  const char* names[] = {"sha1", "sha256", "sha512"};
  const std::int64_t times[] = {59, 1111111109, 1700000000, 2000000000};
  for (int i = 0; i < 20; ++i) {
    SecretBytes secret(20);
    ASSERT_OK(random_bytes(std::span<std::uint8_t>(secret.data(), secret.size())));
    const std::string b32(base32_encode(secret.span()).view());
    for (int a = 0; a < 3; ++a) {
      for (const int digits : {6, 8}) {
        for (const std::int64_t t : times) {
          const std::string command = std::string(VALIX_OATHTOOL) + " --totp=" + names[a] +
                                      " --digits=" + std::to_string(digits) + " -b -N @" +
                                      std::to_string(t) + " " + b32;
          FILE* pipe = popen(command.c_str(), "r");
          assert_non_null(pipe);
          char line[64] = {};
          assert_non_null(fgets(line, sizeof line, pipe));
          assert_int_equal(pclose(pipe), 0);
          const std::size_t end = std::string_view(line).find_first_of("\r\n");
          assert_true(end != std::string_view::npos);
          line[end] = '\0';
          auto ours = hotp(secret.span(), totp_step(t, 30), {algorithms[a], digits, 30});
          ASSERT_OK(ours);
          assert_string_equal(ours->c_str(), line);
        }
      }
    }
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(rfc4226_appendix_d),
      cmocka_unit_test(rfc6238_appendix_b),
      cmocka_unit_test(steps_and_parameters),
      cmocka_unit_test(window),
      cmocka_unit_test(window_returns_latest_match),
      cmocka_unit_test(oathtool_cross_check),
      cmocka_unit_test(search_matches_hotp_at_every_counter),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
