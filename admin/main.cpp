// valix-admin: command line, root check, configuration and logging set-up.
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "admin.hpp"
#include "check.hpp"
#include "i18n.hpp"
#include "log.hpp"
#include "state.hpp"
#include "username.hpp"

using namespace valix;
using namespace valix::admin;

namespace {

constexpr const char* kUsage = N_(R"(Usage: valix-admin [--config FILE] COMMAND [ARGUMENTS]

Manage two-factor authentication (2FA) for users. Must be run as root.

Commands:
  require USER... [--group GROUP]...
        Require 2FA on the user's next login: a user who has not set up 2FA is
        walked through setting it up when they next sign in.
  unrequire USER... [--group GROUP]...
        Take back 'require' (the users' own enrollment, if any, stays).
  reset USER
        Reset 2FA: remove the user's secret, backup codes, pending enrollment and
        lockout, so they can set it up again. A 'require' flag stays.
  unlock USER
        Clear a lockout after too many wrong codes.
  add-token USER [NAME] --hotp|--totp [--algorithm A] [--digits 6|8]
            [--period S] [--counter N] [--force] [--no-backup-codes]
        Make a hardware OATH token the user's authenticator: its secret (hex,
        as token vendors ship it, or base32) is read from standard input. HOTP
        tokens (counter-based; --counter: the counter of its next value, 0 for
        a new token) or TOTP tokens with their own algorithm (SHA1), digits (6)
        and period (30). New backup codes are printed (--no-backup-codes:
        none). --force replaces an existing enrollment. With NAME, for an
        enrolled user: the token is added as one more authenticator named NAME
        (at most 8 in all), their others and their backup codes stay; --force
        replaces the one named NAME. Without an enrollment, NAME names the
        token (default: "default").
  remove USER NAME
        Remove one of the user's authenticators (a lost phone or token): its
        codes stop working; their other authenticators and backup codes stay.
        The only one is never removed (use reset).
  resync USER [NAME] CODE1 CODE2
        Measure how far the user's authenticator (a hardware token, a phone)
        runs from this host's clock from two consecutive codes it shows now, and
        allow for it on every login (up to 2,880 time steps either way: a day
        at 30 s). For an HOTP token: two consecutive values within 10,000
        presses of its counter set the counter past them. Give a code as "-"
        to read it from standard input (other users can see the command line).
        NAME: which authenticator, needed when the user has several.
  rename OLD NEW
        Move the 2FA state filed under OLD to the account NEW, after the account
        was renamed (usermod -l) or when another login name for its uid comes
        first. Refused if NEW already has 2FA state or the state belongs to
        another uid. Logins refuse such misfiled state until it is moved.
  status [USER...] [--json]
        Show enrollment, requirement (and why), pending enrollment, backup codes
        left, lockout and last 2FA login. Without USER: every user with 2FA state.
        Each authenticator (name, kind, when added, last used, clock offset) on
        a line of its own under a USER named, or under any user with several.
  import-google-authenticator USER [FILE] [--force] [--no-backup-codes]
        Import the user's ~/.google_authenticator (or FILE), so their phone keeps
        working. Scratch codes are not imported: new backup codes are printed
        (--no-backup-codes: none; the user makes their own with valix-enroll).
        --force replaces an existing Valix enrollment.
  migrate [STATE_DIR] [--force]
        With store = ldap: copy this host's state files (STATE_DIR, default
        state_dir) into the fleet's directory: secrets, watermarks, unused
        backup codes, flags and lockouts, so users keep their phones and codes.
        A user with state in the directory already is kept (--force: replaced).
  check [--pam-dir DIR] [--sshd-config FILE | --no-sshd]
        Check valix.conf, the module options and order of every PAM service in
        DIR (default /etc/pam.d) that uses pam_valix, the state store and (when
        the sshd service uses pam_valix) "sshd -T", or FILE of "keyword value"
        lines. Prints one "error:" or "warning:" line per finding. Changes
        nothing. Run it after changing PAM, sshd or valix.conf.

With store = ldap every command acts on the fleet's directory, for every host at
once, bound as ldap_admin_bind_dn (or as the host without it).

Options:
  --config FILE   valix.conf to use (default: {config})
  --help          show this help
  --version       show the version

Exit status:
  0  success (check: no errors; warnings may have been printed)
  1  valix.conf, the state store or an import file could not be used, or the
     output could not be written; (check) an error was found
  2  bad command line
  3  refused: a user or group is invalid or unknown, a user has no 2FA state,
     a user's state is misfiled (see rename), (import, add-token) is already
     enrolled or has an authenticator NAME, (remove) has no authenticator
     NAME or only that one, (rename) the state is not NEW's, or (resync) the
     codes are not two new consecutive codes of the user's, or NAME is needed
     or not theirs; nothing was changed for that user
  4  not run as root

Every action is logged to syslog (authpriv) with who ran it. See valix-admin(8).
)");

