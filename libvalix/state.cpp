// Grammar (one "key value" pair per line, '\n' line ends, fixed key order not required):
//   valix-state 1
//   [uid N]                                  -- the owning account (older states lack it)
//   required 0|1
//   failures N
//   locked_until UNIX_TIME
//   [backup_failures N, backup_locked_until UNIX_TIME]   -- both or neither; absent reads as 0
//   last_login UNIX_TIME
//   [last_failure UNIX_TIME, last_failure_rhost TEXT]  -- both or neither (older states lack
//                                        them); TEXT printable ASCII, 1-64 bytes, "-" for none
//   [grace HEX32 UNIX_TIME (repeated, at most 8)]       -- grace periods: key and success time
//   [secret BASE32, algorithm A, digits D, period P, enrolled_at T, last_step S,
//    backup_setting CRYPT_SETTING, backup CRYPT_HASH (repeated),
//    [offset_steps N], [kind hotp], [name NAME], [last_used UNIX_TIME]]   -- enrollment, and
//    its first authenticator; N: the authenticator's clock offset (resync, TOTP only), not 0;
//    kind hotp: a counter-based token (last_step: its next counter); NAME: absent for
//    "default"; last_used: absent for 0 (older states lack both)
//   [authenticator NAME totp|hotp ALGORITHM DIGITS PERIOD ENROLLED_AT OFFSET BASE32 (repeated),
//    authenticator_use NAME LAST_STEP LAST_USED (one for each)]  -- further authenticators
//    (at most 7): what is set when one is added, and what its logins change
//   [pending_secret BASE32, pending_algorithm A, pending_digits D, pending_period P,
//    pending_expires T, [pending_name NAME], [pending_for SHA256_HEX], [pending_attempts N]]
//    -- pending enrollment; NAME: that of the authenticator it adds when confirmed
//    (valix-enroll --add), absent for an enrollment; pending_for: the enrollment it was begun
//    over, absent for none; N: the codes --confirm tried at it (0 to 3; absent in older states)
//   [login_secret ... login_backup (the enrollment's keys with "login_" before them),
//    login_token SHA256_HEX, login_expires T]    -- an enrollment awaiting its login's end
//   end
// The trailing "end" line makes a truncated file detectable.
#include "state.hpp"

#include <algorithm>
#include <array>
#include <bitset>
#include <charconv>
#include <tuple>
#include <utility>

#include "base32.hpp"

