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

Result<bool> enrollment_is(const std::optional<UserState>& current, std::string_view fingerprint) {
  auto now =
      enrollment_fingerprint(current && current->enrollment ? &*current->enrollment : nullptr);
  if (!now) return std::unexpected(now.error());
  return constant_time_equal(*now, fingerprint);
}

Result<void> unchanged_since_seen(const std::optional<UserState>& current,
                                  const SeenEnrollment& seen) {
  auto same = enrollment_is(current, seen.fingerprint);
  if (!same) return std::unexpected(same.error());
  if (*same) return {};
  return fail_said(Errc::conflict, texts::kToolChangedMeanwhile);
}

int refused_change(const Error& error) {
  const bool users = error.code == Errc::invalid || error.code == Errc::not_found;
  return users && !error.shown.empty() ? refuse(shown_message(error)) : failed(error);
}

}  // namespace valix::enroll
