// valix-enroll's flows (enroll/enroller.cpp) against the in-memory store, which runs every
// mutator twice: how a change of the state between a decision and its write is reported.
#include <algorithm>
#include <ctime>
#include <memory>

#include "enroller.hpp"
#include "enrollment.hpp"
#include "memory_store.hpp"
#include "otp.hpp"
#include "outcome.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

const std::string kUser = "alice";
constexpr uid_t kUid = 1001;

std::string code_now(const char* secret = "12345678901234567890") {
  const auto step = totp_step(static_cast<std::int64_t>(std::time(nullptr)), 30);
  auto code = hotp(bytes_of(secret).span(), step, OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

void enroll_in(MemoryStore& store, const Config& config) {
  UserState state;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  if (!replace_backup_codes(e, config)) fail_msg("backup codes");
  state.enrollment = std::move(e);
  store.put(kUser, state);
}

// The enrollment is reset (valix-admin reset) after the current code was checked and before
// the new backup codes are stored: the state changed since the decision (Errc::conflict), so
// valix-enroll refuses (exit 1, "run valix-enroll again"), not an internal error, and nothing
// is written.
void regenerate_refused_when_reset_meanwhile(void**) {
  Config config;
  MemoryStore store;
  enroll_in(store, config);
  store.before_update_at = 3;  // the charge, the judging, then the new codes
  bool reset = false;
  store.before_update = [&] {
    reset = true;
    ASSERT_OK(store.update(
        StateKey{kUser, kUid},
        [](std::optional<UserState>&) -> Result<StateChange> { return StateChange::remove; }));
  };
  enroll::Options options;
  options.action = enroll::Options::Action::regenerate;
  options.current_code = code_now();
  const int exit_status =
      enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
  assert_true(reset);  // the code was right: the refusal is the reset's
  assert_int_equal(exit_status, enroll::kRefused);
  auto left = store.load(StateKey{kUser, kUid});
  ASSERT_OK(left);
  assert_false(left->has_value());  // the reset stands, no codes were given to nobody
}

void regenerate_replaces_the_codes(void**) {
  Config config;
  MemoryStore store;
  enroll_in(store, config);
  const auto before = store.at(kUser).enrollment->backup.hashes.size();
  const auto old_first = store.at(kUser).enrollment->backup.hashes.front();
  enroll::Options options;
  options.action = enroll::Options::Action::regenerate;
  options.current_code = code_now();
  options.json = true;
  const int exit_status =
      enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
  assert_int_equal(exit_status, enroll::kOk);
  assert_int_equal(store.at(kUser).enrollment->backup.hashes.size(), before);
  assert_true(store.at(kUser).enrollment->backup.hashes.front() != old_first);
}

constexpr const char* kSecond = "abcdefghijabcdefghij";

// Enrolled, with a pending authenticator named phone2 (valix-enroll --add phone2 --begin).
void pending_add_in(MemoryStore& store, const Config& config) {
  enroll_in(store, config);
  UserState state = store.at(kUser).clone();
  state.pending = PendingEnrollment{bytes_of(kSecond), OtpParameters{},
                                    static_cast<std::int64_t>(std::time(nullptr)) + 600, "phone2"};
  // Begun over this enrollment (as --begin records it).
  auto fingerprint = enrollment_fingerprint(&*state.enrollment);
  ASSERT_OK(fingerprint);
  state.pending->made_for = *fingerprint;
  store.put(kUser, state);
}

int run(MemoryStore& store, const Config& config, const enroll::Options& options) {
  return enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
}

// --confirm of a pending authenticator adds it (every run of the mutator from the state it is
// given: the store runs it twice), clears the pending one, and leaves the backup codes.
void confirm_adds_the_pending_authenticator(void**) {
  Config config;
  MemoryStore store;
  pending_add_in(store, config);
  const auto backup = store.at(kUser).enrollment->backup.hashes;
  enroll::Options options;
  options.action = enroll::Options::Action::confirm;
  options.confirm_code = code_now(kSecond);
  assert_int_equal(run(store, config, options), enroll::kOk);
  const UserState& after = store.at(kUser);
  assert_false(after.pending.has_value());
  assert_int_equal(after.enrollment->more.size(), 1);
  const Authenticator* added = after.enrollment->find("phone2");
  assert_non_null(added);
  assert_true(added->secret.size() == 20);
  assert_true(added->last_step != 0);  // its first code is used
  assert_true(after.enrollment->backup.hashes == backup);
  assert_true(after.enrollment->secret.size() == 20);  // the first one stays
}

// The name was taken meanwhile (by another run): the enrollment is not the one --begin was
// run over, so --confirm refuses (exit 1), adds nothing and drops the pending authenticator.
void confirm_refused_when_the_name_is_taken(void**) {
  Config config;
  MemoryStore store;
  pending_add_in(store, config);
  UserState state = store.at(kUser).clone();
  Authenticator other;
  other.name = "phone2";
  other.secret = bytes_of("zyxwvutsrqzyxwvutsrq");
  ASSERT_OK(add_authenticator(*state.enrollment, std::move(other)));
  store.put(kUser, state);
  enroll::Options options;
  options.action = enroll::Options::Action::confirm;
  options.confirm_code = code_now(kSecond);
  assert_int_equal(run(store, config, options), enroll::kRefused);
  assert_false(store.at(kUser).pending.has_value());
  assert_int_equal(store.at(kUser).enrollment->more.size(), 1);
  assert_true(store.at(kUser).enrollment->find("phone2")->secret.size() == 20);
  assert_false(std::ranges::equal(store.at(kUser).enrollment->find("phone2")->secret.span(),
                                  bytes_of(kSecond).span()));
}

// A pending authenticator whose enrollment was reset since --begin is not made an enrollment,
// and is dropped.
void confirm_refused_when_reset_since_begin(void**) {
  Config config;
  MemoryStore store;
  pending_add_in(store, config);
  UserState state = store.at(kUser).clone();
  state.enrollment.reset();
  store.put(kUser, state);
  enroll::Options options;
  options.action = enroll::Options::Action::confirm;
  options.confirm_code = code_now(kSecond);
  assert_int_equal(run(store, config, options), enroll::kRefused);
  // Nothing is made of it: the pending authenticator is dropped, and with it the state.
  auto after = store.load(StateKey{kUser, kUid});
  ASSERT_OK(after);
  assert_true(!*after || (!(*after)->enrollment && !(*after)->pending));
}

void enroll_with_phone2(MemoryStore& store, const Config& config) {
  enroll_in(store, config);
  UserState state = store.at(kUser).clone();
  Authenticator phone2;
  phone2.name = "phone2";
  phone2.secret = bytes_of(kSecond);
  ASSERT_OK(add_authenticator(*state.enrollment, std::move(phone2)));
  store.put(kUser, state);
}

void remove_removes_it(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const auto backup = store.at(kUser).enrollment->backup.hashes;
  enroll::Options options;
  options.action = enroll::Options::Action::remove;
  options.remove_name = "phone2";
  options.current_code = code_now(kSecond);  // a code of any authenticator, this one's too
  assert_int_equal(run(store, config, options), enroll::kOk);
  assert_true(store.at(kUser).enrollment->more.empty());
  assert_true(store.at(kUser).enrollment->backup.hashes == backup);
}

// Reset (and enrolled again) after the current code was checked: the enrollment is not the one
// the code was for, so nothing is removed from the new one (exit 1).
void remove_refused_when_replaced_meanwhile(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  store.before_update_at = 3;  // the charge, the judging, then the removal
  store.before_update = [&] {
    UserState state = store.at(kUser).clone();
    state.enrollment->enrolled_at += 1;  // another enrollment
    store.put(kUser, state);
  };
  enroll::Options options;
  options.action = enroll::Options::Action::remove;
  options.remove_name = "phone2";
  options.current_code = code_now();
  assert_int_equal(run(store, config, options), enroll::kRefused);
  assert_non_null(store.at(kUser).enrollment->find("phone2"));
}

// Not enrolled, with a pending enrollment (valix-enroll --begin) of secret kSecond.
void pending_in(MemoryStore& store) {
  UserState state;
  state.pending = PendingEnrollment{bytes_of(kSecond), OtpParameters{},
                                    static_cast<std::int64_t>(std::time(nullptr)) + 600};
  store.put(kUser, state);
}

enroll::Options confirming(std::string code) {
  enroll::Options options;
  options.action = enroll::Options::Action::confirm;
  options.confirm_code = std::move(code);
  options.json = true;
  return options;
}

std::string wrong_code_for(const char* secret) {
  const std::string right = code_now(secret);
  return right == "000000" ? "000001" : "000000";
}

// Every code --confirm judges was counted first, in an update of its own that is committed
// before the one that judges it: at the judging update the try is in the store.
void confirm_counts_the_try_before_judging(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  pending_in(store);
  int counted_when_judged = -1;
  store.before_update_at = 2;  // the count, then the judging
  store.before_update = [&] { counted_when_judged = store.at(kUser).pending->attempts; };
  assert_int_equal(run(store, config, confirming(wrong_code_for(kSecond))), enroll::kRefused);
  assert_int_equal(counted_when_judged, 1);
  assert_int_equal(store.at(kUser).pending->attempts, 1);  // counted once, though run twice
  assert_false(store.at(kUser).enrollment.has_value());
}

// After kEnrollmentTries wrong codes the pending enrollment is gone: the right code then
// confirms nothing, and no backup codes are made.
void confirm_drops_the_pending_enrollment_after_its_tries(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  pending_in(store);
  for (int i = 1; i <= kEnrollmentTries; ++i) {
    assert_int_equal(run(store, config, confirming(wrong_code_for(kSecond))), enroll::kRefused);
    if (i < kEnrollmentTries) assert_int_equal(store.at(kUser).pending->attempts, i);
  }
  auto after = store.load(StateKey{kUser, kUid});
  ASSERT_OK(after);
  assert_true(!*after || !(*after)->pending);
  assert_int_equal(run(store, config, confirming(code_now(kSecond))), enroll::kRefused);
  after = store.load(StateKey{kUser, kUid});
  ASSERT_OK(after);
  assert_true(!*after || (!(*after)->pending && !(*after)->enrollment));
}

// The right code on the last try still confirms.
void confirm_accepts_the_right_code_on_the_last_try(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  pending_in(store);
  for (int i = 1; i < kEnrollmentTries; ++i)
    assert_int_equal(run(store, config, confirming(wrong_code_for(kSecond))), enroll::kRefused);
  assert_int_equal(run(store, config, confirming(code_now(kSecond))), enroll::kOk);
  assert_true(store.at(kUser).enrollment.has_value());
  assert_false(store.at(kUser).pending.has_value());
}

// Its last try was counted but never judged (the run was killed after the count): the next
// --confirm drops it unjudged, the right code included.
void confirm_refuses_a_pending_enrollment_whose_tries_are_used(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  pending_in(store);
  UserState state = store.at(kUser).clone();
  state.pending->attempts = kEnrollmentTries;
  store.put(kUser, state);
  assert_int_equal(run(store, config, confirming(code_now(kSecond))), enroll::kRefused);
  auto after = store.load(StateKey{kUser, kUid});
  ASSERT_OK(after);
  assert_true(!*after || (!(*after)->pending && !(*after)->enrollment));
}

// Another --begin replaced the pending enrollment between the count and the judging: the
// code is not judged against the new one, whose tries were not counted, and nothing changes.
void confirm_refused_when_the_pending_enrollment_was_replaced(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  pending_in(store);
  constexpr const char* kThird = "ABCDEFGHIJABCDEFGHIJ";
  store.before_update_at = 2;
  store.before_update = [&] {
    UserState replaced = store.at(kUser).clone();
    replaced.pending->secret = bytes_of(kThird);
    replaced.pending->attempts = 0;
    store.put(kUser, replaced);
  };
  assert_int_equal(run(store, config, confirming(code_now(kThird))), enroll::kRefused);
  assert_false(store.at(kUser).enrollment.has_value());
  assert_int_equal(store.at(kUser).pending->attempts, 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(regenerate_refused_when_reset_meanwhile),
      cmocka_unit_test(regenerate_replaces_the_codes),
      cmocka_unit_test(confirm_adds_the_pending_authenticator),
      cmocka_unit_test(confirm_refused_when_the_name_is_taken),
      cmocka_unit_test(confirm_refused_when_reset_since_begin),
      cmocka_unit_test(confirm_counts_the_try_before_judging),
      cmocka_unit_test(confirm_drops_the_pending_enrollment_after_its_tries),
      cmocka_unit_test(confirm_accepts_the_right_code_on_the_last_try),
      cmocka_unit_test(confirm_refuses_a_pending_enrollment_whose_tries_are_used),
      cmocka_unit_test(confirm_refused_when_the_pending_enrollment_was_replaced),
      cmocka_unit_test(remove_removes_it),
      cmocka_unit_test(remove_refused_when_replaced_meanwhile),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
