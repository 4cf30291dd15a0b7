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
    // The application may have asked for the name, and the conversation failed.
    const bool unanswered = rc == PAM_CONV_ERR || rc == PAM_CONV_AGAIN;
    return fail(unanswered ? Errc::no_answer : Errc::invalid,
                std::string("cannot get the user name: ") + pam_strerror(pamh_, rc));
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
    return fail(Errc::no_answer, std::string("conversation failed: ") + pam_strerror(pamh_, rc));
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

Result<void> PamHandleSession::set_env(std::string_view name, std::string_view value) {
  SecretString entry;
  entry.str().reserve(name.size() + value.size() + 2);
  entry.str().append(name).append("=").append(value);
  if (pam_putenv(pamh_, entry.c_str()) != PAM_SUCCESS) {
    return fail(Errc::internal, "cannot set " + std::string(name) + " in the PAM environment");
  }
  return {};
}

std::optional<SecretString> PamHandleSession::env(std::string_view name) {
  const std::string key(name);
  const char* value = pam_getenv(pamh_, key.c_str());
  if (value == nullptr) return std::nullopt;
  return SecretString(value);
}

void PamHandleSession::unset_env(std::string_view name) {
  const std::string key(name);
  // libpam logs an error for removing a variable that is not set: every login would.
  if (pam_getenv(pamh_, key.c_str()) == nullptr) return;
  pam_putenv(pamh_, key.c_str());  // a name without '=' removes it
}

}  // namespace valix::pam
