// The one enrollment flow, at login (pam_valix) and on a terminal (valix-enroll): a new
// pending secret, the screens (QR code, key, URI), then up to three codes checked with
// verify_new_secret. The flow stores nothing and changes no state: it returns the verified
// step (or why there is none), and the front end stores the enrollment its own way (at login
// inert until pam_setcred, keep_login_enrollment; valix-enroll at once, under its guard).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "error.hpp"
#include "secure.hpp"
#include "state.hpp"

namespace valix {

enum class Tone { info, error };

// How a front end shows text and asks for a line: the module over its PAM conversation,
// valix-enroll over the terminal.
class EnrollmentDialog {
 public:
  virtual ~EnrollmentDialog() = default;
  // Shows one screen of text. It may hold the secret: never log it.
  virtual void show(std::string_view text, Tone tone) = 0;
  // The QR code of uri as this front end draws it (it ends in a newline), "" for none: the
  // key and URI are shown anyway. An error ends the flow with that error.
  virtual Result<SecretString> qr_code(std::string_view uri) = 0;
  // One answer. Errc::no_answer when none comes (end of input, a failed conversation) ends
  // the flow as abandoned; any other error ends it with that error.
  virtual Result<SecretString> ask(std::string_view prompt) = 0;
};

enum class EnrollmentFront { login, tool };

struct EnrollmentFlow {
  EnrollmentFront front = EnrollmentFront::tool;
  std::string label;   // account_label(): what the app lists, and whom the tool's heading names
  std::string prompt;  // asked for each code
  // Seconds after the secret was made that a code may still confirm it; nullopt: no limit
  // but the dialog's own (a PAM conversation's).
  std::optional<std::int64_t> lifetime;
  // A login name with no account: the same screens, and every code refused, so the flow does
  // not reveal which accounts exist.
  bool refuse_every_code = false;
};

enum class EnrollmentEnd {
  verified,     // a code matched: first_step
  wrong_codes,  // kEnrollmentTries codes, none right (each but the last was told so)
  expired,      // a code came after flow.lifetime
  abandoned,    // no answer came (why)
};

struct EnrollmentResult {
  EnrollmentEnd end = EnrollmentEnd::abandoned;
  PendingEnrollment pending;     // the secret that was shown
  std::uint64_t first_step = 0;  // verified: the step its code matched
  std::string why;               // abandoned: why no answer came
};

// Runs the flow. clock is read for the new secret and again after each answer arrives.
// Errors: the CSPRNG, the QR code, the dialog (other than no_answer), the OTP check.
Result<EnrollmentResult> run_enrollment_flow(EnrollmentDialog& dialog, const Config& config,
                                             const EnrollmentFlow& flow,
                                             const std::function<std::int64_t()>& clock);

}  // namespace valix
