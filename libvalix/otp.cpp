#include "otp.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace valix {

std::optional<OtpAlgorithm> parse_otp_algorithm(std::string_view name) {
  std::string upper(name);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "SHA1") return OtpAlgorithm::sha1;
  if (upper == "SHA256") return OtpAlgorithm::sha256;
  if (upper == "SHA512") return OtpAlgorithm::sha512;
  return std::nullopt;
}

std::string_view otp_algorithm_name(OtpAlgorithm algorithm) {
  switch (algorithm) {
    case OtpAlgorithm::sha1: return "SHA1";
    case OtpAlgorithm::sha256: return "SHA256";
    case OtpAlgorithm::sha512: return "SHA512";
  }
  return "SHA1";
}

bool valid_otp_parameters(const OtpParameters& params) {
  return (params.digits == 6 || params.digits == 8) && params.period > 0 && params.period <= 3600;
}

namespace {

// HMAC with one key over one or more counters: the MAC is fetched from OpenSSL (its library
// context, so a FIPS provider that a host's configuration selects still applies) and the key
// is set once, then each counter re-initialises the context with that key (OpenSSL keeps the
// keyed inner and outer states) instead of fetching, keying and freeing for every counter as
// the one-shot HMAC() does. A search over a window computes every counter whatever matches,
// so the cost stays the same per counter; it is only lower.
class OtpMac {
 public:
  OtpMac(const OtpMac&) = delete;
  OtpMac& operator=(const OtpMac&) = delete;
  ~OtpMac() {
    EVP_MAC_CTX_free(ctx_);  // cleanses the keyed states
    EVP_MAC_free(mac_);
  }

  // nullptr when OpenSSL refuses (an algorithm the provider does not offer, no memory).
  static std::unique_ptr<OtpMac> make(std::span<const std::uint8_t> key,
                                      const OtpParameters& params) {
    auto out = std::unique_ptr<OtpMac>(new OtpMac(params));
    out->mac_ = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (out->mac_ == nullptr) return nullptr;
    out->ctx_ = EVP_MAC_CTX_new(out->mac_);
    if (out->ctx_ == nullptr) return nullptr;
    char digest[8];
    const std::string_view name = otp_algorithm_name(params.algorithm);
    name.copy(digest, sizeof digest - 1);
    digest[std::min(name.size(), sizeof digest - 1)] = '\0';
    const OSSL_PARAM settings[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
        OSSL_PARAM_construct_end()};
    // A key of no bytes is still a key (HMAC() takes it): EVP_MAC_init reads a null one as
    // "keep the key set before".
    static const std::uint8_t kNoKey = 0;
    if (EVP_MAC_init(out->ctx_, key.empty() ? &kNoKey : key.data(), key.size(), settings) != 1)
      return nullptr;
    return out;
  }

  Result<SecretString> code(std::uint64_t counter) {
    std::uint8_t message[8];
    for (int i = 7; i >= 0; --i) {
      message[i] = static_cast<std::uint8_t>(counter & 0xff);
      counter >>= 8;
    }
    std::uint8_t mac[EVP_MAX_MD_SIZE];
    std::size_t mac_len = 0;
    // The first counter uses the context as make() keyed it; each later one starts again
    // from the same key.
    if ((used_ && EVP_MAC_init(ctx_, nullptr, 0, nullptr) != 1) ||
        EVP_MAC_update(ctx_, message, sizeof message) != 1 ||
        EVP_MAC_final(ctx_, mac, &mac_len, sizeof mac) != 1 || mac_len < 20) {
      wipe(mac, sizeof mac);
      return fail(Errc::crypto, "HMAC failed");
    }
    used_ = true;
    // Dynamic truncation, RFC 4226 section 5.3.
    const unsigned offset = mac[mac_len - 1] & 0x0f;
    std::uint32_t binary = (std::uint32_t{mac[offset] & 0x7fu} << 24) |
                           (std::uint32_t{mac[offset + 1]} << 16) |
                           (std::uint32_t{mac[offset + 2]} << 8) | std::uint32_t{mac[offset + 3]};
    wipe(mac, sizeof mac);
    std::uint32_t modulus = 1;
    for (int i = 0; i < params_.digits; ++i) modulus *= 10;
    std::uint32_t value = binary % modulus;
    wipe(&binary, sizeof binary);

    SecretString code;
    code.str().resize(static_cast<std::size_t>(params_.digits));
    for (int i = params_.digits - 1; i >= 0; --i) {
      code.str()[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    return code;
  }

 private:
  explicit OtpMac(const OtpParameters& params) : params_(params) {}

  OtpParameters params_;
  EVP_MAC* mac_ = nullptr;
  EVP_MAC_CTX* ctx_ = nullptr;
  bool used_ = false;
};

Result<std::unique_ptr<OtpMac>> otp_mac(std::span<const std::uint8_t> key,
                                        const OtpParameters& params) {
  if (!valid_otp_parameters(params)) return fail(Errc::invalid, "unsupported OTP parameters");
  auto mac = OtpMac::make(key, params);
  if (!mac) return fail(Errc::crypto, "HMAC failed");
  return mac;
}

}  // namespace

Result<SecretString> hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                          const OtpParameters& params) {
  auto mac = otp_mac(key, params);
  if (!mac) return std::unexpected(mac.error());
  return (*mac)->code(counter);
}

std::uint64_t totp_step(std::int64_t unix_time, int period) {
  if (unix_time < 0 || period <= 0) return 0;
  return static_cast<std::uint64_t>(unix_time) / static_cast<std::uint64_t>(period);
}

Result<std::optional<std::uint64_t>> find_hotp_counter(std::span<const std::uint8_t> key,
                                                       std::string_view code, std::uint64_t first,
                                                       std::uint64_t count,
                                                       const OtpParameters& params) {
  std::optional<std::uint64_t> found;
  if (count == 0) return found;
  auto mac = otp_mac(key, params);
  if (!mac) return std::unexpected(mac.error());
  for (std::uint64_t counter = first; counter - first < count; ++counter) {
    auto expected = (*mac)->code(counter);
    if (!expected) return std::unexpected(expected.error());
    // No early exit: every counter costs the same whether or not an earlier one matched.
    const bool match = constant_time_equal(expected->view(), code);
    if (match) found = counter;
  }
  return found;
}

Result<std::optional<std::uint64_t>> find_totp_step(std::span<const std::uint8_t> key,
                                                    std::string_view code,
                                                    std::uint64_t current_step, int window,
                                                    const OtpParameters& params) {
  const auto w = static_cast<std::uint64_t>(window);
  const std::uint64_t first = current_step >= w ? current_step - w : 0;
  return find_hotp_counter(key, code, first, current_step + w - first + 1, params);
}

}  // namespace valix
