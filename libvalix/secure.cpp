#include "secure.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <limits>

namespace valix {

void wipe(void* data, std::size_t size) noexcept {
  if (data != nullptr && size > 0) OPENSSL_cleanse(data, size);
}

SecretBytes::SecretBytes(std::size_t size) : data_(new std::uint8_t[size]()), size_(size) {}

SecretBytes::SecretBytes(std::span<const std::uint8_t> bytes) : SecretBytes(bytes.size()) {
  std::copy(bytes.begin(), bytes.end(), data_.get());
}

SecretBytes::~SecretBytes() { reset(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept
    : data_(std::move(other.data_)), size_(other.size_) {
  other.size_ = 0;
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    reset();
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
  }
  return *this;
}

SecretBytes SecretBytes::clone() const { return SecretBytes(span()); }

void SecretBytes::reset() noexcept {
  wipe(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

SecretString::SecretString(std::string_view text) {
  text_.reserve(text.size() + 1);
  text_.assign(text);
}

SecretString::~SecretString() { reset(); }

// A heap buffer changes hands without a copy; a short string's inline buffer is copied, so
// other is wiped afterwards (whatever it still holds: that copy, or the buffer this one gave
// it in an assignment).
SecretString::SecretString(SecretString&& other) noexcept : text_(std::move(other.text_)) {
  other.reset();
}

SecretString& SecretString::operator=(SecretString&& other) noexcept {
  if (this != &other) {
    reset();
    text_ = std::move(other.text_);
    other.reset();
  }
  return *this;
}

void SecretString::reset() noexcept {
  wipe(text_.data(), text_.capacity());
  text_.clear();
}

Result<void> random_bytes(std::span<std::uint8_t> out) {
  if (out.empty()) return {};
  if (out.size() > static_cast<std::size_t>(std::numeric_limits<int>::max()) ||
      RAND_priv_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return fail(Errc::crypto, "the random number generator failed");
  }
  return {};
}

Result<std::uint32_t> random_below(std::uint32_t bound) {
  if (bound == 0) return fail(Errc::invalid, "random_below: empty range");
  // Reject the top partial block so every residue is equally likely.
  const std::uint32_t limit =
      std::numeric_limits<std::uint32_t>::max() - std::numeric_limits<std::uint32_t>::max() % bound;
  for (;;) {
    std::uint8_t raw[4];
    if (auto r = random_bytes(raw); !r) return std::unexpected(r.error());
    const std::uint32_t value = (std::uint32_t{raw[0]} << 24) | (std::uint32_t{raw[1]} << 16) |
                                (std::uint32_t{raw[2]} << 8) | std::uint32_t{raw[3]};
    if (value < limit) return value % bound;
  }
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool constant_time_equal(const SecretBytes& a, const SecretBytes& b) noexcept {
  return constant_time_equal(std::string_view(reinterpret_cast<const char*>(a.data()), a.size()),
                             std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}

Result<std::string> sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    return fail(Errc::crypto, "SHA-256 failed");
  }
  return std::string(hex_encode(std::span<const std::uint8_t>(digest, length)).view());
}

SecretString hex_encode(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  SecretString out;
  out.str().reserve(2 * bytes.size());  // never reallocated: no unwiped copy
  for (const std::uint8_t byte : bytes) {
    out.str().push_back(kHex[byte >> 4]);
    out.str().push_back(kHex[byte & 0xf]);
  }
  return out;
}

}  // namespace valix
