#include "grace.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "secure.hpp"

namespace valix {

std::string grace_host(const Config& config) {
  if (config.store == StoreKind::ldap && !config.ldap.host.dn.empty()) {
    return "dn:" + config.ldap.host.dn;
  }
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0) return "host:";
  return std::string("host:") + name;
}

bool local_rhost(std::string_view rhost) {
  if (rhost.empty()) return true;
  std::string lower(rhost);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.back() == '.') lower.pop_back();
  if (lower == "localhost" || lower.ends_with(".localhost")) return true;
  in_addr v4{};
  if (inet_pton(AF_INET, lower.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, lower.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&v6)) return v6.s6_addr[12] == 127;
  }
  return false;
}

Result<std::optional<std::string>> grace_key(const LoginOrigin& origin, const Config& config) {
  if (config.grace_seconds <= 0) return std::optional<std::string>{};
  if (!config.grace_local && local_rhost(origin.rhost)) return std::optional<std::string>{};
  // Length-prefixed, so that no two different tuples share an encoding.
  std::string encoded = "valix-grace-1";
  for (const std::string* field : {&origin.host, &origin.rhost, &origin.service, &origin.tty}) {
    encoded.append("\n").append(std::to_string(field->size())).append(":").append(*field);
  }
  auto digest = sha256_hex(encoded);
  if (!digest) return std::unexpected(digest.error());
  return std::optional<std::string>(digest->substr(0, 32));
}

std::optional<std::int64_t> grace_until(const UserState& state, std::string_view key,
                                        std::int64_t now, const Config& config) {
  if (config.grace_seconds <= 0 || !state.enrollment) return std::nullopt;
  if (state.locked_until > now || state.backup_locked_until > now) return std::nullopt;
  for (const GraceEntry& entry : state.grace) {
    if (entry.key != key) continue;
    const std::int64_t until = entry.granted_at + config.grace_seconds;
    if (entry.granted_at <= now && now < until) return until;
  }
  return std::nullopt;
}

void grant_grace(UserState& state, std::string_view key, std::int64_t now) {
  std::erase_if(state.grace, [&](const GraceEntry& entry) {
    return entry.key == key || entry.granted_at > now || entry.granted_at + kMaxGraceSeconds <= now;
  });
  state.grace.push_back(GraceEntry{std::string(key), now});
  // Oldest first; among equal times the new entry last, so that it is never the one dropped.
  // (std::sort with a total order: libstdc++'s stable_sort uses a deprecated buffer API.)
  std::sort(state.grace.begin(), state.grace.end(), [&](const GraceEntry& a, const GraceEntry& b) {
    if (a.granted_at != b.granted_at) return a.granted_at < b.granted_at;
    const bool a_new = a.key == key, b_new = b.key == key;
    if (a_new != b_new) return b_new;
    return a.key < b.key;
  });
  if (state.grace.size() > kMaxGraceEntries) {
    state.grace.erase(
        state.grace.begin(),
        state.grace.begin() + static_cast<std::ptrdiff_t>(state.grace.size() - kMaxGraceEntries));
  }
}

}  // namespace valix
