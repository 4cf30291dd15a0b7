// The on-disk layout of a user's state file (format 2): two fixed-size slots, rewritten in
// place, never replaced on a login.
//
//   [0, S)    slot 0      S = the slot size: a multiple of 4096, from 4096 to kMaxSlotSize;
//   [S, 2S)   slot 1      the file is exactly 2S bytes, every byte written when it is created
//
// A slot: the payload (the state text, serialize_state) from its first byte, zero padding,
// and a 32-byte trailer in its last bytes (integers little-endian):
//   magic "VALIXSL1" (8) | seq u64 | slot size u32 | payload length u32 | 0 u32 | CRC32C u32
// The CRC32C covers the payload and the trailer's first 28 bytes. A slot is valid when its
// magic, slot size, length, zero field and checksum all hold. The file's state is the valid
// slot with the higher sequence number; a writer (under the user's lock) writes the other
// slot, with sequence newest + 1, then fdatasyncs once. So a write that is torn (a crash), cut
// short (a file-size limit) or never finished leaves the slot it was writing invalid, and
// every reader, locked or not, falls back to the state before it. The trailer comes last so
// that a write cut short at any byte (RLIMIT_FSIZE truncates writes to a prefix) never
// leaves a slot whose checksum covers what it says.
//
// Each slot is a whole number of 4 KiB pages, so a slot write never rewrites the sectors of
// the other slot (a torn sector can only be in the slot being written). The checksum is
// CRC32C, not a cryptographic hash: it detects accidents (a torn or mixed write, a flipped
// bit), which is its job; anyone who could forge a slot can write the root-only file itself,
// whatever the checksum.
//
// A file that is not of this layout (its size is no 2S, or neither slot has the magic) is
// read as format 1, the bare state text of Valix up to 0.2, at most kMaxStateTextSize bytes;
// the next write converts it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "error.hpp"
#include "secure.hpp"

namespace valix {

inline constexpr std::size_t kMaxStateTextSize = std::size_t{64} * 1024;
inline constexpr std::size_t kSlotPage = 4096;
inline constexpr std::size_t kSlotTrailerSize = 32;
// Room left for the state to grow in place (failure counts, a lockout time, a pending
// enrollment) when a file is created for a state of a given size.
inline constexpr std::size_t kSlotHeadroom = 512;
inline constexpr std::size_t kMaxSlotSize =
    (kMaxStateTextSize + kSlotTrailerSize + kSlotHeadroom + kSlotPage - 1) / kSlotPage * kSlotPage;
inline constexpr std::size_t kMaxSlotFileSize = 2 * kMaxSlotSize;

// CRC32C of data, continuing crc: by the CPU's crc32 instruction where it has one (x86-64 with
// SSE 4.2), otherwise by tables. crc32c_portable always uses the tables (for tests).
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);
std::uint32_t crc32c_portable(std::string_view data, std::uint32_t crc = 0);

// The slot size of a file created for a payload of payload_size bytes.
std::size_t slot_size_for(std::size_t payload_size);
inline bool fits_slot(std::size_t payload_size, std::size_t slot_size) {
  return payload_size + kSlotTrailerSize <= slot_size;
}

// One slot's bytes (slot_size of them), payload_size must fit.
SecretString encode_slot(std::string_view payload, std::uint64_t seq, std::size_t slot_size);
// A whole new file: slot 0 holds payload with seq, slot 1 is zeros (invalid).
SecretString encode_slot_file(std::string_view payload, std::uint64_t seq);

struct SlotFile {
  std::string_view payload;  // the newest valid slot's, pointing into the file's bytes
  std::size_t slot_size = 0;
  std::uint64_t seq = 0;   // the newest valid slot's
  std::size_t newest = 0;  // its index, 0 or 1
  bool other_valid = false;
  // Where the next write goes: the other slot.
  std::size_t next_offset() const { return (1 - newest) * slot_size; }
};

// What a state file holds: its text, and for a format-2 file where the next in-place write
// goes. Errc::corrupt: a format-2 file with no valid slot (or two claiming one sequence);
// Errc::unsafe: a format-1 file larger than kMaxStateTextSize. The text is not parsed here.
struct StateFileContent {
  std::string_view text;
  std::optional<SlotFile> slots;  // nullopt: format 1
};
Result<StateFileContent> decode_state_file(std::string_view file);

}  // namespace valix
