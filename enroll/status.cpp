#include "status.hpp"

#include <cstdio>
#include <string>

#include "i18n.hpp"
#include "outcome.hpp"
#include "privileges.hpp"
#include "text.hpp"

namespace valix::enroll {
namespace {

std::string_view kind_name(AuthenticatorKind kind) {
  return kind == AuthenticatorKind::hotp ? "hotp" : "totp";
}

// "[{"name": ..., "kind": "totp", "added_at": ..., "last_used": ...|null}, ...]"
std::string authenticators_json(const Enrollment* enrollment) {
  std::string out = "[";
  if (enrollment) {
    for (const Authenticator* a : enrollment->authenticators()) {
      if (out.size() > 1) out.append(", ");
      out.append("{\"name\": ").append(json_string(a->name));
      out.append(", \"kind\": ").append(json_string(kind_name(a->kind)));
      out.append(", \"added_at\": ").append(json_string(iso_time(a->enrolled_at)));
      out.append(", \"last_used\": ")
          .append(a->last_used != 0 ? json_string(iso_time(a->last_used)) : "null")
          .append("}");
    }
  }
  return out.append("]");
}

void print_authenticators(const Enrollment& enrollment) {
  std::printf("%s\n", tr("Authenticators:"));
  for (const Authenticator* a : enrollment.authenticators()) {
    const std::string used = a->last_used != 0 ? iso_time(a->last_used) : tr("never");
    // TRANSLATORS: {kind} is totp (an app's time-based codes) or hotp (a token's counter).
    std::printf("  %s\n", fill(tr("{name} ({kind}): added {added}, last used {used}"),
                               {{"name", a->name},
                                {"kind", std::string(kind_name(a->kind))},
                                {"added", iso_time(a->enrolled_at)},
                                {"used", used}})
                              .c_str());
  }
}

}  // namespace

int show_status(const Session& session) {
  auto state = session.load();
  if (!state) return internal(state.error());
  drop_privileges_for_good();
  const UserState empty;
  const UserState& s = *state ? **state : empty;
  const bool enrolled = s.enrollment.has_value();
  const std::size_t left = enrolled ? s.enrollment->backup.hashes.size() : 0;
  const bool locked = s.locked_until > now();
  const std::string& user = session.user;
  if (session.options.json) {
    std::printf(
        "{\"user\": %s, \"enrolled\": %s, \"enrolled_at\": %s, \"backup_codes_remaining\": %zu, "
        "\"authenticators\": %s, \"pending\": %s, \"required\": %s, \"locked\": %s}\n",
        json_string(user).c_str(), enrolled ? "true" : "false",
        enrolled ? json_string(iso_time(s.enrollment->enrolled_at)).c_str() : "null", left,
        authenticators_json(enrolled ? &*s.enrollment : nullptr).c_str(),
        s.pending ? "true" : "false", s.required ? "true" : "false", locked ? "true" : "false");
    return kOk;
  }
  if (enrolled) {
    std::printf("%s\n", fill(tr("2FA is on for {user} since {time}.\nBackup codes left: {count}"),
                             {{"user", user},
                              {"time", iso_time(s.enrollment->enrolled_at)},
                              {"count", std::to_string(left)}})
                            .c_str());
    print_authenticators(*s.enrollment);
  } else {
    std::printf("%s\n", fill(tr("2FA is not set up for {user}. Run valix-enroll to turn it on."),
                             {{"user", user}})
                            .c_str());
  }
  if (s.required && !enrolled)
    std::printf("%s\n", tr("Your administrator requires 2FA on your next login."));
  if (s.pending && s.pending->name) {
    std::printf("%s\n", fill(tr("An authenticator named {name} is pending (valix-enroll --confirm "
                                "CODE)."),
                             {{"name", *s.pending->name}})
                            .c_str());
  } else if (s.pending) {
    std::printf("%s\n", tr("An enrollment is pending (valix-enroll --confirm CODE)."));
  }
  if (locked)
    std::printf("%s\n", fill(tr("Locked after too many failed attempts until {time}."),
                             {{"time", iso_time(s.locked_until)}})
                            .c_str());
  return kOk;
}

}  // namespace valix::enroll
