// valix_test_nss_alias.so: an LD_PRELOAD shim that makes the name service accept other
// spellings of account names, as SSSD (case_sensitive = false, user@domain) or winbind do:
// VALIX_TEST_NSS_ALIASES="ALIAS=NAME:ALIAS=NAME..." makes getpwnam(ALIAS) and getpwnam_r(ALIAS)
// answer with NAME's passwd entry (whose pw_name is NAME). Every other lookup is passed on
// (to nss_wrapper in the integration tests), so it must be preloaded before it.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>

// The account name ALIAS stands for, copied into out; NULL when name is no alias.
static const char* alias_target(const char* name, char* out, size_t size) {
  const char* list = getenv("VALIX_TEST_NSS_ALIASES");
  if (name == NULL || list == NULL) return NULL;
  const size_t length = strlen(name);
  for (const char* entry = list; *entry != '\0';) {
    const char* end = strchr(entry, ':');
    const size_t entry_length = end != NULL ? (size_t)(end - entry) : strlen(entry);
    const char* equals = memchr(entry, '=', entry_length);
    if (equals != NULL && (size_t)(equals - entry) == length && strncmp(entry, name, length) == 0) {
      const size_t target_length = entry_length - length - 1;
      if (target_length + 1 > size) return NULL;
      memcpy(out, equals + 1, target_length);
      out[target_length] = '\0';
      return out;
    }
    if (end == NULL) break;
    entry = end + 1;
  }
  return NULL;
}

int getpwnam_r(const char* name, struct passwd* pwd, char* buf, size_t buflen,
               struct passwd** result) {
  char target[256];
  const char* lookup = alias_target(name, target, sizeof target);
  int (*next)(const char*, struct passwd*, char*, size_t, struct passwd**);
  *(void**)&next = dlsym(RTLD_NEXT, "getpwnam_r");  // the dlsym(3) idiom for function pointers
  return next(lookup != NULL ? lookup : name, pwd, buf, buflen, result);
}

struct passwd* getpwnam(const char* name) {
  char target[256];
  const char* lookup = alias_target(name, target, sizeof target);
  struct passwd* (*next)(const char*);
  *(void**)&next = dlsym(RTLD_NEXT, "getpwnam");
  return next(lookup != NULL ? lookup : name);
}
