// valix-enroll: turns on two-factor authentication for the invoking user.
//
// Privilege model. The program is installed setuid root because the state directory is
// root-owned and mode 0700. It acts only for the real uid (root may name a user with --user,
// as with passwd), ignores --config and the environment when running setuid, writes only
// STATE_DIR/USER.* through the core's checked, atomic store, creates files the user asked for
// (--qr-svg, --backup-codes-file) with the user's own identity, and drops root for good
// before it exits. The kernel's secure-execution mode already makes the loader ignore
// LD_PRELOAD and friends, and makes the process undumpable.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "account_check.hpp"
#include "config.hpp"
#include "enroller.hpp"
#include "file_util.hpp"
#include "i18n.hpp"
#include "log.hpp"
#include "options.hpp"
#include "outcome.hpp"
#include "policy.hpp"
#include "privileges.hpp"
#include "setuid.hpp"
#include "store.hpp"
#include "text.hpp"
#include "username.hpp"

using namespace valix;
using namespace valix::enroll;

namespace {

// LANG, LC_ALL, LC_MESSAGES and LANGUAGE, when their values look like locale names
// (de_DE.UTF-8, de_DE@euro, de:fr): what chooses the language of a setuid run's messages.
std::vector<std::pair<std::string, std::string>> locale_environment() {
  std::vector<std::pair<std::string, std::string>> kept;
  for (const char* name : {"LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"}) {
    const char* value = std::getenv(name);
    if (value == nullptr) continue;
    const std::string_view text(value);
    bool plain = !text.empty() && text.size() <= 64 && text.front() != '.';
    for (const char c : text) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || c == '@' || c == ':';
      if (!ok) plain = false;
    }
    if (plain && text.find("..") == std::string_view::npos) kept.emplace_back(name, value);
  }
  return kept;
}

int run(int argc, char** argv) {
  const bool setuid_run = geteuid() != getuid() || getegid() != getgid();
  // First, so that usage errors are in the user's language too. In a setuid run glibc
  // refuses locale names with a '/' and ignores LOCPATH; the catalogue directory is fixed.
  init_tool();
  auto parsed = parse(argc, argv);
  if (!parsed) {
    std::fprintf(stderr, "valix-enroll: %s\n", shown_message(parsed.error()).c_str());
    return kUsage;
  }
  if (!*parsed) return kOk;
  Options& options = **parsed;

  std::string config_path(VALIX_DEFAULT_CONFIG);
  if (setuid_run) {
    // Nothing the caller controls may steer a privileged process.
    if (options.config)
      std::fprintf(stderr, "valix-enroll: %s\n", tr("--config is ignored when run setuid"));
    // The user's language survives (locale names only: the catalogues themselves come from
    // the compiled-in VALIX_LOCALEDIR, and glibc ignores LOCPATH in a setuid process).
    const std::vector<std::pair<std::string, std::string>> language = locale_environment();
    clearenv();
    setenv("PATH", "/usr/sbin:/usr/bin:/sbin:/bin", 1);
    for (const auto& [name, value] : language) setenv(name.c_str(), value.c_str(), 1);
  } else if (options.config) {
    config_path = *options.config;
  }
  umask(077);
  if (geteuid() == 0) reset_resource_limits();

  std::string user;
  if (options.user) {
    if (getuid() != 0) return refuse(tr("only root may use --user"));
    if (!valid_username(*options.user))
      return refuse(fill(tr("'{user}' is not a valid user name"),
                         {{"user", printable_for_log(*options.user, 128)}}));
    user = *options.user;
  }
  // The state is filed under the name the account's uid maps back to, whatever login name
  // --user gives (state_owner), as a login finds it.
  std::optional<Account> acting_for;
  uid_t uid = getuid();
  if (options.user) {
    auto owner = state_owner(user);
    if (!owner) return internal(owner.error());
    if (!owner->account) return refuse(fill(tr("no such user: {user}"), {{"user", user}}));
    user = owner->key;
    uid = owner->account->uid;
    if (owner->account->uid != getuid()) acting_for = owner->account;
  } else {
    auto account = lookup_account(getuid());
    if (!account) return internal(account.error());
    if (!*account) return refuse(tr("your user id has no account"));
    user = (*account)->name;
  }
  if (!valid_username(user)) return refuse(tr("your user name cannot be used for 2FA state"));

  auto config = load_config(config_path, geteuid());
  if (!config) return internal(config.error());
  if (options.action != Options::Action::status) {
    if (auto refused = check_account(user)) return *refused;
  }
  auto store = open_state_store(*config, geteuid());
  if (!store) return internal(store.error());
  const int result = run_enroller(options, std::move(*config), std::move(*store), user, uid,
                                  std::move(acting_for));
  drop_privileges_for_good();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int status = kInternal;
  try {
    status = run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "valix-enroll: %s\n",
                 fill(tr("internal error: {reason}"), {{"reason", e.what()}}).c_str());
  }
  if (auto written = flush_stdout(); !written) {
    std::fprintf(stderr, "valix-enroll: %s; %s\n", shown_message(written.error()).c_str(),
                 tr("if backup codes were being shown, they may be lost: make new ones with "
                    "valix-enroll --regenerate-backup-codes"));
    return kInternal;
  }
  return status;
}
