#include "setuid.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

#include "error.hpp"

namespace valix {

Result<void> reset_resource_limits() {
  const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
  if (setrlimit(RLIMIT_FSIZE, &unlimited) != 0) return fail_errno("setrlimit(RLIMIT_FSIZE)", errno);
  constexpr rlim_t kFilesNeeded = 64;
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return fail_errno("getrlimit(RLIMIT_NOFILE)", errno);
  if (files.rlim_cur < kFilesNeeded) {
    files.rlim_cur = kFilesNeeded;
    files.rlim_max = std::max(files.rlim_max, kFilesNeeded);
    if (setrlimit(RLIMIT_NOFILE, &files) != 0) return fail_errno("setrlimit(RLIMIT_NOFILE)", errno);
  }
  return {};
}

QuietSignals::QuietSignals()
    : old_int_(std::signal(SIGINT, SIG_IGN)), old_tstp_(std::signal(SIGTSTP, SIG_IGN)) {}

QuietSignals::~QuietSignals() {
  // Restoring a disposition signal() returned cannot fail.
  (void)std::signal(SIGINT, old_int_);
  (void)std::signal(SIGTSTP, old_tstp_);
}

}  // namespace valix
