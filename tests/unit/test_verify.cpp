// verify_and_record: the failure an answer costs is committed before the answer is judged
// (two writes), or the answer's verdict and its cost are committed in one write whose fate does
// not depend on the verdict (a store offering room in place); either way a write that fails (a
// file-size limit, a full disk) never yields a verdict. Mutators are re-runnable (MemoryStore
// runs each twice).
#include "enrollment.hpp"
#include "memory_store.hpp"
#include "unit.hpp"
#include "verify.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;
const std::string kUser = "alice";
const StateKey kKey{kUser, 1001};

struct Fixture {
  MemoryStore store;
  std::vector<SecretString> codes;
  Config config;
};

void enroll(Fixture& f) {
  f.config.max_failures = 3;
  UserState state;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  auto codes = replace_backup_codes(e, f.config);
  if (!codes) fail_msg("%s", codes.error().message.c_str());
  f.codes = std::move(*codes);
  state.enrollment = std::move(e);
  f.store.put(kUser, state);
}

std::string code_now() {
  auto code = hotp(bytes_of("12345678901234567890").span(), totp_step(kNow, 30), OtpParameters{});
  return std::string(code->view());
}

void right_code_commits_charge_then_success(void**) {
  Fixture f;
  enroll(f);
  auto verdict = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::totp_accepted);
  assert_int_equal(f.store.writes, 2);  // the charge, then the watermark
  assert_int_equal(f.store.at(kUser).failures, 0);
  assert_int_equal(f.store.at(kUser).enrollment->last_step, totp_step(kNow, 30));
  auto replay = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  ASSERT_OK(replay);
  assert_true(replay->outcome == Outcome::replayed);
  assert_int_equal(f.store.at(kUser).failures, 1);
}

void wrong_code_is_one_write(void**) {
  Fixture f;
  enroll(f);
  auto verdict = verify_and_record(f.store, kKey, "000000", kNow, f.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::wrong);
  assert_int_equal(f.store.writes, 1);
  assert_int_equal(f.store.at(kUser).failures, 1);
}

// The attack of RLIMIT_FSIZE: the write that counts a failure fails. Then nothing is judged:
// a right code is not accepted either, so the caller learns nothing.
void failed_charge_judges_nothing(void**) {
  for (const bool right : {false, true}) {
    Fixture f;
    enroll(f);
    f.store.fail_writes_from = 1;
    auto verdict = verify_and_record(f.store, kKey, right ? code_now() : "000000", kNow, f.config);
    assert_false(verdict.has_value());
    assert_int_equal(f.store.updates, 1);  // no second update: the answer was not judged
    assert_int_equal(f.store.at(kUser).enrollment->last_step, 0);
    assert_int_equal(f.store.at(kUser).failures, 0);
  }
}

// The success write fails after the charge: the failure stays counted, no verdict.
void failed_success_write_keeps_the_charge(void**) {
  Fixture f;
  enroll(f);
  f.store.fail_writes_from = 2;
  auto verdict = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  assert_false(verdict.has_value());
  assert_int_equal(f.store.at(kUser).failures, 1);
  assert_int_equal(f.store.at(kUser).enrollment->last_step, 0);
}

void locked_is_not_judged_and_not_written(void**) {
  Fixture f;
  enroll(f);
  for (int i = 0; i < 3; ++i) verify_and_record(f.store, kKey, "000000", kNow, f.config);
  const int writes = f.store.writes;
  auto verdict = verify_and_record(f.store, kKey, code_now(), kNow + 1, f.config);
  ASSERT_OK(verdict);
  assert_true(verdict->outcome == Outcome::locked);
  assert_int_equal(f.store.writes, writes);
  assert_int_equal(f.store.at(kUser).enrollment->last_step, 0);
  // A backup code is judged all the same: it has its own limit.
  auto backup = verify_and_record(f.store, kKey, f.codes[0].view(), kNow + 1, f.config);
  ASSERT_OK(backup);
  assert_true(backup->outcome == Outcome::backup_accepted);
  assert_int_equal(backup->backup_codes_left, 9);
  assert_int_equal(f.store.at(kUser).enrollment->backup.hashes.size(), 9);
}

