#include "text.hpp"

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

}  // namespace valix
