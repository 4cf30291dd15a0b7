#include "slot_file.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

namespace valix {
namespace {

constexpr std::string_view kMagic = "VALIXSL1";

// CRC32C (Castagnoli, reflected polynomial 0x82F63B78), slicing by 8.
using CrcTables = std::array<std::array<std::uint32_t, 256>, 8>;
constexpr CrcTables make_tables() {
  CrcTables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    t[0][i] = c;
  }
  for (std::size_t i = 0; i < 256; ++i) {
    for (std::size_t s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
  }
  return t;
}
constexpr CrcTables kCrc = make_tables();

void put_u32(unsigned char* p, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void put_u64(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
std::uint32_t get_u32(const unsigned char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
std::uint64_t get_u64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

bool valid_slot_size(std::size_t size) {
  return size >= kSlotPage && size <= kMaxSlotSize && size % kSlotPage == 0;
}

std::uint32_t slot_checksum(std::string_view payload, const unsigned char* trailer) {
  return crc32c(std::string_view(reinterpret_cast<const char*>(trailer), kSlotTrailerSize - 4),
                crc32c(payload));
}

struct Slot {
  std::string_view payload;
  std::uint64_t seq;
};

std::optional<Slot> read_slot(std::string_view slot) {
  const auto* trailer =
      reinterpret_cast<const unsigned char*>(slot.data() + slot.size() - kSlotTrailerSize);
  if (std::memcmp(trailer, kMagic.data(), kMagic.size()) != 0) return std::nullopt;
  const std::uint64_t seq = get_u64(trailer + 8);
  const std::uint32_t size = get_u32(trailer + 16);
  const std::uint32_t length = get_u32(trailer + 20);
  if (size != slot.size() || !fits_slot(length, size) || get_u32(trailer + 24) != 0 || seq == 0) {
    return std::nullopt;
  }
  const std::string_view payload = slot.substr(0, length);
  if (slot_checksum(payload, trailer) != get_u32(trailer + 28)) return std::nullopt;
  return Slot{payload, seq};
}

bool has_magic(std::string_view slot) {
  return slot.substr(slot.size() - kSlotTrailerSize, kMagic.size()) == kMagic;
}

}  // namespace

namespace {

std::uint32_t crc32c_by_tables(const unsigned char* p, std::size_t n, std::uint32_t crc) {
  while (n >= 8) {
    const std::uint32_t lo = crc ^ (std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 |
                                    std::uint32_t{p[2]} << 16 | std::uint32_t{p[3]} << 24);
    crc = kCrc[7][lo & 0xff] ^ kCrc[6][(lo >> 8) & 0xff] ^ kCrc[5][(lo >> 16) & 0xff] ^
          kCrc[4][lo >> 24] ^ kCrc[3][p[4]] ^ kCrc[2][p[5]] ^ kCrc[1][p[6]] ^ kCrc[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n-- > 0) crc = (crc >> 8) ^ kCrc[0][(crc ^ *p++) & 0xff];
  return crc;
}

#if defined(__x86_64__)
// SSE 4.2's crc32 instruction computes exactly CRC32C (Castagnoli, reflected), 8 bytes at a
// time: the same value as the tables, several times faster (a login checksums six slots).
__attribute__((target("sse4.2"))) std::uint32_t crc32c_by_instruction(const unsigned char* p,
                                                                      std::size_t n,
                                                                      std::uint32_t crc) {
  std::uint64_t c = crc;
  while (n >= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, sizeof word);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n-- > 0) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}

bool has_crc32_instruction() {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  return __get_cpuid(1, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_SSE4_2) != 0;
}
#endif

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
#if defined(__x86_64__)
  static const bool by_instruction = has_crc32_instruction();
  if (by_instruction) return ~crc32c_by_instruction(p, data.size(), ~crc);
#endif
  return ~crc32c_by_tables(p, data.size(), ~crc);
}

std::uint32_t crc32c_portable(std::string_view data, std::uint32_t crc) {
  return ~crc32c_by_tables(reinterpret_cast<const unsigned char*>(data.data()), data.size(), ~crc);
}

std::size_t slot_size_for(std::size_t payload_size) {
  const std::size_t wanted = payload_size + kSlotTrailerSize + kSlotHeadroom;
  return std::min(kMaxSlotSize, (wanted + kSlotPage - 1) / kSlotPage * kSlotPage);
}

namespace {

// Writes a slot into dst (slot_size bytes, zeroed by the caller).
void fill_slot(char* dst, std::string_view payload, std::uint64_t seq, std::size_t slot_size) {
  std::memcpy(dst, payload.data(), payload.size());
  auto* trailer = reinterpret_cast<unsigned char*>(dst + slot_size - kSlotTrailerSize);
  std::memcpy(trailer, kMagic.data(), kMagic.size());
  put_u64(trailer + 8, seq);
  put_u32(trailer + 16, static_cast<std::uint32_t>(slot_size));
  put_u32(trailer + 20, static_cast<std::uint32_t>(payload.size()));
  put_u32(trailer + 24, 0);
  put_u32(trailer + 28, slot_checksum(payload, trailer));
}

}  // namespace

SecretString encode_slot(std::string_view payload, std::uint64_t seq, std::size_t slot_size) {
  SecretString out;
  out.str().assign(slot_size, '\0');  // one allocation: SecretString wipes only its last buffer
  fill_slot(out.str().data(), payload, seq, slot_size);
  return out;
}

SecretString encode_slot_file(std::string_view payload, std::uint64_t seq) {
  const std::size_t slot_size = slot_size_for(payload.size());
  // Slot 1 is reserved room, not a hole: with real zeros written, its blocks are allocated
  // when the file is created (fallocate's unwritten extents would need converting, a metadata
  // change, on the first write into them).
  SecretString out;
  out.str().assign(2 * slot_size, '\0');
  fill_slot(out.str().data(), payload, seq, slot_size);
  return out;
}

Result<StateFileContent> decode_state_file(std::string_view file) {
  const std::size_t slot_size = file.size() / 2;
  if (file.size() % 2 == 0 && valid_slot_size(slot_size) &&
      (has_magic(file.substr(0, slot_size)) || has_magic(file.substr(slot_size)))) {
    const auto first = read_slot(file.substr(0, slot_size));
    const auto second = read_slot(file.substr(slot_size));
    if (!first && !second) return fail(Errc::corrupt, "no slot of the state file is intact");
    if (first && second && first->seq == second->seq) {
      return fail(Errc::corrupt, "both slots of the state file have the same sequence number");
    }
    const bool newest_is_second = second && (!first || second->seq > first->seq);
    const Slot& newest = newest_is_second ? *second : *first;
    SlotFile slots{newest.payload, slot_size, newest.seq, newest_is_second ? 1u : 0u,
                   static_cast<bool>(first) && static_cast<bool>(second)};
    return StateFileContent{newest.payload, slots};
  }
  if (file.size() > kMaxStateTextSize) {
    return fail(Errc::unsafe,
                "file is larger than " + std::to_string(kMaxStateTextSize) + " bytes");
  }
  return StateFileContent{file, std::nullopt};
}

}  // namespace valix
