/* Test-only PAM module for the item hand-over between modules (auth) and for account checks:
 *   set=VALUE     sets PAM_AUTHTOK to VALUE and succeeds (an "earlier module" that collected it)
 *   expect=VALUE  succeeds only when PAM_AUTHTOK equals VALUE (a "later module" that checks it)
 *   rhost=VALUE   sets PAM_RHOST to VALUE and succeeds (what a network service's client names)
 * Never install this anywhere. */
#include <security/pam_modules.h>
#include <string.h>

int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)flags;
  for (int i = 0; i < argc; ++i) {
    if (strncmp(argv[i], "set=", 4) == 0) {
      return pam_set_item(pamh, PAM_AUTHTOK, argv[i] + 4) == PAM_SUCCESS ? PAM_SUCCESS
                                                                         : PAM_AUTH_ERR;
    }
    if (strncmp(argv[i], "rhost=", 6) == 0) {
      return pam_set_item(pamh, PAM_RHOST, argv[i] + 6) == PAM_SUCCESS ? PAM_SUCCESS : PAM_AUTH_ERR;
    }
    if (strncmp(argv[i], "expect=", 7) == 0) {
      const void *token = NULL;
      if (pam_get_item(pamh, PAM_AUTHTOK, &token) != PAM_SUCCESS || token == NULL)
        return PAM_AUTH_ERR;
      return strcmp((const char *)token, argv[i] + 7) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
    }
  }
  return PAM_AUTH_ERR;
}

int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)pamh;
  (void)flags;
  (void)argc;
  (void)argv;
  return PAM_SUCCESS;
}

/* account: acct=success|new_authtok|expired (the outcome valix-enroll's check must handle). */
int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv) {
  (void)pamh;
  (void)flags;
  for (int i = 0; i < argc; ++i) {
    if (strcmp(argv[i], "acct=success") == 0) return PAM_SUCCESS;
    if (strcmp(argv[i], "acct=new_authtok") == 0) return PAM_NEW_AUTHTOK_REQD;
    if (strcmp(argv[i], "acct=expired") == 0) return PAM_ACCT_EXPIRED;
  }
  return PAM_PERM_DENIED;
}
