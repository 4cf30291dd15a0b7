#include "config.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <charconv>
#include <map>

#include "file_util.hpp"
#include "i18n.hpp"

namespace valix {
namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

Result<int> parse_int(std::string_view key, std::string_view value, int min, int max) {
  int out = 0;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc{} || ptr != value.data() + value.size() || out < min || out > max) {
    return fail_said(Errc::config, "{key} must be a whole number from {min} to {max}",
                     {{"key", key}, {"min", std::to_string(min)}, {"max", std::to_string(max)}});
  }
  return out;
}

// Names separated by commas and/or blanks; a name with blanks in it (Active Directory's
// "domain admins" through SSSD or winbind) is written in double quotes. A '#' is refused
// rather than read as a name: comments go on a line of their own, and a trailing comment
// taken for group names would silently change who is exempt or required.
Result<std::vector<std::string>> parse_group_list(std::string_view key, std::string_view value) {
  const std::string name(key);
  std::vector<std::string> groups;
  std::string current;
  bool quoted = false, was_quoted = false;
  auto flush = [&]() -> Result<void> {
    if (was_quoted && current.find_first_not_of(" \t") == std::string::npos) {
      return fail_said(Errc::config, "{key} has a quoted name that is empty or blank",
                       {{"key", name}});
    }
    if (!current.empty()) groups.push_back(std::move(current));
    current.clear();
    was_quoted = false;
    return {};
  };
  for (const char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == ':') {
      return fail_said(Errc::config, "{key} has a character not allowed in group names",
                       {{"key", name}});
    }
    if (c == '"') {
      if (!quoted && !current.empty()) {
        return fail_said(Errc::config, "{key}: a quote may only start or end a group name",
                         {{"key", name}});
      }
      quoted = !quoted;
      was_quoted = true;
      continue;
    }
    if (quoted) {
      current.push_back(c);
      continue;
    }
    if (c == '#') {
      return fail_said(Errc::config, "{key} has a '#': comments go on a line of their own",
                       {{"key", name}});
    }
    if (c == ',' || c == ' ' || c == '\t') {
      if (auto flushed = flush(); !flushed) return std::unexpected(flushed.error());
    } else {
      if (was_quoted) {
        return fail_said(Errc::config, "{key}: a quote may only start or end a group name",
                         {{"key", name}});
      }
      current.push_back(c);
    }
  }
  if (quoted) {
    return fail_said(Errc::config, "{key} has a quote that is not closed", {{"key", name}});
  }
  if (auto flushed = flush(); !flushed) return std::unexpected(flushed.error());
  return groups;
}

