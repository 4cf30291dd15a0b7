// require, unrequire, reset and unlock, and the helpers every subcommand shares.
#include "admin.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <set>

#include "enrollment.hpp"
#include "text.hpp"
#include "username.hpp"

namespace valix::admin {
namespace {

// Names are checked for every user before anything is written, so a typo in the third
// name of a list changes nothing for the first two.
Result<std::vector<Target>> resolve_all(StateStore& store, const std::vector<std::string>& names) {
  std::vector<Target> targets;
  for (const auto& name : names) {
    auto target = resolve_user(store, name);
    if (!target) return std::unexpected(target.error());
    targets.push_back(std::move(*target));
  }
  return targets;
}

// The users named directly plus the members of every group named, without duplicates, in
// command-line order. Group members that are not valid names or have no account are
// skipped with a warning: the group file is not the operator's typo.
Result<std::vector<Target>> targets_with_groups(const Context& ctx, std::string_view action,
                                                const std::vector<std::string>& users,
                                                const std::vector<std::string>& groups) {
  auto targets = resolve_all(ctx.store, users);
  if (!targets) return std::unexpected(targets.error());
  std::set<std::string> seen;
  for (const auto& t : *targets) seen.insert(t.name);
  for (const auto& group : groups) {
    auto members = group_members(group);
    if (!members) return std::unexpected(members.error());
    if (members->empty()) {
      const Said said = say("group '{group}' has no members", {{"group", shown(group)}});
      ctx.log.log_line_shown(
          LogLevel::warning,
          admin_line(Reason::warning, action, {}, ctx.operator_name).add("group", group),
          said.message, said.shown);
    }
    for (const auto& member : *members) {
      if (seen.contains(member)) continue;
      auto target = resolve_user(ctx.store, member);
      // A member whose state is misfiled is the operator's to fix before anyone is changed.
      if (!target && target.error().code == Errc::misfiled) return std::unexpected(target.error());
      if (!target || !target->account) {
        const Said why = target ? say("no account") : said_of(target.error());
        // TRANSLATORS: {action} is a valix-admin command (require, unrequire); {reason} says
        // why the group member is skipped.
        const Said said = say("{action}: skipping '{user}' (member of {group}): {reason}",
                              {{"action", action},
                               {"user", shown(member)},
                               {"group", shown(group)},
                               {"reason", why}});
        ctx.log.log_line_shown(
            LogLevel::warning,
            admin_line(Reason::warning, action, member, ctx.operator_name).add("group", group),
            said.message, said.shown);
        continue;
      }
      seen.insert(member);
      targets->push_back(std::move(*target));
    }
  }
  return targets;
}

std::string plural(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

}  // namespace

void print_new_backup_codes(const std::string& user, const std::vector<SecretString>& codes) {
  std::printf("\n%s\n%s",
              fill(tr("New backup codes for {user} (each works once; give them to {user} "
                      "securely; they will not be shown again):"),
                   {{"user", user}})
                  .c_str(),
              format_backup_codes(codes).c_str());
}

Exit refuse_resolution(const Context& ctx, std::string_view action, const Error& error) {
  const Exit code =
      (error.code == Errc::invalid || error.code == Errc::not_found || error.code == Errc::misfiled)
          ? Exit::refused
          : Exit::failed;
  // TRANSLATORS: {error} is a message of its own, such as "there is no group named 'x'".
  return ctx.error(action, "-", say("{error}; nothing changed", {{"error", error}}), code);
}

LogLine admin_line(Reason reason, std::string_view action, std::string_view user,
                   std::string_view operator_name) {
  LogLine line(Event::admin, reason);
  line.add("action", action).add("user", user).add("by", operator_name);
  return line;
}

void Context::audit(std::string_view action, std::string_view user, std::string_view what) const {
  log.log_line(LogLevel::notice, admin_line(Reason::done, action, user, operator_name),
               std::string(action) + " " + shown(user) + " (by " + operator_name +
                   "): " + std::string(what));
}

Exit Context::error(std::string_view action, std::string_view user, const Said& what,
                    Exit code) const {
  const Reason reason = code == Exit::refused ? Reason::refused : Reason::failed;
  // TRANSLATORS: {action} is a valix-admin command (reset, unlock...), {operator} who ran it
  // ("root", "alice (as root via sudo)"), {message} what went wrong.
  const Said said = say(
      "{action} {user} (by {operator}): {message}",
      {{"action", action}, {"user", shown(user)}, {"operator", operator_name}, {"message", what}});
  log.log_line_shown(LogLevel::error, admin_line(reason, action, user, operator_name), said.message,
                     said.shown);
  return code;
}

std::string shown(std::string_view name) { return printable_for_log(name, 128); }

Result<Target> resolve_user(StateStore& store, std::string_view name) {
  if (!valid_username(name)) {
    return fail_said(Errc::invalid, "'{user}' is not a valid user name", {{"user", shown(name)}});
  }
  auto owner = state_owner(name);
  if (!owner) return std::unexpected(owner.error());
  if (owner->key.empty()) {
    const std::string account = owner->account ? shown(owner->account->name) : shown(name);
    return fail_said(Errc::invalid, "the account name '{account}' cannot be used for 2FA state",
                     {{"account", account}});
  }
  // Acting on the account's own name while its enrollment sits under another would report
  // "nothing to do" for a user whose logins are refused.
  auto stray = state_filed_elsewhere(store, *owner);
  if (!stray) return std::unexpected(stray.error());
  if (*stray) {
    return fail_said(Errc::misfiled,
                     "2FA state for the account '{account}' is filed under '{name}', where "
                     "logins do not use it (those by that name are refused); rename it to "
                     "{account}.state (or remove it): valix-admin rename {name} {account}",
                     {{"account", owner->key}, {"name", **stray}});
  }
  Target target{std::move(owner->key), std::move(owner->account)};
  // Only the store's refusals matter here: a state it cannot read is the command's to report.
  if (auto state = store.load(target.key()); !state && state.error().code == Errc::misfiled) {
    return std::unexpected(state.error());
  }
  return target;
}

Result<std::vector<std::string>> group_members(const std::string& group) {
  std::vector<char> buffer(16384);
  ::group gr{};
  ::group* found = nullptr;
  int rc = 0;
  while ((rc = getgrnam_r(group.c_str(), &gr, buffer.data(), buffer.size(), &found)) == ERANGE &&
         buffer.size() < (1u << 24)) {
    buffer.resize(buffer.size() * 2);
  }
  if (found == nullptr) {
    if (rc == 0 || rc == ENOENT || rc == ESRCH) {
      return fail_said(Errc::not_found, "there is no group named '{group}'",
                       {{"group", shown(group)}});
    }
    return fail_errno("group lookup failed for '" + shown(group) + "'", rc);
  }
  const gid_t gid = found->gr_gid;
  std::set<std::string> members;
  for (char** member = found->gr_mem; member != nullptr && *member != nullptr; ++member) {
    members.insert(*member);
  }
  // Users whose primary group it is are members too, but only the passwd database says so.
  setpwent();
  while (const passwd* pw = getpwent()) {
    if (pw->pw_gid == gid && pw->pw_name != nullptr) members.insert(pw->pw_name);
  }
  endpwent();
  return std::vector<std::string>(members.begin(), members.end());
}

Exit cmd_require(const Context& ctx, const std::vector<std::string>& users,
                 const std::vector<std::string>& groups) {
  constexpr std::string_view action = "require";
  auto targets = targets_with_groups(ctx, action, users, groups);
  if (!targets) return refuse_resolution(ctx, action, targets.error());
  for (const auto& t : *targets) {
    if (!t.account) {
      return ctx.error(action, t.name,
                       say("there is no user named '{user}'; nothing changed", {{"user", t.name}}),
                       Exit::refused);
    }
  }
  Exit result = Exit::ok;
  for (const auto& t : *targets) {
    enum class Found { set, enrolled, already } found = Found::set;
    auto done =
        ctx.store.update(t.key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
          if (state && state->enrollment) {
            found = Found::enrolled;
            return StateChange::keep;
          }
          if (state && state->required) {
            found = Found::already;
            return StateChange::keep;
          }
          if (!state) state.emplace();
          state->required = true;
          return StateChange::write;
        });
    if (!done) {
      result = worse(result, ctx.error(action, t.name, done.error(), Exit::failed));
      continue;
    }
    switch (found) {
      case Found::set:
        ctx.audit(action, t.name, "2FA required on next login (flag set)");
        std::printf("%s\n", fill(tr("2FA is now required for {user}. They will be prompted to set "
                                    "up 2FA when they next sign in."),
                                 {{"user", t.name}})
                                .c_str());
        break;
      case Found::enrolled:
        ctx.audit(action, t.name, "already enrolled; nothing changed");
        std::printf("%s\n", fill(tr("{user} is already enrolled; 2FA is already required."),
                                 {{"user", t.name}})
                                .c_str());
        break;
      case Found::already:
        ctx.audit(action, t.name, "flag was already set; nothing changed");
        std::printf("%s\n", fill(tr("2FA was already required for {user} on their next login; "
                                    "nothing changed."),
                                 {{"user", t.name}})
                                .c_str());
        break;
    }
  }
  return result;
}

Exit cmd_unrequire(const Context& ctx, const std::vector<std::string>& users,
                   const std::vector<std::string>& groups) {
  constexpr std::string_view action = "unrequire";
  auto named = resolve_all(ctx.store, users);
  if (!named) return refuse_resolution(ctx, action, named.error());
  // A user named directly must have state; group members without state are simply skipped.
  for (const auto& t : *named) {
    auto state = ctx.store.load(t.key());
    if (!state) return ctx.error(action, t.name, state.error(), Exit::failed);
    if (!*state) {
      return ctx.error(
          action, t.name,
          t.account ? say("{user} has no 2FA state; nothing changed", {{"user", t.name}})
                    : say("there is no user named '{user}'; nothing changed", {{"user", t.name}}),
          Exit::refused);
    }
  }
  auto targets = targets_with_groups(ctx, action, users, groups);
  if (!targets) return refuse_resolution(ctx, action, targets.error());

  Exit result = Exit::ok;
  for (const auto& t : *targets) {
    enum class Found { cleared, not_flagged, no_state } found = Found::cleared;
    bool enrolled = false;
    auto done =
        ctx.store.update(t.key(), [&](std::optional<UserState>& state) -> Result<StateChange> {
          if (!state) {
            found = Found::no_state;
            return StateChange::keep;
          }
          enrolled = state->enrollment.has_value();
          if (!state->required) {
            found = Found::not_flagged;
            return StateChange::keep;
          }
          state->required = false;
          return StateChange::write;  // the store removes a state left empty
        });
    if (!done) {
      result = worse(result, ctx.error(action, t.name, done.error(), Exit::failed));
      continue;
    }
    if (found == Found::no_state) continue;  // only group members get here
    if (found == Found::not_flagged) {
      ctx.audit(action, t.name, "flag was not set; nothing changed");
      std::printf("%s\n", fill(tr("2FA was not required for {user} by an administrator; nothing "
                                  "changed."),
                               {{"user", t.name}})
                              .c_str());
    } else {
      ctx.audit(action, t.name, "flag cleared");
      std::printf("%s\n", fill(tr("{user} no longer has to set up 2FA on their next login."),
                               {{"user", t.name}})
                              .c_str());
    }
    if (enrolled) {
      std::printf("  %s\n", fill(tr("Note: {user} is enrolled, so every login still asks for a "
                                    "code. Use 'valix-admin reset {user}' to turn 2FA off."),
                                 {{"user", t.name}})
                                .c_str());
    } else if (auto why = required_by(ctx.config, t.account, false);
               why && *why != RequiredBy::nobody) {
      // TRANSLATORS: {config} is the path of valix.conf.
      const char* note = *why == RequiredBy::group_policy
                             ? tr("Note: {config} still requires 2FA for {user} (group policy).")
                             : tr("Note: {config} still requires 2FA for {user} (host policy).");
      std::printf("  %s\n", fill(note, {{"config", ctx.config_path}, {"user", t.name}}).c_str());
    }
  }
  return result;
}

Exit cmd_reset(const Context& ctx, const std::string& typed) {
  constexpr std::string_view action = "reset";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  const std::string& user = target->name;  // the account's own name, as the module uses
  const StateKey key = target->key();
  enum class Found { reset, nothing, no_state } found = Found::reset;
  std::size_t codes = 0;
  bool enrolled = false, pending = false, locked = false, flagged = false;
  std::size_t graces = 0;
  auto done = ctx.store.update(key, [&](std::optional<UserState>& state) -> Result<StateChange> {
    if (!state) {
      found = Found::no_state;
      return StateChange::keep;
    }
    enrolled = state->enrollment.has_value();
    graces = state->grace.size();
    codes = enrolled ? state->enrollment->backup.hashes.size() : 0;
    pending = state->pending.has_value() || state->login_enrollment.has_value();
    locked = state->has_failures();
    flagged = state->required;
    if (!enrolled && !pending && !locked) {
      found = Found::nothing;
      return StateChange::keep;
    }
    // The admin flag survives on purpose: a user an admin required is walked through
    // enrollment again at their next login.
    state->enrollment.reset();
    state->pending.reset();
    state->login_enrollment.reset();
    state->clear_failures();
    state->clear_grace();
    state->last_failure = 0;  // the failure history goes with the enrollment
    state->last_failure_rhost.clear();
    return StateChange::write;  // the store removes a state left empty
  });
  // A state file that cannot be read (corrupt, or too large) would otherwise leave the user
  // locked out of every login and every tool for good; one the store does not trust at all
  // (a symlink, another owner) is refused by remove_unreadable and stays for inspection.
  if (!done && (done.error().code == Errc::corrupt || done.error().code == Errc::unsafe)) {
    auto removed = ctx.store.remove_unreadable(user);
    if (!removed && removed.error().code != Errc::unsynced) {
      // TRANSLATORS: {error} says why the state could not be read, {reason} why it could
      // not be removed.
      return ctx.error(action, user,
                       say("{error}; not removed: {reason}",
                           {{"error", done.error()}, {"reason", removed.error()}}),
                       Exit::failed);
    }
    const std::string why = removed ? *removed : done.error().message;
    ctx.audit(action, user,
              "unreadable state file removed (" + why +
                  "); whatever it held (enrollment, backup codes, lockout, admin flag) is gone");
    std::printf(
        "%s\n",
        fill(tr("The 2FA state of {user} could not be read ({reason}), so it has been removed: "
                "2FA is reset for {user}. Whatever it held is gone, including an "
                "administrator's 'require' flag; set it again with 'valix-admin require {user}' "
                "if it is still wanted."),
             {{"user", user}, {"reason", removed ? *removed : shown_message(done.error())}})
            .c_str());
    if (!removed) {
      return ctx.error(action, user,
                       say("{error}; if this system crashes before the disk is fixed, run the "
                           "reset again",
                           {{"error", removed.error()}}),
                       Exit::failed);
    }
    return Exit::ok;
  }
  if (!done) return ctx.error(action, user, done.error(), Exit::failed);
  if (found == Found::no_state) {
    return ctx.error(
        action, user,
        target->account ? say("{user} has no 2FA state; nothing to reset", {{"user", user}})
                        : say("there is no user named '{user}'; nothing changed", {{"user", user}}),
        Exit::refused);
  }
  if (found == Found::nothing) {
    ctx.audit(action, user, "not enrolled; nothing to reset");
    std::printf("%s\n",
                fill(tr("{user} has not set up 2FA; nothing to reset."), {{"user", user}}).c_str());
    return Exit::ok;
  }
  std::string what;
  if (enrolled) what += "enrollment and " + plural(codes, "backup code") + " removed";
  if (pending) what += std::string(what.empty() ? "" : ", ") + "pending enrollment removed";
  if (locked) what += std::string(what.empty() ? "" : ", ") + "lockout cleared";
  if (graces > 0) what += ", " + plural(graces, "grace period") + " ended";
  what += flagged ? "; admin flag kept" : "";
  ctx.audit(action, user, what);
  std::printf("%s\n", fill(tr("2FA has been reset for {user}. They can set it up again with "
                              "valix-enroll, or will be asked to on their next login if 2FA is "
                              "required."),
                           {{"user", user}})
                          .c_str());
  return Exit::ok;
}

Exit cmd_unlock(const Context& ctx, const std::string& typed) {
  constexpr std::string_view action = "unlock";
  auto target = resolve_user(ctx.store, typed);
  if (!target) return refuse_resolution(ctx, action, target.error());
  const std::string& user = target->name;  // the account's own name, as the module uses
  const StateKey key = target->key();
  enum class Found { unlocked, not_locked, no_state } found = Found::unlocked;
  int failures = 0;
  std::int64_t locked_until = 0;
  std::size_t graces = 0;
  auto done = ctx.store.update(key, [&](std::optional<UserState>& state) -> Result<StateChange> {
    if (!state) {
      found = Found::no_state;
      return StateChange::keep;
    }
    failures = state->failures + state->backup_failures;
    locked_until = std::max(state->locked_until, state->backup_locked_until);
    graces = state->grace.size();
    if (!state->has_failures() && state->grace.empty()) {
      found = Found::not_locked;
      return StateChange::keep;
    }
    state->clear_failures();
    // Unlocking is also how an administrator ends every grace period of the user at once.
    state->clear_grace();
    return StateChange::write;  // the store removes a state left empty
  });
  if (!done) return ctx.error(action, user, done.error(), Exit::failed);
  if (found == Found::no_state) {
    return ctx.error(
        action, user,
        target->account ? say("{user} has no 2FA state; nothing to unlock", {{"user", user}})
                        : say("there is no user named '{user}'; nothing changed", {{"user", user}}),
        Exit::refused);
  }
  if (found == Found::not_locked) {
    ctx.audit(action, user, "not locked; nothing changed");
    std::printf("%s\n",
                fill(tr("{user} is not locked out; nothing changed."), {{"user", user}}).c_str());
    return Exit::ok;
  }
  const bool was_locked = locked_until > ctx.now;
  ctx.audit(action, user,
            "cleared " + plural(static_cast<std::size_t>(failures), "failed attempt") +
                (was_locked ? ", lockout until " + iso_time(locked_until) : std::string()) +
                (graces > 0 ? ", " + plural(graces, "grace period") + " ended" : std::string()));
  if (was_locked) {
    std::printf(
        "%s\n",
        fill(tr("{user} has been unlocked and can sign in again."), {{"user", user}}).c_str());
  } else if (failures == 0) {
    std::printf("%s\n", fill(tr("{user} was not locked out; their grace periods have been ended."),
                             {{"user", user}})
                            .c_str());
  } else {
    std::printf("%s\n",
                fill(trn("{user} was not locked out; their count of {count} failed attempt has "
                         "been cleared.",
                         "{user} was not locked out; their count of {count} failed attempts has "
                         "been cleared.",
                         static_cast<unsigned long>(failures)),
                     {{"user", user}, {"count", std::to_string(failures)}})
                    .c_str());
  }
  return Exit::ok;
}

}  // namespace valix::admin

