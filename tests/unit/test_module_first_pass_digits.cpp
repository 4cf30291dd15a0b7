// pam_valix's try_first_pass takes the earlier module's password as the answer when it looks
// like a code of any of the user's authenticators. It once looked at the first authenticator's
// length only: a user whose code came from an 8-digit further authenticator (the first shows
// 6 digits) was asked again, and where there is no second prompt (a VPN or RADIUS front end
// with one password field, a script) could not log in at all.
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

#include "enrollment.hpp"
#include "memory_store.hpp"
#include "module.hpp"
#include "otp.hpp"
#include "unit.hpp"

using namespace valix;
using namespace valix::pam;

namespace {

const std::int64_t kNow = static_cast<std::int64_t>(std::time(nullptr));
constexpr std::string_view kFirst = "12345678901234567890";
constexpr std::string_view kToken = "abcdefghijabcdefghij";
std::string g_dir;

std::string code_at(std::string_view secret, std::int64_t t, int digits) {
  OtpParameters p;
  p.digits = digits;
  auto code = hotp(bytes_of(secret).span(), totp_step(t, 30), p);
  if (!code) fail_msg("%s", code.error().message.c_str());
  return std::string(code->view());
}

class NullLogger final : public Logger {
 public:
  void log(LogLevel, std::string_view) override {}
};

// An earlier module collected `authtok`; this module's own prompt is never answered.
class FirstPassSession final : public PamSession {
 public:
  explicit FirstPassSession(std::string token) : token_(std::move(token)) {}
  Result<std::string> user() override { return std::string("root"); }
  std::string item(int item_type) override { return item_type == PAM_SERVICE ? "login" : ""; }
  Result<SecretString> ask(std::string_view, Echo) override {
    ++prompts;
    return (valix::fail)(Errc::no_answer, "no second prompt (test)");
  }
  void tell(std::string_view, MessageKind) override {}
  Result<std::optional<SecretString>> authtok() override {
    return std::optional<SecretString>(SecretString(token_));
  }
  void fail_delay(std::chrono::milliseconds) override {}
  Logger& logger() override { return logger_; }
  Result<void> set_env(std::string_view, std::string_view) override { return {}; }
  std::optional<SecretString> env(std::string_view) override { return std::nullopt; }
  void unset_env(std::string_view) override {}
  int prompts = 0;

 private:
  std::string token_;
  NullLogger logger_;
};

Result<ModuleOptions> first_pass_options() {
  const std::string path = g_dir + "/valix.conf";
  {
    std::ofstream out(path, std::ios::trunc);
    out << "state_dir = " << g_dir << "\nfail_delay_ms = 0\nissuer = Valix Test\n";
  }
  chmod(path.c_str(), 0600);
  const std::string arg = "config=" + path;
  const char* argv[] = {arg.c_str(), "try_first_pass"};
  return parse_module_options(argv);
}

int login(MemoryStore& store, FirstPassSession& session) {
  StoreOpener opener = [&](const Config&) -> Result<std::unique_ptr<StateStore>> {
    return BorrowedStore::of(store);
  };
  return authenticate(
      session, first_pass_options(), [] { return kNow; }, opener);
}

void enroll(MemoryStore& store) {
  UserState state;
  state.enrollment = enrollment_of(bytes_of(kFirst), OtpParameters{}, kNow - 1000, 0);
  state.enrollment->backup.setting = "$y$j9T$abcdefghijklmnopqrstuv";
  Authenticator token;
  token.name = "token8";
  token.secret = bytes_of(kToken);
  token.otp.digits = 8;
  token.enrolled_at = kNow - 10;
  ASSERT_OK(add_authenticator(*state.enrollment, std::move(token)));
  store.put("root", state);
}

// Control: the first authenticator's 6-digit code as the earlier module's password.
void first_pass_code_of_the_first_authenticator(void**) {
  MemoryStore store;
  enroll(store);
  FirstPassSession session(code_at(kFirst, kNow, 6));
  assert_int_equal(login(store, session), PAM_SUCCESS);
  assert_int_equal(session.prompts, 0);
}

void first_pass_code_of_a_further_8_digit_authenticator(void**) {
  MemoryStore store;
  enroll(store);
  FirstPassSession session(code_at(kToken, kNow, 8));
  const int result = login(store, session);
  assert_int_equal(session.prompts, 0);  // once: asked again
  assert_int_equal(result, PAM_SUCCESS);
}

int setup(void**) {
  char dir[] = "/tmp/valix-review-module.XXXXXX";
  if (mkdtemp(dir) == nullptr) return -1;
  g_dir = dir;
  return 0;
}

int teardown(void**) { return std::system(("rm -rf '" + g_dir + "'").c_str()) == 0 ? 0 : -1; }

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(first_pass_code_of_the_first_authenticator),
      cmocka_unit_test(first_pass_code_of_a_further_8_digit_authenticator),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
