#include "stdin_input.hpp"

#include <cstdio>
#include <cstring>

namespace valix {

std::optional<SecretString> stdin_line() {
  char buffer[256];
  if (std::fgets(buffer, sizeof buffer, stdin) == nullptr) return std::nullopt;
  buffer[std::strcspn(buffer, "\r\n")] = '\0';
  SecretString line(buffer);
  wipe(buffer, sizeof buffer);
  return line;
}

std::optional<SecretString> code_argument(std::string_view value) {
  if (value != "-") return SecretString(value);
  return stdin_line();
}

}  // namespace valix
