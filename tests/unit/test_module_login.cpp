// pam_valix's decisions (module.cpp) through a fake PamSession and the in-memory store: the
// prompts shown, the messages told, the log lines and the return codes, without libpam.
// Users are the system's own accounts: root (uid 0) and daemon (uid 1, group daemon).
#include <security/pam_modules.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <deque>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base32.hpp"
#include "enrollment.hpp"
#include "enrollment_texts.hpp"
#include "memory_store.hpp"
#include "messages.hpp"
#include "module.hpp"
#include "otp.hpp"
#include "unit.hpp"

using namespace valix;
using namespace valix::pam;

namespace {

const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));
constexpr std::string_view kSecret = "12345678901234567890";
std::string g_dir;

std::string code_at(std::string_view secret, std::int64_t t) {
  auto code = hotp(bytes_of(secret).span(), totp_step(t, 30), OtpParameters{});
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

class CapturingLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view message) override { lines.emplace_back(message); }
  std::vector<std::string> lines;
};

// Answers are scripted: a text; kNoAnswer for a conversation that fails; kEnrollmentCode for
// the current code of the key the enrollment screens showed.
const std::string kNoAnswer = "<no answer>";
const std::string kEnrollmentCode = "<enrollment code>";

class FakeSession final : public PamSession {
 public:
  explicit FakeSession(std::string user) : user_(std::move(user)) {}
  Result<std::string> user() override { return user_; }
  std::string item(int item_type) override { return item_type == PAM_SERVICE ? "login" : ""; }
  Result<SecretString> ask(std::string_view prompt, Echo echo) override {
    prompts.emplace_back(std::string(prompt), echo);
    if (answers.empty()) return (valix::fail)(Errc::no_answer, "conversation failed (test)");
    const std::string next = answers.front();
    answers.pop_front();
    if (next == kNoAnswer) return (valix::fail)(Errc::no_answer, "conversation failed (test)");
    if (next == kEnrollmentCode) return SecretString(code_at(shown_key(), kNow));
    return SecretString(next);
  }
  void tell(std::string_view text, MessageKind kind) override {
    told.emplace_back(std::string(text), kind);
  }
  Result<std::optional<SecretString>> authtok() override { return std::optional<SecretString>{}; }
  void fail_delay(std::chrono::milliseconds delay) override { delays.push_back(delay); }
  Logger& logger() override { return logger_; }
  Result<void> set_env(std::string_view name, std::string_view value) override {
    env_[std::string(name)] = std::string(value);
    return {};
  }
  std::optional<SecretString> env(std::string_view name) override {
    auto it = env_.find(std::string(name));
    if (it == env_.end()) return std::nullopt;
    return SecretString(it->second);
  }
  void unset_env(std::string_view name) override { env_.erase(std::string(name)); }

  // The secret the enrollment screens showed, decoded.
  std::string shown_key() const {
    for (const auto& [text, kind] : told) {
      const auto at = text.find(texts::kKeyByHand);
      if (at == std::string::npos) continue;
      std::string key;
      for (auto i = at + std::string_view(texts::kKeyByHand).size();
           i < text.size() && text[i] != '\n'; ++i)
        if (text[i] != ' ') key.push_back(text[i]);
      auto secret = base32_decode(key);
      if (!secret) fail_msg("%s", secret.error().message.c_str());
      return {reinterpret_cast<const char*>(secret->span().data()), secret->span().size()};
    }
    fail_msg("no key shown");
    return {};
  }
  bool told_text(std::string_view needle, MessageKind kind) const {
    for (const auto& [text, k] : told)
      if (k == kind && text.find(needle) != std::string::npos) return true;
    return false;
  }
  bool logged(std::string_view needle) const {
    for (const auto& line : logger_.lines)
      if (line.find(needle) != std::string::npos) return true;
    return false;
  }

  std::deque<std::string> answers;
  std::vector<std::pair<std::string, Echo>> prompts;
  std::vector<std::pair<std::string, MessageKind>> told;
  std::vector<std::chrono::milliseconds> delays;

 private:
  std::string user_;
  CapturingLogger logger_;
  std::map<std::string, std::string> env_;
};

// valix.conf for this test (the module reads one), with extra lines.
Result<ModuleOptions> options_with(const std::string& extra) {
  const std::string path = g_dir + "/valix.conf";
  {
    std::ofstream out(path, std::ios::trunc);
    out << "state_dir = " << g_dir << "\nfail_delay_ms = 0\nissuer = Valix Test\n" << extra;
  }
  chmod(path.c_str(), 0600);
  const std::string arg = "config=" + path;
  const char* argv[] = {arg.c_str()};
  return parse_module_options(argv);
}

struct Fixture {
  MemoryStore store;
  Clock clock = [] { return kNow; };
  StoreOpener opener = [this](const Config&) -> Result<std::unique_ptr<StateStore>> {
    return BorrowedStore::of(store);
  };

