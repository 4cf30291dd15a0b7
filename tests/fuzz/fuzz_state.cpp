// parse_state on arbitrary bytes: never crashes, leaks or hangs; whatever it accepts is
// written back by serialize_state in a form that parses to the same text again (a state the
// module rewrites must never change meaning or become unreadable).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "state.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto state = valix::parse_state(text);
  if (!state) {
    FUZZ_CHECK(state.error().code == valix::Errc::corrupt);
    return 0;
  }
  const valix::SecretString once = valix::serialize_state(*state);
  auto again = valix::parse_state(once.view());
  FUZZ_CHECK(again.has_value());
  const valix::SecretString twice = valix::serialize_state(*again);
  FUZZ_CHECK(once.view() == twice.view());
  return 0;
}
