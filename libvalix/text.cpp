#include "text.hpp"

#include <cstdio>
#include <ctime>

namespace valix {

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
