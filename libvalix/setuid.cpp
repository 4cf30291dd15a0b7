#include "setuid.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

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

}  // namespace valix
