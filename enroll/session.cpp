#include "session.hpp"

#include <string_view>

#include "enrollment_texts.hpp"
#include "i18n.hpp"
#include "outcome.hpp"

namespace valix::enroll {

SeenEnrollment seen_enrollment(const UserState& state) {
  auto fingerprint = enrollment_fingerprint(state.enrollment ? &*state.enrollment : nullptr);
  // Without a digest (OpenSSL failed) nothing matches what was seen: the change is refused.
  return {fingerprint ? std::move(*fingerprint) : std::string("unavailable")};
}

Result<void> unchanged_since_seen(const std::optional<UserState>& current,
                                  const SeenEnrollment& seen) {
  auto fingerprint =
      enrollment_fingerprint(current && current->enrollment ? &*current->enrollment : nullptr);
  if (!fingerprint) return std::unexpected(fingerprint.error());
  if (constant_time_equal(*fingerprint, seen.fingerprint)) return {};
  return fail_said(Errc::conflict, texts::kToolChangedMeanwhile);
}

int refused_change(const Error& error) {
  const bool users = error.code == Errc::invalid || error.code == Errc::not_found;
  return users && !error.shown.empty() ? refuse(shown_message(error)) : failed(error);
}

}  // namespace valix::enroll
