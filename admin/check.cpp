// valix-admin check: valix.conf, the module options and order of every PAM service that uses
// pam_valix, the state store, and (check_sshd.cpp) sshd. Reads, never writes.
#include "check.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "config.hpp"
#include "i18n.hpp"
#include "options.hpp"
#include "pam_stack.hpp"
#include "store.hpp"
#include "text.hpp"

namespace valix::admin {

void Findings::add(Severity severity, const std::string& text, std::string_view service) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.text == text; });
  if (it == entries_.end()) {
    entries_.push_back({severity, text, {}});
    it = entries_.end() - 1;
  }
  if (!service.empty() &&
      std::find(it->services.begin(), it->services.end(), service) == it->services.end()) {
    it->services.emplace_back(service);
  }
}

bool Findings::has_errors() const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [](const Entry& e) { return e.severity == Severity::error; });
}

void Findings::print() const {
  std::size_t errors = 0;
  for (const auto& e : entries_) {
    std::string finding = e.text;
    if (!e.services.empty()) {
      std::string services;
      for (std::size_t i = 0; i < e.services.size(); ++i) {
        services += (i == 0 ? "" : ", ") + e.services[i];
      }
      // TRANSLATORS: a finding of valix-admin check and the PAM services it was found in.
      finding = fill(trn("{finding} (service {services})", "{finding} (services {services})",
                         e.services.size()),
                     {{"finding", e.text}, {"services", services}});
    }
    // TRANSLATORS: "error:" and "warning:" start each line of valix-admin check.
    const std::string line =
        fill(e.severity == Severity::error ? tr("error: {finding}") : tr("warning: {finding}"),
             {{"finding", finding}});
    // Findings quote files and settings: sanitized as a whole, translations kept (UTF-8).
    std::printf("%s\n", printable_for_terminal(line, 4096).c_str());
    errors += e.severity == Severity::error ? 1 : 0;
  }
  const std::size_t warnings = entries_.size() - errors;
  if (entries_.empty()) {
    std::printf("%s\n", tr("valix-admin check: no problems found"));
  } else {
    // TRANSLATORS: {errors} is "1 error" or "N errors", {warnings} "1 warning" or "N warnings".
    std::printf("%s\n",
                fill(tr("valix-admin check: {errors}, {warnings}"),
                     {{"errors", fill(trn("{count} error", "{count} errors", errors),
                                      {{"count", std::to_string(errors)}})},
                      {"warnings", fill(trn("{count} warning", "{count} warnings", warnings),
                                        {{"count", std::to_string(warnings)}})}})
                    .c_str());
  }
}

namespace {

// A file of the PAM directory (or an absolute path an include names), at most 1 MiB.
Result<std::string> read_pam_file(const std::string& dir, std::string_view name) {
  if (name.empty() || name == "." || name == "..") {
    return fail_said(Errc::invalid, "not a file name");
  }
  const std::string path = name.front() == '/' ? std::string(name) : dir + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail_said(Errc::not_found, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  std::string out = text.str();
  if (out.size() > (1u << 20)) return fail_said(Errc::invalid, "larger than 1 MiB");
  return out;
}

// The files of dir that could be PAM services (no editor or dpkg leftovers), sorted.
std::vector<std::string> service_files(const std::string& dir, Findings& findings) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) {
    findings.add(Severity::error,
                 fill(tr("{dir}: the PAM directory cannot be read"), {{"dir", dir}}));
    return names;
  }
  while (const dirent* entry = readdir(d)) {
    const std::string name = entry->d_name;
    if (name.empty() || name.front() == '.' || name.back() == '~' ||
        name.find(".dpkg-") != std::string::npos || name.find(".ucf-") != std::string::npos) {
      continue;
    }
    struct stat st {};
    std::string path = dir;
    path += '/';
    path += name;
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) names.push_back(name);
  }
  closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

std::string store_name(const Config& config) {
  if (config.store == StoreKind::files) {
    return fill(tr("the state directory {dir}"), {{"dir", config.state_dir}});
  }
  std::string uris;
  for (const auto& uri : config.ldap.uris) uris += (uris.empty() ? "" : " ") + uri;
  // TRANSLATORS: the fleet's LDAP directory, where the 2FA state is stored.
  return fill(tr("the directory (ldap_uri {uris}, ldap_base {base})"),
              {{"uris", uris}, {"base", config.ldap.base}});
}

class Checker {
 public:
  Checker(const CheckOptions& options, Findings& findings)
      : options_(options), findings_(findings) {}

  void run() {
    auto config = load_config(options_.config_path, geteuid());
    if (!config) {
      // TRANSLATORS: {error} says what is wrong with valix.conf.
      findings_.add(Severity::error, fill(tr("{error}: every login through pam_valix is denied"),
                                          {{"error", shown_message(config.error())}}));
      config_failed_ = true;
    } else {
      check_config(*config, options_.config_path);
    }
    check_services();
    if (!options_.sshd) return;
    if (options_.sshd_config) {
      auto text = read_pam_file("/", *options_.sshd_config);
      if (!text) {
        findings_.add(Severity::error, *options_.sshd_config + ": " + shown_message(text.error()));
      } else {
        check_sshd_settings(*text, *options_.sshd_config, findings_);
      }
    } else if (sshd_uses_valix_) {
      if (auto text = run_sshd_t(findings_)) check_sshd_settings(*text, "sshd -T", findings_);
    }
  }

