// The one enrollment flow (enrollment_flow.hpp) through a scripted dialog: the screens, up to
// three codes, the verified step or why there is none. It stores nothing.
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "base32.hpp"
#include "enrollment_flow.hpp"
#include "enrollment_texts.hpp"
#include "otp.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

constexpr std::int64_t kNow = 1'700'000'010;

// Answers: a code; "right" for the current code of the key shown; nullopt for no answer.
class ScriptedDialog final : public EnrollmentDialog {
 public:
  void show(std::string_view text, Tone tone) override {
    shown.emplace_back(std::string(text), tone);
  }
  Result<SecretString> qr_code(std::string_view uri) override {
    qr_for = std::string(uri);
    return SecretString("[QR]\n");
  }
  Result<SecretString> ask(std::string_view prompt) override {
    prompts.emplace_back(prompt);
    if (answers.empty()) return (valix::fail)(Errc::internal, "no answer scripted");
    auto next = answers.front();
    answers.pop_front();
    if (!next) return (valix::fail)(Errc::no_answer, "conversation failed");
    if (*next == "right") return current_code();
    if (*next == "error") return (valix::fail)(Errc::io, "the terminal went away");
    return SecretString(*next);
  }

  // The key from the second screen, as the user would type it into an app.
  SecretString current_code() const {
    const std::string& screen = shown.at(1).first;
    const auto from = screen.find(texts::kKeyByHand) + std::string_view(texts::kKeyByHand).size();
    std::string key;
    for (auto i = from; i < screen.size() && screen[i] != '\n'; ++i)
      if (screen[i] != ' ') key.push_back(screen[i]);
    auto secret = base32_decode(key);
    if (!secret) fail_msg("%s", secret.error().message.c_str());
    auto code = hotp(secret->span(), totp_step(kNow, 30), OtpParameters{});
    if (!code) fail_msg("%s", code.error().message.c_str());
    return std::move(*code);
  }

  int errors_shown() const {
    int n = 0;
    for (const auto& [text, tone] : shown) n += tone == Tone::error ? 1 : 0;
    return n;
  }

  std::deque<std::optional<std::string>> answers;
  std::vector<std::pair<std::string, Tone>> shown;
  std::vector<std::string> prompts;
  std::string qr_for;
};

EnrollmentFlow login_flow() {
  return EnrollmentFlow{EnrollmentFront::login, "alice@host", "Verification code: ", std::nullopt,
                        false};
}

Result<EnrollmentResult> run(ScriptedDialog& dialog, const EnrollmentFlow& flow,
                             std::int64_t answered_at = kNow) {
  Config config;
  config.issuer = "Valix Test";
  std::int64_t calls = 0;
  // The secret is made at kNow; every answer arrives at answered_at.
  return run_enrollment_flow(dialog, config, flow,
                             [&] { return calls++ < 1 ? kNow : answered_at; });
}

void screens_then_a_right_code(void**) {
  ScriptedDialog dialog;
  dialog.answers = {"000000", "right"};
  auto result = run(dialog, login_flow());
  ASSERT_OK(result);
  assert_true(result->end == EnrollmentEnd::verified);
  assert_int_equal(result->first_step, totp_step(kNow, 30));
  // The QR code of the URI that the second screen shows, for the secret returned.
  assert_true(dialog.qr_for.starts_with("otpauth://totp/Valix%20Test:alice@host?secret="));
  const std::string& scan = dialog.shown.at(0).first;
  assert_true(scan.starts_with(texts::kLoginIntro));
  assert_true(scan.find(texts::kScanStep) != std::string::npos);
  assert_true(scan.ends_with("[QR]\n"));
  const std::string& key = dialog.shown.at(1).first;
  assert_true(key.find("Setup URI: " + dialog.qr_for) != std::string::npos);
  assert_true(key.find("6-digit code that refreshes every 30 seconds") != std::string::npos);
  // One wrong code told, with the tries left; the prompt asked twice.
  assert_int_equal(dialog.errors_shown(), 1);
  assert_string_equal(dialog.shown.at(2).first.c_str(), texts::wrong_code(2).c_str());
  assert_int_equal(dialog.prompts.size(), 2);
  assert_string_equal(dialog.prompts[0].c_str(), "Verification code: ");
}

