// One run of valix-check, the setuid helper that checks the calling user's own code when the
// module has no privilege (unprivileged.hpp). Only what pam_valix needs: start it on a
// checked file, exchange lines, collect its exit status.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <string>
#include <string_view>

#include "error.hpp"
#include "unique_fd.hpp"

namespace valix::pam {

class HelperRun {
 public:
  HelperRun() = default;
  // A helper still running (an error, an abandoned conversation) is killed and reaped. That
  // is safe at any moment: it charges an answer's failure before it judges it.
  ~HelperRun();
  HelperRun(const HelperRun&) = delete;
  HelperRun& operator=(const HelperRun&) = delete;

  // Runs path (which must be a regular file owned by root, setuid, writable by nobody else:
  // anything else could be the caller's own program answering "accepted") with user as its one
  // argument, an empty environment, and one socket as its standard input and output (a
  // socket, not pipes, so that a send to a helper that died is an error instead of a SIGPIPE
  // that would kill the application). Standard error is /dev/null; no other descriptor is
  // passed on. The file checked is the file executed (it is opened once, then run by fd).
  Result<void> start(const std::string& path, const std::string& user);

  // The helper's next line, newline removed. Waits at most kReplyTimeout.
  Result<std::string> read_line();

  // Sends text (which may be a secret: it is not copied).
  Result<void> send(std::string_view text);

  // Waits for the end of the helper's output (no further line may come) and for its exit,
  // and returns its exit status. A helper that was killed, or that writes more, is an error.
  Result<int> finish();

 private:
  Result<void> wait_readable();
  void reap();

  pid_t pid_ = -1;
  UniqueFd channel_;
  std::string received_;  // read but not yet returned by read_line
  // SIGCHLD's disposition while the helper runs, as pam_unix does for unix_chkpwd: an
  // application that ignores SIGCHLD, or reaps every child in a handler, would take the
  // helper's exit status from us.
  struct sigaction old_sigchld_ {};
  bool sigchld_changed_ = false;
};

}  // namespace valix::pam
