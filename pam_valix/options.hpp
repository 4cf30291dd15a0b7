// Module arguments from the PAM service file. Any valix.conf key may be given as key=value
// and overrides the file; the rest are flags. Unknown arguments are errors (the login is
// denied), so a typo never silently changes behaviour.
#pragma once

#include <span>
#include <string>
#include <utility>
#include <vector>

#include "config.hpp"
#include "error.hpp"

namespace valix::pam {

// Where the answer comes from.
enum class AnswerSource {
  prompt,          // ask with the configured prompt (default)
  try_first_pass,  // use PAM_AUTHTOK when it is shaped like a code, else ask
  use_first_pass,  // use PAM_AUTHTOK, never ask
};

enum class Verbosity { normal, debug };

struct ModuleOptions {
  std::string config_path{VALIX_DEFAULT_CONFIG};
  // valix-check, run when the module has no privilege (check_helper=; see unprivileged.hpp).
  std::string check_helper{VALIX_CHECK_HELPER};
  AnswerSource source = AnswerSource::prompt;
  Verbosity verbosity = Verbosity::normal;
  std::vector<std::pair<std::string, std::string>> overrides;  // key=value for valix.conf keys
};

Result<ModuleOptions> parse_module_options(std::span<const char* const> args);

// Loads options.config_path (owned by root or by the module's euid, not writable by others)
// and applies the overrides on top. Root's file is trusted by a module running as a user too
// (a screen locker): it needs the prompt and the fail delay, and root's word is no less
// trustworthy to it; the test suite, not run as root, has its own. The result must pass
// validate_config as a whole.
Result<Config> load_module_config(const ModuleOptions& options);

}  // namespace valix::pam
