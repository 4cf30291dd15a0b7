#include "ldap_entry.hpp"

#include <algorithm>
#include <array>

namespace valix {
namespace {

enum class Form {
  value,        // the line's value, as it is (absent when the state has no such line)
  multi,        // one value per line (backup code hashes)
  zero_absent,  // a number, absent when 0
  flag,         // "1" is TRUE, "0" is absent
};

struct Mapping {
  std::string_view key;
  std::string_view attribute;
  Form form;
};

constexpr std::array kMappings{
    Mapping{"uid", "valixUidNumber", Form::value},
    Mapping{"required", "valixRequired", Form::flag},
    Mapping{"failures", "valixFailures", Form::zero_absent},
    Mapping{"locked_until", "valixLockedUntil", Form::zero_absent},
    Mapping{"backup_failures", "valixBackupFailures", Form::zero_absent},
    Mapping{"backup_locked_until", "valixBackupLockedUntil", Form::zero_absent},
    Mapping{"last_login", "valixLastLogin", Form::zero_absent},
    // Both or neither (parse_state checks): absent, not 0, when no failure is recorded.
    Mapping{"last_failure", "valixLastFailure", Form::value},
    Mapping{"last_failure_rhost", "valixLastFailureHost", Form::value},
    // "KEY GRANTED_AT", one value per grace entry (at most 8).
    Mapping{"grace", "valixGrace", Form::multi},
    Mapping{"secret", "valixSecret", Form::value},
    Mapping{"algorithm", "valixAlgorithm", Form::value},
    Mapping{"digits", "valixDigits", Form::value},
    Mapping{"period", "valixPeriod", Form::value},
    Mapping{"enrolled_at", "valixEnrolledAt", Form::value},
    Mapping{"last_step", "valixLastStep", Form::value},
    Mapping{"backup_setting", "valixBackupSetting", Form::value},
    Mapping{"backup", "valixBackupHash", Form::multi},
    // Absent when 0 (serialize_state writes no line then): set by valix-admin resync.
    Mapping{"offset_steps", "valixClockOffset", Form::value},
    // Absent for TOTP: "hotp" for a counter-based token (valix-admin add-token).
    Mapping{"kind", "valixTokenType", Form::value},
    // The first authenticator's name (absent for "default") and last use (absent for none).
    Mapping{"name", "valixAuthenticatorName", Form::value},
    Mapping{"last_used", "valixLastUsed", Form::value},
    // Further authenticators: each one's definition (its secret included) in one value, and
    // what its logins change in another, so that a login rewrites only the latter.
    Mapping{"authenticator", "valixAuthenticator", Form::multi},
    Mapping{"authenticator_use", "valixAuthenticatorUse", Form::multi},
};

// Parts of the state kept as their own lines in one attribute.
struct Section {
  std::string_view prefix;
  std::string_view attribute;
};
constexpr std::array kSections{Section{"pending_", "valixPending"},
                               Section{"login_", "valixLoginEnrollment"}};

const Mapping* mapping_for_key(std::string_view key) {
  for (const auto& m : kMappings) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

const Section* section_for_key(std::string_view key) {
  for (const auto& s : kSections) {
    if (key.starts_with(s.prefix)) return &s;
  }
  return nullptr;
}

bool one_line(std::string_view value) {
  return value.find('\n') == std::string_view::npos && value.find('\0') == std::string_view::npos;
}

}  // namespace

const std::vector<std::string>& state_attribute_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    out.reserve(kMappings.size() + kSections.size());
    for (const auto& m : kMappings) out.emplace_back(m.attribute);
    for (const auto& s : kSections) out.emplace_back(s.attribute);
    return out;
  }();
  return names;
}

