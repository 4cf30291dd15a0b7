// valix-admin status: one row per user, as an aligned table or a JSON array.
#include "status.hpp"

#include <pwd.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "admin.hpp"
#include "username.hpp"

namespace valix::admin {
namespace {

Result<StatusRow> make_row(const Context& ctx, const std::string& user,
                           const std::optional<Account>& account,
                           const std::optional<UserState>& state) {
  StatusRow row;
  row.user = user;
  row.has_account = account.has_value();
  if (state) {
    if (state->enrollment) {
      row.enrolled = true;
      row.enrolled_at = state->enrollment->enrolled_at;
      row.backup_codes = state->enrollment->backup.hashes.size();
      row.clock_offset_seconds = state->enrollment->offset_steps * state->enrollment->otp.period;
      for (const Authenticator* a : state->enrollment->authenticators()) {
        row.authenticators.push_back(AuthenticatorRow{a->name, a->kind, a->otp, a->enrolled_at,
                                                      a->last_used,
                                                      a->offset_steps * a->otp.period});
      }
    }
    if (state->pending && state->pending->expires_at > ctx.now) {
      row.pending = true;
      row.pending_expires = state->pending->expires_at;
    }
    // Either limit: TOTP codes, or backup codes (their own count and lockout).
    row.failures = state->failures + state->backup_failures;
    const std::int64_t locked_until = std::max(state->locked_until, state->backup_locked_until);
    row.locked = locked_until > ctx.now;
    row.locked_until = row.locked ? locked_until : 0;
    row.last_login = state->last_login;
    row.last_failure = state->last_failure;
    if (state->last_failure != 0 && state->last_failure_rhost != "-") {
      row.last_failure_rhost = state->last_failure_rhost;
    }
  }
  auto why = required_by(ctx.config, account, state && state->required);
  if (!why) return std::unexpected(why.error());
  row.required_by = *why;
  return row;
}

// Above this many users, status reads the passwd database once instead of looking each user
// up: the files backend rereads /etc/passwd for every lookup, which is quadratic.
constexpr std::size_t kEnumerateAbove = 100;

// Every account getpwent returns; the first entry for a name wins, as it does for
// getpwnam. Directory backends often do not enumerate, so a name missing here is still
// looked up on its own.
// owner_names: for each uid, the first name getpwent gives it, as getpwuid does (the name
// state is filed under).
struct Accounts {
  std::unordered_map<std::string, Account> by_name;
  std::unordered_map<uid_t, std::string> owner_names;
};

Accounts enumerate_accounts() {
  Accounts accounts;
  setpwent();
  while (const passwd* pw = getpwent()) {
    if (pw->pw_name == nullptr) continue;
    accounts.by_name.try_emplace(pw->pw_name, Account{pw->pw_name, pw->pw_uid, pw->pw_gid,
                                                      pw->pw_dir != nullptr ? pw->pw_dir : ""});
    accounts.owner_names.try_emplace(pw->pw_uid, pw->pw_name);
  }
  endpwent();
  return accounts;
}

// The name uid maps back to (getpwuid, as state_owner files state), nullopt when it has no
// account.
Result<std::optional<std::string>> owner_name(uid_t uid, const Accounts& known) {
  if (auto it = known.owner_names.find(uid); it != known.owner_names.end()) return it->second;
  auto by_uid = lookup_account(uid);
  if (!by_uid) return std::unexpected(by_uid.error());
  if (!*by_uid) return std::optional<std::string>{};
  return std::optional<std::string>((*by_uid)->name);
}

// What is wrong with where a listed state file is, if anything. Logins refuse such state or
// do not see it, so each is worth an administrator's attention: misfiled state is an error,
// state that cannot be tied to any account yet a warning.
enum class Severity { warning, error };
struct Finding {
  Severity severity;
  Said message;
};

Result<std::optional<Finding>> filing_finding(const Context& ctx, const Target& t,
                                              const UserState& state, const Accounts& known) {
  // Whose the state is: the uid it records, or (written before uids were recorded) the uid of
  // the account its name has now.
  std::optional<uid_t> uid = state.uid;
  if (!uid && t.account) uid = t.account->uid;
  if (!uid) {
    return std::optional<Finding>(
        Finding{Severity::warning,
                say("this state records no uid (it was written before Valix recorded one) and "
                    "there is no account named '{user}', so it cannot be tied to an account: if "
                    "the account was renamed, move it with 'valix-admin rename {user} NEWNAME' "
                    "(logins by the new name do not see it); if it was removed, remove the state "
                    "file",
                    {{"user", t.name}})});
  }
  auto owner = owner_name(*uid, known);
  if (!owner) return std::unexpected(owner.error());
  if (!*owner && !state.uid) owner = std::optional<std::string>(t.account->name);
  if (*owner && **owner == t.name) return std::optional<Finding>{};
  if (*owner) {
    return std::optional<Finding>(
        Finding{Severity::error,
                say("this state belongs to the account '{account}' (uid {uid}) but is filed "
                    "under '{user}': logins refuse it or do not see it; rename it to "
                    "{account}.state: valix-admin rename {user} {account}",
                    {{"account", **owner}, {"uid", std::to_string(*uid)}, {"user", t.name}})});
  }
  if (!t.account) return std::optional<Finding>{};  // the account was removed, state kept
  // TRANSLATORS: {uid} is the uid the state records, {new_uid} the uid of the account named
  // {user} now, {file} the state file.
  return std::optional<Finding>(
      Finding{Severity::error,
              say("this state belongs to uid {uid}, which has no account now, but the name "
                  "'{user}' is now uid {new_uid}'s, whose logins refuse it: if uid {uid}'s "
                  "account was renamed, 'valix-admin rename {user} NEWNAME'; if it was removed, "
                  "remove {file}",
                  {{"uid", std::to_string(*uid)},
                   {"user", t.name},
                   {"new_uid", std::to_string(t.account->uid)},
                   {"file", ctx.config.state_dir + "/" + t.name + ".state"}})});
}

}  // namespace

Exit cmd_status(const Context& ctx, const std::vector<std::string>& users, OutputFormat format) {
  constexpr std::string_view action = "status";
  std::vector<std::string> names = users;
  const bool listing = names.empty();
  if (listing) {
    auto listed = ctx.store.list_users();
    if (!listed) return ctx.error(action, "-", listed.error(), Exit::failed);
    names = std::move(*listed);
  }
  // Invalid names are refused before anything is printed; unknown users and unreadable state
  // are reported and skipped, so everyone else is still shown.
  Exit result = Exit::ok;
  std::vector<Target> targets;
  targets.reserve(names.size());
  const auto known = listing && names.size() > kEnumerateAbove ? enumerate_accounts() : Accounts{};
  for (const auto& name : names) {
    // The shortcut is for the names of state files; a name typed goes through state_owner.
    if (auto it = known.by_name.find(name);
        listing && it != known.by_name.end() && valid_username(name)) {
      targets.push_back(Target{name, it->second});
      continue;
    }
    if (listing) {
      // A state file is shown under its own name, even one filed under another spelling of an
      // account's name (by a version before the name service was asked), which logins refuse.
      auto account = lookup_account(name);
      if (!account) return ctx.error(action, name, account.error(), Exit::failed);
      targets.push_back(Target{name, std::move(*account)});
      continue;
    }
    auto target = resolve_user(ctx.store, name);
    if (!target && target.error().code == Errc::misfiled) {
      // Reported like an unreadable state: everyone else is still shown.
      result = worse(result, ctx.error(action, name, target.error(), Exit::refused));
      continue;
    }
    if (!target) {
      const Exit code = target.error().code == Errc::invalid ? Exit::refused : Exit::failed;
      return ctx.error(action, name, target.error(), code);
    }
    targets.push_back(std::move(*target));
  }

  std::vector<StatusRow> rows;
  rows.reserve(targets.size());
  for (const Target& t : targets) {
    // A listed file is shown as it is, whoever it records; it is judged below.
    auto state = ctx.store.load(listing ? StateKey{t.name, std::nullopt} : t.key());
    if (!state) {
      // One unreadable file must not hide everyone else: report it and go on.
      result = worse(result, ctx.error(action, t.name, state.error(), Exit::failed));
      continue;
    }
    if (!*state && !t.account) {
      result = worse(result, ctx.error(action, t.name,
                                       say("there is no user named '{user}'", {{"user", t.name}}),
                                       Exit::refused));
      continue;
    }
    if (listing && *state) {
      auto finding = filing_finding(ctx, t, **state, known);
      if (!finding) {
        result = worse(result, ctx.error(action, t.name, finding.error(), Exit::failed));
      } else if (*finding && (*finding)->severity == Severity::error) {
        result = worse(result, ctx.error(action, t.name, (*finding)->message, Exit::failed));
      } else if (*finding) {
        const Said said =
            say("{action} {user} (by {operator}): {message}", {{"action", action},
                                                               {"user", shown(t.name)},
                                                               {"operator", ctx.operator_name},
                                                               {"message", (*finding)->message}});
        ctx.log.log_line_shown(LogLevel::warning,
                               admin_line(Reason::warning, action, t.name, ctx.operator_name),
                               said.message, said.shown);
      }
    }
    auto row = make_row(ctx, t.name, t.account, *state);
    if (!row) {
      result = worse(result, ctx.error(action, t.name, row.error(), Exit::failed));
      continue;
    }
    row->details = !listing;
    rows.push_back(std::move(*row));
  }
  const std::string text = format == OutputFormat::json ? status_json(rows) : status_table(rows);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    return ctx.error(action, "-", say("cannot write the output"), Exit::failed);
  }
  ctx.audit(action,
            users.empty()       ? "(all users)"
            : users.size() == 1 ? users.front()
                                : "(listed users)",
            "shown " + std::to_string(rows.size()) + " user" + (rows.size() == 1 ? "" : "s"));
  return result;
}

}  // namespace valix::admin
