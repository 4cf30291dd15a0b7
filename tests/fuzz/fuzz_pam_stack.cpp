// parse_pam_file and the auth stack check on arbitrary bytes: the input is a small directory
// of PAM files separated by "\n====\n" (the first is the service, the others are named f1,
// f2, ... for its include lines). Never crashes, leaks or hangs; every line found has a
// number within the text; every problem names a file.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "pam_stack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string, std::less<>> files;
  std::size_t start = 0;
  for (int n = 0; start <= text.size() && n < 8; ++n) {
    const auto end = text.find("\n====\n", start);
    files[n == 0 ? "svc" : "f" + std::to_string(n)] =
        text.substr(start, end == std::string_view::npos ? end : end - start);
    if (end == std::string_view::npos) break;
    start = end + 6;
  }
  const valix::PamFile parsed = valix::parse_pam_file(files["svc"]);
  int lines = 1;
  for (const char c : files["svc"]) lines += c == '\n' ? 1 : 0;
  for (const auto& line : parsed.lines) {
    FUZZ_CHECK(line.line >= 1 && line.line <= lines);
    FUZZ_CHECK(!line.type.empty() && !line.module.empty());
  }
  const valix::AuthStack stack =
      valix::load_auth_stack("svc", [&](std::string_view name) -> valix::Result<std::string> {
        if (auto it = files.find(name); it != files.end()) return it->second;
        return valix::fail(valix::Errc::not_found, "no such file");
      });
  for (const auto& problem : stack.problems) FUZZ_CHECK(problem.find(':') != std::string::npos);
  (void)valix::check_auth_order(stack);
  return 0;
}
