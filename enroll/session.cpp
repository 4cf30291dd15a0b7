#include "session.hpp"

#include <string_view>

#include "enrollment_texts.hpp"
#include "i18n.hpp"
#include "outcome.hpp"

namespace valix::enroll {
namespace {

std::string_view as_text(const SecretBytes& bytes) {
  return {reinterpret_cast<const char*>(bytes.span().data()), bytes.span().size()};
}

}  // namespace

SeenEnrollment seen_enrollment(const UserState& state) {
  if (!state.enrollment) return {};
  return {true, state.enrollment->secret.clone(), state.enrollment->enrolled_at};
}

Result<void> unchanged_since_seen(const std::optional<UserState>& current,
                                  const SeenEnrollment& seen) {
  const bool enrolled = current && current->enrollment;
  const bool same = enrolled == seen.enrolled &&
                    (!enrolled || (current->enrollment->enrolled_at == seen.enrolled_at &&
                                   constant_time_equal(as_text(current->enrollment->secret),
                                                       as_text(seen.secret))));
  if (same) return {};
  return fail_said(Errc::conflict, texts::kToolChangedMeanwhile);
}

int refused_change(const Error& error) {
  const bool users = error.code == Errc::invalid || error.code == Errc::not_found;
  return users && !error.shown.empty() ? refuse(shown_message(error)) : failed(error);
}

}  // namespace valix::enroll
