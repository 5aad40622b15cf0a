// Checkpoint checksums: zlib's CRC-32, chained (crc32_update(crc32_update(0, a), b) is the CRC of
// a followed by b), so Python's zlib.crc32(data, crc) reproduces them. crc32_z takes a size_t
// length, so tensors over 4 GiB need no splitting.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>

namespace trm {

inline uint32_t crc32_update(uint32_t crc, const void* data, size_t bytes) {
  return static_cast<uint32_t>(crc32_z(crc, static_cast<const Bytef*>(data), bytes));
}

}  // namespace trm
