// valix-enroll's privilege code (enroll/privileges.cpp): files the user names are written
// with the user's identity, never root's, and dropping privileges is for good.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "privileges.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

// What run_as_user's child sees, written where the parent can read it.
struct Seen {
  uid_t ruid, euid, suid;
  gid_t rgid, egid, sgid;
};

void root_acting_for_an_account_runs_fn_as_that_account(void**) {
  if (geteuid() != 0) {
    skip();  // CI runs the unit tests as root
  }
  char dir[] = "/tmp/valix-priv.XXXXXX";
  assert_non_null(mkdtemp(dir));
  chmod(dir, 0777);
  const std::string file = std::string(dir) + "/seen";
  const Account nobody{"nobody", 65534, 65534, "/nonexistent"};
  auto done = enroll::run_as_user(nobody, [&]() -> Result<void> {
    Seen seen{};
    getresuid(&seen.ruid, &seen.euid, &seen.suid);
    getresgid(&seen.rgid, &seen.egid, &seen.sgid);
    FILE* f = std::fopen(file.c_str(), "wx");
    if (f == nullptr)
      return (valix::fail)(Errc::io, "cannot create the file");  // cmocka defines fail()
    std::fwrite(&seen, sizeof seen, 1, f);
    std::fclose(f);
    return {};
  });
  ASSERT_OK(done);
  struct stat st {};
  assert_int_equal(stat(file.c_str(), &st), 0);
  assert_int_equal(st.st_uid, 65534);  // the file is the account's
  Seen seen{};
  FILE* f = std::fopen(file.c_str(), "r");
  assert_non_null(f);
  assert_int_equal(std::fread(&seen, sizeof seen, 1, f), 1);
  std::fclose(f);
  for (const uid_t id : {seen.ruid, seen.euid, seen.suid}) assert_int_equal(id, 65534);
  for (const gid_t id : {seen.rgid, seen.egid, seen.sgid}) assert_int_equal(id, 65534);
  // The parent is unchanged.
  assert_int_equal(geteuid(), 0);
  unlink(file.c_str());
  rmdir(dir);
}

void a_failing_fn_is_reported(void**) {
  auto done = enroll::run_as_user(std::nullopt,
                                  []() -> Result<void> { return (valix::fail)(Errc::io, "no"); });
  assert_false(done.has_value());
}

void not_privileged_is_not_privileged(void**) {
  assert_false(enroll::privileged());  // a test binary is not setuid
  enroll::drop_privileges_for_good();  // a no-op, and does not abort
  assert_false(enroll::privileged());
}

// A setuid-like process (effective root, real user): dropping is for good, saved id included,
// so no later setuid(0) can bring root back.
void dropping_is_for_good(void**) {
  if (geteuid() != 0) {
    skip();
  }
  const pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    if (setresgid(65534, 0, 0) != 0 || setresuid(65534, 0, 0) != 0) _exit(10);
    if (!enroll::privileged()) _exit(11);
    enroll::drop_privileges_for_good();
    uid_t r, e, s;
    getresuid(&r, &e, &s);
    if (r != 65534 || e != 65534 || s != 65534) _exit(12);
    if (setuid(0) == 0 || seteuid(0) == 0) _exit(13);
    _exit(enroll::privileged() ? 14 : 0);
  }
  int status = 0;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(root_acting_for_an_account_runs_fn_as_that_account),
      cmocka_unit_test(a_failing_fn_is_reported),
      cmocka_unit_test(not_privileged_is_not_privileged),
      cmocka_unit_test(dropping_is_for_good),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
