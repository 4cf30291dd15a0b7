// What the setuid-root tools (valix-enroll, valix-check) do before they touch state on
// behalf of the user who started them.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <optional>

#include "error.hpp"

namespace valix {

// A setuid program inherits its caller's resource limits. A file-size limit would make a state
// write fail part-way through (the core never judges a code before its failure is counted,
// so that is no free guess, but it is no working tool either), and a descriptor limit would
// refuse the store its files: root lifts both before touching state, as far as the system
// lets it (raising a hard limit needs CAP_SYS_RESOURCE). A write a remaining limit stops is
// refused, and is never a free guess.
void reset_resource_limits();

// Ignores SIGINT and SIGTSTP while a state update runs, so Ctrl-C cannot cut it short and
// Ctrl-Z cannot leave the user's lock held by a stopped process. Restored on destruction.
class QuietSignals {
 public:
  QuietSignals();
  ~QuietSignals();
  QuietSignals(const QuietSignals&) = delete;
  QuietSignals& operator=(const QuietSignals&) = delete;

 private:
  void (*old_int_)(int);
  void (*old_tstp_)(int);
};

// Kept by the module while it holds a user's state lock inside a setuid PAM application (su,
// sudo). Such a process's real uid is the invoking user's, which lets that user SIGSTOP it, and
// a stopped process holding alice's lock would deny every login of alice's (each waits for the
// lock and times out) until someone finds and kills it. While a shield lives, the real uid is
// the effective one (root), so the invoking user may not signal the process at all, and the
// terminal's stop signals (SIGTSTP, SIGTTIN, SIGTTOU, which need no permission) are blocked.
// Both are restored on destruction. In a process that is not setuid it only blocks those
// signals.
class SignalShield {
 public:
  SignalShield();
  ~SignalShield();
  SignalShield(const SignalShield&) = delete;
  SignalShield& operator=(const SignalShield&) = delete;

 private:
  sigset_t old_mask_{};
  std::optional<uid_t> restore_real_uid_;
};

}  // namespace valix
