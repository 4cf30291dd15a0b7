// valix_test_fail_dlopen.so: an LD_PRELOAD shim that makes dlopen() fail for the file names
// listed (colon-separated) in VALIX_TEST_FAIL_DLOPEN, as if the library were not installed,
// so the tests can show that a login which needs a missing library is denied cleanly and one
// that does not need it is unaffected. Every other dlopen() is passed on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

static __thread int failed_here;

static int listed(const char* file) {
  const char* list = getenv("VALIX_TEST_FAIL_DLOPEN");
  if (file == NULL || list == NULL) return 0;
  const size_t length = strlen(file);
  for (const char* entry = list; *entry != '\0';) {
    const char* end = strchr(entry, ':');
    const size_t entry_length = end != NULL ? (size_t)(end - entry) : strlen(entry);
    if (entry_length == length && strncmp(entry, file, length) == 0) return 1;
    if (end == NULL) break;
    entry = end + 1;
  }
  return 0;
}

void* dlopen(const char* file, int mode) {
  if (listed(file)) {
    failed_here = 1;
    return NULL;
  }
  void* (*next)(const char*, int);
  *(void**)&next = dlsym(RTLD_NEXT, "dlopen");  // the dlsym(3) idiom for function pointers
  return next(file, mode);
}

char* dlerror(void) {
  char* (*next)(void);
  *(void**)&next = dlsym(RTLD_NEXT, "dlerror");
  if (failed_here) {
    failed_here = 0;
    next();  // clears any earlier message, as a real failure would have replaced it
    static char message[] = "cannot open shared object file: No such file or directory (test)";
    return message;
  }
  return next();
}