  int login(FakeSession& session, const std::string& conf = "") {
    return authenticate(session, options_with(conf), clock, opener);
  }
  void enroll(const std::string& user, std::int64_t locked_until = 0) {
    UserState state;
    Enrollment e;
    e.secret = bytes_of(kSecret);
    Config config;
    if (!replace_backup_codes(e, config)) fail_msg("backup codes");
    state.enrollment = std::move(e);
    state.locked_until = locked_until;
    store.put(user, state);
  }
};

void enrolled_right_code(void**) {
  Fixture f;
  f.enroll("root");
  FakeSession session("root");
  session.answers = {code_at(kSecret, kNow)};
  assert_int_equal(f.login(session), PAM_SUCCESS);
  assert_int_equal(session.prompts.size(), 1);
  assert_string_equal(session.prompts[0].first.c_str(), "Verification code: ");
  assert_true(session.prompts[0].second == Echo::off);
  assert_true(session.told.empty());
  assert_int_equal(f.store.at("root").enrollment->last_step, totp_step(kNow, 30));
  assert_int_equal(session.delays.size(), 1);  // set before anything can fail
}

void enrolled_wrong_code(void**) {
  Fixture f;
  f.enroll("root");
  FakeSession session("root");
  session.answers = {"000000"};
  assert_int_equal(f.login(session), PAM_AUTH_ERR);
  assert_true(session.told_text("Invalid verification code.", MessageKind::error));
  assert_int_equal(f.store.at("root").failures, 1);
}

void enrolled_replayed_code(void**) {
  Fixture f;
  f.enroll("root");
  FakeSession first("root"), second("root");
  first.answers = second.answers = {code_at(kSecret, kNow)};
  assert_int_equal(f.login(first), PAM_SUCCESS);
  assert_int_equal(f.login(second), PAM_AUTH_ERR);
  assert_true(second.told_text("already been used", MessageKind::error));
  assert_true(second.logged("denied: code already used"));
}

void locked_user(void**) {
  Fixture f;
  f.enroll("root", kNow + 300);
  FakeSession session("root");
  session.answers = {code_at(kSecret, kNow)};  // right, but never judged
  assert_int_equal(f.login(session), PAM_AUTH_ERR);
  assert_true(
      session.told_text("Too many failed attempts. Try again in 5 minutes", MessageKind::error));
  assert_int_equal(f.store.at("root").enrollment->last_step, 0);
}

void not_required_is_ignored(void**) {
  Fixture f;
  FakeSession session("root");
  assert_int_equal(f.login(session, "require = none\n"), PAM_IGNORE);
  assert_true(session.prompts.empty());
  assert_true(session.told.empty());
}

void required_not_enrolled_denied(void**) {
  Fixture f;
  FakeSession session("root");
  assert_int_equal(f.login(session, "require = all\nunenrolled = deny\n"), PAM_AUTH_ERR);
  assert_true(session.prompts.empty());
  assert_true(session.told_text(kNotSetUp, MessageKind::error));
  assert_true(session.logged("denied: 2FA required"));
}

// unenrolled = enroll: the screens, a wrong code told, the right one; the enrollment is kept
// inert (the user is not enrolled yet) until establish_credentials installs it.
void required_not_enrolled_enrolls(void**) {
  Fixture f;
  FakeSession session("root");
  session.answers = {"000000", kEnrollmentCode};
  const std::string conf = "require = all\nunenrolled = enroll\n";
  assert_int_equal(f.login(session, conf), PAM_SUCCESS);
  assert_true(session.told_text(texts::kLoginIntro, MessageKind::info));
  assert_true(session.told_text("Setup URI: otpauth://totp/Valix%20Test:root@", MessageKind::info));
  assert_true(session.told_text(texts::wrong_code(2), MessageKind::error));
  assert_true(session.told_text(texts::kLoginSetUp, MessageKind::info));
  assert_true(
      session.told_text("password manager, or a printed sheet in a safe", MessageKind::info));
  assert_int_equal(session.prompts.size(), 2);
  assert_true(session.prompts[0].second == Echo::on);
  assert_false(f.store.at("root").enrollment.has_value());
  assert_true(f.store.at("root").login_enrollment.has_value());
  assert_true(session.env("VALIX_LOGIN_ENROLLMENT").has_value());

  assert_int_equal(establish_credentials(session, options_with(conf), 0, f.opener), PAM_SUCCESS);
  assert_true(f.store.at("root").enrollment.has_value());
  assert_false(session.env("VALIX_LOGIN_ENROLLMENT").has_value());
  // Once is all: the token is gone, nothing more to install.
  assert_int_equal(establish_credentials(session, options_with(conf), 0, f.opener), PAM_IGNORE);
}

