// verify_answer: the window, replay watermark, backup codes, malformed answers, lockout with
// back-off, and what a locked state leaves untouched.
#include <cctype>

#include "auth.hpp"
#include "enrollment.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;  // 10 s into a step

struct Fixture {
  UserState state;
  std::vector<SecretString> codes;
  Config config;
};

Fixture enrolled() {
  Fixture f;
  f.config.max_failures = 3;
  f.config.lockout_seconds = 60;
  f.config.lockout_max_seconds = 600;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  e.enrolled_at = kNow - 1000;
  e.last_step = 0;
  auto codes = replace_backup_codes(e, f.config);
  if (!codes) fail_msg("%s", codes.error().message.c_str());
  f.codes = std::move(*codes);
  f.state.enrollment = std::move(e);
  return f;
}

std::string code_at(std::int64_t offset_steps) {
  auto code = hotp(bytes_of("12345678901234567890").span(),
                   totp_step(kNow, 30) + static_cast<std::uint64_t>(offset_steps), OtpParameters{});
  return std::string(code->view());
}

Outcome verify(Fixture& f, std::string_view answer, std::int64_t now = kNow) {
  auto verdict = verify_answer(f.state, answer, now, f.config);
  if (!verdict) fail_msg("%s", verdict.error().message.c_str());
  return verdict->outcome;
}

void window_and_replay(void**) {
  Fixture f = enrolled();
  assert_true(verify(f, code_at(-1)) == Outcome::totp_accepted);
  assert_int_equal(f.state.enrollment->last_step, totp_step(kNow, 30) - 1);
  assert_true(verify(f, code_at(-1)) == Outcome::replayed);
  assert_true(verify(f, code_at(0)) == Outcome::totp_accepted);
  assert_true(verify(f, code_at(-1)) == Outcome::replayed);  // below the watermark
  assert_true(verify(f, code_at(1)) == Outcome::totp_accepted);
  assert_true(verify(f, code_at(0)) == Outcome::replayed);
  assert_int_equal(f.state.failures, 1);  // the replay after the last success is a failure
  assert_int_equal(f.state.enrollment->last_step, totp_step(kNow, 30) + 1);
  Fixture g = enrolled();
  assert_true(verify(g, code_at(2)) == Outcome::wrong);
  assert_true(verify(g, code_at(-2)) == Outcome::wrong);
  assert_true(verify(g, " " + code_at(0) + " ") == Outcome::totp_accepted);
  g.config.window = 0;
  g.state.failures = 0;
  assert_true(verify(g, code_at(1)) == Outcome::wrong);
}

void backup_codes_once(void**) {
  Fixture f = enrolled();
  f.config.max_failures = 100;
  auto verdict = verify_answer(f.state, f.codes[0].view(), kNow, f.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::backup_accepted);
  assert_int_equal(verdict->backup_codes_left, 9);
  assert_true(verify(f, f.codes[0].view()) == Outcome::wrong);
  std::string upper(f.codes[1].view());
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  upper.erase(5, 1);
  assert_true(verify(f, "  " + upper + " ") == Outcome::backup_accepted);
  std::string spaced(f.codes[2].view());
  spaced[5] = ' ';
  assert_true(verify(f, spaced) == Outcome::backup_accepted);
  assert_int_equal(f.state.enrollment->backup.hashes.size(), 7);
}

void malformed(void**) {
  Fixture f = enrolled();
  f.config.max_failures = 100;
  const std::string cases[] = {"",
                               "12345",
                               "1234567",
                               "abcdef",
                               "12 456",
                               "１２３４５６",
                               std::string(300, '7'),
                               "zzzzz-zzzzu-x",
                               std::string("12\0"
                                           "3456",
                                           7)};
  for (const auto& answer : cases) {
    if (verify(f, answer) != Outcome::malformed) fail_msg("not malformed: '%s'", answer.c_str());
  }
  assert_int_equal(f.state.failures, 9);
  assert_int_equal(f.state.enrollment->backup.hashes.size(), 10);
}

void lockout_and_back_off(void**) {
  Fixture f = enrolled();
  assert_true(verify(f, "000000") == Outcome::wrong);
  assert_true(verify(f, "000000") == Outcome::wrong);
  assert_int_equal(f.state.locked_until, 0);
  auto third = verify_answer(f.state, "000000", kNow, f.config);
  ASSERT_OK(third);
  assert_int_equal(third->locked_for, 60);
  assert_int_equal(f.state.locked_until, kNow + 60);

  // While locked the answer is not looked at: a valid code and a backup code stay unused.
  const std::uint64_t watermark = f.state.enrollment->last_step;
  assert_true(verify(f, code_at(0), kNow + 5) == Outcome::locked);
  assert_true(verify(f, f.codes[0].view(), kNow + 5) == Outcome::locked);
  assert_int_equal(f.state.enrollment->last_step, watermark);
  assert_int_equal(f.state.enrollment->backup.hashes.size(), 10);
  assert_int_equal(f.state.failures, 3);

  // Each failure after a lockout doubles it, up to the cap.
  std::int64_t t = kNow + 61;
  const std::int64_t expected[] = {120, 240, 480, 600, 600};
  for (const std::int64_t duration : expected) {
    auto v = verify_answer(f.state, "000000", t, f.config);
    ASSERT_OK(v);
    assert_int_equal(v->locked_for, duration);
    t += duration + 1;
  }
  // Success resets everything.
  auto ok = verify_answer(f.state, f.codes[3].view(), t, f.config);
  ASSERT_OK(ok);
  assert_true(ok->accepted());
  assert_int_equal(f.state.failures, 0);
  assert_int_equal(f.state.locked_until, 0);
  assert_int_equal(f.state.last_login, t);
}

void not_enrolled_is_an_error(void**) {
  UserState empty;
  Config config;
  assert_false(verify_answer(empty, "123456", kNow, config).has_value());
}

void new_secret(void**) {
  const auto secret = bytes_of("12345678901234567890");
  auto step = verify_new_secret(secret, OtpParameters{}, code_at(0), kNow, 1);
  ASSERT_OK(step);
  assert_true(step->has_value());
  auto wrong = verify_new_secret(secret, OtpParameters{}, "12345", kNow, 1);
  ASSERT_OK(wrong);
  assert_false(wrong->has_value());
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(window_and_replay),
      cmocka_unit_test(backup_codes_once),
      cmocka_unit_test(malformed),
      cmocka_unit_test(lockout_and_back_off),
      cmocka_unit_test(not_enrolled_is_an_error),
      cmocka_unit_test(new_secret),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
