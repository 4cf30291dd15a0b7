// printable_for_log: the one sanitizer for text from outside that reaches a log line or a
// terminal (the module's rhost and service, valix-admin's and valix-enroll's echoed names).
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

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(controls_are_replaced),
      cmocka_unit_test(long_text_is_cut),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
