#include "check_helper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "check_protocol.hpp"
#include "log.hpp"

namespace valix::pam {
namespace {

// Long enough for the helper's worst case: two state updates that each wait up to 15 s for
// the user's lock, plus the fail delay; short enough that a stuck helper does not hang a
// screen locker for good.
constexpr std::chrono::seconds kReplyTimeout{60};

std::string octal_mode(mode_t mode) {
  std::string text;
  for (int shift = 9; shift >= 0; shift -= 3)
    text.push_back(static_cast<char>('0' + ((mode >> shift) & 7)));
  return text;
}

// In the child, between fork and exec: async-signal-safe calls only (the application may
// have other threads, whose locks this copy of the process inherits taken).
[[noreturn]] void exec_child(int channel, int null_fd, int exe_fd, char* const* argv,
                             char* const* envp, int open_max) {
  // Out of the way of 0-3 first, so that the dup2 calls below never copy an fd onto itself
  // (that would keep its close-on-exec flag).
  const int s = fcntl(channel, F_DUPFD_CLOEXEC, 10);
  const int n = fcntl(null_fd, F_DUPFD_CLOEXEC, 10);
  const int e = fcntl(exe_fd, F_DUPFD_CLOEXEC, 10);
  if (s < 0 || n < 0 || e < 0 || dup2(s, STDIN_FILENO) < 0 || dup2(s, STDOUT_FILENO) < 0 ||
      dup2(n, STDERR_FILENO) < 0 || dup3(e, 3, O_CLOEXEC) < 0) {
    _exit(127);
  }
  // Nothing of the application's (its sockets, its files) reaches the helper.
  if (close_range(4, ~0U, 0) != 0) {
    for (int fd = 4; fd < open_max; ++fd) close(fd);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  fexecve(3, argv, envp);
  _exit(127);
}

}  // namespace

HelperRun::~HelperRun() {
  if (pid_ > 0) {
    channel_.reset();
    kill(pid_, SIGKILL);
    reap();
  }
  if (sigchld_changed_) sigaction(SIGCHLD, &old_sigchld_, nullptr);
}

Result<void> HelperRun::start(const std::string& path, const std::string& user) {
  // O_PATH: the file is checked and then executed through this descriptor, so it cannot be
  // swapped in between. O_NOFOLLOW: a symlink is refused (fstat would see the link).
  UniqueFd exe(open(path.c_str(), O_PATH | O_CLOEXEC | O_NOFOLLOW));
  if (!exe) return fail_errno("cannot open the 2FA check helper " + path, errno);
  struct stat st {};
  if (fstat(exe.get(), &st) != 0) return fail_errno("cannot stat " + path, errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != 0 || (st.st_mode & S_ISUID) == 0 ||
      (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return fail(Errc::unsafe, "the 2FA check helper " + path +
                                  " is not a setuid program owned by root and writable only "
                                  "by root (owner uid " +
                                  std::to_string(st.st_uid) + ", mode " + octal_mode(st.st_mode) +
                                  ")");
  }
  UniqueFd null_fd(open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null_fd) return fail_errno("cannot open /dev/null", errno);
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    return fail_errno("socketpair", errno);
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);

  // Everything the child needs is made before fork: it may not allocate.
  std::string arg0 = "valix-check";
  std::string arg1 = user;
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  char* envp[] = {nullptr};
  const int open_max = static_cast<int>(std::clamp(sysconf(_SC_OPEN_MAX), 64L, 65536L));

  struct sigaction default_chld {};
  default_chld.sa_handler = SIG_DFL;
  sigemptyset(&default_chld.sa_mask);
  if (sigaction(SIGCHLD, &default_chld, &old_sigchld_) != 0) return fail_errno("sigaction", errno);
  sigchld_changed_ = true;

  const pid_t pid = fork();
  if (pid < 0) return fail_errno("fork", errno);
  if (pid == 0) exec_child(theirs.get(), null_fd.get(), exe.get(), argv, envp, open_max);
  pid_ = pid;
  channel_ = std::move(ours);
  return {};
}

Result<void> HelperRun::wait_readable() {
  const auto deadline = std::chrono::steady_clock::now() + kReplyTimeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      return fail(Errc::busy, "valix-check did not answer within " +
                                  std::to_string(kReplyTimeout.count()) + " s");
    }
    pollfd p{channel_.get(), POLLIN, 0};
    const int rc = poll(&p, 1, static_cast<int>(left.count()));
    if (rc > 0) return {};
    if (rc < 0 && errno != EINTR) return fail_errno("poll", errno);
  }
}

Result<std::string> HelperRun::read_line() {
  for (;;) {
    if (const auto newline = received_.find('\n'); newline != std::string::npos) {
      std::string line = received_.substr(0, newline);
      received_.erase(0, newline + 1);
      return line;
    }
    if (received_.size() > check::kMaxLineLength) {
      return fail(Errc::corrupt, "valix-check sent a line longer than the protocol allows");
    }
    if (auto ready = wait_readable(); !ready) return std::unexpected(ready.error());
    char buffer[512];
    const ssize_t n = read(channel_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("reading from valix-check", errno);
    if (n == 0) return fail(Errc::io, "valix-check ended without answering");
    received_.append(buffer, static_cast<std::size_t>(n));
  }
}

Result<void> HelperRun::send(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::send(channel_.get(), text.data(), text.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("writing to valix-check", errno);
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

Result<int> HelperRun::finish() {
  for (;;) {
    if (!received_.empty()) return fail(Errc::corrupt, "valix-check sent more than one answer");
    if (auto ready = wait_readable(); !ready) return std::unexpected(ready.error());
    char buffer[64];
    const ssize_t n = read(channel_.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail_errno("reading from valix-check", errno);
    if (n == 0) break;
    received_.append(buffer, static_cast<std::size_t>(n));
  }
  channel_.reset();
  int status = 0;
  pid_t done = -1;
  do {
    done = waitpid(pid_, &status, 0);
  } while (done < 0 && errno == EINTR);
  // Reaped, or (ECHILD: the application reaped it despite SIGCHLD's reset) never to be: the
  // pid may be reused from now on, so it is never signalled again.
  pid_ = -1;
  if (done < 0) return fail_errno("waitpid for valix-check", errno);
  if (WIFSIGNALED(status)) {
    return fail(Errc::io, "valix-check was killed by signal " + std::to_string(WTERMSIG(status)));
  }
  if (!WIFEXITED(status)) return fail(Errc::io, "valix-check did not exit");
  return WEXITSTATUS(status);
}

void HelperRun::reap() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
}

}  // namespace valix::pam
