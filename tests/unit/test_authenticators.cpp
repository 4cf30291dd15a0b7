// Several authenticators in one enrollment: the state text and the directory mapping of
// further ones, a login judged against each with its own watermark, and the rules of adding
// and removing one.
#include <algorithm>
#include <cstring>

#include "auth.hpp"
#include "enrollment.hpp"
#include "grace.hpp"
#include "ldap_entry.hpp"
#include "otp.hpp"
#include "state.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;  // 10 s into a step
constexpr std::string_view kPhone = "12345678901234567890";
constexpr std::string_view kTablet = "abcdefghijabcdefghij";
constexpr std::string_view kToken = "ABCDEFGHIJKLMNOPQRST";

Authenticator further(std::string name, std::string_view secret, AuthenticatorKind kind,
                      std::int64_t added) {
  Authenticator a;
  a.name = std::move(name);
  a.secret = bytes_of(secret);
  a.kind = kind;
  a.enrolled_at = added;
  a.last_step = kind == AuthenticatorKind::hotp ? 5 : 0;
  return a;
}

UserState three_authenticators(const Config& config) {
  UserState s;
  Enrollment e = enrollment_of(bytes_of(kPhone), OtpParameters{}, kNow - 1000, 0);
  if (!replace_backup_codes(e, config)) fail_msg("no backup codes");
  ASSERT_OK(add_authenticator(e, further("tablet", kTablet, AuthenticatorKind::totp, kNow - 500)));
  ASSERT_OK(add_authenticator(e, further("yubikey", kToken, AuthenticatorKind::hotp, kNow - 100)));
  s.enrollment = std::move(e);
  return s;
}

std::string totp_code(std::string_view secret, std::int64_t steps_from_now) {
  return std::string(hotp(bytes_of(secret).span(),
                          static_cast<std::uint64_t>(
                              static_cast<std::int64_t>(totp_step(kNow, 30)) + steps_from_now),
                          OtpParameters{})
                         ->view());
}

std::string hotp_code(std::uint64_t counter) {
  return std::string(hotp(bytes_of(kToken).span(), counter, OtpParameters{})->view());
}

Verdict verify(UserState& s, const Config& config, const std::string& answer) {
  auto v = verify_answer(s, answer, kNow, config);
  ASSERT_OK(v);
  return *v;
}

