#include "username.hpp"

namespace valix {

bool valid_username(std::string_view name) noexcept {
  if (name.empty() || name.size() > kMaxUsernameLength) return false;
  if (name.front() == '.' || name.front() == '-' || name.front() == '@') return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-' || c == '@' ||
                    (c == '$' && i + 1 == name.size());
    if (!ok) return false;
  }
  return name != "$";
}

}  // namespace valix