// A name with no account, under unenrolled = enroll: the same screens, and every code refused.
void no_account_enrollment_refuses_every_code(void**) {
  Fixture f;
  FakeSession session("valix-no-such-user");
  session.answers = {kEnrollmentCode, kEnrollmentCode, kEnrollmentCode};
  assert_int_equal(f.login(session, "require = all\nunenrolled = enroll\n"), PAM_AUTH_ERR);
  assert_true(session.told_text(texts::kLoginIntro, MessageKind::info));
  assert_int_equal(session.prompts.size(), 3);
  assert_true(session.told_text(texts::kLoginNotSetUp, MessageKind::error));
  assert_int_equal(f.store.writes, 0);
}

// The conversation fails at the prompt: denied, nothing told, nothing charged or judged.
void abandoned_conversation(void**) {
  Fixture f;
  f.enroll("root");
  FakeSession session("root");
  session.answers = {kNoAnswer};
  assert_int_equal(f.login(session), PAM_AUTH_ERR);
  assert_true(session.told.empty());
  assert_int_equal(f.store.updates, 0);
  assert_true(session.logged("denied: conversation failed"));
  // At the enrollment screens: denied, logged as abandoned, nothing stored.
  FakeSession enrolling("daemon");
  enrolling.answers = {"000000", kNoAnswer};
  assert_int_equal(f.login(enrolling, "require = all\nunenrolled = enroll\n"), PAM_AUTH_ERR);
  assert_true(enrolling.logged("in-login enrollment abandoned"));
  assert_false(enrolling.told_text(texts::kLoginNotSetUp, MessageKind::error));
  assert_int_equal(f.store.writes, 0);
}

void unreadable_store_denies(void**) {
  Fixture f;
  f.store.fail_loads = Error{Errc::corrupt, "state file of root is corrupt (test)"};
  FakeSession session("root");
  assert_int_equal(f.login(session), PAM_AUTH_ERR);
  assert_true(session.prompts.empty());
  assert_true(session.told_text(kUnavailable, MessageKind::error));
  assert_true(session.logged("denied: state file of root is corrupt"));
}

// The directory down: a member of exempt_groups passes (PAM_IGNORE, with a warning), anyone
// else is denied, enrolled or not.
void unreachable_store(void**) {
  Fixture f;
  f.opener = [](const Config&) -> Result<std::unique_ptr<StateStore>> {
    return (valix::fail)(Errc::unreachable, "no directory could be used (test)");
  };
  const std::string conf = "exempt_groups = daemon\n";
  FakeSession exempt("daemon");
  assert_int_equal(f.login(exempt, conf), PAM_IGNORE);
  assert_true(exempt.logged("let through without a code: member of exempt_groups"));
  assert_true(exempt.told.empty());
  FakeSession other("root");
  assert_int_equal(f.login(other, conf), PAM_AUTH_ERR);
  assert_true(other.told_text(kUnavailable, MessageKind::error));
  // Any other store failure denies a member of exempt_groups too.
  f.opener = [](const Config&) -> Result<std::unique_ptr<StateStore>> {
    return (valix::fail)(Errc::io, "cannot open the state directory (test)");
  };
  FakeSession exempt_io("daemon");
  assert_int_equal(f.login(exempt_io, conf), PAM_AUTH_ERR);
  assert_true(exempt_io.told_text(kUnavailable, MessageKind::error));
}

// valix-admin reset between the login's read and its charge: the state changed
// (Errc::conflict), the login is denied with the unavailable message, nothing is written.
void state_removed_mid_login(void**) {
  Fixture f;
  f.enroll("root");
  f.store.before_update_at = 1;
  f.store.before_update = [&] {
    ASSERT_OK(f.store.update(
        StateKey{"root", 0},
        [](std::optional<UserState>&) -> Result<StateChange> { return StateChange::remove; }));
  };
  FakeSession session("root");
  session.answers = {code_at(kSecret, kNow)};
  assert_int_equal(f.login(session), PAM_AUTH_ERR);
  assert_true(session.told_text(kUnavailable, MessageKind::error));
  assert_true(session.logged("removed or reset during the login"));
  assert_false(f.store.load(StateKey{"root", 0})->has_value());
}

int setup(void**) {
  char dir[] = "/tmp/valix-module.XXXXXX";
  if (mkdtemp(dir) == nullptr) return -1;
  g_dir = dir;
  return 0;
}

int teardown(void**) { return std::system(("rm -rf '" + g_dir + "'").c_str()) == 0 ? 0 : -1; }

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(enrolled_right_code),
      cmocka_unit_test(enrolled_wrong_code),
      cmocka_unit_test(enrolled_replayed_code),
      cmocka_unit_test(locked_user),
      cmocka_unit_test(not_required_is_ignored),
      cmocka_unit_test(required_not_enrolled_denied),
      cmocka_unit_test(required_not_enrolled_enrolls),
      cmocka_unit_test(no_account_enrollment_refuses_every_code),
      cmocka_unit_test(abandoned_conversation),
      cmocka_unit_test(unreadable_store_denies),
      cmocka_unit_test(unreachable_store),
      cmocka_unit_test(state_removed_mid_login),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
