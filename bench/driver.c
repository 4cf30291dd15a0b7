// valix-bench-driver: performs PAM logins for valix-bench and times them.
//
// It links libpam and libc only, so every module under test loads its own dependencies
// (libcrypto, liboath, ...) just as it would inside a freshly forked sshd. valix-bench computes
// the codes and hands them over in a list file, one "USER ANSWER" line per login.
//
//   valix-bench-driver inproc   SERVICE LIST BUDGET_MS [FLOOR]  logins in this process
//   valix-bench-driver fresh    SERVICE LIST BUDGET_MS [FLOOR]  a new process (spawn+exec) each
//   valix-bench-driver one      SERVICE USER ANSWER      one login; exit 0 on success
//   valix-bench-driver parallel SERVICE LIST PROCS       PROCS processes share the list
//   valix-bench-driver race     SERVICE USER ANSWER PROCS  PROCS logins released at once
//   valix-bench-driver reference DIR SIZE COUNT FILES  COUNT durable replaces of SIZE bytes
//                                                      over FILES targets in turn, no login
//   valix-bench-driver inplace DIR COUNT    COUNT in-place flushes: pwrite of 4 KiB into an
//                                           existing 8 KiB file (the halves in turn) + fdatasync
//
// Built twice: valix-bench-driver links libpam and libc only; valix-bench-driver-sshd also
// links libcrypto and uses it before PAM starts, as sshd does (it needs libcrypto for the
// key exchange that precedes user authentication).
//
// Service files come from the directory in VALIX_BENCH_PAM_DIR, through libpam's own
// pam_start_confdir(): a real PAM stack, nothing under /etc/pam.d, and no pam_wrapper (whose
// one-letter /tmp/pam.X directories collide when many processes start at once).
//
// Output: "key value" lines (ok, fail, ns, ...). The first line of an inproc/fresh list is a
// warm-up login that is not timed; inproc also reports which shared objects stay mapped after
// pam_end (to show whether the next pam_start really loads the module again).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <security/pam_appl.h>

#ifdef VALIX_BENCH_LIKE_SSHD
#include <openssl/evp.h>

// What sshd has done by the time PAM runs: libcrypto is linked in, and key exchange has used
// its digests and ciphers (so OpenSSL's library context and default provider are set up).
static void start_like_sshd(void) {
  unsigned char digest[EVP_MAX_MD_SIZE], key[32] = {0}, iv[16] = {0}, block[16] = {0}, out[32];
  unsigned int digest_len = 0;
  int out_len = 0;
  EVP_Digest("kex", 3, digest, &digest_len, EVP_sha256(), NULL);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == NULL || EVP_EncryptInit_ex(ctx, EVP_aes_256_ctr(), NULL, key, iv) != 1 ||
      EVP_EncryptUpdate(ctx, out, &out_len, block, sizeof block) != 1) {
    fprintf(stderr, "valix-bench-driver: OpenSSL set-up failed\n");
    exit(2);
  }
  EVP_CIPHER_CTX_free(ctx);
}
#endif
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

enum { kMaxLogins = 200000, kMaxMaps = 512 };

struct entry {
  char user[64];
  char answer[64];
};

static struct entry* entries;
static int entry_count;

static const char* pam_dir;

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char* what) {
  fprintf(stderr, "valix-bench-driver: %s\n", what);
  exit(2);
}

static int conversation(int count, const struct pam_message** messages,
                        struct pam_response** responses, void* data) {
  const char* answer = data;
  struct pam_response* out = calloc((size_t)count, sizeof *out);
  if (out == NULL) return PAM_BUF_ERR;
  for (int i = 0; i < count; ++i) {
    const int style = messages[i]->msg_style;
    if (style == PAM_PROMPT_ECHO_OFF || style == PAM_PROMPT_ECHO_ON) {
      out[i].resp = strdup(answer);
    }
  }
  *responses = out;
  return PAM_SUCCESS;
}

// One login as sshd does it: the user's passwd entry is looked up first (sshd, su, sudo and
// login all do that before PAM starts, so the name service's modules are loaded by then), then
// a new PAM handle (libpam reads the service file and loads the modules), pam_authenticate,
// pam_end (libpam unloads the modules).
static int login(const char* service, const char* user, const char* answer) {
  (void)getpwnam(user);  // the benchmark's users have no passwd entries: found or not, alike
  struct pam_conv conv = {conversation, (void*)answer};
  pam_handle_t* pamh = NULL;
  int rc = pam_start_confdir(service, user, &conv, pam_dir, &pamh);
  if (rc != PAM_SUCCESS) return rc;
  rc = pam_authenticate(pamh, 0);
  pam_end(pamh, rc);
  return rc;
}

