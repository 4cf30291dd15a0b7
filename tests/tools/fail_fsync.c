// valix_test_fail_fsync.so: an LD_PRELOAD shim that makes the sync that ends a durable state
// update fail with EIO while VALIX_TEST_FAIL_DIR_FSYNC is set, as a failing disk may once the
// new content is visible: fsync() of a directory (after a rename has replaced a file) and
// fdatasync() (after an in-place slot write; Valix calls it for nothing else). Its value N (a
// number, default 1) makes the Nth such sync of the process and every later one fail, so that
// earlier writes (a login's charge before the write under test) still succeed. fsync() of a
// file (a temp file before its rename) is passed on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long update_syncs;

static int failing(void) {
  const char* fail_from = getenv("VALIX_TEST_FAIL_DIR_FSYNC");
  if (fail_from == NULL) return 0;
  const long first_failing = atol(fail_from) > 0 ? atol(fail_from) : 1;
  return ++update_syncs >= first_failing;
}

int fsync(int fd) {
  struct stat st;
  if (getenv("VALIX_TEST_FAIL_DIR_FSYNC") != NULL && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) &&
      failing()) {
    errno = EIO;
    return -1;
  }
  int (*next)(int);
  *(void**)&next = dlsym(RTLD_NEXT, "fsync");  // the dlsym(3) idiom for function pointers
  return next(fd);
}

int fdatasync(int fd) {
  if (failing()) {
    errno = EIO;
    return -1;
  }
  int (*next)(int);
  *(void**)&next = dlsym(RTLD_NEXT, "fdatasync");
  return next(fd);
}
