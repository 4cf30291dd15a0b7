// A UserState as the attributes of a valixState entry (conf/ldap/valix.ldif), and back.
//
// The mapping goes through the state text (serialize_state, parse_state): each "key value"
// line of a state is one attribute value, so the directory holds exactly what a state file
// holds and one parser checks both. The enrollment's keys are attributes of their own, so
// that the directory's ACL can tell a host that advances a watermark from one that replaces a
// secret; a pending enrollment and an enrollment made at login (the "pending_" and "login_"
// lines) are one attribute each. Counters at zero and a cleared admin flag are absent.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "error.hpp"
#include "secure.hpp"
#include "state.hpp"

namespace valix {

// Attribute name -> values, for the state attributes only (never uid, objectClass or
// valixGeneration). Values may hold a secret: they are wiped on destruction.
using LdapAttributes = std::map<std::string, std::vector<SecretString>, std::less<>>;

// Every attribute the mapping uses, for the attribute list of a search.
const std::vector<std::string>& state_attribute_names();

LdapAttributes state_to_attributes(const UserState& state);

// The state the attributes hold; nullopt when they hold nothing worth keeping
// (UserState::empty). Errc::corrupt naming the attribute when a value is malformed, repeated
// where one is allowed, or (in valixPending, valixLoginEnrollment) a line of another part of
// the state, which would let a host that may write those bypass the ACL on the secret.
Result<std::optional<UserState>> attributes_to_state(const LdapAttributes& attributes);

// RFC 4514 escaping of an attribute value in a DN, RFC 4515 escaping in a search filter.
std::string escape_dn_value(std::string_view value);
std::string escape_filter_value(std::string_view value);

}  // namespace valix
