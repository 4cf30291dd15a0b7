// The module's view of a PAM transaction. The real implementation wraps pam_handle_t; the
// interface keeps the authentication logic free of PAM's C calling conventions.
#pragma once

#include <security/pam_modules.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "error.hpp"
#include "log.hpp"
#include "secure.hpp"

namespace valix::pam {

enum class Echo { off, on };
enum class MessageKind { info, error };
enum class Quiet { no, yes };  // PAM_SILENT: informational messages are not shown

class PamSession {
 public:
  virtual ~PamSession() = default;
  virtual Result<std::string> user() = 0;
  virtual std::string item(int item_type) = 0;  // PAM_SERVICE, PAM_RHOST...; "" when unset
  // The answer to one prompt; Errc::no_answer when the conversation failed (the application
  // has no user to ask, or the user went away).
  virtual Result<SecretString> ask(std::string_view prompt, Echo echo) = 0;
  virtual void tell(std::string_view text, MessageKind kind) = 0;
  virtual Result<std::optional<SecretString>> authtok() = 0;
  virtual void fail_delay(std::chrono::milliseconds delay) = 0;
  virtual Logger& logger() = 0;
  // The PAM environment (pam_putenv/pam_getenv): unlike pam_set_data, it reaches the process
  // that establishes credentials when another one authenticated (sshd).
  virtual Result<void> set_env(std::string_view name, std::string_view value) = 0;
  virtual std::optional<SecretString> env(std::string_view name) = 0;
  virtual void unset_env(std::string_view name) = 0;
};

// pam_syslog for messages; debug lines only when verbose.
class PamLogger final : public Logger {
 public:
  PamLogger(pam_handle_t* pamh, bool verbose) : pamh_(pamh), verbose_(verbose) {}
  void log(LogLevel level, std::string_view message) override;

 private:
  pam_handle_t* pamh_;
  bool verbose_;
};

class PamHandleSession final : public PamSession {
 public:
  PamHandleSession(pam_handle_t* pamh, bool verbose, Quiet quiet)
      : pamh_(pamh), logger_(pamh, verbose), quiet_(quiet) {}
  Result<std::string> user() override;
  std::string item(int item_type) override;
  Result<SecretString> ask(std::string_view prompt, Echo echo) override;
  void tell(std::string_view text, MessageKind kind) override;
  Result<std::optional<SecretString>> authtok() override;
  void fail_delay(std::chrono::milliseconds delay) override;
  Logger& logger() override { return logger_; }
  Result<void> set_env(std::string_view name, std::string_view value) override;
  std::optional<SecretString> env(std::string_view name) override;
  void unset_env(std::string_view name) override;

 private:
  pam_handle_t* pamh_;
  PamLogger logger_;
  Quiet quiet_;
};

}  // namespace valix::pam
