// User names become file names in the state directory, so they are checked before use.
#pragma once

#include <string_view>

namespace valix {

inline constexpr std::size_t kMaxUsernameLength = 64;

// True for 1..64 characters of [A-Za-z0-9_.@-], not starting with '.', '-' or '@', with an
// optional trailing '$' (Samba machine accounts); '@' admits directory users (user@domain). This
// excludes '/', "..", control characters, spaces and anything that could name another file.
bool valid_username(std::string_view name) noexcept;

}  // namespace valix
