#include "log.hpp"

#include <syslog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "error.hpp"

namespace valix {

std::unexpected<Error> fail_errno(std::string_view what, int err) {
  const Errc code = (err == ENOSPC || err == EDQUOT) ? Errc::no_space : Errc::io;
  return fail(code, std::string(what) + ": " + std::strerror(err));
}

int syslog_priority(LogLevel level) {
  switch (level) {
    case LogLevel::error: return LOG_ERR;
    case LogLevel::warning: return LOG_WARNING;
    case LogLevel::notice: return LOG_NOTICE;
    case LogLevel::info: return LOG_INFO;
    case LogLevel::debug: return LOG_DEBUG;
  }
  return LOG_ERR;
}

void StderrLogger::log(LogLevel level, std::string_view message) {
  if (level == LogLevel::debug && !verbose_) return;
  // A failed write to stderr cannot be reported anywhere else: ignore it.
  (void)std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(program_.size()), program_.data(),
                     static_cast<int>(message.size()), message.data());
}

SyslogTeeLogger::SyslogTeeLogger(const char* ident, Logger& next) : next_(next) {
  openlog(ident, LOG_PID, LOG_AUTHPRIV);
}

SyslogTeeLogger::~SyslogTeeLogger() { closelog(); }

void SyslogTeeLogger::log(LogLevel level, std::string_view message) {
  syslog(syslog_priority(level), "%.*s", static_cast<int>(message.size()), message.data());
  next_.log(level, message);
}

Result<void> flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    return fail_errno("could not write the output", errno != 0 ? errno : EIO);
  }
  return {};
}

}  // namespace valix
