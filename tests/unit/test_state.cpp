// The state file format: round trips, and rejection of anything else (truncation included).
#include <cstring>

#include "enrollment.hpp"
#include "state.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

UserState full_state() {
  UserState s;
  Config config;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  e.otp = {OtpAlgorithm::sha256, 8, 60};
  e.enrolled_at = 1700000000;
  e.last_step = 28333333;
  auto codes = replace_backup_codes(e, config);
  if (!codes) fail_msg("%s", codes.error().message.c_str());
  s.enrollment = std::move(e);
  s.pending = PendingEnrollment{bytes_of("abcdefghijabcdefghij"), {}, 1700000600};
  s.required = true;
  s.failures = 2;
  s.locked_until = 1700000100;
  s.last_login = 1699999999;
  return s;
}

void round_trip(void**) {
  const UserState s = full_state();
  const SecretString text = serialize_state(s);
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_string_equal(serialize_state(*back).c_str(), text.c_str());
  assert_true(back->required);
  assert_int_equal(back->failures, 2);
  assert_int_equal(back->enrollment->last_step, 28333333);
  assert_int_equal(back->enrollment->otp.digits, 8);
  assert_int_equal(back->enrollment->backup.hashes.size(), 10);
  assert_int_equal(back->pending->expires_at, 1700000600);
  UserState offset = full_state();
  offset.enrollment->offset_steps = 2880;
  auto offset_back = parse_state(serialize_state(offset).view());
  ASSERT_OK(offset_back);
  assert_int_equal(offset_back->enrollment->offset_steps, 2880);
  UserState empty;
  auto empty_back = parse_state(serialize_state(empty).view());
  ASSERT_OK(empty_back);
  assert_false(empty_back->enrollment.has_value());
  assert_true(empty_back->empty());
}

// Every proper prefix of every shape of state file is an error, never a smaller state.
void every_truncation_is_an_error(void**) {
  const UserState full = full_state();
  UserState enrolled_only = full_state();
  enrolled_only.pending.reset();
  enrolled_only.required = false;
  UserState pending_only = full_state();
  pending_only.enrollment.reset();
  UserState flagged;
  flagged.required = true;
  const UserState empty;
  const UserState* const states[] = {&full, &enrolled_only, &pending_only, &flagged, &empty};
  for (const UserState* state : states) {
    const SecretString text = serialize_state(*state);
    ASSERT_OK(parse_state(text.view()));
    for (std::size_t n = 0; n < text.size(); ++n) {
      if (parse_state(text.view().substr(0, n)).has_value())
        fail_msg("parsed a %zu-byte prefix of:\n%s", n, text.c_str());
    }
  }
}

std::string with(std::string_view text, std::string_view from, std::string_view to) {
  std::string s(text);
  const auto at = s.find(from);
  if (at == std::string::npos)
    fail_msg("'%.*s' not found", static_cast<int>(from.size()), from.data());
  s.replace(at, from.size(), to);
  return s;
}

void rejections(void**) {
  const SecretString good = serialize_state(full_state());
  const std::string g(good.view());
  const std::string cases[] = {
      with(g, "valix-state 1\n", ""),
      with(g, "valix-state 1", "valix-state 2"),
      with(g, "valix-state 1", "other-format 1"),
      with(g, "required 1\n", "required 1\nrequired 1\n"),
      with(g, "required 1\n", "required 1\ncolour blue\n"),
      with(g, "required 1", "required yes"),
      with(g, "failures 2", "failures -2"),
      with(g, "digits 8", "digits 7"),
      with(g, "algorithm SHA256", "algorithm MD5"),
      with(g, "secret ", "secret !!"),
      with(g, "last_step 28333333", "last_step x"),
      with(g, "end\n", "end\nmore\n"),
      with(g, "end\n", ""),
      with(g, "\nbackup ", "\nbackup bad hash "),
      // The clock offset: only with an enrollment, never 0, within a day of steps.
      with(g, "end\n", "offset_steps 0\nend\n"),
      with(g, "end\n", "offset_steps 2881\nend\n"),
      with(g, "end\n", "offset_steps -2881\nend\n"),
      with(g, "end\n", "offset_steps 1.5\nend\n"),
      with(g, "end\n", "offset_steps 5\noffset_steps 5\nend\n"),
      // The kind: only "hotp" is written (TOTP is the default), never with a clock offset.
      with(g, "end\n", "kind totp\nend\n"),
      with(g, "end\n", "kind HOTP\nend\n"),
      with(g, "end\n", "kind hotp\noffset_steps 5\nend\n"),
      with(g, "end\n", "login_kind hotp\nend\n"),  // a login enrollment is a new app's
      with(with(g, "end\n", "kind hotp\nend\n"), "last_step 28333333",
           "last_step 9223372036854775807"),
      "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\noffset_steps 3\nend\n",
      "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\nbackup $y$x\nend\n",
      "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\ndigits 6\nend\n",
      "",
      "\n",
  };
  for (const auto& text : cases) {
    auto parsed = parse_state(text);
    if (parsed) fail_msg("parsed:\n%s", text.c_str());
    assert_true(parsed.error().code == Errc::corrupt);
  }
}