namespace valix {
namespace {

void append_line(SecretString& out, std::string_view key, std::string_view value) {
  out.str().append(key).append(" ").append(value).append("\n");
}

template <class Int>
std::optional<Int> parse_number(std::string_view text) {
  Int value{};
  if (text.empty() || text.size() > 20) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Every key a state line may hold once (all but backup, login_backup, authenticator,
// authenticator_use and grace), sorted: parse_state keeps what it has seen and the values not
// yet checked by a key's place here, without a map or a set (each a heap node and a copied key
// per line, on every read of every login).
constexpr std::array<std::string_view, 39> kSingleKeys = {
    "algorithm",
    "backup_failures",
    "backup_locked_until",
    "backup_setting",
    "digits",
    "enrolled_at",
    "failures",
    "kind",
    "last_failure",
    "last_failure_rhost",
    "last_login",
    "last_step",
    "last_used",
    "locked_until",
    "login_algorithm",
    "login_backup_setting",
    "login_digits",
    "login_enrolled_at",
    "login_expires",
    "login_last_step",
    "login_last_used",
    "login_name",
    "login_period",
    "login_secret",
    "login_token",
    "name",
    "offset_steps",
    "pending_algorithm",
    "pending_attempts",
    "pending_digits",
    "pending_expires",
    "pending_for",
    "pending_name",
    "pending_period",
    "pending_secret",
    "period",
    "required",
    "secret",
    "uid",
};
static_assert(std::ranges::is_sorted(kSingleKeys));

// kSingleKeys' places grouped by key length: a lookup compares only keys of its own length
// (at most a few), where a binary search compared strings five or six times. A login looks a
// key up about 330 times (six parses of some 55 lookups).
constexpr std::size_t kLongestSingleKey =
    std::ranges::max(kSingleKeys, {}, [](std::string_view k) { return k.size(); }).size();
struct KeysByLength {
  std::array<std::uint8_t, kSingleKeys.size()> places{};
  std::array<std::uint8_t, kLongestSingleKey + 2> first{};  // places[first[n]..first[n+1])
};
constexpr KeysByLength make_keys_by_length() {
  KeysByLength out;
  std::size_t next = 0;
  for (std::size_t length = 0; length <= kLongestSingleKey; ++length) {
    out.first[length] = static_cast<std::uint8_t>(next);
    for (std::size_t i = 0; i < kSingleKeys.size(); ++i) {
      if (kSingleKeys[i].size() == length) out.places[next++] = static_cast<std::uint8_t>(i);
    }
  }
  out.first[kLongestSingleKey + 1] = static_cast<std::uint8_t>(next);
  return out;
}
constexpr KeysByLength kKeysByLength = make_keys_by_length();

std::optional<std::size_t> single_key_index(std::string_view key) {
  if (key.size() > kLongestSingleKey) return std::nullopt;
  for (std::size_t i = kKeysByLength.first[key.size()]; i < kKeysByLength.first[key.size() + 1];
       ++i) {
    const std::size_t place = kKeysByLength.places[i];
    if (kSingleKeys[place] == key) return place;
  }
  return std::nullopt;
}

// The values of single keys not yet checked, as views into the text being parsed: each is
// taken (and then checked) by the part of the state it belongs to, and one left at the end
// belongs to nothing.
class SingleFields {
 public:
  void put(std::size_t index, std::string_view value) { values_[index] = value; }
  bool contains(std::string_view key) const {
    const auto index = single_key_index(key);
    return index && values_[*index].has_value();
  }
  std::optional<std::string_view> take(std::string_view key) {
    const auto index = single_key_index(key);
    if (!index) return std::nullopt;
    return std::exchange(values_[*index], std::nullopt);
  }
  // The first key (in sorted order) still holding a value, nullopt when none does.
  std::optional<std::string_view> first_left() const {
    for (std::size_t i = 0; i < kSingleKeys.size(); ++i) {
      if (values_[i]) return kSingleKeys[i];
    }
    return std::nullopt;
  }

 private:
  std::array<std::optional<std::string_view>, kSingleKeys.size()> values_{};
};

void append_enrollment(SecretString& out, const std::string& prefix, const Enrollment& e) {
  SecretString secret = base32_encode(e.secret.span());
  append_line(out, prefix + "secret", secret.view());
  append_line(out, prefix + "algorithm", otp_algorithm_name(e.otp.algorithm));
  append_line(out, prefix + "digits", std::to_string(e.otp.digits));
  append_line(out, prefix + "period", std::to_string(e.otp.period));
  append_line(out, prefix + "enrolled_at", std::to_string(e.enrolled_at));
  append_line(out, prefix + "last_step", std::to_string(e.last_step));
  append_line(out, prefix + "backup_setting", e.backup.setting);
  for (const auto& hash : e.backup.hashes) append_line(out, prefix + "backup", hash);
  if (e.offset_steps != 0)
    append_line(out, prefix + "offset_steps", std::to_string(e.offset_steps));
  if (e.kind == AuthenticatorKind::hotp) append_line(out, prefix + "kind", "hotp");
  if (e.name != kDefaultAuthenticatorName) append_line(out, prefix + "name", e.name);
  if (e.last_used != 0) append_line(out, prefix + "last_used", std::to_string(e.last_used));
  for (const auto& a : e.more) {
    SecretString line;
    line.str().reserve(512);
    const SecretString encoded = base32_encode(a.secret.span());
    line.str()
        .append(a.name)
        .append(a.kind == AuthenticatorKind::hotp ? " hotp " : " totp ")
        .append(otp_algorithm_name(a.otp.algorithm))
        .append(" ")
        .append(std::to_string(a.otp.digits))
        .append(" ")
        .append(std::to_string(a.otp.period))
        .append(" ")
        .append(std::to_string(a.enrolled_at))
        .append(" ")
        .append(std::to_string(a.offset_steps))
        .append(" ")
        .append(encoded.view());
    append_line(out, prefix + "authenticator", line.view());
  }
  for (const auto& a : e.more) {
    append_line(out, prefix + "authenticator_use",
                a.name + " " + std::to_string(a.last_step) + " " + std::to_string(a.last_used));
  }
}

// Fields of a line's value separated by single blanks; an empty field (a blank at either end,
// two in a row) is one too, so that such a value is refused rather than read as another.
std::vector<std::string_view> split_fields(std::string_view value) {
  std::vector<std::string_view> out;
  while (true) {
    const auto blank = value.find(' ');
    out.push_back(value.substr(0, blank));
    if (blank == std::string_view::npos) break;
    value.remove_prefix(blank + 1);
  }
  return out;
}

// A number as serialize_state writes it (no leading zeros, no "-0", no '+'): a state reads
// back as exactly the text it was read from.
template <class Int>
std::optional<Int> parse_canonical(std::string_view text) {
  auto value = parse_number<Int>(text);
  if (!value || std::to_string(*value) != text) return std::nullopt;
  return value;
}

bool valid_token_digest(std::string_view text) {
  return text.size() == 64 && text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool valid_failure_host(std::string_view text) {
  if (text.empty() || text.size() > kMaxFailureHostLength) return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f;
  });
}

}  // namespace

Result<std::string> enrollment_fingerprint(const Enrollment* enrollment) {
  if (!enrollment) return std::string();
  SecretString text;
  text.str().reserve(4096);  // no reallocation: no unwiped copy of a secret left behind
  text.str().append(std::to_string(enrollment->enrolled_at)).append("\n");
  for (const Authenticator* a : enrollment->authenticators()) {
    const SecretString secret = base32_encode(a->secret.span());
    text.str()
        .append(a->name)
        .append(a->kind == AuthenticatorKind::hotp ? " hotp " : " totp ")
        .append(otp_algorithm_name(a->otp.algorithm))
        .append(" ")
        .append(std::to_string(a->otp.digits))
        .append(" ")
        .append(std::to_string(a->otp.period))
        .append(" ")
        .append(secret.view())
        .append("\n");
  }
  return sha256_hex(text.view());
}

bool added_before(const Authenticator& x, const Authenticator& y) {
  return std::tie(x.enrolled_at, x.name) < std::tie(y.enrolled_at, y.name);
}

bool holds_secret(const Enrollment& enrollment, const Authenticator& candidate) {
  return std::ranges::any_of(enrollment.authenticators(), [&](const Authenticator* a) {
    return a != &candidate && constant_time_equal(a->secret, candidate.secret);
  });
}

bool valid_authenticator_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxAuthenticatorNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Enrollment enrollment_of(SecretBytes secret, OtpParameters otp, std::int64_t enrolled_at,
                         std::uint64_t last_step) {
  Enrollment e;
  e.secret = std::move(secret);
  e.otp = otp;
  e.enrolled_at = enrolled_at;
  e.last_step = last_step;
  return e;
}

Enrollment Enrollment::clone() const {
  Enrollment copy;
  static_cast<Authenticator&>(copy) = Authenticator::clone();
  copy.backup = backup;
  copy.more.reserve(more.size());
  for (const auto& a : more) copy.more.push_back(a.clone());
  return copy;
}

std::vector<Authenticator*> Enrollment::authenticators() {
  std::vector<Authenticator*> out{this};
  for (auto& a : more) out.push_back(&a);
  return out;
}

std::vector<const Authenticator*> Enrollment::authenticators() const {
  std::vector<const Authenticator*> out{this};
  for (const auto& a : more) out.push_back(&a);
  return out;
}

Authenticator* Enrollment::find(std::string_view wanted) {
  for (Authenticator* a : authenticators()) {
    if (a->name == wanted) return a;
  }
  return nullptr;
}

const Authenticator* Enrollment::find(std::string_view wanted) const {
  for (const Authenticator* a : authenticators()) {
    if (a->name == wanted) return a;
  }
  return nullptr;
}

bool Enrollment::remove(std::string_view wanted) {
  const auto found = std::find_if(more.begin(), more.end(),
                                  [&](const Authenticator& a) { return a.name == wanted; });
  if (found == more.end()) return false;
  more.erase(found);
  return true;
}

std::uint64_t Authenticator::authenticator_step(std::int64_t unix_time) const {
  const auto ours = static_cast<std::int64_t>(totp_step(unix_time, otp.period));
  return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ours + offset_steps));
}