void state_text_round_trip(void**) {
  Config config;
  UserState s = three_authenticators(config);
  s.enrollment->name = "phone";
  s.enrollment->last_used = kNow - 50;
  s.enrollment->more[0].offset_steps = -3;
  s.enrollment->more[0].last_used = kNow - 20;
  const SecretString text = serialize_state(s);
  assert_non_null(std::strstr(text.c_str(), "\nname phone\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_string_equal(serialize_state(*back).c_str(), text.c_str());
  const Enrollment& e = *back->enrollment;
  assert_int_equal(e.authenticators().size(), 3);
  assert_string_equal(e.name.c_str(), "phone");
  assert_int_equal(e.last_used, kNow - 50);
  const Authenticator* tablet = e.find("tablet");
  assert_non_null(tablet);
  assert_int_equal(tablet->offset_steps, -3);
  assert_int_equal(tablet->last_used, kNow - 20);
  assert_true(std::ranges::equal(tablet->secret.span(), bytes_of(kTablet).span()));
  const Authenticator* yubikey = e.find("yubikey");
  assert_non_null(yubikey);
  assert_true(yubikey->kind == AuthenticatorKind::hotp);
  assert_int_equal(yubikey->last_step, 5);
}

// A state written before there were several authenticators reads as one, named by default.
void one_secret_state_reads_as_one_authenticator(void**) {
  const std::string old =
      "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\n"
      "secret GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\nalgorithm sha1\ndigits 6\nperiod 30\n"
      "enrolled_at 1700000000\nlast_step 7\nbackup_setting $y$j9T$abcdefghijklmnopqrstuv\nend\n";
  auto s = parse_state(old);
  ASSERT_OK(s);
  assert_int_equal(s->enrollment->authenticators().size(), 1);
  assert_string_equal(s->enrollment->name.c_str(), "default");
  assert_int_equal(s->enrollment->last_used, 0);
  // Nothing new is written for it until something changes.
  const SecretString text = serialize_state(*s);
  assert_null(std::strstr(text.c_str(), "name "));
  assert_null(std::strstr(text.c_str(), "authenticator"));
}

void bad_authenticator_lines_are_corrupt(void**) {
  Config config;
  const std::string good(serialize_state(three_authenticators(config)).view());
  auto refused = [&](const std::string& from, const std::string& to) {
    std::string text = good;
    const auto at = text.find(from);
    if (at == std::string::npos) fail_msg("no '%s' in the state", from.c_str());
    text.replace(at, from.size(), to);
    auto s = parse_state(text);
    if (s) fail_msg("accepted with '%s' for '%s'", to.c_str(), from.c_str());
    assert_true(s.error().code == Errc::corrupt);
  };
  refused("authenticator tablet totp", "authenticator tab/let totp");
  refused("authenticator_use tablet", "authenticator_use tablets");
  refused("authenticator yubikey hotp", "authenticator tablet hotp");
  refused("authenticator yubikey hotp", "authenticator yubikey motp");
  refused("authenticator tablet totp SHA1 6 30", "authenticator tablet totp SHA1 7 30");
  refused("authenticator yubikey hotp SHA1 6 30 " + std::to_string(kNow - 100) + " 0",
          "authenticator yubikey hotp SHA1 6 30 " + std::to_string(kNow - 100) + " 4");
  refused("authenticator_use yubikey 5", "authenticator_use yubikey 5 0\nauthenticator_use x 5");
  refused("\nlast_step", "\nname default\nlast_step");  // the default is never written
  refused("\nlast_step", "\nname x y\nlast_step");
  // A further authenticator without an enrollment.
  std::string orphan = good;
  orphan.erase(orphan.find("secret "),
               orphan.find('\n', orphan.find("secret ")) - orphan.find("secret ") + 1);
  assert_false(parse_state(orphan).has_value());
  // Too many.
  UserState s = three_authenticators(config);
  for (int i = 0; s.enrollment->authenticators().size() < kMaxAuthenticators; ++i) {
    const std::string secret = "extra-secret-" + std::to_string(i) + "-0123456";
    ASSERT_OK(add_authenticator(*s.enrollment, further("extra" + std::to_string(i), secret,
                                                       AuthenticatorKind::totp, kNow)));
  }
  std::string full(serialize_state(s).view());
  assert_true(parse_state(full).has_value());
  full.insert(full.find("authenticator_use"),
              "authenticator more totp SHA1 6 30 1 0 GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\n");
  full.insert(full.find("end\n"), "authenticator_use more 0 0\n");
  assert_false(parse_state(full).has_value());
}

// The directory holds a multi-valued attribute's values in no order: any order reads back
// as the same state.
void directory_round_trip_in_any_order(void**) {
  Config config;
  UserState s = three_authenticators(config);
  s.enrollment->name = "phone";
  s.enrollment->last_used = kNow;
  LdapAttributes attributes = state_to_attributes(s);
  assert_int_equal(attributes["valixAuthenticator"].size(), 2);
  assert_int_equal(attributes["valixAuthenticatorUse"].size(), 2);
  assert_string_equal(attributes["valixAuthenticatorName"].front().c_str(), "phone");
  std::reverse(attributes["valixAuthenticator"].begin(), attributes["valixAuthenticator"].end());
  auto back = attributes_to_state(attributes);
  ASSERT_OK(back);
  assert_string_equal(serialize_state(**back).c_str(), serialize_state(s).c_str());
  // A definition without its use is refused.
  attributes["valixAuthenticatorUse"].pop_back();
  assert_false(attributes_to_state(attributes).has_value());
}

// Each authenticator logs in and refuses its own replay; one's code never moves another's
// watermark; the verdict names the authenticator.
void each_authenticator_logs_in_with_its_own_watermark(void**) {
  Config config;
  UserState s = three_authenticators(config);
  Verdict v = verify(s, config, totp_code(kTablet, 0));
  assert_true(v.outcome == Outcome::totp_accepted);
  assert_string_equal(v.authenticator.c_str(), "tablet");
  assert_int_equal(s.enrollment->find("tablet")->last_used, kNow);
  assert_int_equal(s.enrollment->last_step, 0);  // the phone's is untouched
  v = verify(s, config, totp_code(kTablet, 0));
  assert_true(v.outcome == Outcome::replayed);
  assert_string_equal(v.authenticator.c_str(), "tablet");
  // The phone's code for the same step is its own: accepted.
  v = verify(s, config, totp_code(kPhone, 0));
  assert_true(v.outcome == Outcome::totp_accepted);
  assert_string_equal(v.authenticator.c_str(), "default");
  assert_true(verify(s, config, totp_code(kPhone, 0)).outcome == Outcome::replayed);
  // The token: its next value, then a replay of it.
  v = verify(s, config, hotp_code(6));
  assert_true(v.outcome == Outcome::hotp_accepted);
  assert_true(v.hotp);
  assert_string_equal(v.authenticator.c_str(), "yubikey");
  assert_int_equal(s.enrollment->find("yubikey")->last_step, 7);
  v = verify(s, config, hotp_code(6));
  assert_true(v.outcome == Outcome::replayed);
  assert_true(v.hotp);
  // A wrong code names none, and counts.
  const int failures = s.failures;
  v = verify(s, config, "000000" == totp_code(kPhone, 1) ? "000001" : "000000");
  assert_true(v.outcome == Outcome::wrong);
  assert_true(v.authenticator.empty());
  assert_int_equal(s.failures, failures + 1);
  // A clock that is off is told for the authenticator it belongs to, and burns that one's
  // coming code only.
  v = verify(s, config, totp_code(kTablet, 6));
  assert_true(v.outcome == Outcome::clock_drift);
  assert_string_equal(v.authenticator.c_str(), "tablet");
  assert_int_equal(s.enrollment->find("tablet")->last_step, totp_step(kNow, 30) + 6);
  assert_int_equal(s.enrollment->last_step, totp_step(kNow, 30));
}

// An 8-digit token next to a 6-digit app: each length is a code.
void codes_of_each_length(void**) {
  Config config;
  UserState s = three_authenticators(config);
  Authenticator eight = further("eight", kTablet, AuthenticatorKind::totp, kNow);
  eight.otp.digits = 8;
  s.enrollment->remove("tablet");
  ASSERT_OK(add_authenticator(*s.enrollment, std::move(eight)));
  const std::string code = std::string(
      hotp(bytes_of(kTablet).span(), totp_step(kNow, 30), OtpParameters{OtpAlgorithm::sha1, 8, 30})
          ->view());
  assert_true(answer_shape(code, *s.enrollment) == AnswerShape::totp);
  const Verdict v = verify(s, config, code);
  assert_true(v.outcome == Outcome::totp_accepted);
  assert_string_equal(v.authenticator.c_str(), "eight");
}

void adding_and_removing(void**) {
  Config config;
  UserState s = three_authenticators(config);
  Enrollment& e = *s.enrollment;
  auto taken = add_authenticator(e, further("tablet", kToken, AuthenticatorKind::totp, kNow));
  assert_false(taken.has_value());
  assert_true(taken.error().code == Errc::conflict);
  auto bad = add_authenticator(e, further("my phone", kToken, AuthenticatorKind::totp, kNow));
  assert_true(!bad && bad.error().code == Errc::invalid);
  auto also_taken = add_authenticator(e, further("default", kToken, AuthenticatorKind::totp, kNow));
  assert_true(!also_taken && also_taken.error().code == Errc::conflict);

  auto missing = remove_authenticator(e, "laptop", FirstAuthenticator::may_remove);
  assert_true(!missing && missing.error().code == Errc::not_found);
  // A user may not remove the one they enrolled with; an administrator may, and the next one
  // takes its place, its own secret and watermark with it; backup codes stay.
  const std::size_t codes = e.backup.hashes.size();
  auto kept = remove_authenticator(e, "default", FirstAuthenticator::keep);
  assert_true(!kept && kept.error().code == Errc::conflict);
  ASSERT_OK(remove_authenticator(e, "default", FirstAuthenticator::may_remove));
  assert_string_equal(e.name.c_str(), "tablet");
  assert_true(std::ranges::equal(e.secret.span(), bytes_of(kTablet).span()));
  assert_int_equal(e.enrolled_at, kNow - 1000);
  assert_int_equal(e.backup.hashes.size(), codes);
  assert_true(verify(s, config, totp_code(kPhone, 0)).outcome == Outcome::wrong);
  assert_true(verify(s, config, totp_code(kTablet, 0)).outcome == Outcome::totp_accepted);
  ASSERT_OK(remove_authenticator(e, "yubikey", FirstAuthenticator::keep));
  assert_true(verify(s, config, hotp_code(6)).outcome == Outcome::wrong);
  auto only = remove_authenticator(e, "tablet", FirstAuthenticator::may_remove);
  assert_true(!only && only.error().code == Errc::conflict);
  assert_int_equal(e.authenticators().size(), 1);
}

// A server clock that jumps (an hour back, a day ahead) and returns: no code works twice, a
// lockout set while it was ahead ends within lockout_max_seconds of its return, a grace
// period granted then does not count, and backup codes keep working throughout.
void server_clock_jumps_and_returns(void**) {
  Config config;
  config.max_failures = 3;
  config.lockout_seconds = 60;
  config.lockout_max_seconds = 600;
  config.grace_seconds = 3600;
  UserState s = three_authenticators(config);
  std::vector<SecretString> backup = *replace_backup_codes(*s.enrollment, config);
  const std::string used = totp_code(kPhone, 0);
  ASSERT_OK(verify_answer(s, used, kNow, config));
  assert_int_equal(s.enrollment->last_step, totp_step(kNow, 30));

  // An hour back: the code used, and the code of the time the clock shows, are both refused.
  const std::int64_t back = kNow - 3600;
  auto v = verify_answer(s, used, back, config);
  ASSERT_OK(v);
  assert_false(v->accepted());
  const std::string code_of_back =
      std::string(hotp(bytes_of(kPhone).span(), totp_step(back, 30), OtpParameters{})->view());
  v = verify_answer(s, code_of_back, back, config);
  ASSERT_OK(v);
  assert_true(v->outcome == Outcome::replayed);

  // A day ahead: the user's codes do not match that time; enough of them lock the TOTP limit,
  // with the lockout's end a day ahead too. A grace period granted then is a day ahead as well.
  const std::int64_t ahead = kNow + 86400;
  s.clear_failures();
  for (int i = 0; i < 5; ++i) (void)verify_answer(s, totp_code(kPhone, 1), ahead, config);
  assert_true(s.locked_until > ahead);
  grant_grace(s, "0123456789abcdef0123456789abcdef", ahead);

  // Back to the right time: the lockout ends within lockout_max_seconds, not in a day.
  const std::int64_t returned = kNow + 60;
  v = verify_answer(s, totp_code(kPhone, 2), returned, config);
  ASSERT_OK(v);
  assert_true(v->outcome == Outcome::locked);
  assert_true(v->locked_for <= config.lockout_max_seconds);
  assert_true(s.locked_until <= returned + config.lockout_max_seconds);
  assert_false(
      grace_until(s, "0123456789abcdef0123456789abcdef", returned + 700, config).has_value());
  // A backup code works meanwhile (its own limit), once.
  v = verify_answer(s, std::string(backup[0].view()), returned + 1, config);
  ASSERT_OK(v);
  assert_true(v->outcome == Outcome::backup_accepted);
  v = verify_answer(s, std::string(backup[0].view()), returned + 2, config);
  ASSERT_OK(v);
  assert_false(v->accepted());
  // After the capped lockout, the next code works, and the one used before the jumps never.
  const std::int64_t later = returned + config.lockout_max_seconds + 1;
  v = verify_answer(s, used, later, config);
  ASSERT_OK(v);
  assert_false(v->accepted());
  s.clear_failures();
  const std::string fresh =
      std::string(hotp(bytes_of(kPhone).span(), totp_step(later, 30), OtpParameters{})->view());
  v = verify_answer(s, fresh, later, config);
  ASSERT_OK(v);
  assert_true(v->outcome == Outcome::totp_accepted);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(state_text_round_trip),
      cmocka_unit_test(one_secret_state_reads_as_one_authenticator),
      cmocka_unit_test(bad_authenticator_lines_are_corrupt),
      cmocka_unit_test(directory_round_trip_in_any_order),
      cmocka_unit_test(each_authenticator_logs_in_with_its_own_watermark),
      cmocka_unit_test(codes_of_each_length),
      cmocka_unit_test(adding_and_removing),
      cmocka_unit_test(server_clock_jumps_and_returns),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
