// Codes the tools read from standard input rather than argv (every user on the host can read
// a process's argv in /proc; standard input is private to it).
#pragma once

#include <optional>
#include <string_view>

#include "secure.hpp"

namespace valix {

// One line of standard input, its line end removed; nullopt at end of input, and for a line
// of 1,023 bytes or more.
std::optional<SecretString> stdin_line();

// A code given on the command line, or "-": one line from standard input. nullopt at end of
// input.
std::optional<SecretString> code_argument(std::string_view value);

}  // namespace valix
