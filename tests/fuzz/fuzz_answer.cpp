// The answer a user types, classified and checked against a fixed enrolled state at a fixed
// clock: as_totp_code, normalize_backup_code and verify_answer. Never crashes, leaks or
// hangs, and the security properties hold for every input:
//  - accepted only as a TOTP code of the enrolled length or as a backup-code shape;
//  - an accepted answer given again is refused (replay watermark, single-use backup codes);
//  - a refused answer counts one failure, against its shape's limit, and changes nothing else.
// The seeds hold the right codes for the fixed clock, so the accepting paths are reached.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "auth.hpp"
#include "backup_codes.hpp"
#include "base32.hpp"
#include "fuzz_check.hpp"

namespace {

constexpr std::int64_t kNow = 1'700'000'000;  // step 56666666 of 30 s
// Backup codes of the fixed state (canonical form; typed forms vary in case and hyphens).
constexpr std::string_view kBackupCodes[] = {"7k2mq-9xj4p", "abcde-fghjk", "x0y1z-2m3n4"};

valix::UserState make_state() {
  valix::UserState state;
  valix::Enrollment enrollment;
  auto secret = valix::base32_decode("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  FUZZ_CHECK(secret.has_value());
  enrollment.secret = std::move(*secret);
  enrollment.enrolled_at = kNow - 86400;
  // The previous step is already used: its code is a replay, the current and next are not.
  enrollment.last_step = valix::totp_step(kNow, 30) - 1;
  std::vector<valix::SecretString> codes;
  for (const auto code : kBackupCodes) codes.emplace_back(code);
  auto hashes = valix::hash_backup_codes(codes);
  FUZZ_CHECK(hashes.has_value());
  enrollment.backup = std::move(*hashes);
  state.enrollment = std::move(enrollment);
  return state;
}

int enrolled_digits();

const valix::UserState& fixed_state() {
  static const valix::UserState state = make_state();
  return state;
}

int enrolled_digits() { return fixed_state().enrollment->otp.digits; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view answer(reinterpret_cast<const char*>(data), size);
  const valix::Config config;  // window 1, max_failures 5

  for (const int digits : {6, 8}) {
    if (const auto code = valix::as_totp_code(answer, digits)) {
      FUZZ_CHECK(code->size() == static_cast<std::size_t>(digits));
      FUZZ_CHECK(code->find_first_not_of("0123456789") == std::string_view::npos);
    }
  }
  if (const auto canonical = valix::normalize_backup_code(answer)) {
    FUZZ_CHECK(canonical->size() == valix::kBackupCodeLength);
  }

  const valix::UserState& before = fixed_state();
  valix::UserState state = before.clone();
  auto verdict = valix::verify_answer(state, answer, kNow, config);
  FUZZ_CHECK(verdict.has_value());
  const auto& old_enrollment = *before.enrollment;
  const auto& enrollment = *state.enrollment;

  if (!verdict->accepted()) {
    // One failure, counted against the limit of the answer's shape (backup codes have their
    // own).
    const bool backup = verdict->shape == valix::AnswerShape::backup;
    FUZZ_CHECK(verdict->shape == valix::answer_shape(answer, enrolled_digits()));
    FUZZ_CHECK(state.failures == before.failures + (backup ? 0 : 1));
    FUZZ_CHECK(state.backup_failures == before.backup_failures + (backup ? 1 : 0));
    FUZZ_CHECK(enrollment.last_step == old_enrollment.last_step);
    FUZZ_CHECK(enrollment.backup.hashes == old_enrollment.backup.hashes);
    return 0;
  }

  FUZZ_CHECK(state.failures == 0 && state.backup_failures == 0 && state.last_login == kNow);
  if (verdict->outcome == valix::Outcome::totp_accepted) {
    FUZZ_CHECK(valix::as_totp_code(answer, enrollment.otp.digits).has_value());
    FUZZ_CHECK(enrollment.last_step > old_enrollment.last_step);
    FUZZ_CHECK(enrollment.backup.hashes == old_enrollment.backup.hashes);
  } else {
    FUZZ_CHECK(verdict->outcome == valix::Outcome::backup_accepted);
    FUZZ_CHECK(enrollment.backup.hashes.size() + 1 == old_enrollment.backup.hashes.size());
    FUZZ_CHECK(enrollment.last_step == old_enrollment.last_step);
  }
  auto again = valix::verify_answer(state, answer, kNow, config);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(!again->accepted());
  return 0;
}