// Another login's success lands between this wrong answer's charge and its judging, and
// clears every count, this charge included: the wrong answer is counted again, so a racing
// success never makes a guess free.
void success_between_charge_and_judging(void**) {
  Fixture f;
  enroll(f);
  f.store.before_update_at = 2;  // just before the wrong answer is judged
  f.store.before_update = [&] {
    auto right = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
    if (!right || !right->accepted()) fail_msg("the racing login did not succeed");
  };
  auto wrong = verify_and_record(f.store, kKey, "000000", kNow, f.config);
  ASSERT_OK(wrong);
  assert_true(wrong->outcome == Outcome::wrong);
  assert_int_equal(f.store.at(kUser).failures, 1);
  // The same for a replay of the code the racing login used.
  Fixture g;
  enroll(g);
  g.store.before_update_at = 2;
  g.store.before_update = [&] { verify_and_record(g.store, kKey, code_now(), kNow, g.config); };
  auto replay = verify_and_record(g.store, kKey, code_now(), kNow, g.config);
  ASSERT_OK(replay);
  assert_true(replay->outcome == Outcome::replayed);
  assert_int_equal(g.store.at(kUser).failures, 1);
}

// A store that offers room in place: one write per answer, right or wrong, nothing for a
// locked shape, and the state each leaves is the two-write path's.
void one_write_when_both_outcomes_fit(void**) {
  Fixture f;
  enroll(f);
  f.store.room = 4096;
  auto right = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  ASSERT_OK(right);
  assert_true(right->outcome == Outcome::totp_accepted);
  assert_int_equal(f.store.writes, 1);
  assert_int_equal(f.store.at(kUser).enrollment->last_step, totp_step(kNow, 30));
  assert_int_equal(f.store.at(kUser).failures, 0);
  assert_int_equal(f.store.at(kUser).last_failure, 0);  // a success records no failure
  auto replay = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  ASSERT_OK(replay);
  assert_true(replay->outcome == Outcome::replayed);
  assert_int_equal(f.store.writes, 2);
  assert_int_equal(f.store.at(kUser).failures, 1);
  assert_int_equal(f.store.at(kUser).last_failure, kNow);
  for (int i = 0; i < 2; ++i) verify_and_record(f.store, kKey, "000000", kNow, f.config);
  assert_int_equal(f.store.at(kUser).failures, 3);
  assert_true(f.store.at(kUser).locked_until > kNow);
  const int writes = f.store.writes;
  auto locked = verify_and_record(f.store, kKey, code_now(), kNow + 1, f.config);
  ASSERT_OK(locked);
  assert_true(locked->outcome == Outcome::locked);
  assert_int_equal(f.store.writes, writes);
  auto backup = verify_and_record(f.store, kKey, f.codes[0].view(), kNow + 1, f.config);
  ASSERT_OK(backup);
  assert_true(backup->outcome == Outcome::backup_accepted);
  assert_int_equal(f.store.writes, writes + 1);
  assert_int_equal(f.store.at(kUser).enrollment->backup.hashes.size(), 9);
  assert_int_equal(f.store.refused_beyond_room, 0);
}

// The one write fails (a file-size limit, a full disk): no verdict for a right answer or a
// wrong one, and the state is as before: the caller learned nothing and paid nothing.
void failed_one_write_yields_no_verdict(void**) {
  for (const bool right : {false, true}) {
    Fixture f;
    enroll(f);
    f.store.room = 4096;
    f.store.fail_writes_from = 1;
    auto verdict = verify_and_record(f.store, kKey, right ? code_now() : "000000", kNow, f.config);
    assert_false(verdict.has_value());
    assert_int_equal(f.store.updates, 1);
    assert_int_equal(f.store.at(kUser).enrollment->last_step, 0);
    assert_int_equal(f.store.at(kUser).failures, 0);
  }
}

// The charge is written ahead before the answer is judged: a login ended after that (a
// kill, a crash of the process, a failed commit) has paid for its answer, right or wrong,
// and got no verdict.
void charge_stands_when_the_commit_is_cut_short(void**) {
  for (const bool right : {false, true}) {
    Fixture f;
    enroll(f);
    f.store.room = 4096;
    f.store.interrupt_after_write_ahead = true;
    auto verdict = verify_and_record(f.store, kKey, right ? code_now() : "000000", kNow, f.config);
    assert_false(verdict.has_value());
    assert_int_equal(f.store.writes_ahead, 1);
    assert_int_equal(f.store.at(kUser).failures, 1);
    assert_int_equal(f.store.at(kUser).last_failure, kNow);
    assert_int_equal(f.store.at(kUser).enrollment->last_step, 0);
  }
}

