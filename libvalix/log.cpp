#include "log.hpp"

#include <syslog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "error.hpp"
#include "i18n.hpp"
#include "text.hpp"

namespace valix {

std::string_view event_name(Event event) {
  switch (event) {
    case Event::success: return "success";
    case Event::grace: return "grace";
    case Event::ignored: return "ignored";
    case Event::denied: return "denied";
    case Event::retry: return "retry";
    case Event::enrollment: return "enrollment";
    case Event::enrolled: return "enrolled";
    case Event::note: return "note";
    case Event::admin: return "admin";
  }
  return "unknown";
}

std::string_view reason_name(Reason reason) {
  switch (reason) {
    case Reason::totp_code: return "totp_code";
    case Reason::hotp_code: return "hotp_code";
    case Reason::backup_code: return "backup_code";
    case Reason::grace_period: return "grace_period";
    case Reason::not_required: return "not_required";
    case Reason::exempt_unreachable: return "exempt_unreachable";
    case Reason::wrong_code: return "wrong_code";
    case Reason::replayed: return "replayed";
    case Reason::clock_drift: return "clock_drift";
    case Reason::out_of_sync: return "out_of_sync";
    case Reason::malformed: return "malformed";
    case Reason::locked: return "locked";
    case Reason::not_enrolled: return "not_enrolled";
    case Reason::no_answer: return "no_answer";
    case Reason::enrollment_failed: return "enrollment_failed";
    case Reason::not_stored: return "not_stored";
    case Reason::not_allowed: return "not_allowed";
    case Reason::config_error: return "config_error";
    case Reason::internal_error: return "internal_error";
    case Reason::invalid_user_name: return "invalid_user_name";
    case Reason::at_login: return "at_login";
    case Reason::done: return "done";
    case Reason::refused: return "refused";
    case Reason::failed: return "failed";
    case Reason::warning: return "warning";
  }
  return "unknown";
}

std::string log_value(std::string_view text) {
  const std::string shown = printable_field(text);
  std::string out;
  out.reserve(shown.size() + 8);
  for (const char c : shown) {
    switch (c) {
      case ' ': out += "%20"; break;
      case '"': out += "%22"; break;
      case '%': out += "%25"; break;
      case '=': out += "%3D"; break;
      case '\\': out += "%5C"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

LogLine::LogLine(Event event, Reason reason) {
  fields_.reserve(256);
  fields_.append("event=").append(event_name(event));
  fields_.append(" reason=").append(reason_name(reason));
}

LogLine& LogLine::add(std::string_view key, std::string_view value) {
  fields_.append(" ").append(key).append("=").append(log_value(value));
  return *this;
}

std::string LogLine::text(std::string_view message) const {
  // The message is ours, but may quote text from outside (a group name, a path): printable,
  // and bounded so that one line stays one syslog record.
  const std::string shown = printable_for_log(message, 2048);
  std::string out = fields_;
  out.reserve(out.size() + shown.size() + 16);
  out.append(" msg=\"");
  for (const char c : shown) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

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

void SyslogTeeLogger::log_line(LogLevel level, const LogLine& line, std::string_view message) {
  const std::string text = line.text(message);
  syslog(syslog_priority(level), "%.*s", static_cast<int>(text.size()), text.data());
  next_.log(level, message);
}

void SyslogTeeLogger::log_line_shown(LogLevel level, const LogLine& line, std::string_view message,
                                     std::string_view shown) {
  const std::string text = line.text(message);
  syslog(syslog_priority(level), "%.*s", static_cast<int>(text.size()), text.data());
  next_.log(level, shown);
}

Result<void> flush_stdout() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout) != 0) {
    const int err = errno != 0 ? errno : EIO;
    auto failed = fail_errno("could not write the output", err);
    failed.error().shown =
        fill(tr("could not write the output: {reason}"), {{"reason", std::strerror(err)}});
    return failed;
  }
  return {};
}

}  // namespace valix
