#include "otp.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cctype>

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

Result<SecretString> hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                          const OtpParameters& params) {
  if (!valid_otp_parameters(params)) return fail(Errc::invalid, "unsupported OTP parameters");
  const EVP_MD* md = params.algorithm == OtpAlgorithm::sha256   ? EVP_sha256()
                     : params.algorithm == OtpAlgorithm::sha512 ? EVP_sha512()
                                                                : EVP_sha1();
  std::uint8_t message[8];
  for (int i = 7; i >= 0; --i) {
    message[i] = static_cast<std::uint8_t>(counter & 0xff);
    counter >>= 8;
  }
  std::uint8_t mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()), message, sizeof message, mac, &mac_len) ==
          nullptr ||
      mac_len < 20) {
    return fail(Errc::crypto, "HMAC failed");
  }
  // Dynamic truncation, RFC 4226 section 5.3.
  const unsigned offset = mac[mac_len - 1] & 0x0f;
  std::uint32_t binary = (std::uint32_t{mac[offset] & 0x7fu} << 24) |
                         (std::uint32_t{mac[offset + 1]} << 16) |
                         (std::uint32_t{mac[offset + 2]} << 8) | std::uint32_t{mac[offset + 3]};
  wipe(mac, sizeof mac);
  std::uint32_t modulus = 1;
  for (int i = 0; i < params.digits; ++i) modulus *= 10;
  std::uint32_t value = binary % modulus;
  wipe(&binary, sizeof binary);

  SecretString code;
  code.str().resize(static_cast<std::size_t>(params.digits));
  for (int i = params.digits - 1; i >= 0; --i) {
    code.str()[static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return code;
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
  for (std::uint64_t counter = first; counter - first < count; ++counter) {
    auto expected = hotp(key, counter, params);
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