// Room that holds the state as it is but not every state the answer could leave (here not a
// lockout's): the answer is charged first, in a write of its own, then judged.
void too_little_room_charges_first(void**) {
  Fixture f;
  enroll(f);
  f.config.max_failures = 1;  // this wrong answer starts a lockout: a longer state
  f.store.room = serialize_state(f.store.at(kUser)).size() + 4;
  auto wrong = verify_and_record(f.store, kKey, "000000", kNow, f.config);
  ASSERT_OK(wrong);
  assert_true(wrong->outcome == Outcome::wrong);
  assert_int_equal(f.store.updates, 2);  // charged (the update that had room), then judged
  assert_int_equal(f.store.refused_beyond_room, 0);
  assert_true(f.store.at(kUser).locked_until > kNow);
}

void removed_state_is_an_error(void**) {
  Fixture f;
  auto verdict = verify_and_record(f.store, kKey, code_now(), kNow, f.config);
  assert_false(verdict.has_value());
  assert_true(verdict.error().code == Errc::conflict);
  // Removed (valix-admin reset) between the charge and the judging: the state changed since
  // the charge was decided on, so it is Errc::conflict, and nothing is written after it.
  Fixture g;
  enroll(g);
  g.store.before_update_at = 2;
  g.store.before_update = [&] {
    ASSERT_OK(g.store.update(kKey, [](std::optional<UserState>&) -> Result<StateChange> {
      return StateChange::remove;
    }));
  };
  auto removed = verify_and_record(g.store, kKey, code_now(), kNow, g.config);
  assert_false(removed.has_value());
  assert_true(removed.error().code == Errc::conflict);
  assert_false(g.store.load(kKey)->has_value());
}

// try_first_pass's grace (FailureGrace::one_more): a wrong answer at the limit is counted, but
// starts no lockout; the next one does. Without the grace the same answer locks: the grace,
// not the count, is what the first case shows.
void grace_counts_but_does_not_lock(void**) {
  for (const auto grace : {FailureGrace::one_more, FailureGrace::none}) {
    Fixture f;
    enroll(f);  // max_failures = 3
    for (int i = 0; i < 2; ++i)
      ASSERT_OK(verify_and_record(f.store, kKey, "000000", kNow, f.config));
    auto third = verify_and_record(f.store, kKey, "111111", kNow, f.config, grace);
    ASSERT_OK(third);
    assert_true(third->outcome == Outcome::wrong);
    assert_int_equal(f.store.at(kUser).failures, 3);  // counted either way
    if (grace == FailureGrace::none) {
      assert_true(third->locked_for > 0);
      assert_true(f.store.at(kUser).locked_until > kNow);
      continue;
    }
    assert_int_equal(third->locked_for, 0);
    assert_int_equal(f.store.at(kUser).locked_until, 0);
    auto fourth = verify_and_record(f.store, kKey, "222222", kNow, f.config);
    ASSERT_OK(fourth);
    assert_true(fourth->locked_for > 0);
    assert_true(f.store.at(kUser).locked_until > kNow);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(right_code_commits_charge_then_success),
      cmocka_unit_test(wrong_code_is_one_write),
      cmocka_unit_test(failed_charge_judges_nothing),
      cmocka_unit_test(failed_success_write_keeps_the_charge),
      cmocka_unit_test(locked_is_not_judged_and_not_written),
      cmocka_unit_test(success_between_charge_and_judging),
      cmocka_unit_test(one_write_when_both_outcomes_fit),
      cmocka_unit_test(failed_one_write_yields_no_verdict),
      cmocka_unit_test(charge_stands_when_the_commit_is_cut_short),
      cmocka_unit_test(too_little_room_charges_first),
      cmocka_unit_test(removed_state_is_an_error),
      cmocka_unit_test(grace_counts_but_does_not_lock),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
