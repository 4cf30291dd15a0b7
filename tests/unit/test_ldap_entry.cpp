// The fleet store's mapping of a state to directory attributes: round trips, what is absent,
// and the values a directory could hold that must never read as a state (or as another one).
#include <cstring>

#include "enrollment.hpp"
#include "ldap_entry.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

UserState full_state() {
  UserState s;
  Config config;
  s.uid = 1001;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  e.otp = {OtpAlgorithm::sha256, 8, 60};
  e.enrolled_at = 1700000000;
  e.last_step = 28333333;
  auto codes = replace_backup_codes(e, config);
  if (!codes) fail_msg("%s", codes.error().message.c_str());
  s.enrollment = e.clone();
  s.enrollment->offset_steps = -20;  // valix-admin resync
  s.pending = PendingEnrollment{bytes_of("abcdefghijabcdefghij"), {}, 1700000600};
  s.login_enrollment = LoginEnrollment{std::move(e), std::string(64, 'a'), 1700000700};
  s.required = true;
  s.failures = 2;
  s.locked_until = 1700000100;
  s.backup_failures = 1;
  s.last_login = 1699999999;
  return s;
}

const std::vector<SecretString>& values(const LdapAttributes& a, std::string_view name) {
  auto it = a.find(name);
  if (it == a.end()) fail_msg("no attribute %s", std::string(name).c_str());
  return it->second;
}

LdapAttributes copy(const LdapAttributes& a) {
  LdapAttributes out;
  for (const auto& [name, vs] : a) {
    for (const auto& v : vs) out[name].emplace_back(v.view());
  }
  return out;
}

void round_trip(void**) {
  const UserState s = full_state();
  const LdapAttributes a = state_to_attributes(s);
  assert_string_equal(values(a, "valixRequired").front().c_str(), "TRUE");
  assert_string_equal(values(a, "valixUidNumber").front().c_str(), "1001");
  assert_string_equal(values(a, "valixLastStep").front().c_str(), "28333333");
  assert_int_equal(values(a, "valixBackupHash").size(), 10);
  assert_int_equal(values(a, "valixPending").size(), 1);
  assert_int_equal(values(a, "valixLoginEnrollment").size(), 1);
  assert_string_equal(values(a, "valixClockOffset").front().c_str(), "-20");
  assert_true(a.find("valixTokenType") == a.end());  // TOTP: absent
  UserState token = full_state();
  token.enrollment->offset_steps = 0;
  token.enrollment->kind = AuthenticatorKind::hotp;
  const LdapAttributes t = state_to_attributes(token);
  assert_string_equal(values(t, "valixTokenType").front().c_str(), "hotp");
  auto token_back = attributes_to_state(t);
  ASSERT_OK(token_back);
  assert_true((*token_back)->enrollment->kind == AuthenticatorKind::hotp);
  // A pending authenticator's name (valix-enroll --add NAME --begin) is one of valixPending's
  // lines.
  UserState named = full_state();
  named.pending->name = "phone2";
  const LdapAttributes n = state_to_attributes(named);
  assert_non_null(
      std::strstr(values(n, "valixPending").front().c_str(), "\npending_name phone2\n"));
  auto named_back = attributes_to_state(n);
  ASSERT_OK(named_back);
  assert_string_equal((*named_back)->pending->name.value_or("").c_str(), "phone2");
  // Zero counters are absent, not "0": a success clears them by deleting them.
  assert_true(a.find("valixBackupLockedUntil") == a.end());
  auto back = attributes_to_state(a);
  ASSERT_OK(back);
  assert_true(back->has_value());
  assert_string_equal(serialize_state(**back).c_str(), serialize_state(s).c_str());
}

void nothing_is_no_state(void**) {
  auto none = attributes_to_state(LdapAttributes{});
  ASSERT_OK(none);
  assert_false(none->has_value());
  // An entry left with only its uid (a reset) has no state either.
  LdapAttributes uid_only;
  uid_only["valixUidNumber"].emplace_back("1001");
  auto still_none = attributes_to_state(uid_only);
  ASSERT_OK(still_none);
  assert_false(still_none->has_value());
  assert_true(state_to_attributes(UserState{}).empty());
}

void expect_corrupt(const LdapAttributes& a, const char* what) {
  auto state = attributes_to_state(a);
  if (state) fail_msg("%s: read as a state", what);
  assert_int_equal(static_cast<int>(state.error().code), static_cast<int>(Errc::corrupt));
}

void bad_values_are_corrupt(void**) {
  const LdapAttributes good = state_to_attributes(full_state());
  {
    LdapAttributes a = copy(good);
    a["valixLastStep"].emplace_back("5");  // two watermarks
    expect_corrupt(a, "two watermarks");
  }
  {
    LdapAttributes a = copy(good);
    a["valixLastStep"].front() = SecretString("12\nfailures 0");  // a line smuggled in
    expect_corrupt(a, "newline in a value");
  }
  {
    LdapAttributes a = copy(good);
    a["valixRequired"].front() = SecretString("yes");
    expect_corrupt(a, "not a boolean");
  }
  {
    LdapAttributes a = copy(good);
    a.erase("valixSecret");  // an enrollment without its secret
    expect_corrupt(a, "no secret");
  }
  {
    LdapAttributes a = copy(good);
    a["valixFailures"].front() = SecretString("-1");
    expect_corrupt(a, "negative count");
  }
  {
    LdapAttributes a = copy(good);
    a["valixColour"].emplace_back("blue");
    expect_corrupt(a, "unknown attribute");
  }
}

// valixPending and valixLoginEnrollment are writable by every host; the secret is not once
// set. A line of another part of the state inside them would let a host bypass that rule.
void sections_hold_only_their_own_lines(void**) {
  const LdapAttributes good = state_to_attributes(full_state());
  {
    LdapAttributes a = copy(good);
    a.erase("valixSecret");
    a["valixPending"].front().str().append("secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n");
    expect_corrupt(a, "secret in valixPending");
  }
  {
    LdapAttributes a = copy(good);
    a["valixLoginEnrollment"].front().str().append("pending_expires 5\n");
    expect_corrupt(a, "pending line in valixLoginEnrollment");
  }
  {
    LdapAttributes a = copy(good);
    a["valixPending"].front().str().pop_back();  // no final newline: cut short
    expect_corrupt(a, "truncated section");
  }
  {
    LdapAttributes a = copy(good);
    a["valixPending"].front().str().append("end\n");
    expect_corrupt(a, "end inside a section");
  }
}

void escaping(void**) {
  assert_string_equal(escape_dn_value("alice").c_str(), "alice");
  assert_string_equal(escape_dn_value("a,b+c=d").c_str(), "a\\,b\\+c\\=d");
  assert_string_equal(escape_dn_value("#x ").c_str(), "\\#x\\ ");
  assert_string_equal(escape_filter_value("a*(b)\\").c_str(), "a\\2a\\28b\\29\\5c");
  assert_string_equal(escape_filter_value(std::string_view("a\0b", 3)).c_str(), "a\\00b");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),
      cmocka_unit_test(nothing_is_no_state),
      cmocka_unit_test(bad_values_are_corrupt),
      cmocka_unit_test(sections_hold_only_their_own_lines),
      cmocka_unit_test(escaping),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
