// Text from outside (a PAM client's rhost or service, a user name typed on a command line, a
// path) made safe to put in a log line or on a terminal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace valix {

// text with every byte that is not printable ASCII replaced by '?', cut to max bytes (with
// "..." appended when it was longer). Replaced: C0 controls (< 0x20), DEL (0x7f) and every
// byte >= 0x80. The last rule is deliberately blunt: the C1 controls 0x80-0x9f are
// terminal escapes of their own (0x9b is CSI) and also occur inside valid UTF-8 sequences, so
// telling one from the other would take a UTF-8 decoder in every log line; names and hosts
// outside ASCII are rare, and a '?' in their place is only cosmetic.
std::string printable_for_log(std::string_view text, std::size_t max);

}  // namespace valix
