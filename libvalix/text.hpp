// Text from outside (a PAM client's rhost or service, a user name typed on a command line, a
// path) made safe to put in a log line or on a terminal.
#pragma once

#include <cstddef>
#include <cstdint>
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

// For a terminal (valix-admin check's findings): printable_for_log, except that when the
// process's character set is UTF-8 (LC_CTYPE, as a tool's init_tool sets it from the user's
// locale) a well-formed UTF-8 character from U+00A0 up is kept, so that translations and
// names outside ASCII read as written. Not kept even then: the C1 controls (U+0080-U+009F),
// invisible and bidirectional formatting characters (U+061C, U+180E, U+200B-U+200F,
// U+2028-U+202E, U+2060-U+206F, U+FEFF, U+FFF9-U+FFFB, U+E0000-U+E007F), and every byte of
// an ill-formed sequence: each of their bytes becomes '?'. Cut to max bytes at a character
// boundary ("..." appended when it was longer). In any other character set (the C locale)
// exactly printable_for_log.
std::string printable_for_terminal(std::string_view text, std::size_t max);

// A field of a log line from outside (a PAM item, a user name): printable_for_log(text, 128),
// or "-" when empty, so that "key=value" lines never have an empty value.
std::string printable_field(std::string_view text);

// "2026-11-28T15:56:14Z" (UTC); "never" for 0 or less; the number itself should the time not
// be representable.
std::string iso_time(std::int64_t unix_time);

// text as a JSON string literal, quotes included, appended to out. Every control character is
// escaped, so the output is one line whatever text holds.
void append_json_string(std::string& out, std::string_view text);
std::string json_string(std::string_view text);

}  // namespace valix
