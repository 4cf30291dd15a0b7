#include "setuid.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>

#include "error.hpp"

namespace valix {

namespace {

// Raising a hard limit needs CAP_SYS_RESOURCE, which a container may withhold even from root:
// then the soft limit goes as high as the hard one allows.
void lift_limit(int resource, rlim_t wanted) {
  rlimit limit{};
  if (getrlimit(resource, &limit) != 0 || limit.rlim_cur >= wanted) return;
  const rlimit lifted{wanted, std::max(limit.rlim_max, wanted)};
  if (setrlimit(resource, &lifted) == 0) return;
  limit.rlim_cur = std::min(wanted, limit.rlim_max);
  (void)setrlimit(resource, &limit);  // lowering nothing: cannot fail in a way that matters
}

}  // namespace

void reset_resource_limits() {
  lift_limit(RLIMIT_FSIZE, RLIM_INFINITY);
  lift_limit(RLIMIT_NOFILE, 64);
}

QuietSignals::QuietSignals()
    : old_int_(std::signal(SIGINT, SIG_IGN)), old_tstp_(std::signal(SIGTSTP, SIG_IGN)) {}

QuietSignals::~QuietSignals() {
  // Restoring a disposition signal() returned cannot fail.
  (void)std::signal(SIGINT, old_int_);
  (void)std::signal(SIGTSTP, old_tstp_);
}

SignalShield::SignalShield() {
  sigset_t stops;
  sigemptyset(&stops);
  sigaddset(&stops, SIGTSTP);
  sigaddset(&stops, SIGTTIN);
  sigaddset(&stops, SIGTTOU);
  pthread_sigmask(SIG_BLOCK, &stops, &old_mask_);
  uid_t real = 0, effective = 0, saved = 0;
  if (getresuid(&real, &effective, &saved) == 0 && effective == 0 && real != 0 &&
      setresuid(0, static_cast<uid_t>(-1), static_cast<uid_t>(-1)) == 0) {
    restore_real_uid_ = real;
  }
}

SignalShield::~SignalShield() {
  // Giving the real uid back from root cannot fail for want of privilege; should it fail all
  // the same, the application must not go on with credentials it did not set.
  if (restore_real_uid_ &&
      setresuid(*restore_real_uid_, static_cast<uid_t>(-1), static_cast<uid_t>(-1)) != 0) {
    std::abort();
  }
  pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
}

}  // namespace valix
