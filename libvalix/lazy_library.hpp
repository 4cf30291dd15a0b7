// Libraries that few logins need, loaded on first use instead of by the dynamic loader.
//
// sshd loads the PAM stack afresh for every connection, so every library pam_valix.so names in
// DT_NEEDED is mapped and relocated on every login. libcrypt is needed only when a backup code
// is typed or made, libqrencode only when a QR code is drawn; together they were about a fifth
// of the module's load cost (bench/ANALYSIS.md). libldap is needed only with store = ldap. OpenSSL
// stays a link-time dependency: every code check uses it.
#pragma once

#include <mutex>

#include "error.hpp"

namespace valix {

class LazyLibrary {
 public:
  // SONAME is looked up the way DT_NEEDED entries are (ld.so's search path: in a setuid
  // process LD_LIBRARY_PATH is ignored). It is fixed at build time from the library the
  // core was compiled against, so the ABI matches the declarations used.
  explicit constexpr LazyLibrary(const char* soname) noexcept : soname_(soname) {}
  LazyLibrary(const LazyLibrary&) = delete;
  LazyLibrary& operator=(const LazyLibrary&) = delete;

  // The address of function NAME, of type F. Loads the library on the first call (RTLD_NOW:
  // a missing symbol fails here, not in the middle of a call); it is never unloaded. A
  // failure is returned as Errc::io naming the library and dlerror()'s reason, and the
  // next call tries again. Thread-safe.
  template <class F>
  Result<F*> function(const char* name) {
    auto address = symbol(name);
    if (!address) return std::unexpected(address.error());
    return reinterpret_cast<F*>(*address);
  }

 private:
  Result<void*> symbol(const char* name);

  const char* soname_;
  std::mutex mutex_;
  void* handle_ = nullptr;
};

// The libraries the core loads lazily (sonames from the build, see libvalix/CMakeLists.txt).
LazyLibrary& libcrypt_library() noexcept;
LazyLibrary& libqrencode_library() noexcept;
// libldap: only with store = ldap, so that a host keeping state in files never maps it.
LazyLibrary& libldap_library() noexcept;

}  // namespace valix
