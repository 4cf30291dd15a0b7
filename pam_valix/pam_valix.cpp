// The module's C ABI. Thin on purpose: no exception may cross into libpam, and any that
// reaches here (only std::bad_alloc is expected) denies the login.
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <syslog.h>

#include "module.hpp"

extern "C" {

__attribute__((visibility("default"))) int pam_sm_authenticate(pam_handle_t* pamh, int flags,
                                                               int argc, const char** argv) {
  try {
    return valix::pam::authenticate_entry(pamh, flags, argc, argv);
  } catch (...) {
    pam_syslog(pamh, LOG_CRIT, "denied: unexpected internal error");
    return PAM_AUTH_ERR;
  }
}

__attribute__((visibility("default"))) int pam_sm_setcred(pam_handle_t* pamh, int flags, int argc,
                                                          const char** argv) {
  try {
    return valix::pam::setcred_entry(pamh, flags, argc, argv);
  } catch (...) {
    return PAM_CRED_ERR;
  }
}

}  // extern "C"
