#include "stdin_input.hpp"

#include <cstdio>
#include <cstring>

namespace valix {

std::optional<SecretString> stdin_line() {
  char buffer[1024];
  if (std::fgets(buffer, sizeof buffer, stdin) == nullptr) return std::nullopt;
  const std::size_t length = std::strcspn(buffer, "\r\n");
  const bool whole = buffer[length] != '\0' || std::feof(stdin);
  buffer[length] = '\0';
  SecretString line(buffer);
  wipe(buffer, sizeof buffer);
  // A line longer than the buffer is refused, never cut into a shorter one.
  if (!whole) return std::nullopt;
  return line;
}

std::optional<SecretString> code_argument(std::string_view value) {
  if (value != "-") return SecretString(value);
  return stdin_line();
}

}  // namespace valix
