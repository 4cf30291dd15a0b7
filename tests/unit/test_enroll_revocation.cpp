// Attacks on changing a user's authenticators (valix-enroll --add/--remove/--begin/--confirm,
// valix-admin remove), from a review: each test performs one and asserts what the
// tree must do; "before" says what it did before the fix. Named test_enroll_* so that it is
// linked with valix-enroll's parts (tests/unit/CMakeLists.txt). The store is the in-memory
// one, which runs every mutator twice.
#include <ctime>
#include <memory>

#include "auth.hpp"
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
constexpr const char* kApp = "12345678901234567890";
constexpr const char* kStolen = "abcdefghijabcdefghij";  // phone2: the one that is lost

std::int64_t wall() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string code_at(const SecretBytes& secret, std::uint64_t step) {
  auto code = hotp(secret.span(), step, OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}
std::string code_now(const char* secret) {
  return code_at(bytes_of(secret), totp_step(wall(), 30));
}

// The command lines of the tests: --begin [--add NAME] --code CODE, --confirm CODE,
// --remove NAME --code CODE.
enroll::Options begin_with(std::string code, std::optional<std::string> add_name = {}) {
  enroll::Options o;
  o.action = enroll::Options::Action::begin;
  o.add_name = std::move(add_name);
  o.current_code = std::move(code);
  return o;
}
enroll::Options confirm_with(std::string code) {
  enroll::Options o;
  o.action = enroll::Options::Action::confirm;
  o.confirm_code = std::move(code);
  return o;
}
enroll::Options remove_with(std::string name, std::string code) {
  enroll::Options o;
  o.action = enroll::Options::Action::remove;
  o.remove_name = std::move(name);
  o.current_code = std::move(code);
  return o;
}

int run(MemoryStore& store, const Config& config, const enroll::Options& options) {
  return enroll::run_enroller(options, config, BorrowedStore::of(store), kUser, kUid, std::nullopt);
}

// alice: her app (default) and phone2.
void enroll_with_phone2(MemoryStore& store, const Config& config) {
  UserState state;
  Enrollment e;
  e.secret = bytes_of(kApp);
  e.enrolled_at = wall() - 1000;
  if (!replace_backup_codes(e, config)) fail_msg("backup codes");
  state.enrollment = std::move(e);
  Authenticator phone2;
  phone2.name = "phone2";
  phone2.secret = bytes_of(kStolen);
  phone2.enrolled_at = wall() - 500;
  ASSERT_OK(add_authenticator(*state.enrollment, std::move(phone2)));
  store.put(kUser, state);
}

// What valix-admin remove alice phone2 does to the state (admin/remove.cpp's mutator).
void admin_removes(MemoryStore& store, const char* name) {
  ASSERT_OK(
      store.update(StateKey{kUser, kUid}, [&](std::optional<UserState>& s) -> Result<StateChange> {
        auto removed = remove_authenticator(*s->enrollment, name, FirstAuthenticator::may_remove);
        if (!removed) return std::unexpected(removed.error());
        return StateChange::write;
      }));
}

// ---------------------------------------------------------------------------------------------
// A1 (high) A pending authenticator outlives the revocation of the authenticator whose code
// started it. Whoever holds alice's stolen phone2 (and her password, or a shell of hers) runs
// valix-enroll --add evil --begin --code <phone2's code>. Her administrator revokes phone2
// (valix-admin remove alice phone2, the documented answer to a lost phone). The thief then
// runs valix-enroll --confirm with a code of the secret --begin printed: evil is added, and the
// thief logs in again. add_pending_authenticator checks only that an enrollment exists; remove
// (admin or valix-enroll --remove) and add-token NAME --force leave state.pending alone.
// Before: --confirm exited 0 and evil was an authenticator of alice's. Now a pending
// enrollment records the enrollment it was begun over (pending_for), and --confirm over any
// other is refused.
void pending_add_outlives_admin_remove(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin = begin_with(code_now(kStolen), std::string("evil"));
  assert_int_equal(run(store, config, begin), enroll::kOk);
  assert_true(store.at(kUser).pending.has_value());
  const SecretBytes pending_secret = store.at(kUser).pending->secret.clone();

  admin_removes(store, "phone2");  // phone2 is revoked
  assert_null(store.at(kUser).enrollment->find("phone2"));

  const enroll::Options confirm = confirm_with(code_at(pending_secret, totp_step(wall(), 30)));
  const int exit_status = run(store, config, confirm);
  assert_int_equal(exit_status, enroll::kRefused);
  assert_null(store.at(kUser).enrollment->find("evil"));
}

// A2 (high) The same with a re-enrollment: --begin (without --add) with phone2's code, phone2
// revoked, then --confirm replaces every authenticator of alice's with the thief's secret and
// prints fresh backup codes to the thief: alice is locked out of her own account.
// Before: --confirm exited 0; the enrollment's secret was the thief's, alice's app no longer
// worked.
void pending_reenrollment_outlives_admin_remove(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin = begin_with(code_now(kStolen));
  assert_int_equal(run(store, config, begin), enroll::kOk);
  const SecretBytes pending_secret = store.at(kUser).pending->secret.clone();

  admin_removes(store, "phone2");

  const enroll::Options confirm = confirm_with(code_at(pending_secret, totp_step(wall(), 30)));
  const int exit_status = run(store, config, confirm);
  assert_int_equal(exit_status, enroll::kRefused);
  // alice's app is still her authenticator
  assert_true(constant_time_equal(
      std::string_view(reinterpret_cast<const char*>(store.at(kUser).enrollment->secret.data()),
                       store.at(kUser).enrollment->secret.size()),
      kApp));
}

// A3 (same root cause, the user's own --remove): alice herself removes phone2 with a code of
// her app (valix-enroll --remove phone2) after the thief's --add evil --begin; the pending one
// stayed and was confirmed (before: exit 0, evil added).
void pending_add_outlives_own_remove(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin = begin_with(code_now(kStolen), std::string("evil"));
  assert_int_equal(run(store, config, begin), enroll::kOk);
  const SecretBytes pending_secret = store.at(kUser).pending->secret.clone();

  // alice's own removal, with her app's code (a later step than any used: the watermark).
  {
    UserState s = store.at(kUser).clone();
    s.enrollment->last_step = 0;
    store.put(kUser, s);
  }
  enroll::Options remove = remove_with("phone2", code_now(kApp));
  assert_int_equal(run(store, config, remove), enroll::kOk);

  const enroll::Options confirm = confirm_with(code_at(pending_secret, totp_step(wall(), 30)));
  assert_int_equal(run(store, config, confirm), enroll::kRefused);
  assert_null(store.at(kUser).enrollment->find("evil"));
}

// ---------------------------------------------------------------------------------------------
// Found sound (kept as regressions).

// --add NAME --begin with a wrong current code: charged (one failure recorded durably), no
// pending authenticator stored.
void add_begin_wrong_code_is_charged(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin =
      begin_with(code_at(bytes_of(kApp), totp_step(wall(), 30) + 7), std::string("evil"));  // wrong
  config.fail_delay_ms = 0;
  assert_int_equal(run(store, config, begin), enroll::kRefused);
  assert_int_equal(store.at(kUser).failures, 1);
  assert_false(store.at(kUser).pending.has_value());
}

// --remove with a wrong code: charged, nothing removed; with a backup code: refused unjudged.
void remove_wrong_code_is_charged(void**) {
  Config config;
  config.fail_delay_ms = 0;
  MemoryStore store;
  enroll_with_phone2(store, config);
  enroll::Options remove =
      remove_with("phone2", code_at(bytes_of(kApp), totp_step(wall(), 30) + 7));
  assert_int_equal(run(store, config, remove), enroll::kRefused);
  assert_int_equal(store.at(kUser).failures, 1);
  assert_non_null(store.at(kUser).enrollment->find("phone2"));
  remove.current_code = "abcde-fghij";
  assert_int_equal(run(store, config, remove), enroll::kRefused);
  assert_non_null(store.at(kUser).enrollment->find("phone2"));
}

// A pending authenticator confirmed twice (two racing --confirm runs, one after the other under
// the lock): the second finds nothing to confirm.
void confirm_twice(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin = begin_with(code_now(kStolen), std::string("phone3"));
  assert_int_equal(run(store, config, begin), enroll::kOk);
  const SecretBytes secret = store.at(kUser).pending->secret.clone();
  const enroll::Options confirm = confirm_with(code_at(secret, totp_step(wall(), 30)));
  assert_int_equal(run(store, config, confirm), enroll::kOk);
  assert_int_equal(run(store, config, confirm), enroll::kRefused);
  assert_int_equal(store.at(kUser).enrollment->more.size(), 2);
  // Its confirming code is used: it does not log in.
  UserState s = store.at(kUser).clone();
  auto v = judge_answer(s, code_at(secret, totp_step(wall(), 30)), wall(), config);
  ASSERT_OK(v);
  assert_false(v->accepted());
}

// --add with a name that is not one (terminal escapes, JSON): refused before a code is asked
// for, and nothing stored.
void add_bad_name_refused(void**) {
  Config config;
  MemoryStore store;
  enroll_with_phone2(store, config);
  const enroll::Options begin =
      begin_with(code_now(kStolen), std::string("x\x1b[2J\",\"enrolled\":true"));
  assert_int_equal(run(store, config, begin), enroll::kRefused);
  assert_false(store.at(kUser).pending.has_value());
  assert_int_equal(store.at(kUser).failures, 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(pending_add_outlives_admin_remove),
      cmocka_unit_test(pending_reenrollment_outlives_admin_remove),
      cmocka_unit_test(pending_add_outlives_own_remove),
      cmocka_unit_test(add_begin_wrong_code_is_charged),
      cmocka_unit_test(remove_wrong_code_is_charged),
      cmocka_unit_test(confirm_twice),
      cmocka_unit_test(add_bad_name_refused),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