// Errors and warnings reach the operator on stderr; everything else goes to syslog only,
// because the operator gets a friendlier line on stdout.
class ErrorsOnly final : public Logger {
 public:
  explicit ErrorsOnly(Logger& next) : next_(next) {}
  void log(LogLevel level, std::string_view message) override {
    if (level == LogLevel::error || level == LogLevel::warning) next_.log(level, message);
  }

 private:
  Logger& next_;
};

// message is translated.
Exit usage_error(const std::string& message) {
  std::fprintf(stderr, "valix-admin: %s\n%s\n", message.c_str(), tr("Try 'valix-admin --help'."));
  return Exit::usage;
}

std::string operator_name() {
  std::string name;
  if (auto account = lookup_account(getuid()); account && *account) {
    name = (*account)->name;
  } else {
    name = "uid " + std::to_string(getuid());
  }
  // SUDO_USER is only a hint from the environment, so the real user is logged next to it.
  if (const char* sudo = std::getenv("SUDO_USER"); sudo != nullptr && valid_username(sudo)) {
    return std::string(sudo) + " (as " + name + " via sudo)";
  }
  return name;
}

struct CommandLine {
  std::string config = VALIX_DEFAULT_CONFIG;
  std::string command;
  std::vector<std::string> args;
  std::vector<std::string> groups;
  bool json = false;
  bool force = false;
  bool no_backup_codes = false;
  bool help = false;
  bool version = false;
  std::optional<std::string> pam_dir;
  std::optional<std::string> sshd_config;
  bool no_sshd = false;
  // add-token
  std::optional<AuthenticatorKind> token_kind;
  std::optional<std::string> algorithm, digits, period, counter;
};

std::optional<Exit> parse(int argc, char** argv, CommandLine& cl) {
  bool options_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](std::string_view name) -> std::optional<std::string> {
      if (arg.size() > name.size() && arg.starts_with(name) && arg[name.size()] == '=') {
        return arg.substr(name.size() + 1);
      }
      if (i + 1 >= argc) return std::nullopt;
      return std::string(argv[++i]);
    };
    if (options_done || arg.empty() || arg.front() != '-' || arg == "-") {
      if (cl.command.empty()) {
        cl.command = arg;
      } else {
        cl.args.push_back(arg);
      }
    } else if (arg == "--") {
      options_done = true;
    } else if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "--json") {
      cl.json = true;
    } else if (arg == "--force") {
      cl.force = true;
    } else if (arg == "--no-backup-codes") {
      cl.no_backup_codes = true;
    } else if (arg == "--config" || arg.starts_with("--config=")) {
      auto v = value("--config");
      if (!v || v->empty()) return usage_error(tr("--config needs a file"));
      cl.config = *v;
    } else if (arg == "--pam-dir" || arg.starts_with("--pam-dir=")) {
      auto v = value("--pam-dir");
      if (!v || v->empty()) return usage_error(tr("--pam-dir needs a directory"));
      cl.pam_dir = *v;
    } else if (arg == "--sshd-config" || arg.starts_with("--sshd-config=")) {
      auto v = value("--sshd-config");
      if (!v || v->empty()) return usage_error(tr("--sshd-config needs a file"));
      cl.sshd_config = *v;
    } else if (arg == "--hotp" || arg == "--totp") {
      if (cl.token_kind) return usage_error(tr("--hotp and --totp exclude each other"));
      cl.token_kind = arg == "--hotp" ? AuthenticatorKind::hotp : AuthenticatorKind::totp;
    } else if (arg == "--algorithm" || arg.starts_with("--algorithm=") || arg == "--digits" ||
               arg.starts_with("--digits=") || arg == "--period" || arg.starts_with("--period=") ||
               arg == "--counter" || arg.starts_with("--counter=")) {
      const std::string name = arg.substr(0, arg.find('='));
      auto v = value(name);
      if (!v || v->empty()) {
        return usage_error(fill(tr("{option} needs a value"), {{"option", name}}));
      }
      (name == "--algorithm" ? cl.algorithm
       : name == "--digits"  ? cl.digits
       : name == "--period"  ? cl.period
                             : cl.counter) = *v;
    } else if (arg == "--no-sshd") {
      cl.no_sshd = true;
    } else if (arg == "--group" || arg.starts_with("--group=")) {
      auto v = value("--group");
      if (!v || v->empty()) return usage_error(tr("--group needs a group name"));
      cl.groups.push_back(*v);
    } else {
      return usage_error(fill(tr("unknown option '{option}'"), {{"option", shown(arg)}}));
    }
  }
  return std::nullopt;
}

