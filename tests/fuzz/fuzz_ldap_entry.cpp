// attributes_to_state on arbitrary directory attributes: never crashes, leaks or hangs; an
// error is always Errc::corrupt; whatever it accepts maps back to attributes that read as the
// same state (a state a host rewrites must never change meaning or become unreadable).
// Input: one "name=value" per line; 0x1e in a value stands for a newline (valixPending and
// valixLoginEnrollment hold several lines).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_check.hpp"
#include "ldap_entry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  valix::LdapAttributes attributes;
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) continue;
    std::string value(line.substr(equals + 1));
    for (char& c : value) {
      if (c == '\x1e') c = '\n';
    }
    attributes[std::string(line.substr(0, equals))].emplace_back(value);
  }
  auto state = valix::attributes_to_state(attributes);
  if (!state) {
    FUZZ_CHECK(state.error().code == valix::Errc::corrupt);
    return 0;
  }
  if (!*state) return 0;
  const valix::SecretString once = valix::serialize_state(**state);
  auto again = valix::attributes_to_state(valix::state_to_attributes(**state));
  FUZZ_CHECK(again.has_value() && again->has_value());
  const valix::SecretString twice = valix::serialize_state(**again);
  FUZZ_CHECK(once.view() == twice.view());
  return 0;
}
