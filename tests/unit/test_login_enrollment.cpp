// An enrollment made at login is kept inert in the state until that login completes, and is
// installed only with the login's token: a failed login's enrollment never takes effect.
#include "enrollment.hpp"
#include "memory_store.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;
const StateKey kKey{"alice", 1001};

Enrollment some_enrollment(Config& config) {
  PendingEnrollment pending;
  pending.secret = bytes_of("12345678901234567890");
  auto activation = make_enrollment(pending, 42, kNow, config);
  if (!activation) fail_msg("%s", activation.error().message.c_str());
  return std::move(activation->enrollment);
}

void kept_enrollment_is_inert_until_its_token_completes_it(void**) {
  MemoryStore store;
  Config config;
  UserState flagged;
  flagged.required = true;
  store.put(kKey.name, flagged);
  auto token = new_login_token();
  ASSERT_OK(token);
  assert_int_equal(token->size(), 32);
  ASSERT_OK(keep_login_enrollment(store, kKey, some_enrollment(config), token->view(), kNow + 600));
  // Kept, but nothing a login acts on changed.
  assert_false(store.at(kKey.name).enrollment.has_value());
  assert_true(store.at(kKey.name).required);
  assert_true(store.at(kKey.name).login_enrollment.has_value());
  // The state file holds the digest, never the token.
  const SecretString text = serialize_state(store.at(kKey.name));
  assert_true(text.view().find(token->view()) == std::string_view::npos);
  auto parsed = parse_state(text.view());
  ASSERT_OK(parsed);
  assert_true(parsed->login_enrollment.has_value());
  assert_int_equal(parsed->login_enrollment->enrollment.last_step, 42);

  // Another token (another, failed login's) is refused and changes nothing.
  auto other = new_login_token();
  ASSERT_OK(other);
  auto refused = complete_login_enrollment(store, kKey, other->view(), kNow);
  assert_false(refused.has_value());
  assert_true(refused.error().code == Errc::not_found);
  assert_false(store.at(kKey.name).enrollment.has_value());
  // Expired: refused.
  auto late = complete_login_enrollment(store, kKey, token->view(), kNow + 601);
  assert_false(late.has_value());
  // The right token in time: installed, the flag consumed, the kept copy gone.
  ASSERT_OK(complete_login_enrollment(store, kKey, token->view(), kNow + 1));
  assert_true(store.at(kKey.name).enrollment.has_value());
  assert_int_equal(store.at(kKey.name).enrollment->last_step, 42);
  assert_int_equal(store.at(kKey.name).enrollment->backup.hashes.size(), 10);
  assert_false(store.at(kKey.name).required);
  assert_false(store.at(kKey.name).login_enrollment.has_value());
  // Used once.
  assert_false(complete_login_enrollment(store, kKey, token->view(), kNow + 2).has_value());
}

void an_enrolled_account_is_not_replaced(void**) {
  MemoryStore store;
  Config config;
  UserState enrolled;
  enrolled.enrollment = some_enrollment(config);
  enrolled.enrollment->last_step = 7;
  store.put(kKey.name, enrolled);
  auto token = new_login_token();
  ASSERT_OK(token);
  auto kept = keep_login_enrollment(store, kKey, some_enrollment(config), token->view(), kNow);
  assert_false(kept.has_value());
  assert_true(kept.error().code == Errc::conflict);
  assert_int_equal(store.at(kKey.name).enrollment->last_step, 7);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(kept_enrollment_is_inert_until_its_token_completes_it),
      cmocka_unit_test(an_enrolled_account_is_not_replaced),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