 private:
  // Policy and store of one configuration (the file, or a service's with its options).
  void check_config(const Config& config, const std::string& what) {
    if (config.require == Requirement::all && config.exempt_groups.empty()) {
      // TRANSLATORS: {config} is valix.conf, or a pam_valix line with its options.
      findings_.add(Severity::warning,
                    fill(tr("{config}: require = all with exempt_groups empty: every account, "
                            "root included, needs a code, so a broken state store or a lost "
                            "phone leaves no way back in but a console session already open "
                            "(list a break-glass group in exempt_groups)"),
                         {{"config", what}}));
    }
    const std::string name = store_name(config);
    if (!stores_.insert(name).second) return;
    auto store = open_state_store(config, geteuid(), StoreUser::host);
    if (!store) {
      // TRANSLATORS: {store} is "the state directory DIR" or "the directory (ldap_uri ...)".
      findings_.add(Severity::error,
                    fill(tr("{store} cannot be opened ({error}): every login through pam_valix "
                            "is denied"),
                         {{"store", name}, {"error", shown_message(store.error())}}));
    }
  }

  void check_services() {
    const std::vector<std::string> files = service_files(options_.pam_dir, findings_);
    std::vector<std::pair<std::string, AuthStack>> stacks;
    std::set<std::string> included;
    for (const auto& name : files) {
      AuthStack stack = load_auth_stack(
          name, [&](std::string_view file) { return read_pam_file(options_.pam_dir, file); });
      for (std::size_t i = 1; i < stack.files.size(); ++i) included.insert(stack.files[i]);
      stacks.emplace_back(name, std::move(stack));
    }
    bool any = false;
    for (const auto& [service, stack] : stacks) {
      // Files only included by others (common-auth) are checked as part of those.
      if (included.contains(service)) continue;
      const auto valix = valix_entries(stack);
      if (valix.empty()) continue;
      any = true;
      if (service == "sshd") sshd_uses_valix_ = true;
      for (const auto& problem : stack.problems) {
        // TRANSLATORS: {problem} is a PAM file, its line and what is wrong with it.
        findings_.add(Severity::error,
                      fill(tr("{problem}: libpam refuses it, so logins may be denied"),
                           {{"problem", problem}}),
                      service);
      }
      for (const auto& order : check_auth_order(stack)) {
        findings_.add(Severity::error, order, service);
      }
      for (const AuthEntry* entry : valix) check_module_line(*entry, service);
    }
    if (!any) {
      findings_.add(Severity::warning,
                    fill(tr("no PAM service in {dir} uses pam_valix.so: no login is asked for a "
                            "code (pam-auth-update --enable valix)"),
                         {{"dir", options_.pam_dir}}));
    }
  }

  void check_module_line(const AuthEntry& entry, const std::string& service) {
    const std::string where = entry.file + ":" + std::to_string(entry.line.line);
    std::vector<const char*> argv;
    argv.reserve(entry.line.args.size());
    for (const auto& arg : entry.line.args) argv.push_back(arg.c_str());
    auto options = pam::parse_module_options(argv);
    if (!options) {
      findings_.add(Severity::error, denied_at(where, options.error()), service);
      return;
    }
    const bool own_file = options->config_path != options_.config_path;
    if (!own_file && options->overrides.empty()) return;  // the file, checked on its own
    if (!own_file && config_failed_) return;              // already said
    auto config = pam::load_module_config(*options);
    if (!config) {
      findings_.add(Severity::error, denied_at(where, config.error()), service);
      return;
    }
    if (!lines_.insert(where).second) return;
    check_config(*config, own_file && options->overrides.empty()
                              ? options->config_path
                              : fill(tr("{line} ({config} with its options)"),
                                     {{"line", where}, {"config", options->config_path}}));
  }

  // A pam_valix line (FILE:LINE) whose options or configuration are wrong.
  static std::string denied_at(const std::string& where, const Error& error) {
    // TRANSLATORS: {line} is a PAM file and line ("common-auth:3"), {error} what is wrong with
    // the options or the configuration of the pam_valix line there.
    return fill(tr("{line}: {error}: every login through pam_valix is denied"),
                {{"line", where}, {"error", shown_message(error)}});
  }

  const CheckOptions& options_;
  Findings& findings_;
  bool config_failed_ = false;
  bool sshd_uses_valix_ = false;
  std::set<std::string> stores_;  // opened (or tried) once each
  std::set<std::string> lines_;   // pam_valix lines whose configuration was checked
};

}  // namespace

int cmd_check(const CheckOptions& options) {
  Findings findings;
  Checker(options, findings).run();
  findings.print();
  return findings.has_errors() ? 1 : 0;
}

}  // namespace valix::admin