// An authenticator's NAME as given: 1 to 32 of [A-Za-z0-9._-] (valid_authenticator_name).
std::optional<Exit> check_authenticator_name(const std::string& name) {
  if (valid_authenticator_name(name)) return std::nullopt;
  return usage_error(fill(tr("'{name}' is not an authenticator name (1 to 32 letters, digits, "
                             "'.', '_' or '-')"),
                          {{"name", shown(name)}}));
}

// Which options and how many arguments each command takes.
std::optional<Exit> check_usage(const CommandLine& cl) {
  const std::string& c = cl.command;
  const bool group_ok = c == "require" || c == "unrequire";
  if (!cl.groups.empty() && !group_ok) {
    return usage_error(tr("--group only goes with require and unrequire"));
  }
  if (cl.json && c != "status") return usage_error(tr("--json only goes with status"));
  if (cl.no_backup_codes && c != "import-google-authenticator" && c != "add-token") {
    return usage_error(
        tr("--no-backup-codes only goes with import-google-authenticator and add-token"));
  }
  if (cl.force && c != "import-google-authenticator" && c != "migrate" && c != "add-token") {
    return usage_error(
        tr("--force only goes with import-google-authenticator, add-token and migrate"));
  }
  if ((cl.token_kind || cl.algorithm || cl.digits || cl.period || cl.counter) && c != "add-token") {
    return usage_error(
        tr("--hotp, --totp, --algorithm, --digits, --period and --counter only go with add-token"));
  }
  if ((cl.pam_dir || cl.sshd_config || cl.no_sshd) && c != "check") {
    return usage_error(tr("--pam-dir, --sshd-config and --no-sshd only go with check"));
  }
  if (cl.sshd_config && cl.no_sshd)
    return usage_error(tr("--sshd-config and --no-sshd exclude each other"));
  if (group_ok) {
    if (cl.args.empty() && cl.groups.empty()) {
      return usage_error(fill(tr("{command} needs a USER or --group GROUP"), {{"command", c}}));
    }
  } else if (c == "reset" || c == "unlock") {
    if (cl.args.size() != 1)
      return usage_error(fill(tr("{command} takes exactly one USER"), {{"command", c}}));
  } else if (c == "add-token") {
    if (cl.args.empty() || cl.args.size() > 2 || !cl.token_kind) {
      return usage_error(
          fill(tr("{command} takes USER [NAME] and --hotp or --totp"), {{"command", c}}));
    }
    if (cl.args.size() == 2) {
      if (auto bad = check_authenticator_name(cl.args[1])) return bad;
    }
    if (cl.counter && cl.token_kind != AuthenticatorKind::hotp) {
      return usage_error(tr("--counter only goes with --hotp"));
    }
    if (cl.period && cl.token_kind != AuthenticatorKind::totp) {
      return usage_error(tr("--period only goes with --totp"));
    }
  } else if (c == "resync") {
    if (cl.args.size() != 3 && cl.args.size() != 4)
      return usage_error(fill(tr("{command} takes USER [NAME] CODE1 CODE2"), {{"command", c}}));
    if (cl.args.size() == 4) {
      if (auto bad = check_authenticator_name(cl.args[1])) return bad;
    }
  } else if (c == "remove") {
    if (cl.args.size() != 2)
      return usage_error(fill(tr("{command} takes USER NAME"), {{"command", c}}));
    if (auto bad = check_authenticator_name(cl.args[1])) return bad;
  } else if (c == "rename") {
    if (cl.args.size() != 2)
      return usage_error(fill(tr("{command} takes OLD NEW"), {{"command", c}}));
  } else if (c == "import-google-authenticator") {
    if (cl.args.empty() || cl.args.size() > 2)
      return usage_error(fill(tr("{command} takes USER [FILE]"), {{"command", c}}));
  } else if (c == "migrate") {
    if (cl.args.size() > 1)
      return usage_error(fill(tr("{command} takes at most a STATE_DIR"), {{"command", c}}));
  } else if (c == "check") {
    if (!cl.args.empty()) return usage_error(tr("check takes no arguments"));
  } else if (c != "status") {
    return usage_error(c.empty()
                           ? std::string(tr("no command given"))
                           : fill(tr("unknown command '{command}'"), {{"command", shown(c)}}));
  }
  return std::nullopt;
}

