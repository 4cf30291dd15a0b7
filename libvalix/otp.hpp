// HOTP (RFC 4226) and TOTP (RFC 6238).
#pragma once

#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "error.hpp"
#include "secure.hpp"

namespace valix {

enum class OtpAlgorithm { sha1, sha256, sha512 };

std::optional<OtpAlgorithm> parse_otp_algorithm(std::string_view name);  // "SHA1", "sha256", ...
std::string_view otp_algorithm_name(OtpAlgorithm algorithm);             // "SHA1", ...

struct OtpParameters {
  OtpAlgorithm algorithm = OtpAlgorithm::sha1;
  int digits = 6;   // 6 or 8
  int period = 30;  // seconds, > 0
};

bool valid_otp_parameters(const OtpParameters& params);

// The HOTP value for counter as a zero-padded decimal string of params.digits digits.
Result<SecretString> hotp(std::span<const std::uint8_t> key, std::uint64_t counter,
                          const OtpParameters& params);

// The TOTP time step for a Unix time (T0 = 0). Times before 1970 map to step 0.
std::uint64_t totp_step(std::int64_t unix_time, int period);

// Looks for the step in [current - window, current + window] whose code equals code. Every
// step in the window is computed and compared in constant time whatever matches, so timing
// does not reveal which step (if any) matched. Returns the latest matching step, or nullopt.
Result<std::optional<std::uint64_t>> find_totp_step(std::span<const std::uint8_t> key,
                                                    std::string_view code,
                                                    std::uint64_t current_step, int window,
                                                    const OtpParameters& params);

// Looks for the counter in [first, first + count) whose HOTP value equals code, computing and
// comparing every one in constant time whatever matches. The latest match, or nullopt.
Result<std::optional<std::uint64_t>> find_hotp_counter(std::span<const std::uint8_t> key,
                                                       std::string_view code, std::uint64_t first,
                                                       std::uint64_t count,
                                                       const OtpParameters& params);

}  // namespace valix
