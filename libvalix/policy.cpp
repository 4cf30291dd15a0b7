#include "policy.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "username.hpp"

namespace valix {
namespace {

Result<std::optional<Account>> from_passwd(int rc, passwd* found) {
  if (found == nullptr) {
    // 0/ENOENT/ESRCH/EBADF/EPERM mean "no such user" per getpwnam_r(3).
    if (rc == 0 || rc == ENOENT || rc == ESRCH || rc == EBADF || rc == EPERM) {
      return std::optional<Account>{};
    }
    return fail_errno("user lookup failed", rc);
  }
  return std::optional<Account>(
      Account{found->pw_name, found->pw_uid, found->pw_gid, found->pw_dir ? found->pw_dir : ""});
}

std::vector<char> nss_buffer() {
  const long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  return std::vector<char>(hint > 0 ? static_cast<std::size_t>(hint) * 4 : 65536);
}

}  // namespace

std::string_view required_by_name(RequiredBy reason) {
  switch (reason) {
    case RequiredBy::nobody: return "-";
    case RequiredBy::admin_flag: return "flag";
    case RequiredBy::host_policy: return "host";
    case RequiredBy::group_policy: return "group";
  }
  return "-";
}

Result<std::optional<Account>> lookup_account(std::string_view name) {
  const std::string key(name);
  auto buffer = nss_buffer();
  passwd pw{};
  passwd* found = nullptr;
  const int rc = getpwnam_r(key.c_str(), &pw, buffer.data(), buffer.size(), &found);
  return from_passwd(rc, found);
}

Result<std::optional<Account>> lookup_account(uid_t uid) {
  auto buffer = nss_buffer();
  passwd pw{};
  passwd* found = nullptr;
  const int rc = getpwuid_r(uid, &pw, buffer.data(), buffer.size(), &found);
  return from_passwd(rc, found);
}

Result<StateOwner> state_owner(std::string_view name) {
  auto account = lookup_account(name);
  if (!account) return std::unexpected(account.error());
  std::string key(name);
  if (*account) {
    key = (*account)->name;
    // Passwd entries that share a uid are one account under several login names: one state,
    // under the name the uid maps back to (which is also what valix-enroll, run by the user,
    // finds).
    auto by_uid = lookup_account((*account)->uid);
    if (!by_uid) return std::unexpected(by_uid.error());
    if (*by_uid) key = (*by_uid)->name;
  }
  if (!valid_username(key)) key.clear();
  std::vector<std::string> other_names;
  for (const std::string_view other :
       {name, *account ? std::string_view((*account)->name) : std::string_view()}) {
    if (other.empty() || other == key || !valid_username(other)) continue;
    if (std::find(other_names.begin(), other_names.end(), other) != other_names.end()) continue;
    other_names.emplace_back(other);
  }
  return StateOwner{std::move(key), std::move(*account), std::move(other_names)};
}

Result<std::optional<std::string>> state_filed_elsewhere(StateStore& store,
                                                         const StateOwner& owner) {
  for (const auto& name : owner.other_names) {
    // As the file is, whoever it records: state under another name of the account is refused
    // in any case.
    auto state = store.load(StateKey{name, std::nullopt});
    if (!state) return std::unexpected(state.error());
    if (*state) return std::optional<std::string>(name);
  }
  return std::optional<std::string>{};
}

Result<LoginState> load_login_state(StateStore& store, const StateOwner& owner) {
  auto stray = state_filed_elsewhere(store, owner);
  if (!stray) return std::unexpected(stray.error());
  if (*stray) {
    return fail(Errc::misfiled, "2FA state is filed under '" + **stray +
                                    "', not under the account's own name '" + owner.key +
                                    "'; rename it (valix-admin rename " + **stray + " " +
                                    owner.key + ")");
  }
  if (owner.key.empty()) {
    if (owner.account) {
      auto filed = store.name_filed_for(owner.account->uid);
      if (!filed) return std::unexpected(filed.error());
      if (*filed) {
        return fail(Errc::misfiled, "2FA state of uid " + std::to_string(owner.account->uid) +
                                        " is filed under '" + **filed +
                                        "', but the account's name cannot be used for 2FA state");
      }
    }
    return LoginState{};
  }
  LoginState found{owner.state_key(), std::nullopt};
  auto state = store.load(*found.key);
  if (!state) return std::unexpected(state.error());
  found.state = std::move(*state);
  return found;
}

Result<bool> member_of_any(const Account& account, const std::vector<std::string>& groups,
                           MissingGroup missing) {
  if (groups.empty()) return false;
  int count = 64;
  std::vector<gid_t> gids(static_cast<std::size_t>(count));
  while (getgrouplist(account.name.c_str(), account.gid, gids.data(), &count) < 0) {
    if (count <= static_cast<int>(gids.size())) count = static_cast<int>(gids.size()) * 2;
    if (count > 65536) return fail(Errc::io, "group list of " + account.name + " is too long");
    gids.resize(static_cast<std::size_t>(count));
  }
  gids.resize(static_cast<std::size_t>(count));
  std::vector<char> buffer(65536);
  for (const auto& name : groups) {
    group gr{};
    group* found = nullptr;
    int rc = 0;
    while ((rc = getgrnam_r(name.c_str(), &gr, buffer.data(), buffer.size(), &found)) == ERANGE &&
           buffer.size() < (1u << 24)) {
      buffer.resize(buffer.size() * 2);
    }
    if (found == nullptr) {
      // A directory that is down can answer "not found" (nss_sss does, with ENOENT), so "not
      // found" cannot be trusted to mean "no members" where that would lift a requirement.
      if (missing == MissingGroup::is_error || !(rc == 0 || rc == ENOENT || rc == ESRCH)) {
        return fail(Errc::config,
                    "group '" + name + "' was not found" +
                        (rc == 0 ? std::string() : ": " + std::string(std::strerror(rc))) +
                        " (or the group database did not answer)");
      }
      continue;
    }
    for (const gid_t gid : gids) {  // getgrouplist always includes the primary gid
      if (gid == found->gr_gid) return true;
    }
    // getgrouplist cannot report a source that failed; the group's own member list can
    // still name the user.
    for (char** member = found->gr_mem; member != nullptr && *member != nullptr; ++member) {
      if (account.name == *member) return true;
    }
  }
  return false;
}

Result<RequiredBy> required_by(const Config& config, const std::optional<Account>& account,
                               bool admin_flag) {
  if (admin_flag) return RequiredBy::admin_flag;
  if (config.require == Requirement::none) return RequiredBy::nobody;
  if (!account) {
    return config.require == Requirement::all ? RequiredBy::host_policy : RequiredBy::nobody;
  }
  // An exempt group that cannot be found exempts nobody; a required group that cannot be
  // found is an error, so that a directory outage denies instead of lifting the requirement.
  auto exempt = member_of_any(*account, config.exempt_groups, MissingGroup::has_no_members);
  if (!exempt) return std::unexpected(exempt.error());
  if (*exempt) return RequiredBy::nobody;
  if (config.require == Requirement::all) return RequiredBy::host_policy;
  auto member = member_of_any(*account, config.require_groups, MissingGroup::is_error);
  if (!member) return std::unexpected(member.error());
  return *member ? RequiredBy::group_policy : RequiredBy::nobody;
}

}  // namespace valix
