// verify_answer: the window, replay watermark, backup codes, malformed answers, lockout with
// back-off (one limit for TOTP codes, one for backup codes), what a locked state leaves
// untouched, and the charge/judge split it is made of.
#include <cctype>
#include <cstring>

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
  // Outside the window: refused (told apart as clock drift, see clock_drift).
  Fixture g = enrolled();
  assert_true(verify(g, code_at(-2)) == Outcome::clock_drift);
  assert_true(verify(g, " " + code_at(0) + " ") == Outcome::totp_accepted);
  assert_true(verify(g, code_at(2)) == Outcome::clock_drift);
  Fixture h = enrolled();
  h.config.window = 0;
  assert_true(verify(h, code_at(1)) == Outcome::clock_drift);
  assert_true(verify(h, code_at(-1)) == Outcome::clock_drift);
  assert_int_equal(h.state.failures, 2);
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

  // While locked a TOTP code is not looked at: a valid one stays unused, nothing is counted.
  const std::uint64_t watermark = f.state.enrollment->last_step;
  assert_true(verify(f, code_at(0), kNow + 5) == Outcome::locked);
  assert_true(verify(f, "x", kNow + 5) == Outcome::locked);  // malformed: the TOTP limit
  assert_int_equal(f.state.enrollment->last_step, watermark);
  assert_int_equal(f.state.failures, 3);
  // Backup codes have a limit of their own: the owner is not locked out of them.
  const UserState before_backup = f.state.clone();
  assert_true(verify(f, f.codes[9].view(), kNow + 5) == Outcome::backup_accepted);
  f.state = before_backup.clone();
  assert_int_equal(f.state.enrollment->backup.hashes.size(), 10);

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

// Each shape has its own count and lockout; a success of either clears both.
void backup_codes_have_their_own_limit(void**) {
  Fixture f = enrolled();
  f.config.backup_max_failures = 2;
  const std::string wrong_backup = "zzzzz-zzzzz";
  assert_true(verify(f, wrong_backup) == Outcome::wrong);
  assert_int_equal(f.state.backup_failures, 1);
  assert_int_equal(f.state.failures, 0);
  auto second = verify_answer(f.state, wrong_backup, kNow, f.config);
  ASSERT_OK(second);
  assert_int_equal(second->locked_for, 60);
  assert_int_equal(f.state.backup_locked_until, kNow + 60);
  // Backup codes locked: a right one is not looked at, and stays usable.
  auto locked = verify_answer(f.state, f.codes[0].view(), kNow + 1, f.config);
  ASSERT_OK(locked);
  assert_true(locked->outcome == Outcome::locked);
  assert_true(locked->shape == AnswerShape::backup);
  assert_int_equal(f.state.enrollment->backup.hashes.size(), 10);
  assert_int_equal(f.state.backup_failures, 2);
  // TOTP codes are not locked by it, and a success clears both counts.
  assert_true(verify(f, "000000", kNow + 1) == Outcome::wrong);
  assert_int_equal(f.state.failures, 1);
  assert_true(verify(f, code_at(0), kNow + 1) == Outcome::totp_accepted);
  assert_int_equal(f.state.failures, 0);
  assert_int_equal(f.state.backup_failures, 0);
  assert_int_equal(f.state.backup_locked_until, 0);
  assert_true(verify(f, f.codes[0].view(), kNow + 1) == Outcome::backup_accepted);
}

// A lockout set while the clock was ahead may not outlast lockout_max_seconds once it is back.
void lockout_is_capped_after_a_clock_jump(void**) {
  Fixture f = enrolled();
  const std::int64_t ahead = kNow + 10 * 365 * 86400;
  for (int i = 0; i < 3; ++i) verify(f, "000000", ahead);
  assert_int_equal(f.state.locked_until, ahead + 60);
  auto back = verify_answer(f.state, "000000", kNow, f.config);
  ASSERT_OK(back);
  assert_true(back->outcome == Outcome::locked);
  assert_int_equal(back->locked_for, 600);
  assert_int_equal(f.state.locked_until, kNow + 600);
  assert_true(verify(f, code_at(20), kNow + 601) == Outcome::totp_accepted);
}