// add-token's options as settings: SHA1, 6 digits, 30 s and counter 0 unless given.
Result<TokenSettings> token_settings(const CommandLine& cl) {
  TokenSettings token;
  token.kind = cl.token_kind.value_or(AuthenticatorKind::hotp);
  if (cl.algorithm) {
    auto algorithm = parse_otp_algorithm(*cl.algorithm);
    if (!algorithm) return fail(Errc::invalid, tr("--algorithm must be SHA1, SHA256 or SHA512"));
    token.otp.algorithm = *algorithm;
  }
  if (cl.digits) {
    if (*cl.digits != "6" && *cl.digits != "8")
      return fail(Errc::invalid, tr("--digits must be 6 or 8"));
    token.otp.digits = *cl.digits == "6" ? 6 : 8;
  }
  auto number = [](const std::string& text, std::uint64_t max) -> std::optional<std::uint64_t> {
    std::uint64_t n = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size() || n > max) return std::nullopt;
    return n;
  };
  if (cl.period) {
    auto period = number(*cl.period, 300);
    if (!period || *period < 15) return fail(Errc::invalid, tr("--period must be 15 to 300"));
    token.otp.period = static_cast<int>(*period);
  }
  if (cl.counter) {
    auto counter = number(*cl.counter, std::uint64_t{1} << 53);
    if (!counter) return fail(Errc::invalid, tr("--counter must be a count of presses"));
    token.counter = *counter;
  }
  return token;
}

