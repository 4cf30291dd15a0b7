// parse_module_options on arguments split from arbitrary bytes at '\n' (as a pam.d line's
// words reach the module), then the overrides applied to a default Config as
// load_module_config does: never crashes, leaks or hangs; config= is absolute when accepted.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> words;
  std::size_t start = 0;
  while (start <= text.size() && words.size() < 64) {
    const auto end = text.find('\n', start);
    words.emplace_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  std::vector<const char*> argv;
  argv.reserve(words.size());
  for (const auto& word : words) argv.push_back(word.c_str());

  auto options = valix::pam::parse_module_options(argv);
  if (!options) {
    FUZZ_CHECK(options.error().code == valix::Errc::config);
    return 0;
  }
  FUZZ_CHECK(!options->config_path.empty() && options->config_path.front() == '/');
  valix::Config config;
  for (const auto& [key, value] : options->overrides) {
    FUZZ_CHECK(!key.empty());
    (void)valix::apply_setting(config, key, value);
  }
  return 0;
}