bool printable(std::string_view value) {
  for (const char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool is_ldap_key(std::string_view key) { return key.starts_with("ldap_"); }

// "dc=fleet,dc=example" -> "fleet.example"; empty when the DN has no dc= component.
std::string domain_of(std::string_view dn) {
  std::string domain;
  while (!dn.empty()) {
    const auto comma = dn.find(',');
    std::string_view rdn = dn.substr(0, comma);
    dn = comma == std::string_view::npos ? std::string_view{} : dn.substr(comma + 1);
    rdn = trim(rdn);
    if (rdn.size() > 3 && (rdn.starts_with("dc=") || rdn.starts_with("DC="))) {
      if (!domain.empty()) domain += '.';
      domain += rdn.substr(3);
    }
  }
  return domain;
}

Result<std::string> parse_dn(std::string_view key, std::string_view value) {
  // Stored and sent as given; only what could never be a DN in a one-line setting is refused.
  if (value.empty() || !printable(value) || value.size() > 512 ||
      value.find('=') == std::string_view::npos) {
    return fail_said(Errc::config, "{key} must be a distinguished name (a=b,c=d)", {{"key", key}});
  }
  return std::string(value);
}

Result<std::string> parse_absolute_path(std::string_view key, std::string_view value) {
  if (value.empty() || value.front() != '/' || !printable(value) || value.size() > 1024) {
    return fail_said(Errc::config, "{key} must be an absolute path", {{"key", key}});
  }
  return std::string(value);
}

Result<std::vector<std::string>> parse_uris(std::string_view value) {
  std::vector<std::string> uris;
  while (!value.empty()) {
    const auto blank = value.find_first_of(" \t,");
    std::string_view uri = value.substr(0, blank);
    value = blank == std::string_view::npos ? std::string_view{} : value.substr(blank + 1);
    if (uri.empty()) continue;
    if (!printable(uri) || uri.size() > 512 ||
        !(uri.starts_with("ldap://") || uri.starts_with("ldaps://") ||
          uri.starts_with("ldapi://"))) {
      return fail_said(Errc::config, "ldap_uri takes ldap://, ldaps:// or ldapi:// URIs");
    }
    uris.emplace_back(uri);
  }
  if (uris.empty() || uris.size() > 8) {
    return fail_said(Errc::config, "ldap_uri must name 1 to 8 URIs");
  }
  return uris;
}

Result<void> validate_bind(const LdapBind& bind, std::string_view dn_key,
                           std::string_view password_key, const std::vector<std::string>& uris) {
  if (bind.dn.empty() != bind.password_file.empty()) {
    return fail_said(Errc::config, "{key} and {other} go together",
                     {{"key", dn_key}, {"other", password_key}});
  }
  if (bind.dn.empty()) {
    for (const auto& uri : uris) {
      if (!uri.starts_with("ldapi://")) {
        return fail_said(Errc::config,
                         "without {key} (SASL EXTERNAL) every ldap_uri must be ldapi://",
                         {{"key", dn_key}});
      }
    }
  }
  return {};
}

}  // namespace

std::string default_issuer(const Config& config) {
  if (!config.issuer.empty()) return config.issuer;
  if (config.store == StoreKind::ldap) return domain_of(config.ldap.base);
  return {};
}

std::string_view requirement_name(Requirement requirement) {
  switch (requirement) {
    case Requirement::none: return "none";
    case Requirement::all: return "all";
    case Requirement::groups: return "groups";
  }
  return "none";
}

Result<void> apply_setting(Config& config, std::string_view key, std::string_view value) {
  auto assign_int = [&](int& field, int min, int max) -> Result<void> {
    auto parsed = parse_int(key, value, min, max);
    if (!parsed) return std::unexpected(parsed.error());
    field = *parsed;
    return {};
  };
  if (key == "state_dir") {
    if (value.empty() || value.front() != '/' || !printable(value) || value.size() > 1024) {
      return fail_said(Errc::config, "state_dir must be an absolute path");
    }
    config.state_dir = value;
    return {};
  }
  if (key == "store") {
    if (value == "files") config.store = StoreKind::files;
    else if (value == "ldap") config.store = StoreKind::ldap;
    else return fail_said(Errc::config, "store must be files or ldap");
    return {};
  }
  if (is_ldap_key(key)) {
    auto assign = [](std::string& field, Result<std::string> parsed) -> Result<void> {
      if (!parsed) return std::unexpected(parsed.error());
      field = std::move(*parsed);
      return {};
    };
    LdapSettings& ldap = config.ldap;
    // An empty value leaves a directory setting unset (the shipped valix.conf lists each
    // key that way, commented out).
    if (value.empty() && key != "ldap_timeout_ms") {
      if (key == "ldap_uri") ldap.uris.clear();
      else if (key == "ldap_base") ldap.base.clear();
      else if (key == "ldap_bind_dn") ldap.host.dn.clear();
      else if (key == "ldap_bind_password_file") ldap.host.password_file.clear();
      else if (key == "ldap_admin_bind_dn") ldap.admin.dn.clear();
      else if (key == "ldap_admin_password_file") ldap.admin.password_file.clear();
      else if (key == "ldap_ca_file") ldap.ca_file.clear();
      else return fail_said(Errc::config, "unknown setting '{key}'", {{"key", key}});
      return {};
    }
    if (key == "ldap_uri") {
      auto uris = parse_uris(value);
      if (!uris) return std::unexpected(uris.error());
      ldap.uris = std::move(*uris);
      return {};
    }
    if (key == "ldap_base") return assign(ldap.base, parse_dn(key, value));
    if (key == "ldap_bind_dn") return assign(ldap.host.dn, parse_dn(key, value));
    if (key == "ldap_bind_password_file")
      return assign(ldap.host.password_file, parse_absolute_path(key, value));
    if (key == "ldap_admin_bind_dn") return assign(ldap.admin.dn, parse_dn(key, value));
    if (key == "ldap_admin_password_file")
      return assign(ldap.admin.password_file, parse_absolute_path(key, value));
    if (key == "ldap_ca_file") return assign(ldap.ca_file, parse_absolute_path(key, value));
    if (key == "ldap_timeout_ms") return assign_int(ldap.timeout_ms, 100, 30000);
  }
  if (key == "issuer") {
    if (!printable(value) || value.size() > 128 || value.find(':') != std::string_view::npos) {
      return fail_said(Errc::config,
                       "issuer must be printable, without ':', at most 128 characters");
    }
    config.issuer = value;
    return {};
  }
  if (key == "algorithm") {
    const auto algorithm = parse_otp_algorithm(value);
    if (!algorithm) return fail_said(Errc::config, "algorithm must be SHA1, SHA256 or SHA512");
    config.otp.algorithm = *algorithm;
    return {};
  }
  if (key == "digits") {
    if (value != "6" && value != "8") return fail_said(Errc::config, "digits must be 6 or 8");
    config.otp.digits = value == "6" ? 6 : 8;
    return {};
  }
  if (key == "period") return assign_int(config.otp.period, 15, 300);
  if (key == "window") return assign_int(config.window, 0, 10);
  if (key == "hotp_look_ahead") return assign_int(config.hotp_look_ahead, 1, 100);
  if (key == "require") {
    if (value == "none") config.require = Requirement::none;
    else if (value == "all") config.require = Requirement::all;
    else if (value == "groups") config.require = Requirement::groups;
    else return fail_said(Errc::config, "require must be none, all or groups");
    return {};
  }
  if (key == "require_groups" || key == "exempt_groups") {
    auto groups = parse_group_list(key, value);
    if (!groups) return std::unexpected(groups.error());
    (key == "require_groups" ? config.require_groups : config.exempt_groups) = std::move(*groups);
    return {};
  }
  if (key == "unenrolled") {
    if (value == "deny") config.unenrolled = UnenrolledAction::deny;
    else if (value == "enroll") config.unenrolled = UnenrolledAction::enroll;
    else return fail_said(Errc::config, "unenrolled must be deny or enroll");
    return {};
  }
  if (key == "max_failures") return assign_int(config.max_failures, 1, 100);
  if (key == "backup_max_failures") return assign_int(config.backup_max_failures, 1, 100);
  if (key == "lockout_seconds") return assign_int(config.lockout_seconds, 1, 86400);
  if (key == "lockout_max_seconds") return assign_int(config.lockout_max_seconds, 1, 7 * 86400);
  if (key == "fail_delay_ms") return assign_int(config.fail_delay_ms, 0, 10000);
  if (key == "backup_codes") return assign_int(config.backup_codes, 1, 50);
  if (key == "pending_lifetime") return assign_int(config.pending_lifetime, 60, 86400);
  if (key == "grace_seconds") return assign_int(config.grace_seconds, 0, kMaxGraceSeconds);
  if (key == "grace_local") {
    if (value == "yes") config.grace_local = true;
    else if (value == "no") config.grace_local = false;
    else return fail_said(Errc::config, "grace_local must be yes or no");
    return {};
  }
  if (key == "prompt") {
    if (value.empty() || !printable(value) || value.size() > 128) {
      return fail_said(Errc::config, "prompt must be 1 to 128 printable characters");
    }
    config.prompt = value;
    return {};
  }
  if (key == "qr") {
    if (value == "utf8") config.qr = QrStyle::utf8;
    else if (value == "ansi") config.qr = QrStyle::ansi;
    else if (value == "none") config.qr = QrStyle::none;
    else return fail_said(Errc::config, "qr must be utf8, ansi or none");
    return {};
  }
  return fail_said(Errc::config, "unknown setting '{key}'", {{"key", key}});
}

Result<void> validate_config(const Config& config) {
  if (config.lockout_max_seconds < config.lockout_seconds) {
    return fail_said(Errc::config, "lockout_max_seconds is smaller than lockout_seconds");
  }
  if (config.require == Requirement::groups && config.require_groups.empty()) {
    return fail_said(Errc::config, "require = groups needs the groups in require_groups");
  }
  const LdapSettings& ldap = config.ldap;
  if (config.store != StoreKind::ldap) {
    if (!ldap.uris.empty() || !ldap.base.empty() || !ldap.host.dn.empty() ||
        !ldap.host.password_file.empty() || !ldap.admin.dn.empty() ||
        !ldap.admin.password_file.empty() || !ldap.ca_file.empty()) {
      return fail_said(Errc::config, "ldap_ settings need store = ldap");
    }
    return {};
  }
  if (ldap.uris.empty() || ldap.base.empty()) {
    return fail_said(Errc::config, "store = ldap needs ldap_uri and ldap_base");
  }
  if (auto valid = validate_bind(ldap.host, "ldap_bind_dn", "ldap_bind_password_file", ldap.uris);
      !valid) {
    return valid;
  }
  if (!ldap.admin.dn.empty() || !ldap.admin.password_file.empty()) {
    if (auto valid =
            validate_bind(ldap.admin, "ldap_admin_bind_dn", "ldap_admin_password_file", ldap.uris);
        !valid) {
      return valid;
    }
  }
  if (default_issuer(config).empty()) {
    return fail_said(Errc::config,
                     "store = ldap needs issuer (ldap_base has no dc= to name the fleet by)");
  }
  return {};
}

Result<Config> parse_config(std::string_view text, std::string_view filename) {
  Config config;
  std::map<std::string, int, std::less<>> seen;
  int line_number = 0;
  // "FILE:LINE: " goes in front of the message as it is, in both renderings.
  auto error_at = [&](const Said& message) {
    const std::string where = std::string(filename) + ":" + std::to_string(line_number) + ": ";
    return std::unexpected(Error{Errc::config, where + message.message, where + message.shown});
  };
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (line.find('\0') != std::string_view::npos) return error_at(say("NUL byte in line"));
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) return error_at(say("expected 'key = value'"));
    const std::string_view key = trim(line.substr(0, equals));
    const std::string_view value = trim(line.substr(equals + 1));
    if (key.empty()) return error_at(say("missing key before '='"));
    if (auto it = seen.find(key); it != seen.end()) {
      return error_at(say("'{key}' already set on line {line}",
                          {{"key", key}, {"line", std::to_string(it->second)}}));
    }
    seen.emplace(std::string(key), line_number);
    if (auto applied = apply_setting(config, key, value); !applied) {
      return error_at(said_of(applied.error()));
    }
  }
  if (auto valid = validate_config(config); !valid) {
    const std::string where = std::string(filename) + ": ";
    return std::unexpected(
        Error{Errc::config, where + valid.error().message, where + shown_message(valid.error())});
  }
  return config;
}

Result<Config> load_config(const std::string& path, uid_t trusted_uid) {
  auto text = read_trusted_file(AT_FDCWD, path, trusted_uid, FileAccess::readable_by_others, 65536);
  if (!text) return std::unexpected(text.error());
  return parse_config(text->view(), path);
}

}  // namespace valix
