// The grace period (grace.hpp) and the last failure: keying, local remote hosts, expiry,
// renewal by a real success only, removal by every failure, the lockout that overrides it,
// the bounded list, the state text and the directory attributes, and verify_and_record
// through a store (a right answer's charge gives back what it took).
#include "auth.hpp"
#include "enrollment.hpp"
#include "grace.hpp"
#include "ldap_entry.hpp"
#include "log.hpp"
#include "memory_store.hpp"
#include "unit.hpp"
#include "verify.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;  // 10 s into a step
const StateKey kKey{"alice", 1001};

Config grace_config(int seconds = 600) {
  Config config;
  config.grace_seconds = seconds;
  config.max_failures = 3;
  return config;
}

LoginOrigin from(std::string rhost, std::string service = "sshd", std::string tty = "ssh",
                 std::string host = "host:web1") {
  return LoginOrigin{std::move(host), std::move(rhost), std::move(service), std::move(tty)};
}

std::string key_of(const LoginOrigin& origin, const Config& config) {
  auto key = grace_key(origin, config);
  if (!key) fail_msg("%s", key.error().message.c_str());
  if (!*key) fail_msg("no grace key");
  return **key;
}

std::vector<SecretString> g_codes;

UserState enrolled_state() {
  UserState state;
  Enrollment e;
  e.secret = bytes_of("12345678901234567890");
  e.enrolled_at = kNow - 1000;
  Config config;
  auto codes = replace_backup_codes(e, config);
  if (!codes) fail_msg("%s", codes.error().message.c_str());
  g_codes = std::move(*codes);
  state.enrollment = std::move(e);
  return state;
}

std::string code_at(std::int64_t now) {
  auto code = hotp(bytes_of("12345678901234567890").span(), totp_step(now, 30), OtpParameters{});
  return std::string(code->view());
}

void keyed_on_host_rhost_service_and_tty(void**) {
  const Config config = grace_config();
  const std::string key = key_of(from("192.0.2.7"), config);
  assert_int_equal(key.size(), 32);
  assert_true(key.find_first_not_of("0123456789abcdef") == std::string::npos);
  assert_true(key == key_of(from("192.0.2.7"), config));
  assert_true(key != key_of(from("192.0.2.8"), config));
  assert_true(key != key_of(from("192.0.2.7", "sudo"), config));
  assert_true(key != key_of(from("192.0.2.7", "sshd", "pts/1"), config));
  assert_true(key != key_of(from("192.0.2.7", "sshd", "ssh", "host:web2"), config));
  // Field boundaries are part of the key: "ab"+"c" is not "a"+"bc".
  assert_true(key_of(from("192.0.2.7", "ab", "c"), config) !=
              key_of(from("192.0.2.7", "a", "bc"), config));
}

