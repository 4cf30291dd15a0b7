#include "enrollment.hpp"

#include <unistd.h>

#include <climits>

#include "backup_codes.hpp"
#include "base32.hpp"
#include "i18n.hpp"

namespace valix {
namespace {

std::string host_name() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof name - 1) != 0 || name[0] == '\0') return "localhost";
  return name;
}

void percent_encode(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
                            c == '~' || c == '@';
    if (unreserved) {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 0xf]);
    }
  }
}

}  // namespace

Result<PendingEnrollment> new_pending_enrollment(const Config& config, std::int64_t now) {
  PendingEnrollment pending;
  pending.secret = SecretBytes(kSecretBytes);
  std::span<std::uint8_t> bytes(pending.secret.data(), pending.secret.size());
  if (auto ok = random_bytes(bytes); !ok) return std::unexpected(ok.error());
  pending.otp = config.otp;
  pending.expires_at = now + config.pending_lifetime;
  return pending;
}

std::string issuer_name(const Config& config) {
  auto issuer = default_issuer(config);
  return issuer.empty() ? host_name() : issuer;
}

std::string account_label(const Config& config, std::string_view user) {
  // A fleet's enrollment is valid on every host: the label must not name the one it was made on.
  const std::string where = config.store == StoreKind::ldap ? default_issuer(config) : host_name();
  return std::string(user) + "@" + where;
}

SecretString otpauth_uri(std::string_view issuer, std::string_view label, const SecretBytes& secret,
                         const OtpParameters& otp) {
  SecretString encoded = base32_encode(secret.span());
  SecretString uri;
  // Enough for the worst case (every byte of issuer and label percent-encoded), so that the
  // buffer holding the secret is never reallocated and freed unwiped.
  uri.str().reserve(3 * (2 * issuer.size() + label.size()) + encoded.size() + 128);
  uri.str().append("otpauth://totp/");
  percent_encode(uri.str(), issuer);
  uri.str().append(":");
  percent_encode(uri.str(), label);
  uri.str().append("?secret=").append(encoded.view()).append("&issuer=");
  percent_encode(uri.str(), issuer);
  uri.str()
      .append("&algorithm=")
      .append(otp_algorithm_name(otp.algorithm))
      .append("&digits=")
      .append(std::to_string(otp.digits))
      .append("&period=")
      .append(std::to_string(otp.period));
  return uri;
}

SecretString grouped_secret(const SecretBytes& secret) {
  SecretString encoded = base32_encode(secret.span());
  SecretString out;
  out.str().reserve(encoded.size() * 2);
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    if (i > 0 && i % 4 == 0) out.str().push_back(' ');
    out.str().push_back(encoded.str()[i]);
  }
  return out;
}

Result<std::vector<SecretString>> replace_backup_codes(Enrollment& enrollment,
                                                       const Config& config) {
  auto codes = generate_backup_codes(static_cast<std::size_t>(config.backup_codes));
  if (!codes) return std::unexpected(codes.error());
  auto hashes = hash_backup_codes(*codes);
  if (!hashes) return std::unexpected(hashes.error());
  enrollment.backup = std::move(*hashes);
  return codes;
}

Result<Activation> make_enrollment(const PendingEnrollment& pending, std::uint64_t first_step,
                                   std::int64_t now, const Config& config) {
  Activation activation;
  activation.enrollment.secret = pending.secret.clone();
  activation.enrollment.otp = pending.otp;
  activation.enrollment.enrolled_at = now;
  activation.enrollment.last_step = first_step;
  auto codes = replace_backup_codes(activation.enrollment, config);
  if (!codes) return std::unexpected(codes.error());
  activation.backup_codes = std::move(*codes);
  return activation;
}

void install_enrollment(UserState& state, Enrollment enrollment) {
  state.enrollment = std::move(enrollment);
  state.pending.reset();
  state.login_enrollment.reset();
  state.required = false;
  state.clear_failures();
  state.clear_grace();  // a grace period was granted by the codes of the old secret
}

Result<SecretString> new_login_token() {
  std::uint8_t raw[16];
  if (auto ok = random_bytes(raw); !ok) return std::unexpected(ok.error());
  SecretString token = hex_encode(raw);
  wipe(raw, sizeof raw);
  return token;
}

Result<void> keep_login_enrollment(StateStore& store, const StateKey& key,
                                   const Enrollment& enrollment, std::string_view token,
                                   std::int64_t expires_at) {
  auto digest = sha256_hex(token);
  if (!digest) return std::unexpected(digest.error());
  return store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (current && current->enrollment) {
      return fail(Errc::conflict, "the account was enrolled by another login meanwhile");
    }
    if (!current) current.emplace();
    current->login_enrollment = LoginEnrollment{enrollment.clone(), *digest, expires_at};
    return StateChange::write;
  });
}

