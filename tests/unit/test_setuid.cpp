// SignalShield: inside a setuid application (real uid the invoking user's, effective uid root),
// the invoking user may not stop the process while it holds a state lock; outside the shield
// they may again, and the process's credentials are as they were.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "secure.hpp"
#include "setuid.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

constexpr uid_t kInvoker = 54321;  // no account needed: only the ids matter

// As the invoking user: may it signal pid? (signal 0 checks permission only.)
bool invoker_may_signal(pid_t pid) {
  const pid_t child = fork();
  if (child == 0) {
    if (setresuid(kInvoker, kInvoker, kInvoker) != 0) _exit(2);
    _exit(kill(pid, 0) == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

void shield_keeps_the_invoker_out(void**) {
  if (geteuid() != 0) skip();
  const pid_t app = fork();
  if (app == 0) {
    // The application: as su or sudo run by kInvoker.
    if (setresuid(kInvoker, 0, 0) != 0) _exit(10);
    const pid_t self = getpid();
    if (!invoker_may_signal(self)) _exit(11);  // the attack works without the shield
    {
      const SignalShield shield;
      if (invoker_may_signal(self)) _exit(12);
      sigset_t mask;
      pthread_sigmask(SIG_BLOCK, nullptr, &mask);
      if (!sigismember(&mask, SIGTSTP) || !sigismember(&mask, SIGTTIN)) _exit(13);
    }
    uid_t real = 0, effective = 0, saved = 0;
    getresuid(&real, &effective, &saved);
    if (real != kInvoker || effective != 0 || saved != 0) _exit(14);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, nullptr, &mask);
    if (sigismember(&mask, SIGTSTP)) _exit(15);
    _exit(invoker_may_signal(self) ? 0 : 16);
  }
  int status = 0;
  waitpid(app, &status, 0);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {cmocka_unit_test(shield_keeps_the_invoker_out)};
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
