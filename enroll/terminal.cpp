#include "terminal.hpp"

#include <cstdio>

#include "enrollment_texts.hpp"
#include "qr.hpp"

namespace valix::enroll {

std::optional<SecretString> read_line(std::string_view prompt, bool json) {
  FILE* to = json ? stderr : stdout;
  std::fwrite(prompt.data(), 1, prompt.size(), to);
  std::fflush(to);
  return stdin_line();
}

void TerminalDialog::show(std::string_view text, Tone) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

Result<SecretString> TerminalDialog::qr_code(std::string_view uri) {
  auto qr = render_qr_text(uri, style_);
  if (!qr) return qr;
  refusal = write_svg_(SecretString(uri));
  if (refusal) return fail(Errc::invalid, "the QR image was not written");
  if (svg_path_) qr->str().append(texts::qr_file_note(*svg_path_));
  return qr;
}

Result<SecretString> TerminalDialog::ask(std::string_view prompt) {
  auto line = read_line(prompt, json_);
  if (!line) return fail(Errc::no_answer, "end of input");
  return std::move(*line);
}

}  // namespace valix::enroll