Result<void> complete_login_enrollment(StateStore& store, const StateKey& key,
                                       std::string_view token, std::int64_t now) {
  auto digest = sha256_hex(token);
  if (!digest) return std::unexpected(digest.error());
  return store.update(key, [&](std::optional<UserState>& current) -> Result<StateChange> {
    if (current && current->enrollment) {
      return fail(Errc::conflict, "the account was enrolled by another login meanwhile");
    }
    const bool ours = current && current->login_enrollment &&
                      constant_time_equal(current->login_enrollment->token_digest, *digest);
    if (!ours) {
      return fail(Errc::not_found,
                  "no enrollment made by this login is waiting (another login replaced it)");
    }
    if (current->login_enrollment->expires_at < now) {
      return fail(Errc::not_found, "the enrollment made at this login has expired");
    }
    install_enrollment(*current, current->login_enrollment->enrollment.clone());
    return StateChange::write;
  });
}

std::uint64_t watermark_replacing(const Enrollment* old, const SecretBytes& secret,
                                  AuthenticatorKind kind, int period, std::uint64_t wanted) {
  if (!old) return wanted;
  std::uint64_t watermark = wanted;
  for (const Authenticator* a : old->authenticators()) {
    if (a->kind != kind || (kind == AuthenticatorKind::totp && a->otp.period != period) ||
        !constant_time_equal(a->secret, secret)) {
      continue;
    }
    watermark = std::max(watermark, a->last_step);
  }
  return watermark;
}

Result<std::vector<SecretString>> activate_enrollment(UserState& state, std::uint64_t first_step,
                                                      std::int64_t now, const Config& config) {
  if (!state.pending) return fail(Errc::invalid, "no pending enrollment");
  auto activation = make_enrollment(*state.pending, first_step, now, config);
  if (!activation) return std::unexpected(activation.error());
  install_enrollment(state, std::move(activation->enrollment));
  return std::move(activation->backup_codes);
}

Result<void> add_authenticator(Enrollment& enrollment, Authenticator authenticator) {
  if (!valid_authenticator_name(authenticator.name)) {
    return fail_said(Errc::invalid,
                     "an authenticator's name is 1 to 32 letters, digits, '.', '_' or '-'");
  }
  if (enrollment.find(authenticator.name)) {
    return fail_said(Errc::conflict, "there is an authenticator named {name} already",
                     {{"name", authenticator.name}});
  }
  if (enrollment.more.size() + 1 >= kMaxAuthenticators) {
    return fail_said(Errc::conflict, "there are {count} authenticators already, the most allowed",
                     {{"count", std::to_string(kMaxAuthenticators)}});
  }
  if (holds_secret(enrollment, authenticator)) {
    return fail_said(Errc::conflict,
                     "another of the user's authenticators has that secret (one code would "
                     "work twice)");
  }
  // Never before the enrollment or the last one added (a clock set back meanwhile): the state
  // keeps them in the order added, and one older than its enrollment reads as left behind.
  for (const Authenticator* a : enrollment.authenticators())
    authenticator.enrolled_at = std::max(authenticator.enrolled_at, a->enrolled_at);
  enrollment.more.insert(
      std::upper_bound(enrollment.more.begin(), enrollment.more.end(), authenticator, added_before),
      std::move(authenticator));
  return {};
}

Result<void> remove_authenticator(Enrollment& enrollment, std::string_view name,
                                  FirstAuthenticator first) {
  if (!enrollment.find(name)) {
    return fail_said(Errc::not_found, "there is no authenticator named {name}",
                     {{"name", std::string(name)}});
  }
  if (enrollment.more.empty()) {
    return fail_said(Errc::conflict,
                     "{name} is the only authenticator; to turn 2FA off, reset the user "
                     "(valix-admin reset)",
                     {{"name", std::string(name)}});
  }
  if (enrollment.name != name) {
    enrollment.remove(name);
    return {};
  }
  if (first == FirstAuthenticator::keep) {
    return fail_said(Errc::conflict,
                     "{name} is the authenticator you enrolled with: only your administrator "
                     "can remove it (valix-admin remove)",
                     {{"name", std::string(name)}});
  }
  // The next one takes the first's place; the enrollment's own fields (its time, backup
  // codes) stay.
  const std::int64_t enrolled_at = enrollment.enrolled_at;
  static_cast<Authenticator&>(enrollment) = std::move(enrollment.more.front());
  enrollment.more.erase(enrollment.more.begin());
  enrollment.enrolled_at = enrolled_at;
  return {};
}

SecretString format_backup_codes(const std::vector<SecretString>& codes) {
  SecretString listing;
  std::string& out = listing.str();
  out.reserve(codes.size() * (kBackupCodeLength + 16));  // no reallocation, no unwiped copy
  for (std::size_t i = 0; i < codes.size(); ++i) {
    out.append(i + 1 < 10 ? "   " : "  ").append(std::to_string(i + 1)).append(". ");
    out.append(codes[i].view()).append("\n");
  }
  return listing;
}

}  // namespace valix