void local_remote_hosts(void**) {
  for (const char* local : {"", "localhost", "LOCALHOST", "localhost.", "x.localhost", "127.0.0.1",
                            "127.1.2.3", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1"}) {
    if (!local_rhost(local)) fail_msg("not seen as local: '%s'", local);
  }
  for (const char* remote : {"192.0.2.7", "128.0.0.1", "10.0.0.1", "::2", "2001:db8::1",
                             "localhost.example.com", "mylocalhost", "::ffff:10.0.0.1", "-"}) {
    if (local_rhost(remote)) fail_msg("seen as local: '%s'", remote);
  }
  Config config = grace_config();
  auto none = grace_key(from(""), config);
  ASSERT_OK(none);
  assert_false(none->has_value());
  auto loopback = grace_key(from("127.0.0.1"), config);
  ASSERT_OK(loopback);
  assert_false(loopback->has_value());
  config.grace_local = true;
  auto allowed = grace_key(from(""), config);
  ASSERT_OK(allowed);
  assert_true(allowed->has_value());
  // Off: no key at all, so nothing is ever granted.
  auto off = grace_key(from("192.0.2.7"), grace_config(0));
  ASSERT_OK(off);
  assert_false(off->has_value());
}

void expiry_and_policy(void**) {
  const Config config = grace_config(600);
  UserState state = enrolled_state();
  const std::string key = key_of(from("192.0.2.7"), config);
  assert_false(grace_until(state, key, kNow, config).has_value());
  grant_grace(state, key, kNow);
  assert_true(grace_until(state, key, kNow, config) == kNow + 600);
  assert_true(grace_until(state, key, kNow + 599, config) == kNow + 600);
  assert_false(grace_until(state, key, kNow + 600, config).has_value());  // expired
  assert_false(grace_until(state, key_of(from("192.0.2.8"), config), kNow, config).has_value());
  // The policy in force decides: a shorter grace_seconds shortens the entry, 0 ends it.
  assert_false(grace_until(state, key, kNow + 100, grace_config(60)).has_value());
  assert_false(grace_until(state, key, kNow + 1, grace_config(0)).has_value());
  // An entry from the future (the clock went back) is not applied.
  assert_false(grace_until(state, key, kNow - 1, config).has_value());
  // Never without an enrollment.
  UserState none;
  none.grace = state.grace;
  assert_false(grace_until(none, key, kNow, config).has_value());
}

void lockout_overrides_grace(void**) {
  const Config config = grace_config();
  UserState state = enrolled_state();
  const std::string key = key_of(from("192.0.2.7"), config);
  grant_grace(state, key, kNow);
  state.locked_until = kNow + 60;
  assert_false(grace_until(state, key, kNow + 1, config).has_value());
  state.locked_until = 0;
  state.backup_locked_until = kNow + 60;
  assert_false(grace_until(state, key, kNow + 1, config).has_value());
  state.backup_locked_until = kNow;  // over
  assert_true(grace_until(state, key, kNow + 1, config).has_value());
}

void bounded_oldest_dropped(void**) {
  const Config config = grace_config(43200);
  UserState state = enrolled_state();
  for (int i = 0; i < 10; ++i) {
    grant_grace(state, key_of(from("192.0.2." + std::to_string(i)), config), kNow + i);
  }
  assert_int_equal(state.grace.size(), kMaxGraceEntries);
  assert_false(
      grace_until(state, key_of(from("192.0.2.0"), config), kNow + 20, config).has_value());
  assert_false(
      grace_until(state, key_of(from("192.0.2.1"), config), kNow + 20, config).has_value());
  assert_true(grace_until(state, key_of(from("192.0.2.2"), config), kNow + 20, config).has_value());
  // Renewing one moves it to the newest: it survives the next new entries.
  grant_grace(state, key_of(from("192.0.2.2"), config), kNow + 30);
  grant_grace(state, key_of(from("192.0.2.50"), config), kNow + 31);
  assert_true(grace_until(state, key_of(from("192.0.2.2"), config), kNow + 40, config).has_value());
  assert_false(
      grace_until(state, key_of(from("192.0.2.3"), config), kNow + 40, config).has_value());
  // Entries older than the longest grace period are dropped on the next grant.
  grant_grace(state, key_of(from("192.0.2.99"), config), kNow + kMaxGraceSeconds + 100);
  assert_int_equal(state.grace.size(), 1);
}

void renewed_by_a_real_success_only(void**) {
  const Config config = grace_config(600);
  UserState state = enrolled_state();
  const AnswerOrigin origin{"192.0.2.7", key_of(from("192.0.2.7"), config)};
  auto first = verify_answer(state, code_at(kNow), kNow, config, FailureGrace::none, origin);
  ASSERT_OK(first);
  assert_true(first->accepted());
  assert_true(grace_until(state, *origin.grace_key, kNow + 1, config) == kNow + 600);
  // A use of the grace period is a read: grace_until changes nothing.
  const UserState before = state.clone();
  (void)grace_until(state, *origin.grace_key, kNow + 500, config);
  assert_true(state.grace == before.grace);
  // The next real success renews it from its own time (pam_google_authenticator #193).
  const std::int64_t later = kNow + 550;
  auto second = verify_answer(state, code_at(later), later, config, FailureGrace::none, origin);
  ASSERT_OK(second);
  assert_true(second->accepted());
  assert_true(grace_until(state, *origin.grace_key, kNow + 700, config) == later + 600);
  assert_int_equal(state.grace.size(), 1);
  // A success without a key (valix-check, valix-enroll) grants nothing new, keeps the rest.
  const std::int64_t third_time = kNow + 600;
  auto third = verify_answer(state, code_at(third_time), third_time, config);
  ASSERT_OK(third);
  assert_true(third->accepted());
  assert_int_equal(state.grace.size(), 1);
  assert_true(state.grace.front().granted_at == later);
}

void every_failure_ends_every_grace(void**) {
  const Config config = grace_config(600);
  UserState state = enrolled_state();
  grant_grace(state, key_of(from("192.0.2.7"), config), kNow - 10);
  grant_grace(state, key_of(from("198.51.100.1", "sudo", "pts/2"), config), kNow - 5);
  // A wrong code from any other remote host: recorded, and both entries gone.
  auto wrong = verify_answer(state, "000000", kNow, config, FailureGrace::none,
                             AnswerOrigin{"203.0.113.9", std::nullopt});
  ASSERT_OK(wrong);
  assert_true(wrong->outcome == Outcome::wrong);
  assert_true(state.grace.empty());
  assert_int_equal(state.last_failure, kNow);
  assert_string_equal(state.last_failure_rhost.c_str(), "203.0.113.9");
  // A replay and a malformed answer are failures too; a missing remote host is "-".
  grant_grace(state, key_of(from("192.0.2.7"), config), kNow + 1);
  auto malformed = verify_answer(state, "not a code", kNow + 2, config);
  ASSERT_OK(malformed);
  assert_true(state.grace.empty());
  assert_int_equal(state.last_failure, kNow + 2);
  assert_string_equal(state.last_failure_rhost.c_str(), "-");
  // A success keeps the last failure (it is history); the next success grants anew.
  auto right = verify_answer(state, code_at(kNow + 40), kNow + 40, config, FailureGrace::none,
                             AnswerOrigin{"192.0.2.7", key_of(from("192.0.2.7"), config)});
  ASSERT_OK(right);
  assert_true(right->accepted());
  assert_int_equal(state.last_failure, kNow + 2);
  assert_int_equal(state.grace.size(), 1);
  // A lockout comes from failures: none of them leaves an entry.
  for (int i = 0; i < 3; ++i) (void)verify_answer(state, "000000", kNow + 50 + i, config);
  assert_true(state.locked_until > kNow + 52);
  assert_true(state.grace.empty());
}

void right_answer_gives_back_its_charge(void**) {
  const Config config = grace_config(600);
  UserState state = enrolled_state();
  state.last_failure = kNow - 100;
  state.last_failure_rhost = "198.51.100.1";
  const std::string other = key_of(from("192.0.2.8", "sshd", "pts/1"), config);
  grant_grace(state, other, kNow - 50);
  // The charge of a right answer is no failure: the last failure, and the other entry, stay.
  const AnswerOrigin origin{"192.0.2.7", key_of(from("192.0.2.7"), config)};
  auto right = verify_answer(state, code_at(kNow), kNow, config, FailureGrace::none, origin);
  ASSERT_OK(right);
  assert_true(right->accepted());
  assert_int_equal(state.last_failure, kNow - 100);
  assert_string_equal(state.last_failure_rhost.c_str(), "198.51.100.1");
  assert_true(grace_until(state, other, kNow + 1, config).has_value());
  assert_true(grace_until(state, *origin.grace_key, kNow + 1, config).has_value());
  // A long or hostile remote host is stored printable and bounded.
  (void)verify_answer(state, "000000", kNow + 1, config, FailureGrace::none,
                      AnswerOrigin{std::string(300, 'h') + "\x9b\n", std::nullopt});
  assert_true(state.last_failure_rhost.size() <= kMaxFailureHostLength);
  assert_true(state.last_failure_rhost.ends_with("..."));
  (void)verify_answer(state, "000000", kNow + 2, config, FailureGrace::none,
                      AnswerOrigin{"evil\x9b\nhost", std::nullopt});
  assert_string_equal(state.last_failure_rhost.c_str(), "evil??host");
}

void through_a_store(void**) {
  const Config config = grace_config(600);
  MemoryStore store;
  UserState initial = enrolled_state();
  initial.last_failure = kNow - 100;
  initial.last_failure_rhost = "198.51.100.1";
  store.put("alice", initial);
  const AnswerOrigin origin{"192.0.2.7", key_of(from("192.0.2.7"), config)};
  auto right =
      verify_and_record(store, kKey, code_at(kNow), kNow, config, FailureGrace::none, origin);
  ASSERT_OK(right);
  assert_true(right->accepted());
  assert_int_equal(store.at("alice").grace.size(), 1);
  assert_int_equal(store.at("alice").last_failure, kNow - 100);  // the charge given back
  assert_string_equal(store.at("alice").last_failure_rhost.c_str(), "198.51.100.1");
  auto wrong = verify_and_record(store, kKey, "000000", kNow + 5, config, FailureGrace::none,
                                 AnswerOrigin{"203.0.113.9", std::nullopt});
  ASSERT_OK(wrong);
  assert_true(store.at("alice").grace.empty());
  assert_int_equal(store.at("alice").last_failure, kNow + 5);
  assert_string_equal(store.at("alice").last_failure_rhost.c_str(), "203.0.113.9");
  // Another login's wrong answer between this right answer's charge and its judging: its
  // record stands (nothing of what it ended is given back).
  UserState again = enrolled_state();
  grant_grace(again, key_of(from("192.0.2.8"), config), kNow);
  MemoryStore raced;
  raced.put("alice", again);
  raced.before_update_at = 2;
  raced.before_update = [&] {
    (void)verify_and_record(raced, kKey, "000000", kNow + 30, config, FailureGrace::none,
                            AnswerOrigin{"203.0.113.1", std::nullopt});
  };
  auto racing = verify_and_record(raced, kKey, code_at(kNow + 30), kNow + 30, config,
                                  FailureGrace::none, origin);
  ASSERT_OK(racing);
  assert_true(racing->accepted());
  assert_false(grace_until(raced.at("alice"), key_of(from("192.0.2.8"), config), kNow + 31, config)
                   .has_value());
  assert_true(grace_until(raced.at("alice"), *origin.grace_key, kNow + 31, config).has_value());
  assert_string_equal(raced.at("alice").last_failure_rhost.c_str(), "203.0.113.1");
}

void enrollment_ends_grace(void**) {
  const Config config = grace_config();
  UserState state = enrolled_state();
  grant_grace(state, key_of(from("192.0.2.7"), config), kNow);
  install_enrollment(state, state.enrollment->clone());
  assert_true(state.grace.empty());
}

void state_text_round_trip(void**) {
  const Config config = grace_config();
  UserState state = enrolled_state();
  state.last_failure = kNow - 7;
  state.last_failure_rhost = "2001:db8::1 (a name with blanks)";
  grant_grace(state, key_of(from("192.0.2.7"), config), kNow - 3);
  grant_grace(state, key_of(from("192.0.2.8"), config), kNow - 2);
  const SecretString text = serialize_state(state);
  auto back = parse_state(text.view());
  ASSERT_OK(back);
  assert_int_equal(back->last_failure, kNow - 7);
  assert_string_equal(back->last_failure_rhost.c_str(), state.last_failure_rhost.c_str());
  assert_true(back->grace == state.grace);
  // Through the directory's attributes too.
  const LdapAttributes attributes = state_to_attributes(state);
  assert_int_equal(attributes.at("valixGrace").size(), 2);
  assert_string_equal(std::string(attributes.at("valixLastFailure").front().view()).c_str(),
                      std::to_string(kNow - 7).c_str());
  assert_true(attributes.contains("valixLastFailureHost"));
  auto from_directory = attributes_to_state(attributes);
  ASSERT_OK(from_directory);
  assert_true((*from_directory)->grace == state.grace);
  assert_string_equal((*from_directory)->last_failure_rhost.c_str(),
                      state.last_failure_rhost.c_str());
  // A state without them (every state before this version) reads as none.
  UserState plain = enrolled_state();
  const LdapAttributes none = state_to_attributes(plain);
  assert_false(none.contains("valixGrace") || none.contains("valixLastFailure") ||
               none.contains("valixLastFailureHost"));
  auto old = parse_state(serialize_state(plain).view());
  ASSERT_OK(old);
  assert_int_equal(old->last_failure, 0);
  assert_true(old->grace.empty());
}

void state_text_refused(void**) {
  const std::string head = "valix-state 1\nrequired 0\nfailures 0\nlocked_until 0\nlast_login 0\n";
  const std::string key = "0123456789abcdef0123456789abcdef";
  auto parses = [&](const std::string& lines) { return parse_state(head + lines + "end\n"); };
  assert_true(parses("grace " + key + " 1700000000\n").has_value());
  assert_true(parses("last_failure 5\nlast_failure_rhost -\n").has_value());
  for (const std::string& bad : std::vector<std::string>{
           "grace " + key + "\n", "grace " + key + " 0\n", "grace " + key + " x\n",
           "grace " + key.substr(1) + " 5\n", "grace " + std::string(32, 'G') + " 5\n",
           "grace " + key + " 5\ngrace " + key + " 6\n", "last_failure 5\n",
           "last_failure_rhost h\n", "last_failure 0\nlast_failure_rhost h\n",
           "last_failure 5\nlast_failure_rhost \n",
           "last_failure 5\nlast_failure_rhost " + std::string(65, 'h') + "\n",
           "last_failure 5\nlast_failure_rhost a\x01\n",
           "last_failure 5\nlast_failure_rhost a\nlast_failure_rhost b\n"}) {
    auto state = parses(bad);
    if (state) fail_msg("accepted: %s", bad.c_str());
    assert_true(state.error().code == Errc::corrupt);
  }
  std::string nine;
  for (int i = 0; i < 9; ++i) {
    std::string k = key;
    k[0] = static_cast<char>('0' + i);
    nine += "grace " + k + " 5\n";
  }
  assert_false(parses(nine).has_value());
}

void log_line_shape(void**) {
  LogLine line(Event::denied, Reason::wrong_code);
  line.add("user", "x event=success").add("rhost", "a\"b\\c%d\x9b").add("tty", "");
  assert_string_equal(line.text("denied: \"wrong\" code").c_str(),
                      "event=denied reason=wrong_code user=x%20event%3Dsuccess "
                      "rhost=a%22b%5Cc%25d? tty=- msg=\"denied: \\\"wrong\\\" code\"");
  // Every name of the vocabulary is a bare word.
  for (int e = 0; e <= static_cast<int>(Event::admin); ++e) {
    const std::string_view name = event_name(static_cast<Event>(e));
    assert_true(!name.empty() &&
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
  }
  for (int r = 0; r <= static_cast<int>(Reason::warning); ++r) {
    const std::string_view name = reason_name(static_cast<Reason>(r));
    assert_true(name != "unknown" &&
                name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string_view::npos);
  }
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(keyed_on_host_rhost_service_and_tty),
      cmocka_unit_test(local_remote_hosts),
      cmocka_unit_test(expiry_and_policy),
      cmocka_unit_test(lockout_overrides_grace),
      cmocka_unit_test(bounded_oldest_dropped),
      cmocka_unit_test(renewed_by_a_real_success_only),
      cmocka_unit_test(every_failure_ends_every_grace),
      cmocka_unit_test(right_answer_gives_back_its_charge),
      cmocka_unit_test(through_a_store),
      cmocka_unit_test(enrollment_ends_grace),
      cmocka_unit_test(state_text_round_trip),
      cmocka_unit_test(state_text_refused),
      cmocka_unit_test(log_line_shape),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
