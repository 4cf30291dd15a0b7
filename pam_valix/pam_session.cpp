#include "pam_session.hpp"

#include <security/pam_ext.h>
#include <syslog.h>

#include <cstdlib>
#include <cstring>

namespace valix::pam {

void PamLogger::log(LogLevel level, std::string_view message) {
  if (level == LogLevel::debug && !verbose_) return;
  pam_syslog(pamh_, syslog_priority(level), "%.*s", static_cast<int>(message.size()),
             message.data());
}

Result<std::string> PamHandleSession::user() {
  const char* name = nullptr;
  const int rc = pam_get_user(pamh_, &name, nullptr);
  if (rc != PAM_SUCCESS || name == nullptr) {
    return fail(Errc::invalid, std::string("cannot get the user name: ") + pam_strerror(pamh_, rc));
  }
  return std::string(name);
}

std::string PamHandleSession::item(int item_type) {
  const void* value = nullptr;
  if (pam_get_item(pamh_, item_type, &value) != PAM_SUCCESS || value == nullptr) return "";
  return static_cast<const char*>(value);
}

Result<SecretString> PamHandleSession::ask(std::string_view prompt, Echo echo) {
  char* response = nullptr;
  const std::string text(prompt);
  const int rc = pam_prompt(pamh_, echo == Echo::off ? PAM_PROMPT_ECHO_OFF : PAM_PROMPT_ECHO_ON,
                            &response, "%s", text.c_str());
  if (rc != PAM_SUCCESS || response == nullptr) {
    std::free(response);
    return fail(Errc::invalid, std::string("conversation failed: ") + pam_strerror(pamh_, rc));
  }
  SecretString answer(response);
  wipe(response, std::strlen(response));
  std::free(response);
  return answer;
}

void PamHandleSession::tell(std::string_view text, MessageKind kind) {
  if (kind == MessageKind::info && quiet_ == Quiet::yes) return;
  const SecretString message(text);  // may carry a key or backup codes
  pam_prompt(pamh_, kind == MessageKind::error ? PAM_ERROR_MSG : PAM_TEXT_INFO, nullptr, "%s",
             message.c_str());
}

Result<std::optional<SecretString>> PamHandleSession::authtok() {
  const void* value = nullptr;
  if (pam_get_item(pamh_, PAM_AUTHTOK, &value) != PAM_SUCCESS) {
    return fail(Errc::invalid, "cannot read PAM_AUTHTOK");
  }
  if (value == nullptr) return std::optional<SecretString>{};
  return std::optional<SecretString>(SecretString(static_cast<const char*>(value)));
}

void PamHandleSession::fail_delay(std::chrono::milliseconds delay) {
  if (delay.count() > 0) pam_fail_delay(pamh_, static_cast<unsigned int>(delay.count() * 1000));
}

namespace {

constexpr const char* kDeferredEnrollmentKey = "valix_deferred_enrollment";

void delete_deferred_enrollment(pam_handle_t*, void* data, int) {
  delete static_cast<DeferredEnrollment*>(data);  // SecretBytes wipe the secret
}

}  // namespace

Result<void> PamHandleSession::defer_enrollment(DeferredEnrollment enrollment) {
  auto* kept = new DeferredEnrollment(std::move(enrollment));
  if (pam_set_data(pamh_, kDeferredEnrollmentKey, kept, delete_deferred_enrollment) !=
      PAM_SUCCESS) {
    delete kept;
    return fail(Errc::internal, "cannot keep the enrollment in the PAM transaction");
  }
  return {};
}

const DeferredEnrollment* PamHandleSession::deferred_enrollment() {
  const void* data = nullptr;
  if (pam_get_data(pamh_, kDeferredEnrollmentKey, &data) != PAM_SUCCESS) return nullptr;
  return static_cast<const DeferredEnrollment*>(data);
}

void PamHandleSession::forget_deferred_enrollment() {
  pam_set_data(pamh_, kDeferredEnrollmentKey, nullptr, nullptr);  // runs the old cleanup
}

}  // namespace valix::pam