// The charge is made before the judging and is all a refused answer changes; judge_answer
// alone changes nothing for a refused answer.
void charge_then_judge(void**) {
  Fixture f = enrolled();
  const Charge charge = charge_failure(f.state, AnswerShape::totp, kNow, f.config);
  assert_false(charge.locked);
  assert_int_equal(f.state.failures, 1);
  const UserState charged = f.state.clone();
  auto wrong = judge_answer(f.state, "000000", kNow, f.config);
  ASSERT_OK(wrong);
  assert_true(wrong->outcome == Outcome::wrong);
  assert_int_equal(f.state.failures, charged.failures);
  assert_int_equal(f.state.enrollment->last_step, charged.enrollment->last_step);
  auto right = judge_answer(f.state, code_at(0), kNow, f.config);
  ASSERT_OK(right);
  assert_true(right->accepted());
  assert_int_equal(f.state.failures, 0);
  // try_first_pass's grace: the answer at the limit does not start a lockout by itself.
  Fixture g = enrolled();
  g.state.failures = 2;
  const Charge graced =
      charge_failure(g.state, AnswerShape::totp, kNow, g.config, FailureGrace::one_more);
  assert_int_equal(graced.locked_for, 0);
  assert_int_equal(g.state.locked_until, 0);
  assert_int_equal(g.state.failures, 3);  // counted all the same
  const Charge next = charge_failure(g.state, AnswerShape::totp, kNow, g.config);
  assert_true(next.locked_for > 0);
  // Without the grace, the same failure at the limit locks: the grace is what held it off.
  Fixture h = enrolled();
  h.state.failures = 2;
  const Charge plain = charge_failure(h.state, AnswerShape::totp, kNow, h.config);
  assert_true(plain.locked_for > 0);
  assert_true(h.state.locked_until > kNow);
}

void shapes(void**) {
  assert_true(answer_shape("123456", 6) == AnswerShape::totp);
  assert_true(answer_shape(" 123456\t", 6) == AnswerShape::totp);
  assert_true(answer_shape("12345678", 6) == AnswerShape::other);
  assert_true(answer_shape("abcde-fghjk", 6) == AnswerShape::backup);
  assert_true(answer_shape("  abcde-fghjk ", 6) == AnswerShape::backup);
  assert_true(answer_shape("hunter2", 6) == AnswerShape::other);
  assert_true(answer_shape(std::string(300, '1'), 6) == AnswerShape::other);
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

// A code right for a step a few minutes off is the user's own code with a clock that is off:
// refused and counted like a wrong one, but told apart, and one for a step ahead can never be
// used later (whoever saw the refusal knows a code of a coming step).
void clock_drift(void**) {
  Fixture f = enrolled();
  f.config.window = 1;
  auto verdict = verify_answer(f.state, code_at(4), kNow, f.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::clock_drift);
  assert_int_equal(verdict->drift_seconds, 120);
  assert_int_equal(f.state.failures, 1);  // counted like a wrong code
  assert_int_equal(f.state.enrollment->last_step, totp_step(kNow, 30) + 4);  // burned
  // Four steps later it is that step's code, and still refused.
  assert_true(verify(f, code_at(4), kNow + 4 * 30) == Outcome::replayed);
  assert_true(verify(f, code_at(5), kNow + 4 * 30) == Outcome::totp_accepted);

  Fixture g = enrolled();
  g.config.window = 1;
  g.state.enrollment->last_step = totp_step(kNow, 30) - 20;
  verdict = verify_answer(g.state, code_at(-6), kNow, g.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::clock_drift);
  assert_int_equal(verdict->drift_seconds, -180);
  assert_true(verify(g, code_at(0)) == Outcome::totp_accepted);  // behind: nothing lost
  // Beyond the drift range it is just a wrong code.
  assert_true(verify(g, code_at(kDriftSteps + 2)) == Outcome::wrong);
  assert_true(verify(g, code_at(-kDriftSteps - 2)) == Outcome::wrong);
  // Within the window it is accepted, never drift.
  assert_true(verify(g, code_at(1)) == Outcome::totp_accepted);
}

}  // namespace