void three_wrong_codes(void**) {
  ScriptedDialog dialog;
  dialog.answers = {"000000", "111111", "222222", "right"};
  auto result = run(dialog, login_flow());
  ASSERT_OK(result);
  assert_true(result->end == EnrollmentEnd::wrong_codes);
  assert_int_equal(dialog.prompts.size(), 3);  // never a fourth
  assert_int_equal(dialog.errors_shown(), 2);  // the last one is the front end's to tell
  assert_string_equal(dialog.shown.back().first.c_str(), texts::wrong_code(1).c_str());
  assert_true(texts::wrong_code(1).ends_with("(1 try left)."));
}

void tool_screens(void**) {
  ScriptedDialog dialog;
  dialog.answers = {"right"};
  auto flow = login_flow();
  flow.front = EnrollmentFront::tool;
  flow.prompt = texts::tool_code_prompt(6);
  flow.lifetime = 3600;
  auto result = run(dialog, flow);
  ASSERT_OK(result);
  assert_true(result->end == EnrollmentEnd::verified);
  assert_true(dialog.shown.at(0).first.starts_with(
      "Set up two-factor authentication (2FA) for alice@host\n\n"));
  assert_string_equal(dialog.prompts.at(0).c_str(),
                      "Enter the 6-digit code from your authenticator app: ");
  assert_int_equal(result->pending.expires_at, kNow + 3600);
}

// A name with no account at login: the same screens and prompts, and even the right code is
// refused.
void no_account_sees_the_same_and_every_code_is_refused(void**) {
  ScriptedDialog real, ghost;
  real.answers = {"000000", "111111", "right"};
  ghost.answers = real.answers;
  auto flow = login_flow();
  ASSERT_OK(run(real, flow));
  flow.refuse_every_code = true;
  auto refused = run(ghost, flow);
  ASSERT_OK(refused);
  assert_true(refused->end == EnrollmentEnd::wrong_codes);
  assert_int_equal(ghost.prompts.size(), 3);
  assert_int_equal(ghost.shown.size(), real.shown.size());
  for (std::size_t i = 0; i < ghost.shown.size(); ++i) {
    assert_true(ghost.shown[i].second == real.shown[i].second);
  }
  assert_true(ghost.shown[0].first.starts_with(texts::kLoginIntro));
}

void abandoned_and_errors(void**) {
  ScriptedDialog gone;
  gone.answers = {"000000", std::nullopt};
  auto abandoned = run(gone, login_flow());
  ASSERT_OK(abandoned);
  assert_true(abandoned->end == EnrollmentEnd::abandoned);
  assert_string_equal(abandoned->why.c_str(), "conversation failed");
  // Any other error of the dialog is the flow's error: the front end reports it as one.
  ScriptedDialog broken;
  broken.answers = {"error"};
  auto failed = run(broken, login_flow());
  assert_false(failed.has_value());
  assert_true(failed.error().code == Errc::io);
}

// With a lifetime, a code that comes after it is refused however right it is.
void a_late_code_is_expired(void**) {
  ScriptedDialog dialog;
  dialog.answers = {"right"};
  auto flow = login_flow();
  flow.lifetime = 60;
  auto result = run(dialog, flow, kNow + 61);
  ASSERT_OK(result);
  assert_true(result->end == EnrollmentEnd::expired);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(screens_then_a_right_code),
      cmocka_unit_test(three_wrong_codes),
      cmocka_unit_test(tool_screens),
      cmocka_unit_test(no_account_sees_the_same_and_every_code_is_refused),
      cmocka_unit_test(abandoned_and_errors),
      cmocka_unit_test(a_late_code_is_expired),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
