// parse_config on arbitrary bytes, and apply_setting on a key and value split from them:
// never crashes, leaks or hangs; every error names the file (and for parse errors the line),
// as the administrator needs; whatever is accepted holds the invariants the module relies on.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config.hpp"
#include "fuzz_check.hpp"

namespace {

void check_config(const valix::Config& config) {
  FUZZ_CHECK(valix::valid_otp_parameters(config.otp));
  FUZZ_CHECK(config.lockout_max_seconds >= config.lockout_seconds);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto config = valix::parse_config(text, "fuzz.conf");
  if (config) {
    check_config(*config);
  } else {
    FUZZ_CHECK(config.error().code == valix::Errc::config);
    FUZZ_CHECK(config.error().message.starts_with("fuzz.conf:"));
  }

  // apply_setting alone, as module options reach it: KEY '\0' VALUE, or the whole input as
  // the key.
  const auto nul = text.find('\0');
  const std::string_view key = text.substr(0, nul);
  const std::string_view value = nul == std::string_view::npos ? "" : text.substr(nul + 1);
  valix::Config single;
  if (auto applied = valix::apply_setting(single, key, value); !applied) {
    FUZZ_CHECK(!applied.error().message.empty());
  } else {
    FUZZ_CHECK(valix::valid_otp_parameters(single.otp));
  }
  return 0;
}
