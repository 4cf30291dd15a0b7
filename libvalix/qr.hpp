// QR codes for otpauth:// URIs (libqrencode), as terminal text or as an SVG image. Each
// rendering encodes the secret, so each comes in a SecretString, wiped when it goes.
#pragma once

#include <string>
#include <string_view>

#include "config.hpp"
#include "error.hpp"
#include "secure.hpp"

namespace valix {

// Terminal rendering with a 4-module quiet zone. Colours are set explicitly (light modules
// white, dark modules black), so the code scans on dark and on light terminals alike.
// QrStyle::utf8 uses half blocks (two rows per line); QrStyle::ansi uses two spaces per
// module with background colours, for fonts without block characters. QrStyle::none: "".
Result<SecretString> render_qr_text(std::string_view data, QrStyle style);

// Half blocks without any escape sequence, for text that passes through filters that strip
// them (OpenSSH's client shows keyboard-interactive text with control characters escaped).
// A full block is a light module, as `qrencode -t UTF8` draws it: right on dark terminals.
Result<SecretString> render_qr_text_plain(std::string_view data);

// A standalone SVG document, 8 pixels per module, quiet zone included.
Result<SecretString> render_qr_svg(std::string_view data);

}  // namespace valix