// What a rejection says: a repeated key, an unknown one, and a key left over without the part
// of the state it belongs to (the first such key in sorted order).
void rejection_reasons(void**) {
  const SecretString good = serialize_state(full_state());
  const std::string g(good.view());
  const std::string base = "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\n";
  const std::pair<std::string, std::string> cases[] = {
      {with(g, "required 1\n", "required 1\nrequired 1\n"), "line 3: duplicate key"},
      {with(g, "required 1\n", "required 1\ncolour blue\n"), "line 3: unknown key"},
      {with(g, "required 1\n", "required 1\nbackup_setting\n"), "line 3: expected 'key value'"},
      {base + "uid 5\nuid 5\nend\n", "line 7: duplicate key"},
      {base + "last_failure 9\nlast_failure_rhost -\nlast_failure_rhost -\nend\n",
       "line 8: duplicate key"},
      {base + "pending_expires 5\nlogin_token " + std::string(64, 'a') + "\nend\n",
       "'login_token' without the secret it belongs to"},
      {base + "digits 6\nend\n", "'digits' without the secret it belongs to"},
  };
  for (const auto& [text, why] : cases) {
    auto parsed = parse_state(text);
    if (parsed) fail_msg("parsed:\n%s", text.c_str());
    assert_true(parsed.error().code == Errc::corrupt);
    assert_string_equal(parsed.error().message.c_str(), why.c_str());
  }
}