int run(int argc, char** argv) {
  CommandLine cl;
  if (auto bad = parse(argc, argv, cl)) return static_cast<int>(*bad);
  if (cl.help) {
    std::fputs(fill(tr(kUsage), {{"config", VALIX_DEFAULT_CONFIG}}).c_str(), stdout);
    return 0;
  }
  if (cl.version) {
    std::printf("valix-admin %s\n", VALIX_VERSION);
    return 0;
  }
  if (auto bad = check_usage(cl)) return static_cast<int>(*bad);
  if (geteuid() != 0) {
    std::fprintf(stderr, "valix-admin: %s\n", tr("must be run as root"));
    return static_cast<int>(Exit::not_root);
  }

  // Before valix.conf is loaded: a file that does not parse is one of its findings.
  if (cl.command == "check") {
    CheckOptions options{cl.config, cl.pam_dir.value_or("/etc/pam.d"), cl.sshd_config, !cl.no_sshd};
    return cmd_check(options);
  }

  StderrLogger stderr_logger("valix-admin", false);
  ErrorsOnly errors_only(stderr_logger);
  SyslogTeeLogger log("valix-admin", errors_only);
  const std::string who = operator_name();

  auto config = load_config(cl.config, geteuid());
  if (!config) {
    // TRANSLATORS: {command} is a valix-admin command, {operator} who ran it, {error} what is
    // wrong in valix.conf.
    const Said said = say("{command} (by {operator}): configuration error: {error}",
                          {{"command", cl.command}, {"operator", who}, {"error", config.error()}});
    log.log_line_shown(LogLevel::error, admin_line(Reason::failed, cl.command, {}, who),
                       said.message, said.shown);
    return static_cast<int>(Exit::failed);
  }
  auto store = open_state_store(*config, geteuid(), StoreUser::admin);
  if (!store) {
    const Said said = say("{command} (by {operator}): {error}",
                          {{"command", cl.command}, {"operator", who}, {"error", store.error()}});
    log.log_line_shown(LogLevel::error, admin_line(Reason::failed, cl.command, {}, who),
                       said.message, said.shown);
    return static_cast<int>(Exit::failed);
  }
  const Context ctx{*config, cl.config, **store,
                    log,     who,       static_cast<std::int64_t>(std::time(nullptr))};

  Exit result = Exit::ok;
  if (cl.command == "require") {
    result = cmd_require(ctx, cl.args, cl.groups);
  } else if (cl.command == "unrequire") {
    result = cmd_unrequire(ctx, cl.args, cl.groups);
  } else if (cl.command == "reset") {
    result = cmd_reset(ctx, cl.args.front());
  } else if (cl.command == "unlock") {
    result = cmd_unlock(ctx, cl.args.front());
  } else if (cl.command == "add-token") {
    auto token = token_settings(cl);
    if (!token) return static_cast<int>(usage_error(token.error().message));
    result = cmd_add_token(
        ctx, cl.args.front(),
        cl.args.size() > 1 ? std::optional<std::string>(cl.args[1]) : std::nullopt, *token,
        cl.no_backup_codes ? BackupCodesOnImport::none : BackupCodesOnImport::generate,
        cl.force ? ExistingEnrollment::replace : ExistingEnrollment::refuse);
  } else if (cl.command == "resync") {
    if (cl.args.size() == 4) {
      result = cmd_resync(ctx, cl.args[0], cl.args[1], cl.args[2], cl.args[3]);
    } else {
      result = cmd_resync(ctx, cl.args[0], std::nullopt, cl.args[1], cl.args[2]);
    }
  } else if (cl.command == "remove") {
    result = cmd_remove(ctx, cl.args[0], cl.args[1]);
  } else if (cl.command == "rename") {
    result = cmd_rename(ctx, cl.args[0], cl.args[1]);
  } else if (cl.command == "status") {
    result = cmd_status(ctx, cl.args, cl.json ? OutputFormat::json : OutputFormat::table);
  } else if (cl.command == "import-google-authenticator") {
    result = cmd_import_google_authenticator(
        ctx, cl.args.front(),
        cl.args.size() > 1 ? std::optional<std::string>(cl.args[1]) : std::nullopt,
        cl.no_backup_codes ? BackupCodesOnImport::none : BackupCodesOnImport::generate,
        cl.force ? ExistingEnrollment::replace : ExistingEnrollment::refuse);
  } else if (cl.command == "migrate") {
    result = cmd_migrate(ctx, cl.args.empty() ? std::nullopt : std::optional(cl.args.front()),
                         cl.force ? ExistingEnrollment::replace : ExistingEnrollment::refuse);
  }
  return static_cast<int>(result);
}

}  // namespace

int main(int argc, char** argv) {
  valix::init_tool();
  const int status = run(argc, argv);
  if (auto written = flush_stdout(); !written) {
    std::fprintf(stderr, "valix-admin: %s\n", shown_message(written.error()).c_str());
    return static_cast<int>(Exit::failed);
  }
  return status;
}
