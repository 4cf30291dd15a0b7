// valix-admin check: what is wrong or risky in valix.conf, the PAM stacks that use pam_valix,
// the state store and sshd's settings, one line per finding (valix-admin(8), "CHECK").
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace valix::admin {

struct CheckOptions {
  std::string config_path;
  std::string pam_dir = "/etc/pam.d";
  // A file of "keyword value" lines as "sshd -T" prints them; nullopt: run sshd -T when the
  // sshd service uses pam_valix.
  std::optional<std::string> sshd_config;
  bool sshd = true;  // false: --no-sshd
};

enum class Severity { error, warning };

// Findings in the order found, each printed once; one found for several PAM services says
// which.
class Findings {
 public:
  void add(Severity severity, const std::string& text, std::string_view service = {});
  // Prints "error: ..." and "warning: ..." lines and a summary to stdout.
  void print() const;
  bool has_errors() const;

 private:
  struct Entry {
    Severity severity;
    std::string text;
    std::vector<std::string> services;
  };
  std::vector<Entry> entries_;
};

// Exit 1 (Exit::failed) when any finding is an error, 0 otherwise.
int cmd_check(const CheckOptions& options);

// sshd's settings ("keyword value" lines, as sshd -T prints them; keywords in any case) that
// let SSH logins skip the code. source names them in the findings.
void check_sshd_settings(std::string_view text, std::string_view source, Findings& findings);

// The output of "sshd -T", or nullopt when sshd is not installed; a run that fails is a
// warning.
std::optional<std::string> run_sshd_t(Findings& findings);

}  // namespace valix::admin
