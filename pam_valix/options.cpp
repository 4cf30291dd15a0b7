#include "options.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "i18n.hpp"

namespace valix::pam {

Result<ModuleOptions> parse_module_options(std::span<const char* const> args) {
  ModuleOptions options;
  for (const char* raw : args) {
    const std::string_view arg = raw != nullptr ? raw : "";
    if (arg == "debug") options.verbosity = Verbosity::debug;
    else if (arg == "try_first_pass") options.source = AnswerSource::try_first_pass;
    else if (arg == "use_first_pass") options.source = AnswerSource::use_first_pass;
    else if (arg == "forward_pass") {
      // Removed: it took the code before any password was checked (a code prompt only for
      // enrolled names, failures counted without the password). A stack that still names it
      // is refused rather than silently changed.
      return fail_said(Errc::config,
                       "module option forward_pass was removed (it judged the code before the "
                       "password); see pam_valix(8)");
    } else if (arg.starts_with("config=")) {
      options.config_path = arg.substr(7);
      if (options.config_path.empty() || options.config_path.front() != '/') {
        return fail_said(Errc::config, "module option config= needs an absolute path");
      }
    } else if (arg.starts_with("check_helper=")) {
      options.check_helper = arg.substr(13);
      if (options.check_helper.empty() || options.check_helper.front() != '/') {
        return fail_said(Errc::config, "module option check_helper= needs an absolute path");
      }
    } else if (const auto equals = arg.find('='); equals != std::string_view::npos && equals > 0) {
      options.overrides.emplace_back(arg.substr(0, equals), arg.substr(equals + 1));
    } else {
      return fail_said(Errc::config, "unknown module option '{option}'", {{"option", arg}});
    }
  }
  return options;
}

Result<Config> load_module_config(const ModuleOptions& options) {
  // The owner decides which uid load_config holds the file to; a file replaced in between is
  // refused by load_config's own checks, or is again one of the two trusted owners'.
  struct stat st {};
  const bool roots = lstat(options.config_path.c_str(), &st) == 0 && st.st_uid == 0;
  auto config = load_config(options.config_path, roots ? 0 : geteuid());
  if (!config) return std::unexpected(config.error());
  for (const auto& [key, value] : options.overrides) {
    if (auto applied = apply_setting(*config, key, value); !applied) {
      // TRANSLATORS: {error} says what is wrong with the value of the module option {key}.
      return fail_said(Errc::config, "module option {key}=: {error}",
                       {{"key", key}, {"error", applied.error()}});
    }
  }
  // Checked again as a whole: an option may break a rule the file alone kept (its
  // lockout_seconds above the file's lockout_max_seconds, say).
  if (auto valid = validate_config(*config); !valid) {
    return fail_said(Errc::config, "{config} with the module options: {error}",
                     {{"config", options.config_path}, {"error", valid.error()}});
  }
  return config;
}

}  // namespace valix::pam
