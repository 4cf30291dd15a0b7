// Secret material: fixed-size buffers wiped on destruction, the CSPRNG and constant-time
// comparison. All randomness in Valix comes from random_bytes().
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "error.hpp"

namespace valix {

// Overwrites memory in a way the compiler may not elide (OPENSSL_cleanse).
void wipe(void* data, std::size_t size) noexcept;

// A heap buffer of fixed size, zeroed on destruction. Movable, not copyable, never grows, so
// no stray copies of the secret are left behind by reallocation.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  SecretBytes(std::span<const std::uint8_t> bytes);
  ~SecretBytes();
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes clone() const;

  std::uint8_t* data() noexcept { return data_.get(); }
  const std::uint8_t* data() const noexcept { return data_.get(); }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  std::span<const std::uint8_t> span() const noexcept { return {data_.get(), size_}; }

 private:
  void reset() noexcept;
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t size_ = 0;
};

// A string that wipes its buffer on destruction. Callers reserve() before appending so the
// buffer does not move.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string_view text);
  ~SecretString();
  SecretString(SecretString&& other) noexcept;
  SecretString& operator=(SecretString&& other) noexcept;
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;

  std::string& str() noexcept { return text_; }
  const std::string& str() const noexcept { return text_; }
  std::string_view view() const noexcept { return text_; }
  const char* c_str() const noexcept { return text_.c_str(); }
  std::size_t size() const noexcept { return text_.size(); }
  bool empty() const noexcept { return text_.empty(); }

 private:
  void reset() noexcept;
  std::string text_;
};

// Fills out with bytes from the OpenSSL CSPRNG.
Result<void> random_bytes(std::span<std::uint8_t> out);

// A uniformly random integer in [0, bound) without modulo bias. bound > 0.
Result<std::uint32_t> random_below(std::uint32_t bound);

// True when a and b have the same length and the same bytes. Time depends only on the
// lengths, never on where the contents differ.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;
bool constant_time_equal(const SecretBytes& a, const SecretBytes& b) noexcept;

// Lower-case hex of bytes, in a buffer that is wiped (the bytes may be a secret).
SecretString hex_encode(std::span<const std::uint8_t> bytes);

// Lower-case hex SHA-256 of data.
Result<std::string> sha256_hex(std::string_view data);

}  // namespace valix
