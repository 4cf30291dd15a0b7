#include "qr.hpp"

#include <qrencode.h>

#include <charconv>
#include <memory>

#include "lazy_library.hpp"
#include "secure.hpp"

namespace valix {
namespace {

constexpr int kQuietZone = 4;

// Holds the matching QRcode_free: a code only exists once libqrencode has been loaded.
struct QrDeleter {
  decltype(QRcode_free)* free_code = nullptr;
  void operator()(QRcode* code) const {
    if (code == nullptr) return;
    wipe(code->data, static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width));
    free_code(code);
  }
};
using QrPtr = std::unique_ptr<QRcode, QrDeleter>;

Result<QrPtr> encode(std::string_view data) {
  auto& library = libqrencode_library();
  auto encode_string = library.function<decltype(QRcode_encodeString)>("QRcode_encodeString");
  if (!encode_string) return std::unexpected(encode_string.error());
  auto free_code = library.function<decltype(QRcode_free)>("QRcode_free");
  if (!free_code) return std::unexpected(free_code.error());
  const SecretString text(data);  // the URI carries the secret
  QrPtr code((*encode_string)(text.c_str(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), QrDeleter{*free_code});
  if (!code) return fail(Errc::invalid, "the text is too long for a QR code");
  return code;
}

// Dark module at (x, y) in quiet-zone coordinates.
bool dark(const QRcode& code, int x, int y) {
  x -= kQuietZone;
  y -= kQuietZone;
  if (x < 0 || y < 0 || x >= code.width || y >= code.width) return false;
  return (code.data[y * code.width + x] & 1) != 0;
}

// Every rendering encodes the secret, so it is built in a SecretString reserved up front (in
// place: a returned SecretString would not keep its capacity) for its worst case, since a
// buffer that grew would leave its earlier, unwiped copy in freed memory. finished() proves
// the reservation held: a string that never outgrew its capacity was never reallocated.
Result<SecretString> finished(SecretString out, std::size_t worst_case) {
  if (out.size() > worst_case) {
    return fail(Errc::internal, "a QR rendering outgrew its reserved buffer");
  }
  return out;
}

Result<SecretString> half_blocks(const QRcode& code, std::string_view line_start,
                                 std::string_view line_end) {
  const int size = code.width + 2 * kQuietZone;
  const auto lines = static_cast<std::size_t>((size + 1) / 2);
  // Up to 3 bytes (a UTF-8 block) per module.
  const std::size_t worst_case =
      lines * (line_start.size() + 3 * static_cast<std::size_t>(size) + line_end.size() + 1);
  SecretString out;
  out.str().reserve(worst_case);
  auto& text = out.str();
  for (int y = 0; y < size; y += 2) {
    text += line_start;
    for (int x = 0; x < size; ++x) {
      const bool top_light = !dark(code, x, y);
      const bool bottom_light = y + 1 < size ? !dark(code, x, y + 1) : false;
      if (top_light && bottom_light) text += "\u2588";
      else if (top_light) text += "\u2580";
      else if (bottom_light) text += "\u2584";
      else text += " ";
    }
    text += line_end;
    text += "\n";
  }
  return finished(std::move(out), worst_case);
}

}  // namespace

Result<SecretString> render_qr_text(std::string_view data, QrStyle style) {
  if (style == QrStyle::none) return SecretString();
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  if (style == QrStyle::ansi) {
    constexpr std::string_view kDark = "\033[40m  ", kLight = "\033[47m  ", kEnd = "\033[0m\n";
    const int modules_across = (*code)->width + 2 * kQuietZone;
    const auto size = static_cast<std::size_t>(modules_across);
    const std::size_t worst_case = size * (size * kDark.size() + kEnd.size());
    SecretString out;
    out.str().reserve(worst_case);
    for (std::size_t y = 0; y < size; ++y) {
      for (std::size_t x = 0; x < size; ++x) {
        out.str() += dark(**code, static_cast<int>(x), static_cast<int>(y)) ? kDark : kLight;
      }
      out.str() += kEnd;
    }
    return finished(std::move(out), worst_case);
  }
  // Foreground white, background black: a full block is two light modules.
  return half_blocks(**code, "\033[97;40m", "\033[0m");
}

Result<SecretString> render_qr_text_plain(std::string_view data) {
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  return half_blocks(**code, "", "");
}

Result<SecretString> render_qr_svg(std::string_view data) {
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  const int size = (*code)->width + 2 * kQuietZone;
  const std::string dim = std::to_string(size), pixels = std::to_string(size * 8);
  const std::string head =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
      pixels + "\" height=\"" + pixels + "\" viewBox=\"0 0 " + dim + " " + dim +
      "\" shape-rendering=\"crispEdges\">\n<rect width=\"" + dim + "\" height=\"" + dim +
      "\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"";
  constexpr std::string_view kModule = "h1v1h-1z", kTail = "\"/>\n</svg>\n";
  // Per dark module "M<x> <y>h1v1h-1z", x and y below size (at most 185: 3 digits).
  const auto modules = static_cast<std::size_t>(size) * static_cast<std::size_t>(size);
  const std::size_t worst_case =
      head.size() + modules * (1 + 2 * dim.size() + 1 + kModule.size()) + kTail.size();
  SecretString out;
  out.str().reserve(worst_case);
  auto& text = out.str();
  text += head;
  char number[16];
  const auto append_number = [&](int value) {
    const auto end = std::to_chars(number, number + sizeof number, value).ptr;
    text.append(number, static_cast<std::size_t>(end - number));
  };
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (!dark(**code, x, y)) continue;
      text += 'M';
      append_number(x);
      text += ' ';
      append_number(y);
      text += kModule;
    }
  }
  text += kTail;
  wipe(number, sizeof number);
  return finished(std::move(out), worst_case);
}

}  // namespace valix
