#include "account_check.hpp"

#include <security/pam_appl.h>

#include <cstdio>

#include "i18n.hpp"
#include "outcome.hpp"

namespace valix::enroll {
namespace {

// PAM conversation for the account check: show messages, answer no prompts.
int account_conv(int n, const pam_message** messages, pam_response** responses, void*) {
  for (int i = 0; i < n; ++i) {
    if (messages[i]->msg_style != PAM_TEXT_INFO && messages[i]->msg_style != PAM_ERROR_MSG) {
      return PAM_CONV_ERR;
    }
    std::fprintf(stderr, "%s\n", messages[i]->msg);
  }
  *responses = nullptr;
  return PAM_SUCCESS;
}

}  // namespace

// The prerequisite: an account in good standing, signed in with a permanent password.
std::optional<int> check_account(const std::string& user) {
  const pam_conv conv{account_conv, nullptr};
  pam_handle_t* pamh = nullptr;
  int rc = pam_start("valix-enroll", user.c_str(), &conv, &pamh);
  if (rc == PAM_SUCCESS) rc = pam_acct_mgmt(pamh, PAM_SILENT);
  const std::string why = pamh != nullptr ? pam_strerror(pamh, rc) : tr("pam_start failed");
  if (pamh != nullptr) pam_end(pamh, rc);
  if (rc == PAM_SUCCESS) return std::nullopt;
  if (rc == PAM_NEW_AUTHTOK_REQD) {
    return refuse(
        tr("Your password is temporary or has expired. Run passwd to set a permanent password, "
           "then run valix-enroll again."));
  }
  // TRANSLATORS: {reason} is PAM's word for why the account check failed (pam_strerror).
  return refuse(
      fill(tr("your account cannot set up 2FA right now ({reason})."), {{"reason", why}}));
}

}  // namespace valix::enroll