// The owning account's uid: written when known, optional when read (a state written before
// it was recorded still parses, with no uid), and anything but one uid is corrupt.
void uid_recorded(void**) {
  UserState s = full_state();
  s.uid = 1001;
  const SecretString text = serialize_state(s);
  assert_non_null(std::strstr(text.c_str(), "\nuid 1001\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_true(back->uid.has_value());
  assert_int_equal(*back->uid, 1001);
  assert_int_equal(back->clone().uid.value_or(0), 1001);
  assert_string_equal(serialize_state(*back).c_str(), text.c_str());

  const std::string without(with(text.view(), "uid 1001\n", ""));
  auto old = parse_state(without);
  ASSERT_OK(old);
  assert_false(old->uid.has_value());
  assert_int_equal(old->enrollment->last_step, 28333333);
  assert_null(std::strstr(serialize_state(*old).c_str(), "uid "));

  auto root = parse_state(with(text.view(), "uid 1001", "uid 0"));
  ASSERT_OK(root);
  assert_int_equal(root->uid.value_or(1), 0);

  const std::string g(text.view());
  const std::string cases[] = {
      with(g, "uid 1001", "uid -1"),
      with(g, "uid 1001", "uid 4294967295"),
      with(g, "uid 1001", "uid 4294967296"),
      with(g, "uid 1001", "uid x"),
      with(g, "uid 1001", "uid "),
      with(g, "uid 1001", "uid +5"),
      with(g, "uid 1001\n", "uid 1001\nuid 1001\n"),
  };
  for (const auto& bad : cases) {
    auto parsed = parse_state(bad);
    if (parsed) fail_msg("parsed:\n%s", bad.c_str());
    assert_true(parsed.error().code == Errc::corrupt);
  }
}

// A pending enrollment that adds an authenticator (valix-enroll --add NAME --begin) carries
// its name: written only when there is one, read back as it was, refused when it is not a
// valid authenticator name, twice, or without the pending secret it belongs to.
void pending_name(void**) {
  UserState s = full_state();
  assert_null(std::strstr(serialize_state(s).c_str(), "pending_name"));
  auto unnamed = parse_state(serialize_state(s).view());
  ASSERT_OK(unnamed);
  assert_false(unnamed->pending->name.has_value());

  s.pending->name = "phone2";
  const SecretString text = serialize_state(s);
  assert_non_null(std::strstr(text.c_str(), "\npending_name phone2\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_string_equal(back->pending->name.value_or("").c_str(), "phone2");
  assert_string_equal(back->clone().pending->name.value_or("").c_str(), "phone2");
  assert_string_equal(serialize_state(*back).c_str(), text.c_str());

  const std::string g(text.view());
  UserState without_pending = full_state();
  without_pending.pending.reset();
  const std::string cases[] = {
      with(g, "pending_name phone2", "pending_name "),
      with(g, "pending_name phone2", "pending_name phone 2"),
      with(g, "pending_name phone2", "pending_name phone/2"),
      with(g, "pending_name phone2", "pending_name " + std::string(33, 'a')),
      with(g, "pending_name phone2\n", "pending_name phone2\npending_name phone3\n"),
      with(std::string(serialize_state(without_pending).view()), "end\n",
           "pending_name phone2\nend\n"),
  };
  for (const auto& bad : cases) {
    auto parsed = parse_state(bad);
    if (parsed) fail_msg("parsed:\n%s", bad.c_str());
    assert_true(parsed.error().code == Errc::corrupt);
  }
}

// The tries --confirm counted at a pending enrollment: always written (so that a version that
// does not count them refuses it), absent read as none (a state an earlier version wrote), read
// back as they were, refused above kEnrollmentTries, not canonical, twice, or without the
// pending secret they belong to.
void pending_attempts(void**) {
  UserState s = full_state();
  const SecretString none = serialize_state(s);
  assert_non_null(std::strstr(none.c_str(), "\npending_attempts 0\n"));
  auto older = parse_state(with(std::string(none.view()), "pending_attempts 0\n", ""));
  ASSERT_OK(older);
  assert_int_equal(older->pending->attempts, 0);
  s.pending->attempts = kEnrollmentTries;
  const SecretString text = serialize_state(s);
  assert_non_null(std::strstr(text.c_str(), "\npending_attempts 3\n"));
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_int_equal(back->pending->attempts, kEnrollmentTries);
  assert_int_equal(back->clone().pending->attempts, kEnrollmentTries);
  assert_string_equal(serialize_state(*back).c_str(), text.c_str());

  const std::string g(text.view());
  UserState without_pending = full_state();
  without_pending.pending.reset();
  const std::string cases[] = {
      with(g, "pending_attempts 3", "pending_attempts 00"),
      with(g, "pending_attempts 3", "pending_attempts 4"),
      with(g, "pending_attempts 3", "pending_attempts 03"),
      with(g, "pending_attempts 3", "pending_attempts -1"),
      with(g, "pending_attempts 3", "pending_attempts "),
      with(g, "pending_attempts 3\n", "pending_attempts 3\npending_attempts 2\n"),
      with(std::string(serialize_state(without_pending).view()), "end\n",
           "pending_attempts 1\nend\n"),
  };
  for (const auto& bad : cases) {
    auto parsed = parse_state(bad);
    if (parsed) fail_msg("parsed:\n%s", bad.c_str());
    assert_true(parsed.error().code == Errc::corrupt);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(round_trip),       cmocka_unit_test(every_truncation_is_an_error),
      cmocka_unit_test(rejections),       cmocka_unit_test(rejection_reasons),
      cmocka_unit_test(uid_recorded),     cmocka_unit_test(pending_name),
      cmocka_unit_test(pending_attempts),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
