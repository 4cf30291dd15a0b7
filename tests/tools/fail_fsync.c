// valix_test_fail_fsync.so: an LD_PRELOAD shim that makes fsync() of a directory fail with EIO
// while VALIX_TEST_FAIL_DIR_FSYNC is set, as a failing disk may after a rename has already
// replaced a file. fsync() of anything else is passed on.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

int fsync(int fd) {
  struct stat st;
  if (getenv("VALIX_TEST_FAIL_DIR_FSYNC") != NULL && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    errno = EIO;
    return -1;
  }
  int (*next)(int);
  *(void**)&next = dlsym(RTLD_NEXT, "fsync");  // the dlsym(3) idiom for function pointers
  return next(fd);
}