UserState UserState::clone() const {
  UserState copy;
  copy.uid = uid;
  if (enrollment) copy.enrollment = enrollment->clone();
  if (pending) copy.pending = pending->clone();
  if (login_enrollment) copy.login_enrollment = login_enrollment->clone();
  copy.required = required;
  copy.failures = failures;
  copy.locked_until = locked_until;
  copy.backup_failures = backup_failures;
  copy.backup_locked_until = backup_locked_until;
  copy.last_login = last_login;
  copy.last_failure = last_failure;
  copy.last_failure_rhost = last_failure_rhost;
  copy.grace = grace;
  return copy;
}

SecretString serialize_state(const UserState& state) {
  SecretString out;
  out.str().reserve(4096 + 256 * (state.enrollment ? state.enrollment->backup.hashes.size() : 0));
  append_line(out, "valix-state", std::to_string(kStateVersion));
  if (state.uid) append_line(out, "uid", std::to_string(*state.uid));
  append_line(out, "required", state.required ? "1" : "0");
  append_line(out, "failures", std::to_string(state.failures));
  append_line(out, "locked_until", std::to_string(state.locked_until));
  append_line(out, "backup_failures", std::to_string(state.backup_failures));
  append_line(out, "backup_locked_until", std::to_string(state.backup_locked_until));
  append_line(out, "last_login", std::to_string(state.last_login));
  if (state.last_failure != 0) {
    append_line(out, "last_failure", std::to_string(state.last_failure));
    append_line(out, "last_failure_rhost",
                state.last_failure_rhost.empty() ? std::string_view("-")
                                                 : std::string_view(state.last_failure_rhost));
  }
  for (const auto& entry : state.grace) {
    append_line(out, "grace", entry.key + " " + std::to_string(entry.granted_at));
  }
  if (const auto& e = state.enrollment) append_enrollment(out, "", *e);
  if (const auto& p = state.pending) {
    SecretString secret = base32_encode(p->secret.span());
    append_line(out, "pending_secret", secret.view());
    append_line(out, "pending_algorithm", otp_algorithm_name(p->otp.algorithm));
    append_line(out, "pending_digits", std::to_string(p->otp.digits));
    append_line(out, "pending_period", std::to_string(p->otp.period));
    append_line(out, "pending_expires", std::to_string(p->expires_at));
    if (!p->made_for.empty()) append_line(out, "pending_for", p->made_for);
    if (p->name) append_line(out, "pending_name", *p->name);
    // Always, so that a version that does not count the tries refuses the pending enrollment
    // (an unknown key) rather than judge codes at it without limit.
    append_line(out, "pending_attempts", std::to_string(p->attempts));
  }
  if (const auto& l = state.login_enrollment) {
    append_enrollment(out, "login_", l->enrollment);
    append_line(out, "login_token", l->token_digest);
    append_line(out, "login_expires", std::to_string(l->expires_at));
  }
  out.str().append("end\n");
  return out;
}

