// valix-enroll's exit statuses and how an error becomes one (documented in --help and
// valix-enroll(1)).
#pragma once

#include <cstdint>
#include <string>

#include "error.hpp"

namespace valix::enroll {

enum Exit { kOk = 0, kRefused = 1, kUsage = 2, kInternal = 3 };

// Prints "valix-enroll: MESSAGE" on stderr and returns kRefused. message is translated
// (tr, fill, shown_message).
int refuse(const std::string& message);

// An error that is not the user's doing: kInternal, except a refusal by the fleet's
// directory (Errc::denied), which is the user's to hear about (kRefused). Prints its
// shown_message.
int internal(const Error& error);

// A conflict (the state changed while the user was at a prompt) or a misfiled state (an
// administrator's rename is due) is a refusal with its own explanation; anything else is
// internal().
int failed(const Error& error);

std::int64_t now();

}  // namespace valix::enroll
