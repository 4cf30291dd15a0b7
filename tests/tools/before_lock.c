// valix_test_before_lock.so: an LD_PRELOAD shim that runs the shell command in
// VALIX_TEST_BEFORE_LOCK just before the process's first exclusive flock(), then takes the
// lock as asked. It puts another writer's change into the window between a decision made
// without the lock and the update made under it, at a known moment. The variable is removed
// first, so the command (and anything it starts) runs without the hook.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>

int flock(int fd, int operation) {
  const char* command = getenv("VALIX_TEST_BEFORE_LOCK");
  if (command != NULL && (operation & LOCK_EX) != 0) {
    char* copy = strdup(command);
    unsetenv("VALIX_TEST_BEFORE_LOCK");
    if (copy == NULL || system(copy) != 0) {
      fprintf(stderr, "valix_test_before_lock: the command failed\n");
      abort();
    }
    free(copy);
  }
  int (*next)(int, int);
  *(void**)&next = dlsym(RTLD_NEXT, "flock");  // the dlsym(3) idiom for function pointers
  return next(fd, operation);
}
