#include "lazy_library.hpp"

#include <dlfcn.h>

#include <string>

namespace valix {

Result<void*> LazyLibrary::symbol(const char* name) {
  const std::lock_guard lock(mutex_);
  if (handle_ == nullptr) {
    // RTLD_LOCAL: its symbols do not become visible to the rest of the host process.
    handle_ = dlopen(soname_, RTLD_NOW | RTLD_LOCAL);
    if (handle_ == nullptr) {
      const char* reason = dlerror();
      return fail(Errc::io, std::string("cannot load ") + soname_ + ": " +
                                (reason != nullptr ? reason : "unknown error"));
    }
  }
  dlerror();
  void* address = dlsym(handle_, name);
  if (address == nullptr) {
    const char* reason = dlerror();
    return fail(Errc::io, std::string("cannot find ") + name + " in " + soname_ + ": " +
                              (reason != nullptr ? reason : "null symbol"));
  }
  return address;
}

LazyLibrary& libcrypt_library() noexcept {
  static LazyLibrary library(VALIX_LIBCRYPT_SONAME);
  return library;
}

LazyLibrary& libldap_library() noexcept {
  static LazyLibrary library(VALIX_LIBLDAP_SONAME);
  return library;
}

LazyLibrary& libqrencode_library() noexcept {
  static LazyLibrary library(VALIX_LIBQRENCODE_SONAME);
  return library;
}

}  // namespace valix
