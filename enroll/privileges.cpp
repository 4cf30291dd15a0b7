#include "privileges.hpp"

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include "i18n.hpp"

namespace valix::enroll {

bool privileged() { return geteuid() != getuid() || getegid() != getgid(); }

void drop_privileges_for_good() {
  if (!privileged()) return;
  if (setresgid(getgid(), getgid(), getgid()) != 0 ||
      setresuid(getuid(), getuid(), getuid()) != 0 || privileged()) {
    std::fprintf(stderr, "valix-enroll: %s\n", tr("cannot drop privileges"));
    std::abort();
  }
}

Result<void> run_as_user(const std::optional<Account>& acting_for,
                         const std::function<Result<void>()>& fn) {
  const auto report = [](const Result<void>& done) {
    if (!done) std::fprintf(stderr, "valix-enroll: %s\n", shown_message(done.error()).c_str());
    return done;
  };
  if (!privileged() && !acting_for) return report(fn());
  std::fflush(nullptr);
  const pid_t child = fork();
  if (child < 0) return report(fail_errno("fork", errno));
  if (child == 0) {
    if (acting_for) {
      if (initgroups(acting_for->name.c_str(), acting_for->gid) != 0 ||
          setresgid(acting_for->gid, acting_for->gid, acting_for->gid) != 0 ||
          setresuid(acting_for->uid, acting_for->uid, acting_for->uid) != 0) {
        std::fprintf(stderr, "valix-enroll: %s\n",
                     fill(tr("cannot take on the identity of {user}"), {{"user", acting_for->name}})
                         .c_str());
        _exit(1);
      }
    } else {
      drop_privileges_for_good();
    }
    const auto done = report(fn());
    std::fflush(nullptr);
    _exit(done ? 0 : 1);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) return report(fail_errno("waitpid", errno));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return fail(Errc::io, "not written");
  return {};
}

}  // namespace valix::enroll
