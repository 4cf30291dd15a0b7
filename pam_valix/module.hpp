// pam_valix's logic, called by the extern "C" shim in pam_valix.cpp.
#pragma once

#include <security/pam_modules.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>

#include "options.hpp"
#include "pam_session.hpp"
#include "store.hpp"

namespace valix::pam {

// Unix time, read each time a code is checked (a prompt may take minutes to answer).
using Clock = std::function<std::int64_t()>;

// Opens the store valix.conf names. The module's is open_state_store with the module's euid as
// the store's owner (open_module_store); unit tests give one of their own.
using StoreOpener = std::function<Result<std::unique_ptr<StateStore>>(const Config&)>;
Result<std::unique_ptr<StateStore>> open_module_store(const Config& config);

// The whole of pam_sm_authenticate. Returns PAM_SUCCESS only for a verified code (or a
// completed in-login enrollment), PAM_IGNORE only for a user whom policy does not require to
// use 2FA and who is not enrolled, and PAM_AUTH_ERR for everything else, internal errors
// included. May throw std::bad_alloc; the shim turns any exception into PAM_AUTH_ERR.
int authenticate(PamSession& session, const Result<ModuleOptions>& options, const Clock& clock,
                 const StoreOpener& open_store = open_module_store);

// The part of pam_sm_setcred after a successful authentication: installs the enrollment that
// authentication made at login and kept inert in the state, if this transaction holds its
// token (in the PAM environment), unless flags is PAM_DELETE_CRED. PAM_SUCCESS when installed,
// PAM_IGNORE when there is none to install, PAM_CRED_ERR when it cannot be installed (another login
// enrolled first or replaced it, it expired, the store failed): the application then ends the
// login.
int establish_credentials(PamSession& session, const Result<ModuleOptions>& options, int flags,
                          const StoreOpener& open_store = open_module_store);

// Entry points for the shim: parse argv, build the session, run, record the result for
// pam_sm_setcred.
int authenticate_entry(pam_handle_t* pamh, int flags, int argc, const char** argv);
int setcred_entry(pam_handle_t* pamh, int flags, int argc, const char** argv);

}  // namespace valix::pam
