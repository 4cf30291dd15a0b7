// One logging interface: the module sends it to pam_syslog, the tools to stderr (and, for
// administrative actions, also to syslog). Callers never pass a code or a secret.
#pragma once

#include <string_view>

#include "error.hpp"

namespace valix {

enum class LogLevel { error, warning, notice, info, debug };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void log(LogLevel level, std::string_view message) = 0;
};

// Writes "PROGRAM: message" to stderr; debug lines only when verbose.
class StderrLogger final : public Logger {
 public:
  StderrLogger(std::string_view program, bool verbose) : program_(program), verbose_(verbose) {}
  void log(LogLevel level, std::string_view message) override;

 private:
  std::string_view program_;
  bool verbose_;
};

// Writes to syslog(3) under LOG_AUTHPRIV with the given ident, and forwards to another logger.
class SyslogTeeLogger final : public Logger {
 public:
  SyslogTeeLogger(const char* ident, Logger& next);
  ~SyslogTeeLogger() override;
  SyslogTeeLogger(const SyslogTeeLogger&) = delete;
  SyslogTeeLogger& operator=(const SyslogTeeLogger&) = delete;
  void log(LogLevel level, std::string_view message) override;

 private:
  Logger& next_;
};

int syslog_priority(LogLevel level);

// Flushes stdout and says whether everything written to it arrived. The tools call it last,
// so that output that was lost (a full disk, a closed pipe: backup codes nobody saw) never
// ends in a success exit code; their individual printf calls go unchecked for that reason.
Result<void> flush_stdout();

}  // namespace valix
