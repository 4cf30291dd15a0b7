#include "enrollment_flow.hpp"

#include "auth.hpp"
#include "enrollment.hpp"
#include "enrollment_texts.hpp"

namespace valix {

Result<EnrollmentResult> run_enrollment_flow(EnrollmentDialog& dialog, const Config& config,
                                             const EnrollmentFlow& flow,
                                             const std::function<std::int64_t()>& clock) {
  EnrollmentResult result;
  const std::int64_t made_at = clock();
  auto pending = new_pending_enrollment(config, made_at);
  if (!pending) return std::unexpected(pending.error());
  if (flow.lifetime) pending->expires_at = made_at + *flow.lifetime;
  result.pending = std::move(*pending);
  const PendingEnrollment& shown = result.pending;
  const SecretString uri = otpauth_uri(issuer_name(config), flow.label, shown.secret, shown.otp);

  auto qr = dialog.qr_code(uri.view());
  if (!qr) return std::unexpected(qr.error());
  const std::string intro = flow.front == EnrollmentFront::login
                                ? std::string(tr(texts::kLoginIntro))
                                : texts::tool_intro(flow.label);
  SecretString scan;  // the QR code encodes the secret
  const std::string_view scan_step = tr(texts::kScanStep);
  scan.str().reserve(intro.size() + scan_step.size() + qr->size());  // never reallocated
  scan.str().append(intro).append(scan_step).append(qr->view());
  dialog.show(scan.view(), Tone::info);

  const SecretString grouped = grouped_secret(shown.secret);
  const std::string step = texts::code_step(shown.otp.digits, shown.otp.period);
  SecretString key;
  const std::string_view by_hand = tr(texts::kKeyByHand);
  const std::string_view setup_uri = tr(texts::kSetupUri);
  key.str().reserve(by_hand.size() + grouped.size() + setup_uri.size() + uri.size() +
                    step.size());  // never reallocated
  key.str()
      .append(by_hand)
      .append(grouped.view())
      .append(setup_uri)
      .append(uri.view())
      .append(step);
  dialog.show(key.view(), Tone::info);

  for (int attempt = 1; attempt <= kEnrollmentTries; ++attempt) {
    auto answer = dialog.ask(flow.prompt);
    if (!answer) {
      if (answer.error().code != Errc::no_answer) return std::unexpected(answer.error());
      result.end = EnrollmentEnd::abandoned;
      result.why = answer.error().message;
      return result;
    }
    const std::int64_t now = clock();  // after the answer arrived: typing takes a while
    if (flow.lifetime && now > shown.expires_at) {
      result.end = EnrollmentEnd::expired;
      return result;
    }
    auto match = verify_new_secret(shown.secret, shown.otp, answer->view(), now, config.window);
    if (!match) return std::unexpected(match.error());
    if (*match && !flow.refuse_every_code) {
      result.end = EnrollmentEnd::verified;
      result.first_step = **match;
      return result;
    }
    if (attempt < kEnrollmentTries) {
      dialog.show(texts::wrong_code(kEnrollmentTries - attempt), Tone::error);
    }
  }
  result.end = EnrollmentEnd::wrong_codes;
  return result;
}

}  // namespace valix
