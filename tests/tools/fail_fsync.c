// valix_test_fail_fsync.so: an LD_PRELOAD shim that makes fsync() of a directory fail with EIO
// while VALIX_TEST_FAIL_DIR_FSYNC is set, as a failing disk may after a rename has already
// replaced a file. Its value N (a number, default 1) makes the Nth directory fsync of the
// process and every later one fail, so that earlier writes (a login's charge before the write
// under test) still succeed. fsync() of anything else is passed on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static long directory_fsyncs;

int fsync(int fd) {
  const char* fail_from = getenv("VALIX_TEST_FAIL_DIR_FSYNC");
  struct stat st;
  if (fail_from != NULL && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    const long first_failing = atol(fail_from) > 0 ? atol(fail_from) : 1;
    if (++directory_fsyncs >= first_failing) {
      errno = EIO;
      return -1;
    }
  }
  int (*next)(int);
  *(void**)&next = dlsym(RTLD_NEXT, "fsync");  // the dlsym(3) idiom for function pointers
  return next(fd);
}
