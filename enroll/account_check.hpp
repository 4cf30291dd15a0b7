// valix-enroll's prerequisite: the account passes PAM account management (service
// "valix-enroll"), so an expired or locked account cannot set up 2FA.
#pragma once

#include <optional>
#include <string>

namespace valix::enroll {

// nullopt when the account is in good standing; otherwise the exit status (a refusal, with
// what to do printed on stderr).
std::optional<int> check_account(const std::string& user);

}  // namespace valix::enroll
