// printable_for_log: the one sanitizer for text from outside that reaches a log line or a
// terminal (the module's rhost and service, valix-admin's and valix-enroll's echoed names);
// printable_for_terminal, its UTF-8 aware form for valix-admin check's findings.
#include <clocale>
#include <string>

#include "secure.hpp"  // before unit.hpp: cmocka defines a fail() macro
#include "text.hpp"
#include "unit.hpp"

using namespace valix;

namespace {

void controls_are_replaced(void**) {
  assert_string_equal(printable_for_log("host.example.com", 128).c_str(), "host.example.com");
  assert_string_equal(printable_for_log("", 128).c_str(), "");
  // C0, DEL, and the C1 controls: 0x9b is CSI, an escape sequence on its own for terminals
  // that take 8-bit controls (a forged "\x9b2J" clears the screen of whoever reads the log).
  assert_string_equal(printable_for_log("a\nb\x1b[31mc\x7f", 128).c_str(), "a?b?[31mc?");
  assert_string_equal(printable_for_log("\x9b"
                                        "2J\x85\x80\x9f",
                                        128)
                          .c_str(),
                      "?2J???");
  // The same bytes encoded as UTF-8 (U+009B is C2 9B), and ordinary non-ASCII text: every
  // byte >= 0x80 becomes '?', so no decoder is needed to be safe.
  assert_string_equal(printable_for_log("\xc2\x9b"
                                        "2J",
                                        128)
                          .c_str(),
                      "??2J");
  assert_string_equal(printable_for_log("Jos\xc3\xa9", 128).c_str(), "Jos??");
  assert_string_equal(printable_for_log("\xff\xa0", 128).c_str(), "??");
  const std::string nul("a\0b", 3);
  assert_string_equal(printable_for_log(nul, 128).c_str(), "a?b");
  for (int byte = 0; byte < 256; ++byte) {
    const std::string one(1, static_cast<char>(byte));
    const std::string out = printable_for_log(one, 128);
    const bool kept = byte >= 0x20 && byte < 0x7f;
    if (out != (kept ? one : "?")) fail_msg("byte 0x%02x came out as '%s'", byte, out.c_str());
  }
}

void long_text_is_cut(void**) {
  const std::string long_name(200, 'x');
  const std::string out = printable_for_log(long_name, 128);
  assert_int_equal(out.size(), 131);
  assert_true(out == std::string(128, 'x') + "...");
  assert_string_equal(printable_for_log(std::string(128, 'y'), 128).c_str(),
                      std::string(128, 'y').c_str());
  // Cut before replacing: a multi-byte sequence split at the limit leaves no raw byte.
  assert_string_equal(printable_for_log("ab\xc3\xa9", 3).c_str(), "ab?...");
}

// In the C locale (no setlocale: every test program, and the module's host that set none)
// printable_for_terminal is printable_for_log, byte for byte.
void terminal_text_in_the_c_locale(void**) {
  for (const char* text : {"Jos\xc3\xa9",
                           "x\x9b"
                           "2J\xc2\x9by",
                           "\xe2\x80\xae", "a\tb\x7f"}) {
    assert_string_equal(printable_for_terminal(text, 128).c_str(),
                        printable_for_log(text, 128).c_str());
  }
  assert_string_equal(printable_for_terminal("ab\xc3\xa9", 3).c_str(), "ab?...");
  assert_string_equal(printable_for_terminal(std::string(200, 'x'), 128).c_str(),
                      (std::string(128, 'x') + "...").c_str());
}

// In a UTF-8 locale (a translated valix-admin check), well-formed printable characters are
// kept; controls, invisible or bidirectional formatting and ill-formed bytes are not.
void terminal_text_in_a_utf8_locale(void**) {
  if (std::setlocale(LC_CTYPE, "C.UTF-8") == nullptr) skip();
  assert_string_equal(
      printable_for_terminal("Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91", 128).c_str(),
      "Jos\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\x91");
  // C1 controls, raw and as UTF-8; a lone continuation byte; an overlong '/'; a surrogate.
  assert_string_equal(printable_for_terminal("x\x9b"
                                             "2J\xc2\x9by",
                                             128)
                          .c_str(),
                      "x?2J??y");
  assert_string_equal(printable_for_terminal("\xc0\xaf\xed\xa0\x80\xbf", 128).c_str(), "??????");
  // Right-to-left override, zero-width space, byte order mark, a tag character.
  assert_string_equal(printable_for_terminal("a\xe2\x80\xae"
                                             "b\xe2\x80\x8b"
                                             "c\xef\xbb\xbf"
                                             "d\xf3\xa0\x80\x81",
                                             128)
                          .c_str(),
                      "a???b???c???d????");
  assert_string_equal(printable_for_terminal("a\n\x1b[2J\x7f", 128).c_str(), "a??[2J?");
  // Cut at a character boundary, never inside one; a character cut short is ill-formed.
  assert_string_equal(printable_for_terminal("ab\xc3\xa9", 3).c_str(), "ab...");
  assert_string_equal(printable_for_terminal("ab\xc3\xa9", 4).c_str(), "ab\xc3\xa9");
  assert_string_equal(printable_for_terminal("ab\xe2\x82", 128).c_str(), "ab??");
  (void)std::setlocale(LC_CTYPE, "C");
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(controls_are_replaced),
      cmocka_unit_test(long_text_is_cut),
      cmocka_unit_test(terminal_text_in_the_c_locale),
      cmocka_unit_test(terminal_text_in_a_utf8_locale),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