// An authenticator that runs off from our clock: valix-admin resync measures it from two
// consecutive codes and logins then look around our step plus the offset; used codes and
// pairs that are not consecutive are refused and change nothing.
void resync_and_offset(void**) {
  Fixture f = enrolled();
  f.config.max_failures = 10;  // the refusals below must not lock the user out
  Enrollment& e = *f.state.enrollment;
  const std::uint64_t ours = totp_step(kNow, 30);
  // The token runs 40 steps (20 minutes) behind: its codes now are those of step ours - 40.
  assert_true(verify(f, code_at(-40)) == Outcome::wrong);  // beyond the drift range
  auto wrong_order = resync_authenticator(e, code_at(-40), code_at(-41), kNow);
  assert_false(wrong_order.has_value());
  assert_int_equal(wrong_order.error().code, Errc::not_found);
  auto not_codes = resync_authenticator(e, "12345", code_at(-40), kNow);
  assert_false(not_codes.has_value());
  assert_int_equal(not_codes.error().code, Errc::invalid);
  auto far = hotp(e.secret.span(), ours + kMaxOffsetSteps + 5, OtpParameters{});
  auto far_next = hotp(e.secret.span(), ours + kMaxOffsetSteps + 6, OtpParameters{});
  auto beyond = resync_authenticator(e, far->view(), far_next->view(), kNow);
  assert_false(beyond.has_value());  // more than a day off: not looked for
  assert_int_equal(e.offset_steps, 0);
  assert_int_equal(e.last_step, 0);

  auto resynced = resync_authenticator(e, code_at(-41), code_at(-40), kNow);
  ASSERT_OK(resynced);
  assert_int_equal(resynced->offset_steps, -40);
  assert_int_equal(resynced->previous_offset_steps, 0);
  assert_int_equal(e.offset_steps, -40);
  assert_int_equal(e.last_step, ours - 40);
  // Both codes are used; the token's next code logs in, once.
  assert_true(verify(f, code_at(-40)) == Outcome::replayed);
  assert_true(verify(f, code_at(-41)) == Outcome::replayed);
  const std::int64_t later = kNow + 30;
  assert_true(verify(f, code_at(-39), later) == Outcome::totp_accepted);
  assert_true(verify(f, code_at(-39), later) == Outcome::replayed);
  // Codes are looked for around the token's step now: our own step's code is 40 steps
  // from it (wrong), one a few steps from the token's is drift.
  assert_true(verify(f, code_at(1), later) == Outcome::wrong);
  assert_true(verify(f, code_at(-33), later) == Outcome::clock_drift);
  // The same pair again: used, refused, nothing changed.
  auto again = resync_authenticator(e, code_at(-41), code_at(-40), kNow);
  assert_false(again.has_value());
  assert_int_equal(again.error().code, Errc::conflict);
  assert_int_equal(e.offset_steps, -40);
  // The offset survives the state text.
  auto text = serialize_state(f.state);
  assert_non_null(std::strstr(text.c_str(), "\noffset_steps -40\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_int_equal(back->enrollment->offset_steps, -40);
}

// An HOTP token (RFC 4226's test secret and values): the next values within the look-ahead
// are accepted once each and move the counter past them; used ones are replayed; one beyond
// the look-ahead is out of sync, refused, and moves the counter so the token's next value
// works; a resync takes two consecutive values.
void hotp_token(void**) {
  Fixture f = enrolled();
  f.config.max_failures = 20;
  Enrollment& e = *f.state.enrollment;
  e.kind = AuthenticatorKind::hotp;
  e.last_step = 0;  // a new token: its next value is counter 0's
  auto value = [&](std::uint64_t counter) {
    return std::string(hotp(e.secret.span(), counter, OtpParameters{})->view());
  };
  assert_string_equal(value(0).c_str(), "755224");
  assert_true(verify(f, "755224") == Outcome::hotp_accepted);
  assert_int_equal(e.last_step, 1);
  assert_true(verify(f, "755224") == Outcome::replayed);
  assert_true(verify(f, value(5)) == Outcome::hotp_accepted);  // presses 1-4 never used
  assert_int_equal(e.last_step, 6);
  assert_true(verify(f, value(3)) == Outcome::replayed);  // skipped over: used up
  assert_true(verify(f, value(5)) == Outcome::replayed);
  assert_true(verify(f, value(6 + 10)) == Outcome::out_of_sync);  // just past the look-ahead
  assert_int_equal(e.last_step, 17);
  assert_true(verify(f, value(16)) == Outcome::replayed);  // never works once refused
  assert_true(verify(f, value(17)) == Outcome::hotp_accepted);
  assert_true(verify(f, value(17 + 1 + kHotpSyncRange + 10)) == Outcome::wrong);
  assert_int_equal(e.last_step, 18);

  auto resynced = resync_authenticator(e, value(5000), value(5001), kNow);
  ASSERT_OK(resynced);
  assert_int_equal(e.last_step, 5002);
  assert_int_equal(e.offset_steps, 0);
  assert_true(verify(f, value(5001)) == Outcome::replayed);
  assert_true(verify(f, value(5002)) == Outcome::hotp_accepted);
  auto used = resync_authenticator(e, value(4000), value(4001), kNow);
  assert_false(used.has_value());  // below the counter: never looked at
  assert_int_equal(used.error().code, Errc::not_found);

  auto text = serialize_state(f.state);
  assert_non_null(std::strstr(text.c_str(), "\nkind hotp\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_true(back->enrollment->kind == AuthenticatorKind::hotp);
  assert_int_equal(back->enrollment->last_step, 5003);
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(window_and_replay),
      cmocka_unit_test(clock_drift),
      cmocka_unit_test(backup_codes_once),
      cmocka_unit_test(malformed),
      cmocka_unit_test(lockout_and_back_off),
      cmocka_unit_test(backup_codes_have_their_own_limit),
      cmocka_unit_test(lockout_is_capped_after_a_clock_jump),
      cmocka_unit_test(charge_then_judge),
      cmocka_unit_test(shapes),
      cmocka_unit_test(not_enrolled_is_an_error),
      cmocka_unit_test(new_secret),
      cmocka_unit_test(resync_and_offset),
      cmocka_unit_test(hotp_token),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
