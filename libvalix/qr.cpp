#include "qr.hpp"

#include <qrencode.h>

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
  const std::string text(data);
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

std::string half_blocks(const QRcode& code, std::string_view line_start,
                        std::string_view line_end) {
  const int size = code.width + 2 * kQuietZone;
  std::string out;
  for (int y = 0; y < size; y += 2) {
    out += line_start;
    for (int x = 0; x < size; ++x) {
      const bool top_light = !dark(code, x, y);
      const bool bottom_light = y + 1 < size ? !dark(code, x, y + 1) : false;
      if (top_light && bottom_light) out += "\u2588";
      else if (top_light) out += "\u2580";
      else if (bottom_light) out += "\u2584";
      else out += " ";
    }
    out += line_end;
    out += "\n";
  }
  return out;
}

}  // namespace

Result<std::string> render_qr_text(std::string_view data, QrStyle style) {
  if (style == QrStyle::none) return std::string();
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  const int size = (*code)->width + 2 * kQuietZone;
  std::string out;
  if (style == QrStyle::ansi) {
    for (int y = 0; y < size; ++y) {
      for (int x = 0; x < size; ++x) out += dark(**code, x, y) ? "\033[40m  " : "\033[47m  ";
      out += "\033[0m\n";
    }
    return out;
  }
  // Foreground white, background black: a full block is two light modules.
  return half_blocks(**code, "\033[97;40m", "\033[0m");
}

Result<std::string> render_qr_text_plain(std::string_view data) {
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  return half_blocks(**code, "", "");
}

Result<std::string> render_qr_svg(std::string_view data) {
  auto code = encode(data);
  if (!code) return std::unexpected(code.error());
  const int size = (*code)->width + 2 * kQuietZone;
  const std::string dim = std::to_string(size);
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" +
      std::to_string(size * 8) + "\" height=\"" + std::to_string(size * 8) + "\" viewBox=\"0 0 " +
      dim + " " + dim + "\" shape-rendering=\"crispEdges\">\n<rect width=\"" + dim +
      "\" height=\"" + dim + "\" fill=\"#ffffff\"/>\n<path fill=\"#000000\" d=\"";
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      if (dark(**code, x, y)) {
        out += "M" + std::to_string(x) + " " + std::to_string(y) + "h1v1h-1z";
      }
    }
  }
  out += "\"/>\n</svg>\n";
  return out;
}

}  // namespace valix
