// What the setuid-root tools (valix-enroll, valix-check) do before they touch state on
// behalf of the user who started them.
#pragma once

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

}  // namespace valix