LdapAttributes state_to_attributes(const UserState& state) {
  const SecretString text = serialize_state(state);
  LdapAttributes out;
  std::string_view rest = text.view();
  while (!rest.empty()) {
    const auto newline = rest.find('\n');
    const std::string_view line = rest.substr(0, newline);
    rest = newline == std::string_view::npos ? std::string_view{} : rest.substr(newline + 1);
    const auto space = line.find(' ');
    if (space == std::string_view::npos) continue;  // "end"
    const std::string_view key = line.substr(0, space), value = line.substr(space + 1);
    if (key == "valix-state") continue;
    if (const Mapping* m = mapping_for_key(key)) {
      if ((m->form == Form::zero_absent || m->form == Form::flag) && value == "0") continue;
      auto& values = out[std::string(m->attribute)];
      values.emplace_back(m->form == Form::flag ? std::string_view("TRUE") : value);
      continue;
    }
    if (const Section* s = section_for_key(key)) {
      auto& values = out[std::string(s->attribute)];
      if (values.empty()) values.emplace_back();
      values.front().str().append(line).append("\n");
    }
    // serialize_state writes no other key; parse_state on the way back would refuse one.
  }
  return out;
}

Result<std::optional<UserState>> attributes_to_state(const LdapAttributes& attributes) {
  auto corrupt = [](std::string_view attribute, std::string_view why) {
    return fail(Errc::corrupt, std::string(attribute) + ": " + std::string(why));
  };
  SecretString text;
  text.str().reserve(4096);
  text.str().append("valix-state ").append(std::to_string(kStateVersion)).append("\n");
  for (const auto& [name, values] : attributes) {
    const bool known = std::any_of(kMappings.begin(), kMappings.end(),
                                   [&](const Mapping& m) { return m.attribute == name; }) ||
                       std::any_of(kSections.begin(), kSections.end(),
                                   [&](const Section& s) { return s.attribute == name; });
    if (!known) return corrupt(name, "not an attribute of a Valix state");
  }
  for (const auto& m : kMappings) {
    const auto found = attributes.find(m.attribute);
    const std::vector<SecretString>* values = found == attributes.end() ? nullptr : &found->second;
    if (values != nullptr && values->empty()) values = nullptr;
    if (values != nullptr && m.form != Form::multi && values->size() != 1) {
      return corrupt(m.attribute, "more than one value");
    }
    if (values == nullptr) {
      if (m.form == Form::zero_absent || m.form == Form::flag) {
        text.str().append(m.key).append(" 0\n");
      }
      continue;
    }
    for (const auto& value : *values) {
      if (!one_line(value.view()) || value.empty()) return corrupt(m.attribute, "bad value");
      std::string_view line_value = value.view();
      if (m.form == Form::flag) {
        if (line_value != "TRUE" && line_value != "FALSE")
          return corrupt(m.attribute, "not a boolean");
        line_value = line_value == "TRUE" ? "1" : "0";
      }
      text.str().append(m.key).append(" ").append(line_value).append("\n");
    }
  }
  for (const auto& s : kSections) {
    const auto found = attributes.find(s.attribute);
    if (found == attributes.end() || found->second.empty()) continue;
    if (found->second.size() != 1) return corrupt(s.attribute, "more than one value");
    const std::string_view lines = found->second.front().view();
    if (lines.empty() || !lines.ends_with('\n') || lines.find('\0') != std::string_view::npos) {
      return corrupt(s.attribute, "bad value");
    }
    std::string_view rest = lines;
    while (!rest.empty()) {
      const auto newline = rest.find('\n');
      const std::string_view line = rest.substr(0, newline);
      rest = rest.substr(newline + 1);
      const auto space = line.find(' ');
      const std::string_view key = line.substr(0, space);
      if (space == std::string_view::npos || section_for_key(key) != &s) {
        return corrupt(s.attribute, "holds a line that is not part of it");
      }
    }
    text.str().append(lines);
  }
  text.str().append("end\n");
  auto state = parse_state(text.view());
  if (!state) return fail(Errc::corrupt, state.error().message);
  if (state->empty()) return std::optional<UserState>{};
  return std::optional<UserState>(std::move(*state));
}

std::string escape_dn_value(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(value[i]);
    const bool special = c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' ||
                         c == ';' || c == '=' || (i == 0 && (c == '#' || c == ' ')) ||
                         (i + 1 == value.size() && c == ' ');
    if (c < 0x20 || c == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.push_back('\\');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      if (special) out.push_back('\\');
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string escape_filter_value(std::string_view value) {
  std::string out;
  for (const char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.push_back('\\');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

}  // namespace valix
