#include "text.hpp"

#include <langinfo.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <ctime>

namespace valix {
namespace {

// The length of the well-formed UTF-8 character that starts text, with its code point in
// code; 0 when text does not start with one (a lone continuation byte, an overlong form, a
// surrogate, past U+10FFFF, cut short).
std::size_t utf8_character(std::string_view text, char32_t& code) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;  // the second byte's range
  if (lead >= 0xc2 && lead <= 0xdf) {
    length = 2;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    length = 3;
    if (lead == 0xe0) low = 0xa0;
    if (lead == 0xed) high = 0x9f;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    length = 4;
    if (lead == 0xf0) low = 0x90;
    if (lead == 0xf4) high = 0x8f;
  } else {
    return 0;
  }
  if (text.size() < length || byte(1) < low || byte(1) > high) return 0;
  code = lead & (0x7f >> length);
  for (std::size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xc0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3f);
  }
  return length;
}

bool shown_on_terminal(char32_t code) {
  if (code < 0xa0) return false;
  const std::pair<char32_t, char32_t> invisible[] = {
      {0x061c, 0x061c}, {0x180e, 0x180e}, {0x200b, 0x200f}, {0x2028, 0x202e},
      {0x2060, 0x206f}, {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0xe0000, 0xe007f}};
  for (const auto& [first, last] : invisible) {
    if (code >= first && code <= last) return false;
  }
  return true;
}

}  // namespace

std::string printable_for_log(std::string_view text, std::size_t max) {
  std::string out;
  const std::string_view kept = text.substr(0, max);
  out.reserve(kept.size() + 3);
  for (const char c : kept) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u >= 0x7f ? '?' : c);
  }
  if (text.size() > max) out += "...";
  return out;
}

std::string printable_for_terminal(std::string_view text, std::size_t max) {
  const char* codeset = nl_langinfo(CODESET);
  if (codeset == nullptr || std::strcmp(codeset, "UTF-8") != 0) return printable_for_log(text, max);
  std::string out;
  out.reserve(std::min(text.size(), max) + 3);
  std::size_t i = 0;
  while (i < text.size()) {
    const auto u = static_cast<unsigned char>(text[i]);
    std::size_t length = 1;
    bool kept = u >= 0x20 && u < 0x7f;
    if (u >= 0x80) {
      char32_t code = 0;
      if (const std::size_t n = utf8_character(text.substr(i), code); n > 0) {
        length = n;
        kept = shown_on_terminal(code);
      }
    }
    if (i + length > max) break;
    if (kept) out.append(text.substr(i, length));
    else out.append(length, '?');
    i += length;
  }
  if (i < text.size()) out += "...";
  return out;
}

std::string printable_field(std::string_view text) {
  std::string out = printable_for_log(text, 128);
  return out.empty() ? "-" : out;
}

std::string iso_time(std::int64_t unix_time) {
  if (unix_time <= 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_time);
  std::tm tm{};
  char text[32];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
    return std::to_string(unix_time);
  }
  return text;
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (u < 0x20 || u == 0x7f) {
          static constexpr char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out.push_back(kHex[u >> 4]);
          out.push_back(kHex[u & 15]);
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

std::string json_string(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

}  // namespace valix