Result<UserState> parse_state(std::string_view text) {
  UserState state;
  int line_number = 0;
  bool saw_end = false;
  std::bitset<kSingleKeys.size()> seen;
  // Collected first, checked for completeness at the end.
  std::optional<SecretBytes> secret, pending_secret, login_secret;
  SingleFields fields;
  std::vector<std::string> backups, login_backups;
  // Further authenticators: their "authenticator" lines (they hold a secret) and their
  // "authenticator_use" lines, in order.
  std::vector<SecretString> authenticator_lines;
  std::vector<std::string> authenticator_uses;

  auto corrupt = [&](std::string_view why) {
    return fail(Errc::corrupt, "line " + std::to_string(line_number) + ": " + std::string(why));
  };

  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    if (newline == std::string_view::npos) return corrupt("missing line end (truncated file)");
    const std::string_view line = text.substr(0, newline);
    text.remove_prefix(newline + 1);
    if (saw_end) return corrupt("data after 'end'");
    if (line == "end") {
      saw_end = true;
      continue;
    }
    const auto space = line.find(' ');
    if (space == std::string_view::npos) return corrupt("expected 'key value'");
    const std::string_view key = line.substr(0, space);
    const std::string_view value = line.substr(space + 1);
    if (line_number == 1) {
      if (key != "valix-state") return corrupt("not a Valix state file");
      if (value != std::to_string(kStateVersion)) return corrupt("unsupported state version");
      continue;
    }
    if (key == "backup" || key == "login_backup") {
      if (!valid_crypt_string(value)) return corrupt("bad backup code hash");
      (key == "backup" ? backups : login_backups).emplace_back(value);
      continue;
    }
    if (key == "authenticator") {
      if (authenticator_lines.size() >= kMaxAuthenticators - 1)
        return corrupt("too many authenticators");
      authenticator_lines.emplace_back(value);
      continue;
    }
    if (key == "authenticator_use") {
      if (authenticator_uses.size() >= kMaxAuthenticators - 1)
        return corrupt("too many authenticators");
      authenticator_uses.emplace_back(value);
      continue;
    }
    if (key == "grace") {
      // "HEX32 UNIX_TIME": a grace entry (each key once).
      const auto blank = value.find(' ');
      const std::string_view hash = value.substr(0, blank);
      // A plain value, not an optional: g++ 12 at -O2 takes the optional for uninitialized.
      std::int64_t granted = 0;
      if (blank != std::string_view::npos) {
        if (auto n = parse_number<std::int64_t>(value.substr(blank + 1))) granted = *n;
      }
      if (hash.size() != 32 ||
          hash.find_first_not_of("0123456789abcdef") != std::string_view::npos || granted <= 0) {
        return corrupt("bad grace entry");
      }
      if (state.grace.size() >= kMaxGraceEntries) return corrupt("too many grace entries");
      if (std::any_of(state.grace.begin(), state.grace.end(),
                      [&](const GraceEntry& e) { return e.key == hash; })) {
        return corrupt("duplicate grace entry");
      }
      state.grace.push_back(GraceEntry{std::string(hash), granted});
      continue;
    }
    const auto index = single_key_index(key);
    if (!index) return corrupt("unknown key");
    if (seen.test(*index)) return corrupt("duplicate key");
    seen.set(*index);
    if (key == "last_failure_rhost") {
      if (!valid_failure_host(value)) return corrupt("bad last_failure_rhost");
      state.last_failure_rhost = value;
      continue;
    }
    if (key == "secret" || key == "pending_secret" || key == "login_secret") {
      auto decoded = base32_decode(value);
      if (!decoded || decoded->size() < kMinSecretBytes || decoded->size() > kMaxSecretBytes)
        return corrupt("bad secret");
      (key == "secret"           ? secret
       : key == "pending_secret" ? pending_secret
                                 : login_secret) = std::move(*decoded);
      continue;
    }
    if (key == "uid") {
      // (uid_t)-1 is no account's uid: chown(2) and setresuid(2) read it as "unchanged".
      auto uid = parse_number<uid_t>(value);
      if (!uid || *uid == static_cast<uid_t>(-1)) return corrupt("bad uid");
      state.uid = uid;
      continue;
    }
    fields.put(*index, value);
  }
  if (line_number == 0) return fail(Errc::corrupt, "empty state file");
  if (!saw_end) return fail(Errc::corrupt, "missing 'end' line (truncated file)");

  auto take = [&](std::string_view key) { return fields.take(key); };
  auto missing = [&](std::string_view key) {
    return fail(Errc::corrupt, "missing or bad '" + std::string(key) + "'");
  };
  auto int64_field = [&](std::string_view key) -> std::optional<std::int64_t> {
    auto v = take(key);
    if (!v) return std::nullopt;
    auto n = parse_number<std::int64_t>(*v);
    if (!n || *n < 0) return std::nullopt;
    return n;
  };
  auto otp_fields = [&](std::string_view prefix) -> std::optional<OtpParameters> {
    const std::string p(prefix);
    auto algorithm_text = take(p + "algorithm");
    auto digits = int64_field(p + "digits");
    auto period = int64_field(p + "period");
    if (!algorithm_text || !digits || !period) return std::nullopt;
    auto algorithm = parse_otp_algorithm(*algorithm_text);
    if (!algorithm) return std::nullopt;
    OtpParameters params{*algorithm, static_cast<int>(*digits), static_cast<int>(*period)};
    if (*digits > 8 || *period > 3600 || !valid_otp_parameters(params)) return std::nullopt;
    return params;
  };

  auto required = take("required");
  if (!required || (*required != "0" && *required != "1")) return missing("required");
  state.required = *required == "1";
  auto failures = int64_field("failures");
  if (!failures || *failures > 1'000'000) return missing("failures");
  state.failures = static_cast<int>(*failures);
  auto locked_until = int64_field("locked_until");
  if (!locked_until) return missing("locked_until");
  state.locked_until = *locked_until;
  // Written by every version since backup codes got their own limit; older states lack them.
  const bool has_backup_limit = fields.contains("backup_failures");
  if (has_backup_limit != fields.contains("backup_locked_until")) {
    return missing(has_backup_limit ? "backup_locked_until" : "backup_failures");
  }
  if (has_backup_limit) {
    auto backup_failures = int64_field("backup_failures");
    if (!backup_failures || *backup_failures > 1'000'000) return missing("backup_failures");
    state.backup_failures = static_cast<int>(*backup_failures);
    auto backup_locked_until = int64_field("backup_locked_until");
    if (!backup_locked_until) return missing("backup_locked_until");
    state.backup_locked_until = *backup_locked_until;
  }
  auto last_login = int64_field("last_login");
  if (!last_login) return missing("last_login");
  state.last_login = *last_login;
  // Written since the last failure was recorded; older states lack both.
  const bool has_last_failure = fields.contains("last_failure");
  if (has_last_failure != seen.test(*single_key_index("last_failure_rhost"))) {
    return missing(has_last_failure ? "last_failure_rhost" : "last_failure");
  }
  if (has_last_failure) {
    auto last_failure = int64_field("last_failure");
    if (!last_failure || *last_failure == 0) return missing("last_failure");
    state.last_failure = *last_failure;
  }

  auto enrollment_fields = [&](const std::string& prefix, SecretBytes key,
                               std::vector<std::string> hashes) -> Result<Enrollment> {
    Enrollment e;
    e.secret = std::move(key);
    auto otp = otp_fields(prefix);
    if (!otp) return missing(prefix + "algorithm/digits/period");
    e.otp = *otp;
    auto enrolled_at = int64_field(prefix + "enrolled_at");
    if (!enrolled_at) return missing(prefix + "enrolled_at");
    e.enrolled_at = *enrolled_at;
    auto last_step = take(prefix + "last_step");
    auto step = last_step ? parse_number<std::uint64_t>(*last_step) : std::nullopt;
    if (!step) return missing(prefix + "last_step");
    e.last_step = *step;
    auto setting = take(prefix + "backup_setting");
    if (!setting || !valid_crypt_string(*setting)) return missing(prefix + "backup_setting");
    e.backup.setting = std::string(*setting);
    e.backup.hashes = std::move(hashes);
    // Written only when not 0 (valix-admin resync).
    if (auto offset_text = take(prefix + "offset_steps")) {
      auto offset = parse_number<std::int64_t>(*offset_text);
      if (!offset || *offset == 0 || *offset < -kMaxOffsetSteps || *offset > kMaxOffsetSteps) {
        return missing(prefix + "offset_steps");
      }
      e.offset_steps = *offset;
    }
    // Written only for HOTP: a state without it is TOTP.
    if (auto kind = take(prefix + "kind")) {
      // Far below 2^64: a counter's look-ahead and sync range never wrap.
      if (*kind != "hotp" || e.offset_steps != 0 || e.last_step > (std::uint64_t{1} << 62)) {
        return missing(prefix + "kind");
      }
      e.kind = AuthenticatorKind::hotp;
    }
    // Written only when not the default.
    if (auto name = take(prefix + "name")) {
      if (!valid_authenticator_name(*name) || *name == kDefaultAuthenticatorName)
        return missing(prefix + "name");
      e.name = std::string(*name);
    }
    if (fields.contains(prefix + "last_used")) {
      auto last_used = int64_field(prefix + "last_used");
      if (!last_used || *last_used == 0) return missing(prefix + "last_used");
      e.last_used = *last_used;
    }
    return e;
  };
  // "NAME totp|hotp ALGORITHM DIGITS PERIOD ENROLLED_AT OFFSET BASE32" and its use line
  // "NAME LAST_STEP LAST_USED".
  auto further_authenticator = [&](std::string_view definition,
                                   std::string_view use) -> Result<Authenticator> {
    const auto bad = [](std::string_view what) {
      return fail(Errc::corrupt, "bad authenticator" + std::string(what));
    };
    const auto fields_of = split_fields(definition);
    const auto uses = split_fields(use);
    if (fields_of.size() != 8) return bad("");
    if (uses.size() != 3) return bad("_use");
    Authenticator a;
    if (!valid_authenticator_name(fields_of[0])) return bad(" name");
    a.name = fields_of[0];
    if (fields_of[1] == "hotp") a.kind = AuthenticatorKind::hotp;
    else if (fields_of[1] != "totp") return bad(" kind");
    auto algorithm = parse_otp_algorithm(fields_of[2]);
    auto digits = parse_canonical<int>(fields_of[3]);
    auto period = parse_canonical<int>(fields_of[4]);
    if (!algorithm || !digits || !period) return bad(" parameters");
    a.otp = OtpParameters{*algorithm, *digits, *period};
    if (!valid_otp_parameters(a.otp)) return bad(" parameters");
    auto enrolled_at = parse_canonical<std::int64_t>(fields_of[5]);
    auto offset = parse_canonical<std::int64_t>(fields_of[6]);
    if (!enrolled_at || *enrolled_at < 0) return bad(" time");
    a.enrolled_at = *enrolled_at;
    if (!offset || *offset < -kMaxOffsetSteps || *offset > kMaxOffsetSteps ||
        (*offset != 0 && a.kind == AuthenticatorKind::hotp)) {
      return bad(" offset");
    }
    a.offset_steps = *offset;
    auto decoded = base32_decode(fields_of[7]);
    if (!decoded || decoded->size() < kMinSecretBytes || decoded->size() > kMaxSecretBytes)
      return bad(" secret");
    a.secret = std::move(*decoded);
    auto last_step = parse_canonical<std::uint64_t>(uses[1]);
    auto last_used = parse_canonical<std::int64_t>(uses[2]);
    if (!last_step || !last_used || *last_used < 0) return bad("_use");
    // As for the first: far below 2^64, so a look-ahead never wraps.
    if (a.kind == AuthenticatorKind::hotp && *last_step > (std::uint64_t{1} << 62))
      return bad("_use");
    a.last_step = *last_step;
    a.last_used = *last_used;
    return a;
  };
  if (secret) {
    auto e = enrollment_fields("", std::move(*secret), std::move(backups));
    if (!e) return std::unexpected(e.error());
    if (authenticator_lines.size() != authenticator_uses.size())
      return fail(Errc::corrupt, "an authenticator without its authenticator_use, or the reverse");
    // Matched by name: a directory keeps a multi-valued attribute's values in no order.
    for (const auto& line : authenticator_lines) {
      const std::string_view name = line.view().substr(0, line.view().find(' '));
      const auto uses = std::count_if(
          authenticator_uses.begin(), authenticator_uses.end(),
          [&](const std::string& use) { return use.substr(0, use.find(' ')) == name; });
      const auto use =
          std::find_if(authenticator_uses.begin(), authenticator_uses.end(),
                       [&](const std::string& u) { return u.substr(0, u.find(' ')) == name; });
      if (uses != 1) return fail(Errc::corrupt, "an authenticator without one authenticator_use");
      auto a = further_authenticator(line.view(), *use);
      if (!a) return std::unexpected(a.error());
      if (e->find(a->name)) return fail(Errc::corrupt, "two authenticators of one name");
      e->more.push_back(std::move(*a));
    }
    // The order they were added in (add_authenticator keeps them in it), whatever order they
    // were read in.
    std::sort(e->more.begin(), e->more.end(), added_before);
    for (const Authenticator& a : e->more) {
      // Added to this enrollment, so never before it: one that is was left behind by a
      // version that did not know further authenticators (its reset, then an enrollment),
      // and must not log anyone in.
      if (a.enrolled_at < e->enrolled_at) {
        return fail(Errc::corrupt, "authenticator " + a.name +
                                       " is older than the enrollment (left behind by a reset "
                                       "of an earlier version?)");
      }
      if (holds_secret(*e, a)) {
        return fail(Errc::corrupt, "authenticator " + a.name + " has another one's secret");
      }
    }
    state.enrollment = std::move(*e);
  } else if (!backups.empty()) {
    return fail(Errc::corrupt, "backup codes without an enrollment");
  } else if (!authenticator_lines.empty() || !authenticator_uses.empty()) {
    return fail(Errc::corrupt, "authenticators without an enrollment");
  }
  if (login_secret) {
    auto e = enrollment_fields("login_", std::move(*login_secret), std::move(login_backups));
    if (!e) return std::unexpected(e.error());
    auto token = take("login_token");
    if (!token || !valid_token_digest(*token)) return missing("login_token");
    auto expires = int64_field("login_expires");
    if (!expires) return missing("login_expires");
    state.login_enrollment = LoginEnrollment{std::move(*e), std::string(*token), *expires};
  } else if (!login_backups.empty()) {
    return fail(Errc::corrupt, "backup codes without a login enrollment");
  }
  if (pending_secret) {
    PendingEnrollment p;
    p.secret = std::move(*pending_secret);
    auto otp = otp_fields("pending_");
    if (!otp) return missing("pending_algorithm/digits/period");
    p.otp = *otp;
    auto expires = int64_field("pending_expires");
    if (!expires) return missing("pending_expires");
    p.expires_at = *expires;
    if (auto name = take("pending_name")) {
      if (!valid_authenticator_name(*name)) return missing("pending_name");
      p.name = std::string(*name);
    }
    if (auto made_for = take("pending_for")) {
      if (!valid_token_digest(*made_for)) return missing("pending_for");
      p.made_for = std::string(*made_for);
    }
    // Absent in a pending enrollment an earlier version wrote: no try counted.
    if (auto attempts_text = take("pending_attempts")) {
      auto attempts = parse_canonical<int>(*attempts_text);
      if (!attempts || *attempts < 0 || *attempts > kEnrollmentTries)
        return missing("pending_attempts");
      p.attempts = static_cast<int>(*attempts);
    }
    state.pending = std::move(p);
  }
  if (const auto left = fields.first_left()) {
    return fail(Errc::corrupt, "'" + std::string(*left) + "' without the secret it belongs to");
  }
  return state;
}

}  // namespace valix
