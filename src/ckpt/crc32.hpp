// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320) exactly as zlib's crc32(): chaining
// crc32_update(crc32_update(0, a), b) equals the CRC of a followed by b, so Python's
// zlib.crc32(data, crc) reproduces checkpoint checksums. Slicing-by-8 (several GB/s).
#pragma once

#include <cstddef>
#include <cstdint>

namespace trm {

uint32_t crc32_update(uint32_t crc, const void* data, size_t bytes);

}  // namespace trm
