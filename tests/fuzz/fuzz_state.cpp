// parse_state on arbitrary bytes: never crashes, leaks or hangs; whatever it accepts is
// written back by serialize_state in a form that parses to the same text again (a state the
// module rewrites must never change meaning or become unreadable). The same bytes are also
// read as a whole state file (decode_state_file: format 2's slots, or format 1): it fails only
// as corrupt or (too large) unsafe, its text is parsed the same way, and a text it yields
// packed into a new file (as a replace writes it) and into a slot (as an in-place write does)
// reads back as the same text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "slot_file.hpp"
#include "state.hpp"

namespace {

void check_state_text(std::string_view text) {
  auto state = valix::parse_state(text);
  if (!state) {
    FUZZ_CHECK(state.error().code == valix::Errc::corrupt);
    return;
  }
  const valix::SecretString once = valix::serialize_state(*state);
  auto again = valix::parse_state(once.view());
  FUZZ_CHECK(again.has_value());
  const valix::SecretString twice = valix::serialize_state(*again);
  FUZZ_CHECK(once.view() == twice.view());
}

void check_state_file(std::string_view file) {
  auto content = valix::decode_state_file(file);
  if (!content) {
    FUZZ_CHECK(content.error().code == valix::Errc::corrupt ||
               content.error().code == valix::Errc::unsafe);
    return;
  }
  FUZZ_CHECK(content->text.size() <= valix::kMaxSlotSize);
  check_state_text(content->text);
  if (content->text.size() > valix::kMaxStateTextSize) return;
  const std::uint64_t seq = content->slots ? content->slots->seq : 0;
  const valix::SecretString made = valix::encode_slot_file(content->text, seq + 1);
  auto reread = valix::decode_state_file(made.view());
  FUZZ_CHECK(reread.has_value() && reread->slots && reread->text == content->text);
  // An in-place write into the other slot of the new file wins over slot 0.
  std::string both(made.view());
  const std::size_t slot_size = reread->slots->slot_size;
  const valix::SecretString slot = valix::encode_slot(content->text, seq + 2, slot_size);
  both.replace(slot_size, slot_size, slot.view());
  auto newer = valix::decode_state_file(both);
  FUZZ_CHECK(newer.has_value() && newer->slots && newer->slots->newest == 1 &&
             newer->slots->other_valid && newer->text == content->text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_state_text(text);
  check_state_file(text);
  return 0;
}
