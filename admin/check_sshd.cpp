// valix-admin check: the sshd settings that keep SSH logins from reaching the code.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <map>
#include <string>

#include "check.hpp"
#include "i18n.hpp"
#include "unique_fd.hpp"

extern char** environ;

namespace valix::admin {
namespace {

constexpr const char* kSshd = "/usr/sbin/sshd";

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::vector<std::string> split(std::string_view s, std::string_view separators) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < s.size()) {
    const auto end = s.find_first_of(separators, start);
    if (end != start) out.emplace_back(s.substr(start, end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

// The methods of one AuthenticationMethods list that authenticate without the PAM auth stack
// asking its own questions: keyboard-interactive is where the code is asked; "password" runs
// the auth stack too (with the password as every answer), so it never skips the code.
bool skips_code(const std::vector<std::string>& methods) {
  return std::none_of(methods.begin(), methods.end(), [](const std::string& m) {
    return m.starts_with("keyboard-interactive") || m == "password";
  });
}

}  // namespace

void check_sshd_settings(std::string_view text, std::string_view source, Findings& findings) {
  // The first value of a keyword wins, as in sshd_config (sshd -T prints each once).
  std::map<std::string, std::string> settings;
  for (const auto& line : split(text, "\n")) {
    const auto words = split(line, " \t\r");
    if (words.empty() || words[0].starts_with('#')) continue;
    std::string value;
    for (std::size_t i = 1; i < words.size(); ++i) value += (i == 1 ? "" : " ") + words[i];
    settings.emplace(lower(words[0]), value);
  }
  auto setting = [&](const std::string& key, std::string_view fallback) {
    auto it = settings.find(key);
    return lower(it == settings.end() ? fallback : std::string_view(it->second));
  };
  if (setting("usepam", "no") != "yes") {
    // TRANSLATORS: {source} is "sshd -T" or the file given with --sshd-config.
    findings.add(Severity::warning, fill(tr("{source}: UsePAM is not yes: SSH logins never reach "
                                            "pam_valix, so no code is asked over SSH"),
                                         {{"source", source}}));
    return;
  }
  const std::string kbd = settings.contains("kbdinteractiveauthentication")
                              ? setting("kbdinteractiveauthentication", "yes")
                              : setting("challengeresponseauthentication", "yes");
  if (kbd == "no") {
    findings.add(Severity::warning,
                 fill(tr("{source}: KbdInteractiveAuthentication no: public-key logins skip the "
                         "code (it is asked through keyboard-interactive only, and password "
                         "logins of enrolled users fail)"),
                      {{"source", source}}));
  }
  const std::string methods = setting("authenticationmethods", "any");
  if (methods == "any") {
    // Each method's finding whole, for translators.
    const std::pair<const char*, const char*> alone[] = {
        {"pubkeyauthentication",
         N_("{source}: AuthenticationMethods any with pubkeyauthentication yes: public-key logins "
            "skip the code (require keyboard-interactive after it, e.g. AuthenticationMethods "
            "publickey,keyboard-interactive:pam)")},
        {"hostbasedauthentication",
         N_("{source}: AuthenticationMethods any with hostbasedauthentication yes: host-based "
            "logins skip the code (require keyboard-interactive after it, e.g. "
            "AuthenticationMethods publickey,keyboard-interactive:pam)")},
        {"gssapiauthentication",
         N_("{source}: AuthenticationMethods any with gssapiauthentication yes: GSSAPI (Kerberos) "
            "logins skip the code (require keyboard-interactive after it, e.g. "
            "AuthenticationMethods publickey,keyboard-interactive:pam)")}};
    for (const auto& [key, finding] : alone) {
      const bool on =
          setting(key, key == std::string_view("pubkeyauthentication") ? "yes" : "no") == "yes";
      if (!on) continue;
      findings.add(Severity::warning, fill(tr(finding), {{"source", source}}));
    }
    return;
  }
  for (const auto& list : split(methods, " ")) {
    const auto parts = split(list, ",");
    if (!skips_code(parts)) continue;
    const bool pubkey = std::any_of(parts.begin(), parts.end(),
                                    [](const std::string& m) { return m == "publickey"; });
    // TRANSLATORS: {methods} is one list of AuthenticationMethods, such as "publickey".
    findings.add(Severity::warning,
                 fill(pubkey ? tr("{source}: AuthenticationMethods allows '{methods}' without "
                                  "keyboard-interactive: public-key logins skip the code")
                             : tr("{source}: AuthenticationMethods allows '{methods}' without "
                                  "keyboard-interactive: {methods} logins skip the code"),
                      {{"source", source}, {"methods", list}}));
  }
}

std::optional<std::string> run_sshd_t(Findings& findings) {
  if (access(kSshd, X_OK) != 0) return std::nullopt;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    findings.add(Severity::warning,
                 tr("sshd -T could not be run; sshd's settings were not checked"));
    return std::nullopt;
  }
  UniqueFd read_end(fds[0]);
  UniqueFd write_end(fds[1]);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, write_end.get(), STDERR_FILENO);
  char arg0[] = "sshd";
  char arg1[] = "-T";
  char* argv[] = {arg0, arg1, nullptr};
  pid_t pid = -1;
  const int spawned = posix_spawn(&pid, kSshd, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  write_end.reset();
  if (spawned != 0) {
    findings.add(Severity::warning,
                 tr("sshd -T could not be run; sshd's settings were not checked"));
    return std::nullopt;
  }
  std::string out;
  char buffer[4096];
  ssize_t n = 0;
  while ((n = read(read_end.get(), buffer, sizeof buffer)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0 && out.size() < (1u << 20)) out.append(buffer, static_cast<std::size_t>(n));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    const std::string first = out.substr(0, out.find('\n'));
    // TRANSLATORS: {output} is the first line sshd -T printed.
    findings.add(Severity::warning,
                 fill(tr("sshd -T failed ({output}); sshd's settings were not checked"),
                      {{"output", first}}));
    return std::nullopt;
  }
  return out;
}

}  // namespace valix::admin
