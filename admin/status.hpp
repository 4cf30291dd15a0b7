// valix-admin status: what is shown of one user (status.cpp gathers it from the state and the
// policy) and its two forms (status_output.cpp): an aligned table and a JSON array.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "otp.hpp"
#include "policy.hpp"
#include "state.hpp"

namespace valix::admin {

// One of an enrolled user's authenticators.
struct AuthenticatorRow {
  std::string name;
  AuthenticatorKind kind = AuthenticatorKind::totp;
  OtpParameters otp;
  std::int64_t added_at = 0;
  std::int64_t last_used = 0;  // 0: never (or not recorded)
  std::int64_t clock_offset_seconds = 0;
};

struct StatusRow {
  std::string user;
  bool has_account = false;
  bool enrolled = false;
  std::int64_t enrolled_at = 0;
  RequiredBy required_by = RequiredBy::nobody;
  bool pending = false;
  std::int64_t pending_expires = 0;
  std::size_t backup_codes = 0;
  int failures = 0;
  bool locked = false;
  std::int64_t locked_until = 0;
  std::int64_t last_login = 0;
  std::int64_t last_failure = 0;
  std::string last_failure_rhost;                // "" for none
  std::int64_t clock_offset_seconds = 0;         // valix-admin resync (the first authenticator's)
  std::vector<AuthenticatorRow> authenticators;  // enrolled: every one, the first first
  // The table shows the authenticators on lines of their own under the row (a user named on
  // the command line); otherwise only when there are several.
  bool details = false;
};

// The JSON array of rows, one object per row, and the table: a heading, then one line per
// row, each followed by its authenticators' lines (indented) when it has details or more
// than one authenticator.
std::string status_json(const std::vector<StatusRow>& rows);
std::string status_table(const std::vector<StatusRow>& rows);

}  // namespace valix::admin