static void read_list(const char* path) {
  FILE* f = fopen(path, "r");
  if (f == NULL) die("cannot open the list file");
  entries = calloc(kMaxLogins, sizeof *entries);
  if (entries == NULL) die("out of memory");
  while (entry_count < kMaxLogins &&
         fscanf(f, "%63s %63s", entries[entry_count].user, entries[entry_count].answer) == 2) {
    ++entry_count;
  }
  fclose(f);
  if (entry_count == 0) die("empty list");
}

// Shared objects mapped into this process, one path per entry.
static int mapped_objects(char paths[][256], int max) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (f == NULL) return 0;
  char line[1024];
  int n = 0;
  while (fgets(line, sizeof line, f) != NULL) {
    char* path = strchr(line, '/');
    if (path == NULL || strstr(path, ".so") == NULL) continue;
    path[strcspn(path, "\n")] = '\0';
    int seen = 0;
    for (int i = 0; i < n && !seen; ++i) seen = strcmp(paths[i], path) == 0;
    if (!seen && n < max) snprintf(paths[n++], 256, "%s", path);
  }
  fclose(f);
  return n;
}

static int contains(char paths[][256], int n, const char* path) {
  for (int i = 0; i < n; ++i) {
    if (strcmp(paths[i], path) == 0) return 1;
  }
  return 0;
}

static char before[kMaxMaps][256], during[kMaxMaps][256], after[kMaxMaps][256];

// Prints the objects the first login mapped and which of them pam_end left behind.
static void report_maps(int n_before, int n_during, int n_after) {
  printf("loaded_by_login");
  for (int i = 0; i < n_during; ++i) {
    if (!contains(before, n_before, during[i])) printf(" %s", during[i]);
  }
  printf("\nkept_after_pam_end");
  for (int i = 0; i < n_after; ++i) {
    if (!contains(before, n_before, after[i])) printf(" %s", after[i]);
  }
  printf("\n");
}

// The warm-up login of inproc mode, with a look at the mappings while the module is loaded.
static int warmup_with_maps(const char* service, const struct entry* e) {
  (void)getpwnam(e->user);  // as login() does, so that the name service is not counted below
  const int n_before = mapped_objects(before, kMaxMaps);
  struct pam_conv conv = {conversation, (void*)e->answer};
  pam_handle_t* pamh = NULL;
  int rc = pam_start_confdir(service, e->user, &conv, pam_dir, &pamh);
  if (rc != PAM_SUCCESS) return rc;
  const int n_during = mapped_objects(during, kMaxMaps);
  rc = pam_authenticate(pamh, 0);
  pam_end(pamh, rc);
  const int n_after = mapped_objects(after, kMaxMaps);
  report_maps(n_before, n_during, n_after);
  return rc;
}

static int spawn_one(const char* service, const char* user, const char* answer) {
  char* argv[] = {"valix-bench-driver", "one", (char*)service, (char*)user, (char*)answer, NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv, environ) != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? PAM_SUCCESS : PAM_AUTH_ERR;
}

static int compare_ns(const void* a, const void* b) {
  const int64_t x = *(const int64_t*)a, y = *(const int64_t*)b;
  return x < y ? -1 : x > y;
}

