// valix-enroll's terminal: lines read from standard input, and the enrollment flow's dialog
// (enrollment_flow.hpp) over it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "config.hpp"
#include "enrollment_flow.hpp"
#include "secure.hpp"
#include "stdin_input.hpp"

namespace valix::enroll {

// Shows prompt (on stderr under --json, so that stdout stays one JSON document), then reads
// one line; nullopt at end of input.
std::optional<SecretString> read_line(std::string_view prompt, bool json);

// The flow on the terminal: screens on stdout, the QR code in style, and the --qr-svg image
// written (write_svg: nullopt when written or not asked for, else the exit status) before the
// first code is asked for; an image that cannot be written ends the flow (refusal says how).
class TerminalDialog final : public EnrollmentDialog {
 public:
  using WriteSvg = std::function<std::optional<int>(const SecretString& uri)>;
  TerminalDialog(bool json, QrStyle style, std::optional<std::string> svg_path, WriteSvg write_svg)
      : json_(json),
        style_(style),
        svg_path_(std::move(svg_path)),
        write_svg_(std::move(write_svg)) {}
  void show(std::string_view text, Tone tone) override;
  Result<SecretString> qr_code(std::string_view uri) override;
  Result<SecretString> ask(std::string_view prompt) override;

  std::optional<int> refusal;  // the exit status when the QR image could not be written

 private:
  bool json_;
  QrStyle style_;
  std::optional<std::string> svg_path_;
  WriteSvg write_svg_;
};

}  // namespace valix::enroll
