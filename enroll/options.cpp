#include "options.hpp"

#include <cstdio>
#include <string_view>

#include "i18n.hpp"
#include "text.hpp"

namespace valix::enroll {
namespace {

constexpr const char* kUsageText = N_(R"(Usage: valix-enroll [OPTIONS]

Turn on two-factor authentication (2FA) for your account. Without options, on a
terminal: shows a QR code to scan with your authenticator app (Google
Authenticator, Authy, 1Password, ...), asks for the first 6-digit code, then
gives you backup codes to keep somewhere safe.

Options:
  --qr utf8|ansi|none        how to draw the QR code (default from valix.conf)
  --qr-svg FILE              also write the QR code as an SVG image (a new file)
  --backup-codes-file FILE   also save the backup codes to FILE (a new file, mode 0600)
  --status                   show your 2FA status (no secrets)
  --regenerate-backup-codes  replace your backup codes (asks for a current code)
  --add NAME                 add another authenticator (a second phone, say) named
                             NAME: asks for a current code, then shows its QR code;
                             your other authenticators and backup codes stay
  --remove NAME              remove the authenticator NAME (asks for a current code);
                             the one you enrolled with cannot be removed
  --begin                    scripts: start an enrollment (or, with --add NAME, an
                             authenticator), print the secret and URI
  --confirm CODE             scripts: finish it with the first code, print backup codes
                             (for --add: add the authenticator; no new backup codes)
  --code CODE                the current code from your app, when you are already
                             enrolled (re-enrolling, --add, --remove,
                             --regenerate-backup-codes)
                             CODE "-" (for both): read it from standard input, where
                             other users cannot see it (they can see arguments)
  --json                     machine-readable output for --begin, --confirm, --status,
                             --regenerate-backup-codes
  --user NAME                root only: act for NAME
  --config FILE              valix.conf to use (default: {config};
                             ignored when run setuid)
  --help, --version

Enrolling again (without --add) replaces every authenticator and the backup codes.

Exit status: 0 done; 1 refused (wrong code, not allowed, nothing pending);
2 bad command line; 3 internal error (see the message; nothing was changed, unless
it says the change is in place but the disk reported an error).
)");

}  // namespace

Result<std::optional<Options>> parse(int argc, char** argv) {
  Options o;
  bool action_set = false;
  auto set_action = [&](Options::Action a) -> Result<void> {
    if (action_set)
      return fail_said(Errc::invalid,
                       "give only one of --begin, --confirm, --status, --regenerate-backup-codes, "
                       "--remove");
    action_set = true;
    o.action = a;
    return {};
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> Result<std::string> {
      if (i + 1 >= argc)
        return fail_said(Errc::invalid, "{option} needs a value", {{"option", arg}});
      return std::string(argv[++i]);
    };
    Result<void> ok;
    if (arg == "--help") {
      std::fputs(fill(tr(kUsageText), {{"config", VALIX_DEFAULT_CONFIG}}).c_str(), stdout);
      return std::optional<Options>{};
    } else if (arg == "--version") {
      std::printf("valix-enroll %s\n", VALIX_VERSION);
      return std::optional<Options>{};
    } else if (arg == "--begin") ok = set_action(Options::Action::begin);
    else if (arg == "--status") ok = set_action(Options::Action::status);
    else if (arg == "--regenerate-backup-codes") ok = set_action(Options::Action::regenerate);
    else if (arg == "--json") o.json = true;
    else if (arg == "--confirm" || arg == "--code" || arg == "--user" || arg == "--config" ||
             arg == "--qr-svg" || arg == "--backup-codes-file" || arg == "--qr" || arg == "--add" ||
             arg == "--remove") {
      auto v = value();
      if (!v) return std::unexpected(v.error());
      if (arg == "--confirm") {
        ok = set_action(Options::Action::confirm);
        o.confirm_code = *v;
      } else if (arg == "--remove") {
        ok = set_action(Options::Action::remove);
        o.remove_name = *v;
      } else if (arg == "--add") {
        if (o.add_name) return fail_said(Errc::invalid, "give --add only once");
        o.add_name = *v;
      } else if (arg == "--code") o.current_code = *v;
      else if (arg == "--user") o.user = *v;
      else if (arg == "--config") o.config = *v;
      else if (arg == "--qr-svg") o.qr_svg = *v;
      else if (arg == "--backup-codes-file") o.codes_file = *v;
      else {
        Config scratch;
        if (auto applied = apply_setting(scratch, "qr", *v); !applied) {
          return fail_said(Errc::invalid, "--qr must be utf8, ansi or none");
        }
        o.qr = scratch.qr;
      }
    } else {
      return fail_said(Errc::invalid, "unknown option '{option}' (see --help)",
                       {{"option", printable_for_log(arg, 128)}});
    }
    if (!ok) return std::unexpected(ok.error());
  }
  if (o.add_name) {
    if (o.action == Options::Action::interactive) o.action = Options::Action::add;
    else if (o.action != Options::Action::begin)
      return fail_said(Errc::invalid, "--add goes alone (on a terminal) or with --begin");
  }
  if (o.json && (o.action == Options::Action::interactive || o.action == Options::Action::add ||
                 o.action == Options::Action::remove)) {
    return fail_said(Errc::invalid,
                     "--json goes with --begin, --confirm, --status or --regenerate-backup-codes");
  }
  return std::optional<Options>(std::move(o));
}

}  // namespace valix::enroll