namespace valix::admin {

Exit cmd_rename(const Context& ctx, const std::string& from, const std::string& to) {
  constexpr std::string_view action = "rename";
  for (const auto& name : {from, to}) {
    if (!valid_username(name)) {
      return ctx.error(
          action, from,
          say("'{user}' is not a valid user name; nothing changed", {{"user", shown(name)}}),
          Exit::refused);
    }
  }
  // The destination is the account's own name, as logins look it up (state_owner), whatever
  // login name was given for it.
  auto owner = state_owner(to);
  if (!owner) return ctx.error(action, from, owner.error(), Exit::failed);
  if (!owner->account) {
    return ctx.error(action, from,
                     say("there is no user named '{user}'; nothing changed", {{"user", to}}),
                     Exit::refused);
  }
  if (owner->key.empty()) {
    return ctx.error(action, from,
                     say("the account name '{account}' cannot be used for 2FA state; nothing "
                         "changed",
                         {{"account", shown(owner->account->name)}}),
                     Exit::refused);
  }
  // from's account now, if any: what a state that records no uid is taken to belong to.
  auto old_account = lookup_account(from);
  if (!old_account) return ctx.error(action, from, old_account.error(), Exit::failed);
  const uid_t uid = owner->account->uid;
  auto moved = ctx.store.rename(
      StateKey{from, *old_account ? std::optional<uid_t>((*old_account)->uid) : std::nullopt},
      owner->state_key());
  if (!moved) {
    const Errc code = moved.error().code;
    const bool refused = code == Errc::not_found || code == Errc::conflict ||
                         code == Errc::misfiled || code == Errc::invalid;
    return ctx.error(action, from,
                     refused ? say("{error}; nothing changed", {{"error", moved.error()}})
                             : said_of(moved.error()),
                     refused ? Exit::refused : Exit::failed);
  }
  const std::string to_account = std::to_string(uid);
  ctx.audit(action, from, "2FA state moved to " + owner->key + " (uid " + to_account + ")");
  std::printf("%s\n", fill(tr("The 2FA state filed under {old} is now filed under {new} (uid "
                              "{uid}), where its logins find it."),
                           {{"old", from}, {"new", owner->key}, {"uid", to_account}})
                          .c_str());
  if (owner->key != to) {
    std::printf("  %s\n", fill(tr("Note: {new} is the name uid {uid} maps back to, so the state "
                                  "is filed under it."),
                               {{"new", owner->key}, {"uid", to_account}})
                              .c_str());
  }
  return Exit::ok;
}

}  // namespace valix::admin