static int64_t median_of(int64_t* values, int n) {
  if (n == 0) return 0;
  qsort(values, (size_t)n, sizeof *values, compare_ns);
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// One timed login: in this process, or in a new one.
static int timed_login(const char* service, int fresh, const struct entry* e, int64_t* ns) {
  const int64_t t0 = now_ns();
  const int rc =
      fresh ? spawn_one(service, e->user, e->answer) : login(service, e->user, e->answer);
  *ns = now_ns() - t0;
  return rc;
}

// The reference: one durable atomic replace (write a temp file of the state file's
// size, fsync, rename over one of the targets, fsync the directory). Timed on its own in a
// quiet directory (mode "reference"), and between logins in VALIX_BENCH_REFERENCE_DIR, the
// directory the logins write to: interleaved, it meets the file system in the condition they
// do (ext4 without a journal makes each file creation scan past every inode freed in its
// block group in the last minutes).
static int reference_dir = -1;
static size_t reference_size;
static char reference_content[65536];

static void open_reference(const char* dir, const char* size) {
  reference_dir = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  reference_size = (size_t)atoll(size);
  if (reference_dir < 0 || reference_size == 0 || reference_size > sizeof reference_content)
    die("bad reference directory or size");
  memset(reference_content, 'x', reference_size);
}

static int64_t timed_reference_replace(int i, int files) {
  char target[32];
  snprintf(target, sizeof target, ".bench-ref-%d", i % files);
  const int64_t t0 = now_ns();
  const int fd =
      openat(reference_dir, ".bench-ref.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, reference_content, reference_size) != (ssize_t)reference_size ||
      fsync(fd) != 0 || close(fd) != 0 ||
      renameat(reference_dir, ".bench-ref.tmp", reference_dir, target) != 0 ||
      fsync(reference_dir) != 0) {
    die("reference replace failed");
  }
  return now_ns() - t0;
}

static void reference_replaces(int count, int files) {
  int64_t* times = calloc((size_t)count, sizeof *times);
  if (times == NULL) die("out of memory");
  for (int i = 0; i < count; ++i) times[i] = timed_reference_replace(i, files);
  printf("reference_median_ns %lld\n", (long long)median_of(times, count));
  free(times);
}

// Issue 17's physical floor of a login that persists its watermark: one in-place flush, as a
// format-2 state update does it (one 4 KiB slot of an 8 KiB file written whole, fdatasync).
static void inplace_flushes(const char* dir, int count) {
  static char slot[4096];
  memset(slot, 'y', sizeof slot);
  const int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  const int fd =
      d < 0 ? -1 : openat(d, ".bench-inplace", O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0 || write(fd, slot, sizeof slot) != (ssize_t)sizeof slot ||
      write(fd, slot, sizeof slot) != (ssize_t)sizeof slot || fsync(fd) != 0 || fsync(d) != 0)
    die("cannot make the in-place file");
  int64_t* times = calloc((size_t)count, sizeof *times);
  if (times == NULL) die("out of memory");
  for (int i = 0; i < count; ++i) {
    slot[0] = (char)('a' + i % 26);
    const int64_t t0 = now_ns();
    if (pwrite(fd, slot, sizeof slot, (off_t)(i % 2) * (off_t)sizeof slot) !=
            (ssize_t)sizeof slot ||
        fdatasync(fd) != 0)
      die("in-place flush failed");
    times[i] = now_ns() - t0;
  }
  printf("inplace_median_ns %lld\n", (long long)median_of(times, count));
  free(times);
  close(fd);
  close(d);
}

// Logins from the list after the warm-up line, until the list or the time budget runs out.
// Prints the total and the median time of one login (the median shrugs off the moments when
// other work on the machine preempts a login). With a floor service, every login is paired
// with a floor login just before or after it (alternately), and the median of the pairs'
// differences is printed too: slow drift of the machine's load then cancels out.
static void timed_logins(const char* service, int fresh, int64_t budget_ns, const char* floor) {
  int warm = fresh ? spawn_one(service, entries[0].user, entries[0].answer)
                   : warmup_with_maps(service, &entries[0]);
  printf("warmup %s\n", warm == PAM_SUCCESS ? "ok" : "fail");
  int ok = 0, failed = 0, n = 0;
  int64_t total = 0;
  int64_t* times = calloc((size_t)entry_count, sizeof *times);
  int64_t* floors = calloc((size_t)entry_count, sizeof *floors);
  int64_t* diffs = calloc((size_t)entry_count, sizeof *diffs);
  int64_t* references = calloc((size_t)entry_count, sizeof *references);
  if (times == NULL || floors == NULL || diffs == NULL || references == NULL) die("out of memory");
  const int64_t start = now_ns();
  for (int i = 1; i < entry_count; ++i) {
    if (floor != NULL && i % 2 == 0) timed_login(floor, fresh, &entries[i], &floors[n]);
    const int rc = timed_login(service, fresh, &entries[i], &times[n]);
    if (floor != NULL && i % 2 == 1) timed_login(floor, fresh, &entries[i], &floors[n]);
    diffs[n] = times[n] - floors[n];
    if (reference_dir >= 0) references[n] = timed_reference_replace(i, 100);
    total += times[n++];
    if (rc == PAM_SUCCESS) ++ok;
    else ++failed;
    if (i >= 5 && now_ns() - start > budget_ns) break;
  }
  printf("ok %d\nfail %d\nns %lld\nmedian_ns %lld\n", ok, failed, (long long)total,
         (long long)median_of(times, n));
  if (floor != NULL) {
    printf("floor_median_ns %lld\nnet_median_ns %lld\n", (long long)median_of(floors, n),
           (long long)median_of(diffs, n));
  }
  if (reference_dir >= 0) printf("reference_median_ns %lld\n", (long long)median_of(references, n));
  free(references);
  free(times);
  free(floors);
  free(diffs);
}

// Children block reading a pipe that the parent closes to release them all at once.
static void wait_for_release(int release_fd) {
  char c;
  while (read(release_fd, &c, 1) < 0 && errno == EINTR) {
  }
}

static void parallel(const char* service, int procs) {
  int release[2], results[2];
  if (pipe(release) != 0 || pipe(results) != 0) die("pipe");
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(release[1]);
      close(results[0]);
      wait_for_release(release[0]);
      int counts[2] = {0, 0};
      for (int i = p; i < entry_count; i += procs) {
        ++counts[login(service, entries[i].user, entries[i].answer) == PAM_SUCCESS ? 0 : 1];
      }
      _exit(write(results[1], counts, sizeof counts) == (ssize_t)sizeof counts ? 0 : 1);
    }
  }
  close(release[0]);
  close(results[1]);
  usleep(200000);  // let every child reach the barrier
  const int64_t t0 = now_ns();
  close(release[1]);
  int ok = 0, failed = 0, counts[2];
  while (read(results[0], counts, sizeof counts) == (ssize_t)sizeof counts) {
    ok += counts[0];
    failed += counts[1];
  }
  while (wait(NULL) > 0) {
  }
  printf("ok %d\nfail %d\nns %lld\n", ok, failed, (long long)(now_ns() - t0));
}

