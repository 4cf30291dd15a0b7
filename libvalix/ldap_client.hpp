// The connection to an LDAP directory that the fleet store uses: one bound session, every
// libldap option set on it, libldap itself loaded on first use.
//
// libldap also takes settings from /etc/ldap/ldap.conf and, in a process whose real and
// effective uids are equal, from ~/.ldaprc, ./ldaprc and LDAP* environment variables: a user
// who runs the setuid valix-enroll or sudo controls those. So every option that changes where
// we connect, what we trust or what we send is set on the connection itself, after
// ldap_initialize: protocol 3, no referrals, no alias dereferencing, no size or time limits
// from elsewhere, the network and operation timeouts, TLS with the certificate demanded and
// checked against ldap_ca_file (or the system's CAs) and no CA directory, client certificate,
// CRL, cipher or pin taken from elsewhere, TLS 1.2 at least; then a fresh TLS context (TLS
// options only for ldap:// and ldaps://: ldapi:// uses none of them).
// ldap:// demands StartTLS; ldapi:// (a local socket) is used as it is.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.hpp"
#include "error.hpp"
#include "ldap_entry.hpp"

namespace valix {

// One entry as read: the uid value of its RDN (empty when the RDN is not a plain "uid=NAME":
// a uid attribute may hold further values, which never name the entry), valixGeneration
// (nullopt when it has none) and the state attributes that were present.
struct LdapEntry {
  std::string name;
  std::optional<std::string> generation;
  LdapAttributes attributes;
};

struct LdapChange {
  enum class Op { add, remove };
  Op op;
  std::string attribute;
  std::vector<std::string> values;  // remove: these exact values
};

// Error kinds (the store's policy is in ldap_store.cpp):
//  - Errc::unreachable: no URI could be connected, TLS verification failed, the bind was
//    refused, or a read's answer did not arrive in time;
//  - Errc::outcome_unknown: a write was sent and its answer was lost (it may have been applied);
//  - Errc::conflict: a write lost a compare-and-swap (noSuchAttribute 16, typeOrValueExists 20,
//    alreadyExists 68, assertionFailed 122): nothing was changed;
//  - Errc::denied: insufficientAccess (50);
//  - Errc::not_found: noSuchObject (32);
//  - Errc::io: any other result, with the directory's words.
class LdapConnection {
 public:
  // Reads bind's password file (owned by trusted_uid, mode 0600 or stricter, no symlink),
  // connects to the first of settings.uris that answers and binds. Then checks that the base
  // entry can be seen: a directory or identity that sees nothing must not make every account
  // look as if it had no state (Errc::config).
  static Result<LdapConnection> open(const LdapSettings& settings, const LdapBind& bind,
                                     uid_t trusted_uid);

  LdapConnection(LdapConnection&& other) noexcept;
  LdapConnection& operator=(LdapConnection&& other) noexcept;
  ~LdapConnection();

  // The entries one level below base that match filter, with the state attributes, paged
  // (RFC 2696) so that a directory's size limit does not cut a long list short.
  Result<std::vector<LdapEntry>> search_children(std::string_view filter);

  Result<void> add(std::string_view dn, const std::vector<LdapChange>& attributes);
  Result<void> modify(std::string_view dn, const std::vector<LdapChange>& changes);
  // Renames dn's RDN to new_rdn (deleting the old RDN value), in place.
  Result<void> rename(std::string_view dn, std::string_view new_rdn);
  Result<void> remove(std::string_view dn);

  const std::string& base() const noexcept { return base_; }
  const std::string& uri() const noexcept { return uri_; }

 private:
  struct Handle;
  LdapConnection(std::unique_ptr<Handle> handle, std::string base, std::string uri);
  Result<void> check(int code, std::string_view what, bool wrote);

  std::unique_ptr<Handle> handle_;
  std::string base_;
  std::string uri_;
};

}  // namespace valix