// PROCS processes each open a PAM handle (modules loaded), then all authenticate the same
// user with the same answer at the same moment.
static void race(const char* service, const char* user, const char* answer, int procs) {
  int release[2], ready[2];
  if (pipe(release) != 0 || pipe(ready) != 0) die("pipe");
  for (int p = 0; p < procs; ++p) {
    const pid_t pid = fork();
    if (pid < 0) die("fork");
    if (pid == 0) {
      close(release[1]);
      close(ready[0]);
      (void)getpwnam(user);
      struct pam_conv conv = {conversation, (void*)answer};
      pam_handle_t* pamh = NULL;
      if (pam_start_confdir(service, user, &conv, pam_dir, &pamh) != PAM_SUCCESS) _exit(3);
      if (write(ready[1], "r", 1) != 1) _exit(3);
      wait_for_release(release[0]);
      const int rc = pam_authenticate(pamh, 0);
      pam_end(pamh, rc);
      _exit(rc == PAM_SUCCESS ? 0 : 1);
    }
  }
  close(release[0]);
  close(ready[1]);
  char c;
  for (int p = 0; p < procs; ++p) {
    if (read(ready[0], &c, 1) != 1) break;
  }
  close(release[1]);
  int ok = 0, failed = 0, status;
  while (wait(&status) > 0) {
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
    else ++failed;
  }
  printf("ok %d\nfail %d\n", ok, failed);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc < 2) die("usage: inproc|fresh|one|parallel|race|reference ...");
  const char* mode = argv[1];
#ifdef VALIX_BENCH_LIKE_SSHD
  start_like_sshd();
#endif
  pam_dir = getenv("VALIX_BENCH_PAM_DIR");
  if (pam_dir == NULL || pam_dir[0] != '/')
    die("VALIX_BENCH_PAM_DIR must name the service directory");
  if (strcmp(mode, "one") == 0 && argc == 5) {
    return login(argv[2], argv[3], argv[4]) == PAM_SUCCESS ? 0 : 1;
  }
  if ((strcmp(mode, "inproc") == 0 || strcmp(mode, "fresh") == 0) && (argc == 5 || argc == 6)) {
    read_list(argv[3]);
    const char* reference = getenv("VALIX_BENCH_REFERENCE_DIR");
    if (mode[0] == 'i' && reference != NULL) {
      const char* size = getenv("VALIX_BENCH_REFERENCE_SIZE");
      open_reference(reference, size != NULL ? size : "0");
    }
    timed_logins(argv[2], mode[0] == 'f', (int64_t)atoll(argv[4]) * 1000000,
                 argc == 6 ? argv[5] : NULL);
    return 0;
  }
  if (strcmp(mode, "parallel") == 0 && argc == 5) {
    read_list(argv[3]);
    parallel(argv[2], atoi(argv[4]));
    return 0;
  }
  if (strcmp(mode, "reference") == 0 && argc == 6 && atoi(argv[4]) > 0 && atoi(argv[5]) > 0) {
    open_reference(argv[2], argv[3]);
    reference_replaces(atoi(argv[4]), atoi(argv[5]));
    return 0;
  }
  if (strcmp(mode, "inplace") == 0 && argc == 4 && atoi(argv[3]) > 0) {
    inplace_flushes(argv[2], atoi(argv[3]));
    return 0;
  }
  if (strcmp(mode, "race") == 0 && argc == 6) {
    race(argv[2], argv[3], argv[4], atoi(argv[5]));
    return 0;
  }
  die("bad arguments");
  return 2;
}
